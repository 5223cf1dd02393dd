import PolicyValues

/// Replaces the plaintext of secrets with `[secret]` in text that policy-host shows: reports of
/// every format, warnings, errors, tracebacks, and the pack's own output as policy-host relays it.
///
/// The matching rule (README "Secrets in outputs"):
/// - a secret string is matched as itself, as its JSON-escaped text (with and without `\u`
///   escapes of non-ASCII, as `json.dumps` writes it) and as the inside of its Python `repr`;
///   a secret number as its decimal text and, for a whole number, Python's float text (`5432.0`,
///   how the SDK hands numbers to policies); arrays and objects by each string and number inside
///   them (not their keys);
/// - anywhere inside a text (substring), bytes exactly, longest secret first; a secret shorter than
///   `unboundedLength` bytes only as a whole token (no ASCII letter, digit or `_` right before or
///   after it), so that `admin` hides in `user admin` but not in `adminPassword`;
/// - not when the text is also a resource's name in the stack (public in its URN);
/// - only when the secret's text has at least `minimumLength` characters: shorter secrets, and
///   booleans and null whatever their text, would blank out ordinary words and digits, so they are
///   hidden only where a value is itself a secret (a remediated property), and counted in
///   `shortSecrets` so that the report can say so.
public struct SecretRedactor: Sendable {
    /// What a secret becomes.
    public static let placeholder = "[secret]"
    /// The fewest characters a secret's text needs to be matched inside other text.
    public static let minimumLength = 4

    /// The needles that share their first four bytes: by length (longest first), then by their
    /// bytes, with whether they match only as a whole token. Many secrets share a prefix
    /// (`s3cr3t-…`), so a position costs one hash lookup per distinct length, not one comparison
    /// per secret.
    private struct Bucket: Sendable {
        var lengths: [Int] = []
        var byLength: [Int: [[UInt8]: Bool]] = [:]

        mutating func insert(_ needle: [UInt8], bounded: Bool) {
            if byLength[needle.count] == nil {
                lengths.append(needle.count)
                lengths.sort(by: >)
            }
            byLength[needle.count, default: [:]][needle] = bounded
        }

        mutating func remove(_ needle: [UInt8]) {
            byLength[needle.count]?[needle] = nil
            if byLength[needle.count]?.isEmpty == true {
                byLength[needle.count] = nil
                lengths.removeAll { $0 == needle.count }
            }
        }
    }

    /// Secrets shorter than this (in bytes) match only where no letter, digit or `_` touches them.
    public static let unboundedLength = 8

    /// Needles by their first four bytes, each list longest first.
    private var byPrefix: [UInt32: Bucket] = [:]
    /// Which first two bytes start some needle: most positions of a text are ruled out by one array
    /// read instead of a dictionary lookup.
    private var firstPairs = [Bool](repeating: false, count: 1 << 16)
    private var known: Set<[UInt8]> = []
    private var shortSeen: Set<String> = []

    public init() {}

    /// Whether nothing is matched in text.
    public var isEmpty: Bool { byPrefix.isEmpty }
    /// How many distinct secrets are too short (or booleans/null) to be matched in text.
    public var shortSecrets: Int { shortSeen.count }

    /// Adds a secret value as it is carried in requests (the inside of a secret signature).
    public mutating func add(_ value: PlainValue) {
        switch value {
        case .string(let s): add(text: s)
        case .int(let i): addNumber(String(i), python: "\(i).0")
        case .double(let d):
            if d.isFinite, d == d.rounded(), abs(d) < 1e16 {
                addNumber(String(Int64(d)), python: "\(Int64(d)).0")
            } else {
                addNumber(JSON.serialize(.double(d)), python: nil)
            }
        case .bool(let b): shortSeen.insert(b ? "true" : "false")
        case .null: shortSeen.insert("null")
        case .array(let items): for item in items { add(item) }
        case .object(let o):
            // A nested secret signature: its value is the secret.
            if o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig, let inner = o["value"] {
                add(inner)
            } else {
                for e in o.entries { add(e.value) }
            }
        }
    }

    /// Adds the inside of every secret signature in `value` (request or remediated properties).
    public mutating func add(secretsIn value: PlainValue) {
        switch value {
        case .array(let items): for item in items { add(secretsIn: item) }
        case .object(let o):
            if o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig {
                add(o["value"] ?? .null)
            } else {
                for e in o.entries { add(secretsIn: e.value) }
            }
        default: break
        }
    }

    /// Whether `value` holds a secret signature anywhere.
    public static func holdsSecret(_ value: PlainValue) -> Bool {
        switch value {
        case .array(let items): return items.contains(where: holdsSecret)
        case .object(let o):
            return o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig || o.entries.contains { holdsSecret($0.value) }
        default: return false
        }
    }

    /// Adds a secret string (a decrypted config value, for example) with its escaped forms.
    public mutating func add(text s: String) {
        guard s.count >= Self.minimumLength else {
            if !s.isEmpty { shortSeen.insert(s) }
            return
        }
        var forms = [s, Self.jsonInside(s, asciiOnly: false), Self.jsonInside(s, asciiOnly: true)]
        forms.append(Self.pythonReprInside(s))
        for form in forms { insert(Array(form.utf8)) }
    }

    private mutating func addNumber(_ text: String, python: String?) {
        if text.count >= Self.minimumLength { insert(Array(text.utf8)) } else { shortSeen.insert(text) }
        if let python, python.count >= Self.minimumLength { insert(Array(python.utf8)) }
    }

    private mutating func insert(_ needle: [UInt8]) {
        guard needle.count >= 4, known.insert(needle).inserted else { return }
        let key = Self.prefix(needle, at: 0)
        firstPairs[Int(key & 0xFFFF)] = true
        byPrefix[key, default: Bucket()].insert(needle, bounded: needle.count < Self.unboundedLength)
    }

    private static func prefix(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }

    /// Stops matching these texts inside other text: names that are public in the stack (a
    /// resource's name, which its URN shows) even though a secret holds the same text.
    public mutating func exempt(_ texts: some Sequence<String>) {
        for text in texts where text.utf8.count >= 4 {
            let needle = Array(text.utf8)
            guard known.contains(needle) else { continue }
            let key = Self.prefix(needle, at: 0)
            byPrefix[key]?.remove(needle)
            if byPrefix[key]?.lengths.isEmpty == true { byPrefix[key] = nil }
        }
    }

    /// `text` with every secret replaced by `[secret]`.
    public func redact(_ text: String) -> String {
        guard !byPrefix.isEmpty else { return text }
        let bytes = Array(text.utf8)
        return redact(bytes).map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    /// The bytes with every secret replaced, or nil when none occurs.
    public func redact(_ bytes: [UInt8]) -> [UInt8]? {
        guard !byPrefix.isEmpty, bytes.count >= 4 else { return nil }
        var out: [UInt8]?
        var i = 0
        var copied = 0
        let placeholder = Array(Self.placeholder.utf8)
        while i + 4 <= bytes.count {
            if firstPairs[Int(bytes[i]) | Int(bytes[i + 1]) << 8], let bucket = byPrefix[Self.prefix(bytes, at: i)],
               let length = bucket.lengths.first(where: { n in
                   let end = i + n
                   guard end <= bytes.count, let bounded = bucket.byLength[n]?[Array(bytes[i..<end])] else { return false }
                   return !bounded || ((i == 0 || !Self.isWordByte(bytes[i - 1])) && (end == bytes.count || !Self.isWordByte(bytes[end])))
               }) {
                if out == nil { out = []; out!.reserveCapacity(bytes.count) }
                out!.append(contentsOf: bytes[copied..<i])
                out!.append(contentsOf: placeholder)
                i += length
                copied = i
            } else {
                i += 1
            }
        }
        guard var result = out else { return nil }
        result.append(contentsOf: bytes[copied...])
        return result
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    /// A value with every secret signature replaced by `[secret]` and every string redacted.
    public func redact(_ value: PlainValue) -> PlainValue {
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let items): return .array(items.map(redact))
        case .object(let o):
            if o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig { return .string(Self.placeholder) }
            return .object(PlainObject(o.entries.map { (redact($0.key), redact($0.value)) }))
        default: return value
        }
    }

    /// The inside of `json.dumps(s)` (without the quotes); `asciiOnly` as `ensure_ascii=True`.
    static func jsonInside(_ s: String, asciiOnly: Bool) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (asciiOnly && u.value > 0x7E) {
                    for unit in String(u).utf16 { out += "\\u" + hex(UInt32(unit), width: 4) }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// The inside of Python's `repr(s)`: the quote it picks escaped, backslashes and control
    /// characters escaped.
    static func pythonReprInside(_ s: String) -> String {
        let quote: Unicode.Scalar = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case quote: out += "\\" + String(quote)
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) {
                    out += "\\x" + hex(u.value, width: 2)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
