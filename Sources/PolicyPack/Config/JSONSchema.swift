import Foundation
import PolicyValues

/// A JSON-schema (draft 4–7 keywords) validator for policy config schemas,
/// worded like gojsonschema, which the engine uses: `<field>: <description>`.
public enum JSONSchema {
    public static func validate(_ value: PlainValue, schema: PlainValue) -> [String] {
        var errors: [String] = []
        check(value, schema, path: "(root)", into: &errors)
        return errors
    }

    private static func typeName(_ v: PlainValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double(let d): d == d.rounded() ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func matches(_ v: PlainValue, type t: String) -> Bool {
        let actual = typeName(v)
        if t == "number" { return actual == "number" || actual == "integer" }
        return actual == t
    }

    private static func child(_ path: String, _ key: String) -> String { path == "(root)" ? key : "\(path).\(key)" }

    private static func check(_ v: PlainValue, _ schema: PlainValue, path: String, into errors: inout [String]) {
        guard let s = schema.objectValue else { return }
        if let t = s["type"] {
            let types = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue].compactMap { $0 }
            if !types.isEmpty, !types.contains(where: { matches(v, type: $0) }) {
                errors.append("\(path): Invalid type. Expected: \(types.joined(separator: ", ")), given: \(typeName(v))")
                return
            }
        }
        if let e = s["enum"]?.arrayValue, !e.contains(where: { equal($0, v) }) {
            errors.append("\(path): \(path) must be one of the following: \(e.map { JSON.serialize($0) }.joined(separator: ", "))")
        }
        if let c = s["const"], !equal(c, v) {
            errors.append("\(path): \(path) does not match: \(JSON.serialize(c))")
        }
        if let d = v.doubleValue, v.boolValue == nil {
            if let m = s["minimum"]?.doubleValue {
                if s["exclusiveMinimum"]?.boolValue == true ? d <= m : d < m {
                    errors.append("\(path): Must be greater than \(s["exclusiveMinimum"]?.boolValue == true ? "" : "or equal to ")\(JSON.formatNumber(m))")
                }
            }
            if let m = s["maximum"]?.doubleValue {
                if s["exclusiveMaximum"]?.boolValue == true ? d >= m : d > m {
                    errors.append("\(path): Must be less than \(s["exclusiveMaximum"]?.boolValue == true ? "" : "or equal to ")\(JSON.formatNumber(m))")
                }
            }
            if let m = s["exclusiveMinimum"]?.doubleValue, d <= m { errors.append("\(path): Must be greater than \(JSON.formatNumber(m))") }
            if let m = s["exclusiveMaximum"]?.doubleValue, d >= m { errors.append("\(path): Must be less than \(JSON.formatNumber(m))") }
            if let m = s["multipleOf"]?.doubleValue, m > 0, (d / m).rounded() != d / m {
                errors.append("\(path): Must be a multiple of \(JSON.formatNumber(m))")
            }
        }
        if let str = v.stringValue {
            let n = str.unicodeScalars.count
            if let m = s["minLength"]?.doubleValue?.clampedInt, n < m { errors.append("\(path): String length must be greater than or equal to \(m)") }
            if let m = s["maxLength"]?.doubleValue?.clampedInt, n > m { errors.append("\(path): String length must be less than or equal to \(m)") }
            if let p = s["pattern"]?.stringValue, let re = try? NSRegularExpression(pattern: p),
               re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                errors.append("\(path): Does not match pattern '\(p)'")
            }
        }
        if let items = v.arrayValue {
            if let m = s["minItems"]?.doubleValue?.clampedInt, items.count < m { errors.append("\(path): Array must have at least \(m) items") }
            if let m = s["maxItems"]?.doubleValue?.clampedInt, items.count > m { errors.append("\(path): Array must have at most \(m) items") }
            if s["uniqueItems"]?.boolValue == true {
                for i in items.indices where items[..<i].contains(where: { equal($0, items[i]) }) {
                    errors.append("\(path): array items must be unique")
                    break
                }
            }
            if let itemSchema = s["items"], itemSchema.objectValue != nil {
                for (i, item) in items.enumerated() { check(item, itemSchema, path: "\(child(path, String(i)))", into: &errors) }
            }
        }
        if let obj = v.objectValue {
            let props = s["properties"]?.objectValue ?? PlainObject()
            for r in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where obj[r] == nil {
                errors.append("\(path): \(r) is required")
            }
            for (k, x) in obj.entries {
                if let ps = props[k] {
                    check(x, ps, path: child(path, k), into: &errors)
                } else if let ap = s["additionalProperties"] {
                    if ap.boolValue == false {
                        errors.append("\(path): Additional property \(k) is not allowed")
                    } else if ap.objectValue != nil {
                        check(x, ap, path: child(path, k), into: &errors)
                    }
                }
            }
            if let m = s["minProperties"]?.doubleValue?.clampedInt, obj.count < m { errors.append("\(path): Must have at least \(m) properties") }
            if let m = s["maxProperties"]?.doubleValue?.clampedInt, obj.count > m { errors.append("\(path): Must have at most \(m) properties") }
        }
    }

    private static func equal(_ a: PlainValue, _ b: PlainValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue, a.boolValue == nil, b.boolValue == nil { return x == y }
        return a == b
    }
}
