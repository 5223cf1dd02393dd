import Foundation
import PolicyValues
import HostCore

/// Reads a stack file's bytes into a `StackSnapshot`: gzip-compressed files (the DIY backend's
/// `*.json.gz`, `PULUMI_DIY_BACKEND_GZIP`) are recognised by their magic bytes, whatever their
/// name; one JSON document is a deployment, a checkpoint or a preview digest; several JSON
/// documents, one per line, are the streaming preview's engine events.
enum StackFile {
    /// The most a compressed stack file may expand to.
    static let maxExpandedSize = 4 << 30

    static func read(_ url: URL) throws(HostError) -> StackSnapshot {
        var data: Data
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw HostError(.usage, "\(url.path): is a directory, not a stack file",
                            hint: "pass the file `pulumi stack export --file stack.json` wrote")
        }
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw HostError(.usage, "\(url.path): no such file or not readable", hint: "create one with `pulumi stack export --file stack.json`")
        }
        if data.starts(with: [0x1F, 0x8B]) {
            do {
                data = try Gzip.decompress(file: url, maxSize: maxExpandedSize)
            } catch {
                throw HostError(.usage, "\(url.path): gzip-compressed, but it does not decompress (corrupt, truncated, or larger than \(maxExpandedSize >> 30) GiB)",
                                hint: "check the file with `gzip -t \(url.lastPathComponent)`")
            }
        }
        return try parse(data, file: url.path)
    }

    static func parse(_ data: Data, file: String) throws(HostError) -> StackSnapshot {
        let value: PlainValue
        do {
            value = try JSON.parse(data)
        } catch {
            if let lines = try jsonLines(data, file: file) {
                return try finished(PreviewReader(file: file).events(lines), file: file)
            }
            throw HostError(.usage, "\(file):\(error.line):\(error.column): invalid JSON: \(error.message)")
        }
        return try StackSnapshot.parse(value, file: file)
    }

    private static func finished(_ snap: StackSnapshot, file: String) -> StackSnapshot {
        var s = snap
        s.finish(file: file)
        return s
    }

    /// The documents of a JSON-lines file, or `nil` when its first line is not a JSON object (then
    /// the file is reported as one invalid document).
    static func jsonLines(_ data: Data, file: String) throws(HostError) -> [(Int, PlainValue)]? {
        var out: [(Int, PlainValue)] = []
        var lineNumber = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            do {
                let v = try JSON.parse(Data(line))
                guard case .object = v else {
                    if out.isEmpty { return nil }
                    throw HostError(.usage, "\(file):\(lineNumber): expected one engine event (a JSON object) per line")
                }
                out.append((lineNumber, v))
            } catch let e as JSONSyntaxError {
                if out.isEmpty { return nil }
                throw HostError(.usage, "\(file):\(lineNumber):\(e.column): invalid JSON in an event stream: \(e.message)")
            } catch let e as HostError {
                throw e
            } catch {
                return nil
            }
        }
        return out.count > 1 ? out : nil
    }
}
