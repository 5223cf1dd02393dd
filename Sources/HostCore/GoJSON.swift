import Foundation
import PolicyValues

/// The shape of a Go type as `encoding/json` decodes it: enough of Go's type system to read the
/// Pulumi CLI's `apitype` structs with the CLI's own rules.
public indirect enum GoType: Sendable {
    /// `string` (and string kinds such as `resource.URN`).
    case string
    /// `bool`.
    case bool
    /// `int`: a JSON number without a fraction, within 64 bits.
    case int
    /// `float64`: any finite JSON number.
    case float
    /// `any` / `map[string]any` values: whatever JSON holds.
    case any
    /// `json.RawMessage`: any JSON, kept as it is (a `null` stays `null`).
    case raw
    /// `time.Time`: an RFC 3339 string.
    case time
    /// `[]byte`: a base64 string.
    case bytes
    /// `[]T`.
    case slice(GoType)
    /// `map[string]T`.
    case map(GoType)
    /// `*T`.
    case pointer(GoType)
    /// A struct.
    case structure(GoStruct)
}

/// A Go struct as `encoding/json` sees it: its fields' JSON names and types.
public struct GoStruct: Sendable {
    public struct Field: Sendable {
        public var name: String
        public var type: GoType
    }

    /// The Go type's name, for messages.
    public var name: String
    public var fields: [Field]
    /// Whether keys that match no field are collected (see `GoDecoder.unknownKeys`).
    public var collectsUnknownKeys: Bool
    private var exact: [String: Int]
    private var folded: [String: Int]

    public init(_ name: String, collectsUnknownKeys: Bool = false, _ fields: [(String, GoType)]) {
        self.name = name
        self.collectsUnknownKeys = collectsUnknownKeys
        self.fields = fields.map { Field(name: $0.0, type: $0.1) }
        var exact: [String: Int] = [:]
        var folded: [String: Int] = [:]
        for (i, f) in self.fields.enumerated() {
            exact[f.name] = i
            if let k = GoStruct.fold(f.name), folded[k] == nil { folded[k] = i }
        }
        self.exact = exact
        self.folded = folded
    }

    /// The field a JSON key decodes into, as `encoding/json` picks it: the field of exactly that
    /// name, else one whose name is equal under Unicode simple case folding.
    public func field(for key: String) -> Field? {
        fieldIndex(for: key).map { fields[$0] }
    }

    /// The position of the field a JSON key decodes into (see `field(for:)`).
    public func fieldIndex(for key: String) -> Int? {
        if let i = exact[key] { return i }
        if let k = GoStruct.fold(key), let i = folded[k] { return i }
        return nil
    }

    /// The position of the field named `name`.
    public func index(of name: String) -> Int? { exact[name] }

    /// The key with every letter in its case-fold class's canonical form, or `nil` when it holds a
    /// character that folds to no ASCII letter (such a key can only match a non-ASCII field name,
    /// and every field name here is ASCII). Go folds with `unicode.SimpleFold`, under which two
    /// non-ASCII runes join ASCII letters: U+212A KELVIN SIGN (k) and U+017F LATIN SMALL LETTER
    /// LONG S (s).
    package static func fold(_ key: String) -> String? {
        var out = String.UnicodeScalarView()
        for s in key.unicodeScalars {
            switch s.value {
            case 0x61...0x7A: out.append(Unicode.Scalar(UInt8(s.value - 0x20)))
            case 0...0x7F: out.append(s)
            case 0x212A: out.append("K")
            case 0x017F: out.append("S")
            default: return nil
            }
        }
        return String(out)
    }
}

/// Decodes JSON values as Go's `encoding/json` decodes them into a `GoType`, and returns them in
/// canonical form: struct objects keyed by their fields' own names, keys that match no field
/// dropped, several keys that match one field merged as Go merges them (in document order: a later
/// scalar wins, maps and structs are decoded into what is already there), and `null` applied as Go
/// applies it (it empties a pointer, map, slice or `any`, and leaves anything else as it was).
/// A value of the wrong JSON type is one error naming the file and the JSON path.
///
/// Go reads an object's keys in document order; `JSON.parse` has already collapsed keys that are
/// exactly equal (the last value wins), so only keys that differ in case are merged here.
public struct GoDecoder {
    public let file: String
    /// Paths of keys that matched no field, in structs that collect them.
    public private(set) var unknownKeys: [String] = []

    public init(file: String) {
        self.file = file
    }

    /// Decodes `value` as a `type`, over `existing` (what Go's destination already holds); `path`
    /// names the value in errors (`""` for the document itself).
    public mutating func decode(_ value: PlainValue, as type: GoType, path: String,
                                over existing: PlainValue? = nil) throws(HostError) -> PlainValue {
        try decode(value, as: type, over: existing, path: { path })
    }

    /// `decode` with the path built only when a message needs it.
    mutating func decode(_ value: PlainValue, as type: GoType, over existing: PlainValue?,
                         path: () -> String) throws(HostError) -> PlainValue {
        if case .null = value {
            switch type {
            case .pointer, .map, .slice, .any, .raw, .bytes: return .null
            default: return existing ?? .null
            }
        }
        switch type {
        case .string:
            guard case .string = value else { throw mismatch(path(), "a string", value) }
            return value
        case .bool:
            guard case .bool = value else { throw mismatch(path(), "a boolean", value) }
            return value
        case .int:
            switch value {
            case .int: return value
            case .double(let d):
                guard let i = Int(exactly: d) else {
                    throw HostError(.usage, "\(file): \(path()): expected an integer, found the number \(JSON.formatNumber(d))")
                }
                return .int(i)
            default: throw mismatch(path(), "an integer", value)
            }
        case .float:
            guard let d = value.doubleValue else { throw mismatch(path(), "a number", value) }
            guard d.isFinite else { throw HostError(.usage, "\(file): \(path()): the number is out of range") }
            return value
        case .any, .raw:
            return value
        case .time:
            guard case .string(let s) = value else { throw mismatch(path(), "an RFC 3339 time string", value) }
            guard GoDecoder.isRFC3339(s) else {
                throw HostError(.usage, "\(file): \(path()): \"\(s)\" is not an RFC 3339 time")
            }
            return value
        case .bytes:
            guard case .string(let s) = value else { throw mismatch(path(), "a base64 string", value) }
            guard Data(base64Encoded: s.filter { $0 != "\n" && $0 != "\r" }) != nil else {
                throw HostError(.usage, "\(file): \(path()): not valid base64")
            }
            return value
        case .slice(let element):
            guard case .array(let items) = value else { throw mismatch(path(), "an array", value) }
            if GoDecoder.isScalar(element), items.allSatisfy({ GoDecoder.matches($0, element) }) { return value }
            var out: [PlainValue] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                let decoded = try decode(item, as: element, over: nil, path: { "\(path())[\(i)]" })
                out.append(decoded == .null ? GoDecoder.zero(element) : decoded)
            }
            return .array(out)
        case .map(let element):
            guard case .object(let o) = value else { throw mismatch(path(), "an object", value) }
            if case .any = element, existing?.objectValue == nil { return value }
            var out = existing?.objectValue ?? PlainObject()
            for e in o.entries {
                let decoded = try decode(e.value, as: element, over: nil, path: { "\(path()).\(e.key)" })
                out[e.key] = decoded == .null ? GoDecoder.zero(element) : decoded
            }
            return .object(out)
        case .pointer(let pointee):
            return try decode(value, as: pointee, over: existing == .null ? nil : existing, path: path)
        case .structure(let s):
            guard case .object(let o) = value else { throw mismatch(path(), "an object", value) }
            var out = existing?.objectValue ?? PlainObject()
            for e in o.entries {
                func child() -> String {
                    let p = path()
                    return p.isEmpty ? e.key : "\(p).\(e.key)"
                }
                guard let field = s.field(for: e.key) else {
                    if s.collectsUnknownKeys { unknownKeys.append(child()) }
                    continue
                }
                out[field.name] = try decode(e.value, as: field.type, over: out[field.name], path: child)
            }
            return .object(out)
        }
    }

    /// Decodes a struct into its fields' values by position (`nil`: the JSON did not set it), with
    /// the rules of `decode`; a `null` is the zero struct.
    package mutating func fields(_ value: PlainValue, of s: GoStruct, path: () -> String) throws(HostError) -> [PlainValue?] {
        var slots = [PlainValue?](repeating: nil, count: s.fields.count)
        if case .null = value { return slots }
        guard case .object(let o) = value else { throw mismatch(path(), "an object", value) }
        for e in o.entries {
            func child() -> String {
                let p = path()
                return p.isEmpty ? e.key : "\(p).\(e.key)"
            }
            guard let i = s.fieldIndex(for: e.key) else {
                if s.collectsUnknownKeys { unknownKeys.append(child()) }
                continue
            }
            slots[i] = try decode(e.value, as: s.fields[i].type, over: slots[i], path: child)
        }
        return slots
    }

    /// Go's zero value for a slice or map element that was `null`.
    static func zero(_ type: GoType) -> PlainValue {
        switch type {
        case .string, .time, .bytes: return .string("")
        case .bool: return .bool(false)
        case .int: return .int(0)
        case .float: return .double(0)
        case .structure: return .object(PlainObject())
        default: return .null
        }
    }

    static func isScalar(_ type: GoType) -> Bool {
        switch type {
        case .string, .bool: return true
        default: return false
        }
    }

    static func matches(_ v: PlainValue, _ type: GoType) -> Bool {
        switch (v, type) {
        case (.string, .string), (.bool, .bool): return true
        default: return false
        }
    }

    package func mismatch(_ path: String, _ expected: String, _ found: PlainValue) -> HostError {
        HostError(.usage, "\(file): \(path): expected \(expected), found \(GoDecoder.describe(found))")
    }

    /// "a string", "an object", …: the JSON type of a value, for messages.
    public static func describe(_ v: PlainValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, as Go's `time.Time` accepts in JSON.
    static func isRFC3339(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for c in b[at..<at + n] {
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        func byte(_ at: Int, _ c: Character) -> Bool { at < b.count && b[at] == c.asciiValue }
        guard digits(0, 4) != nil, byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2),
              byte(10, "T"), let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"),
              let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return false }
        var i = 19
        if byte(i, ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            if i == start { return false }
        }
        if byte(i, "Z") { return i + 1 == b.count }
        guard byte(i, "+") || byte(i, "-"), let zh = digits(i + 1, 2), byte(i + 3, ":"), let zm = digits(i + 4, 2),
              zh < 24, zm < 60 else { return false }
        return i + 6 == b.count
    }
}
