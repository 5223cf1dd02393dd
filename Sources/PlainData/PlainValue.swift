/// A plain data value: what crosses between Swift and Python.
///
/// It is the JSON data model plus a separate integer case, so that Python
/// `int`s survive a round trip. Objects keep their key order. The type holds
/// no Python objects, so it is `Sendable` and needs no GIL.
public enum PlainValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([PlainValue])
    case object(PlainObject)

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The object, when this is one.
    public var objectValue: PlainObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The array, when this is one.
    public var arrayValue: [PlainValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The Boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number as a `Double`, for both numeric cases.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// Equality as data: numbers compare by value whether `int` or `double`
    /// (JSON and protobuf's Struct do not tell them apart).
    public static func == (lhs: PlainValue, rhs: PlainValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.int, _), (.double, _):
            guard let a = lhs.doubleValue, let b = rhs.doubleValue else { return false }
            return a == b
        default: return false
        }
    }

    /// Member lookup for objects; `nil` for anything else.
    public subscript(key: String) -> PlainValue? {
        objectValue?[key]
    }
}

/// An ordered string-keyed map, as a JSON object or a Python `dict`.
///
/// Small objects (the common case for resource properties) are searched
/// linearly; a hash index is built only past `indexThreshold` entries.
public struct PlainObject: Sendable, Equatable {
    /// Entries in insertion order; keys are unique.
    public private(set) var entries: [(key: String, value: PlainValue)]
    private var index: [String: Int]?
    private static let indexThreshold = 12

    /// An empty object.
    public init() {
        entries = []
    }

    /// An object from entries; a repeated key keeps its first position and its last value (as JSON parsers do).
    public init(_ pairs: [(String, PlainValue)]) {
        self.init()
        entries.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// Reserves room for `n` entries.
    public mutating func reserveCapacity(_ n: Int) { entries.reserveCapacity(n) }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        for i in entries.indices where entries[i].key == key { return i }
        return nil
    }

    /// The value for `key`; assigning `nil` removes the key.
    public subscript(key: String) -> PlainValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return entries[i].value
        }
        set {
            if let i = position(of: key) {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                    index = nil
                    if entries.count > Self.indexThreshold { rebuildIndex() }
                }
            } else if let newValue {
                entries.append((key, newValue))
                if index != nil {
                    index![key] = entries.count - 1
                } else if entries.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    private mutating func rebuildIndex() {
        var idx = [String: Int](minimumCapacity: entries.count)
        for (n, e) in entries.enumerated() { idx[e.key] = n }
        index = idx
    }

    public static func == (lhs: PlainObject, rhs: PlainObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (k, v) in lhs.entries where rhs[k] != v { return false }
        return true
    }
}

extension PlainValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(arrayLiteral elements: PlainValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, PlainValue)...) { self = .object(PlainObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}
