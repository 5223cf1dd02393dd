import Foundation
import HostCore

/// Config values as the Pulumi CLI holds them after reading YAML with yaml.v3, and their text as
/// Go's `json.Marshal` writes it (`config.Plaintext.marshalText`): what a policy's
/// `pulumi.Config().get(...)` returns for a structured value.
enum GoJSONText {
    indirect enum Value: Equatable {
        case null
        case bool(Bool)
        /// An integer, as its decimal text (int64 or uint64).
        case int(String)
        case float(Double)
        case string(String)
        /// A decrypted secure value (or `"[secret]"`): text, like a string.
        case secret(String)
        case array([Value])
        case object([(String, Value)])

        static func == (l: Value, r: Value) -> Bool {
            switch (l, r) {
            case (.null, .null): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b
            case (.float(let a), .float(let b)): return a == b || (a.isNaN && b.isNaN)
            case (.string(let a), .string(let b)), (.secret(let a), .secret(let b)): return a == b
            case (.array(let a), .array(let b)): return a == b
            case (.object(let a), .object(let b)): return a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
            default: return false
            }
        }
    }

    /// A plain (unquoted) YAML scalar as yaml.v3 resolves it when decoding into `any`.
    static func resolvePlain(_ s: String) -> Value {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        guard let first = s.unicodeScalars.first, "+-.0123456789".unicodeScalars.contains(first) else { return .string(s) }
        // yaml.v3 keeps timestamp-like scalars as text when decoding into `any`.
        if isTimestamp(s) { return .string(s) }
        let plain = s.replacingOccurrences(of: "_", with: "")
        if let i = goParseInt(plain) { return .int(i) }
        if plain.wholeMatch(of: #/[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?/#) != nil, let d = Double(plain) {
            return .float(d)
        }
        return .string(s)
    }

    /// `strconv.ParseInt(s, 0, 64)`, else `ParseUint`: a sign, then `0x`, `0o`, `0b` or a leading `0`
    /// (octal) or decimal digits. The integer's decimal text.
    static func goParseInt(_ s: String) -> String? {
        var t = Substring(s)
        var negative = false
        if let c = t.first, c == "+" || c == "-" {
            negative = c == "-"
            t = t.dropFirst()
        }
        var radix = 10
        let lower = t.lowercased()
        if lower.hasPrefix("0x") { radix = 16; t = t.dropFirst(2) }
        else if lower.hasPrefix("0o") { radix = 8; t = t.dropFirst(2) }
        else if lower.hasPrefix("0b") { radix = 2; t = t.dropFirst(2) }
        else if t.count > 1, t.first == "0" { radix = 8; t = t.dropFirst() }
        guard let c = t.first, c != "+", c != "-", let magnitude = UInt64(t, radix: radix) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == 0 ? "0" : "-\(magnitude)"
        }
        return "\(magnitude)"
    }

    static func isTimestamp(_ s: String) -> Bool {
        s.wholeMatch(of: #/[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?/#) != nil
    }

    /// `json.Marshal` of the value's Go form: map keys sorted bytewise, `<`, `>`, `&`, U+2028 and
    /// U+2029 escaped, floats in Go's format; NaN and ±Inf are refused as Go refuses them.
    static func marshal(_ v: Value, path: String) throws(HostError) -> String {
        var out = ""
        try write(v, into: &out, path: path)
        return out
    }

    private static func write(_ v: Value, into out: inout String, path: String) throws(HostError) {
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let text): out += text
        case .float(let d):
            guard d.isFinite else {
                throw HostError(.usage, "\(path): \(d) cannot be passed to a policy pack (the CLI fails too: json: unsupported value)")
            }
            out += goFloat(d)
        case .string(let s), .secret(let s): quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                try write(item, into: &out, path: "\(path)[\(i)]")
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.sorted(by: { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }).enumerated() {
                if i > 0 { out += "," }
                quote(m.0, into: &out)
                out += ":"
                try write(m.1, into: &out, path: "\(path).\(m.0)")
            }
            out += "}"
        }
    }

    /// `s` as Go's encoding/json writes a string (HTML characters escaped).
    static func quoted(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{00}"..."\u{1F}":
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }

    /// Go's `encoding/json` float text: `strconv.AppendFloat(f, 'f', -1, 64)`, or `'e'` for
    /// |f| < 1e-6 or ≥ 1e21 with `e-07` shortened to `e-7`. Swift's description gives the same
    /// shortest round-trip digits; only the layout differs.
    static func goFloat(_ d: Double) -> String {
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        var s = "\(abs(d))"
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(s[s.index(after: e)...]) ?? 0
            s = String(s[..<e])
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var point = parts[0].count + exponent  // the decimal point's place in `digits`
        while digits.count > 1, digits.first == "0" { digits.removeFirst(); point -= 1 }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let magnitude = abs(d)
        if magnitude < 1e-6 || magnitude >= 1e21 {
            let e = point - 1
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            let exp = e < 0 ? "-\(-e)" : "+" + (e < 10 ? "0\(e)" : "\(e)")
            return "\(sign)\(mantissa)e\(exp)"
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }
}
