import Foundation
import HostCore

/// The tar format: writing ustar archives (with PAX headers for long names) and
/// reading ustar/GNU/PAX archives into entries, without touching the disk.
public enum Tar {
    public enum Kind: Equatable, Sendable {
        case file, directory, symlink(String), hardlink(String), other(UInt8)
    }

    public struct Entry: Sendable {
        public var path: String
        public var kind: Kind
        public var mode: Int
        public var data: Data

        public init(path: String, kind: Kind, mode: Int, data: Data) {
            self.path = path
            self.kind = kind
            self.mode = mode
            self.data = data
        }
    }

    // MARK: writing

    public static func write(_ entries: [Entry]) -> Data {
        var out = Data()
        for e in entries {
            let typeflag: UInt8
            var link = ""
            switch e.kind {
            case .file: typeflag = UInt8(ascii: "0")
            case .directory: typeflag = UInt8(ascii: "5")
            case .symlink(let t): typeflag = UInt8(ascii: "2"); link = t
            case .hardlink(let t): typeflag = UInt8(ascii: "1"); link = t
            case .other(let f): typeflag = f
            }
            let name = e.kind == .directory && !e.path.hasSuffix("/") ? e.path + "/" : e.path
            if name.utf8.count > 100 || link.utf8.count > 100 {
                var pax = ""
                for (k, v) in [("path", name), ("linkpath", link)] where !v.isEmpty {
                    pax += paxRecord(k, v)
                }
                let body = Data(pax.utf8)
                out.append(header(name: "PaxHeader", size: body.count, typeflag: UInt8(ascii: "x"), mode: 0o644, link: ""))
                out.append(padded(body))
            }
            out.append(header(name: String(name.utf8.prefix(100)) ?? "", size: e.kind == .file ? e.data.count : 0,
                              typeflag: typeflag, mode: e.mode, link: String(link.utf8.prefix(100)) ?? ""))
            if e.kind == .file { out.append(padded(e.data)) }
        }
        out.append(Data(count: 1024))
        return out
    }

    private static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var len = body.utf8.count + 1
        while "\(len)\(body)".utf8.count != len { len += 1 }
        return "\(len)\(body)"
    }

    private static func padded(_ d: Data) -> Data {
        var d = d
        let r = d.count % 512
        if r != 0 { d.append(Data(count: 512 - r)) }
        return d
    }

    private static func header(name: String, size: Int, typeflag: UInt8, mode: Int, link: String) -> Data {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int, _ len: Int) {
            for (i, b) in s.utf8.prefix(len).enumerated() { h[at + i] = b }
        }
        func octal(_ v: Int, _ at: Int, _ len: Int) {
            let s = String(v, radix: 8)
            put(String(repeating: "0", count: max(0, len - 1 - s.count)) + s, at, len - 1)
        }
        put(name, 0, 100)
        octal(mode & 0o7777, 100, 8)
        octal(0, 108, 8)
        octal(0, 116, 8)
        octal(size, 124, 12)
        octal(0, 136, 12)  // mtime 0: reproducible archives
        for i in 148..<156 { h[i] = 0x20 }
        h[156] = typeflag
        put(link, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(sum, 148, 7)
        h[155] = 0x20
        return Data(h)
    }

    // MARK: reading

    /// Parses an uncompressed archive. `file` names it in errors. Sizes are checked with
    /// overflow-safe arithmetic; more than `maxEntries` entries is an error.
    public static func read(_ data: Data, file: String, maxEntries: Int = 100_000) throws(HostError) -> [Entry] {
        let bytes = [UInt8](data)
        var entries: [Entry] = []
        var i = 0
        var paxPath: String?
        var paxLink: String?
        var longName: String?
        var longLink: String?
        func field(_ at: Int, _ len: Int) -> String {
            let slice = bytes[at..<(at + len)]
            let end = slice.firstIndex(of: 0) ?? slice.endIndex
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }
        func corrupt(_ at: Int, _ what: String) -> HostError {
            HostError(.usage, "\(file): corrupt tar header at offset \(at): \(what); refusing the archive")
        }
        func number(_ at: Int, _ len: Int) throws(HostError) -> Int {
            if bytes[at] & 0x80 != 0 {  // base-256; a negative number has its top bit set too
                guard bytes[at] == 0x80 else { throw corrupt(at, "negative or oversized number") }
                var v = 0
                for b in bytes[(at + 1)..<(at + len)] {
                    guard v <= (Int.max >> 8) else { throw corrupt(at, "number too large") }
                    v = (v << 8) | Int(b)
                }
                return v
            }
            let s = field(at, len).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            if s.isEmpty { return 0 }
            guard let v = Int(s, radix: 8), v >= 0 else { throw corrupt(at, "not an octal number") }
            return v
        }
        while i + 512 <= bytes.count {
            if bytes[i..<(i + 512)].allSatisfy({ $0 == 0 }) { break }
            // The header checksum (unsigned, or the signed sum some old tars wrote), as tar checks it.
            let recorded = try number(i + 148, 8)
            var unsigned = 0, signed = 0
            for (k, b) in bytes[i..<(i + 512)].enumerated() {
                let v = (148..<156).contains(k) ? 0x20 : b
                unsigned += Int(v)
                signed += Int(Int8(bitPattern: v))
            }
            guard recorded == unsigned || recorded == signed else { throw corrupt(i, "header checksum mismatch") }
            let size = try number(i + 124, 12)
            let typeflag = bytes[i + 156]
            var name = field(i, 100)
            let prefix = field(i + 345, 155)
            if field(i + 257, 5) == "ustar" && !prefix.isEmpty { name = prefix + "/" + name }
            let link = field(i + 157, 100)
            let mode = (try? number(i + 100, 8)) ?? 0o644
            let start = i + 512
            guard size <= bytes.count - start else { throw HostError(.usage, "\(file): truncated tar archive (an entry claims \(size) bytes)") }
            let body = Data(bytes[start..<(start + size)])
            let padded = size % 512 == 0 ? size : size + (512 - size % 512)
            i = start + padded  // ≤ bytes.count + 511: no overflow
            switch typeflag {
            case UInt8(ascii: "x"):
                for (k, v) in parsePax(body) {
                    if k == "path" { paxPath = v }
                    if k == "linkpath" { paxLink = v }
                }
                continue
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "L"):
                longName = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "K"):
                longLink = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
                continue
            default:
                break
            }
            let path = paxPath ?? longName ?? name
            let target = paxLink ?? longLink ?? link
            paxPath = nil; paxLink = nil; longName = nil; longLink = nil
            let kind: Kind
            switch typeflag {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink(target)
            case UInt8(ascii: "1"): kind = .hardlink(target)
            default: kind = .other(typeflag)
            }
            entries.append(Entry(path: path, kind: kind, mode: mode, data: kind == .file ? body : Data()))
            if entries.count > maxEntries {
                throw HostError(.usage, "\(file): more than \(maxEntries) entries; refusing the archive")
            }
        }
        return entries
    }

    /// PAX records `<length> <key>=<value>\n`, lengths in bytes.
    private static func parsePax(_ body: Data) -> [(String, String)] {
        let b = [UInt8](body)
        var out: [(String, String)] = []
        var at = 0
        while at < b.count {
            guard let space = b[at...].firstIndex(of: UInt8(ascii: " ")), space - at <= 20,
                  let len = Int(String(decoding: b[at..<space], as: UTF8.self)), len > space - at + 1,
                  len <= b.count - at else { break }
            let end = at + len
            let record = b[(space + 1)..<(end - 1)]  // without the trailing newline
            if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
                out.append((String(decoding: record[record.startIndex..<eq], as: UTF8.self),
                            String(decoding: record[(eq + 1)...], as: UTF8.self)))
            }
            at = end
        }
        return out
    }
}
