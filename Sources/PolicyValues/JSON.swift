import Foundation


/// A JSON document that could not be parsed, with the 1-based line and column.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var line: Int
    public var column: Int
}

/// A strict RFC 8259 parser into `PlainValue`: numbers become `.double` (as
/// protobuf's Struct and therefore the SDK see them), objects keep key order.
public enum JSON {
    /// Nesting accepted by default; deeper documents are a syntax error, never a stack overflow.
    public static let defaultMaxDepth = 512

    public static func parse(_ data: Data, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> PlainValue {
        var parser = Parser(bytes: [UInt8](data))
        parser.maxDepth = maxDepth
        return try parser.document()
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> PlainValue {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }

    /// Serialises a value. `pretty` indents by two spaces; integral doubles print without a fraction.
    public static func serialize(_ value: PlainValue, pretty: Bool = false, sortKeys: Bool = false) -> String {
        String(decoding: serializeBytes(value, pretty: pretty, sortKeys: sortKeys), as: UTF8.self)
    }

    /// `serialize` as UTF-8 bytes, written straight into one buffer.
    public static func serializeBytes(_ value: PlainValue, pretty: Bool = false, sortKeys: Bool = false) -> [UInt8] {
        var w = Writer(pretty: pretty, sortKeys: sortKeys)
        w.out.reserveCapacity(4096)
        w.write(value, indent: 0)
        return w.out
    }

    /// Integral values within 2^53 print as integers; others use the shortest round-trip form.
    public static func formatNumber(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }
        if d == d.rounded(), abs(d) < 9_007_199_254_740_992 { return String(Int64(d)) }
        return "\(d)"
    }

    private struct Writer {
        let pretty: Bool
        let sortKeys: Bool
        var out: [UInt8] = []

        init(pretty: Bool, sortKeys: Bool) {
            self.pretty = pretty
            self.sortKeys = sortKeys
        }

        mutating func raw(_ s: StaticString) {
            s.withUTF8Buffer { out.append(contentsOf: $0) }
        }

        mutating func newline(_ indent: Int) {
            out.append(0x0A)
            for _ in 0..<(indent * 2) { out.append(0x20) }
        }

        mutating func write(_ v: PlainValue, indent: Int) {
            switch v {
            case .null: raw("null")
            case .bool(let b): if b { raw("true") } else { raw("false") }
            case .int(let i): out.append(contentsOf: String(i).utf8)
            case .double(let d): out.append(contentsOf: formatNumber(d).utf8)
            case .string(let s): string(s)
            case .array(let items):
                if items.isEmpty { raw("[]"); return }
                out.append(UInt8(ascii: "["))
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    if pretty { newline(indent + 1) }
                    write(item, indent: indent + 1)
                }
                if pretty { newline(indent) }
                out.append(UInt8(ascii: "]"))
            case .object(let obj):
                if obj.isEmpty { raw("{}"); return }
                out.append(UInt8(ascii: "{"))
                let entries = sortKeys ? obj.entries.sorted { $0.key < $1.key } : obj.entries
                for (i, e) in entries.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    if pretty { newline(indent + 1) }
                    string(e.key)
                    if pretty { raw(": ") } else { out.append(UInt8(ascii: ":")) }
                    write(e.value, indent: indent + 1)
                }
                if pretty { newline(indent) }
                out.append(UInt8(ascii: "}"))
            }
        }

        /// A JSON string: `"` and `\\` escaped, control characters as `\n`, `\r`, `\t` or `\u00XX`;
        /// everything else, non-ASCII included, as its UTF-8 bytes.
        mutating func string(_ s: String) {
            out.append(UInt8(ascii: "\""))
            var s = s
            s.withUTF8 { bytes in
                var start = 0
                for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                    start = i + 1
                    switch b {
                    case UInt8(ascii: "\""): raw("\\\"")
                    case UInt8(ascii: "\\"): raw("\\\\")
                    case 0x0A: raw("\\n")
                    case 0x0D: raw("\\r")
                    case 0x09: raw("\\t")
                    default:
                        let hex: [UInt8] = Array("0123456789abcdef".utf8)
                        raw("\\u00")
                        out.append(hex[Int(b >> 4)])
                        out.append(hex[Int(b & 0x0F)])
                    }
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        var maxDepth = JSON.defaultMaxDepth

        init(bytes: [UInt8]) {
            self.bytes = bytes
            // A UTF-8 byte order mark is tolerated, as the Pulumi CLI does.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        }

        mutating func document() throws(JSONSyntaxError) -> PlainValue {
            skipSpace()
            let v = try value(depth: 0)
            skipSpace()
            if i < bytes.count { throw fail("unexpected data after the JSON value") }
            return v
        }

        func fail(_ message: String) -> JSONSyntaxError {
            var line = 1, col = 1
            for b in bytes[0..<min(i, bytes.count)] {
                if b == 0x0A { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 }
            }
            return JSONSyntaxError(message: message, line: line, column: col)
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> PlainValue {
            guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
            guard i < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var obj = PlainObject()
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    let key = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
                    i += 1
                    skipSpace()
                    obj[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end of input in an object") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
                    throw fail("expected ',' or '}' in an object")
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [PlainValue] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end of input in an array") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw fail("expected ',' or ']' in an array")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .double(try number())
            default:
                throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
            let w = word.withUTF8Buffer { Array($0) }
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("invalid literal") }
            i += w.count
        }

        mutating func number() throws(JSONSyntaxError) -> Double {
            let start = i
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            func digits(_ p: inout Parser) -> Int {
                let s = p.i
                while p.i < p.bytes.count, p.bytes[p.i] >= 0x30, p.bytes[p.i] <= 0x39 { p.i += 1 }
                return p.i - s
            }
            guard i < bytes.count else { throw fail("invalid number") }
            if bytes[i] == UInt8(ascii: "0") { i += 1 } else if digits(&self) == 0 { throw fail("invalid number") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                if digits(&self) == 0 { throw fail("invalid number") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                if digits(&self) == 0 { throw fail("invalid number") }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            guard let d = Double(text) else { throw fail("invalid number") }
            return d
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }

        mutating func string() throws(JSONSyntaxError) -> String {
            i += 1  // opening quote
            let start = i
            // Fast path: no escapes.
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let s = String(decoding: bytes[start..<i], as: UTF8.self)
                    i += 1
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw fail("control character in a string") }
                i += 1
            }
            var buf = Array(bytes[start..<i])
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return String(decoding: buf, as: UTF8.self)
                }
                if b < 0x20 { throw fail("control character in a string") }
                if b != UInt8(ascii: "\\") { buf.append(b); i += 1; continue }
                i += 1
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): buf.append(0x22)
                case UInt8(ascii: "\\"): buf.append(0x5C)
                case UInt8(ascii: "/"): buf.append(0x2F)
                case UInt8(ascii: "b"): buf.append(0x08)
                case UInt8(ascii: "f"): buf.append(0x0C)
                case UInt8(ascii: "n"): buf.append(0x0A)
                case UInt8(ascii: "r"): buf.append(0x0D)
                case UInt8(ascii: "t"): buf.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            throw fail("invalid surrogate pair")
                        }
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    buf.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("invalid escape")
                }
            }
            throw fail("unterminated string")
        }
    }
}

extension Double {
    /// The integer this double is exactly, when it is finite, integral and within `Int`'s range;
    /// `Int(self)` would trap on 1e300 or NaN.
    public var exactInt: Int? {
        guard isFinite, self == rounded(), self >= -9.2e18, self <= 9.2e18 else { return nil }
        return Int(self)
    }

    /// `exactInt`, clamped into `Int`'s range for finite values (for limits such as maxLength).
    public var clampedInt: Int? {
        guard isFinite else { return nil }
        if self >= 9.2e18 { return Int.max }
        if self <= -9.2e18 { return Int.min }
        return Int(self.rounded(.down))
    }
}
