import PolicyPack
import PolicyValues
import SwiftProtobuf

/// `pulumirpc.AnalyzeRequest` (Analyze and Remediate) decoded straight into the driver's request,
/// without building SwiftProtobuf's `Google_Protobuf_Struct` (a dictionary of boxed values) first and
/// converting it after: for a resource of a kilobyte or two, half the request's cost on the I/O thread.
///
/// It takes only the shape the engine sends — each field once and in its wire type, map entries as key
/// then value, every `Value` with exactly one kind, strings valid UTF-8, nesting within `depthLimit` —
/// and gives up (nil) on anything else: unknown fields, repeats (which protobuf merges or overrides),
/// duplicate or canonically equal keys, a null of another number, a bool other than 0 or 1, truncation.
/// The caller then decodes with SwiftProtobuf, whose answer (a value, or the error the SDK's server
/// would give) is the reference; for what it accepts, this decoder gives the same request (proved by
/// `AnalyzeRequestDecoderTests` over generated and mutated requests).
enum AnalyzeRequestDecoder {
    /// Nesting of `Value`s beyond which the decoder gives up (SwiftProtobuf's limit is 100 messages).
    static let depthLimit = 32

    static func resource(_ bytes: UnsafeRawBufferPointer) -> ResourceRequest? {
        var head = Head()
        var options: Pulumirpc_AnalyzerResourceOptions?
        var provider: ProviderResource?
        guard head.read(bytes, more: { field, body in
            switch field {
            case 5 where options == nil:
                options = try? Pulumirpc_AnalyzerResourceOptions(serializedBytes: [UInt8](body))
                return options != nil
            case 6 where provider == nil:
                var inner = Head()
                guard inner.read(body, more: { _, _ in false }) else { return false }
                provider = ProviderResource(type: inner.type ?? "", urn: inner.urn ?? "", name: inner.name ?? "",
                                            properties: inner.properties ?? PlainObject())
                return true
            default:
                return false
            }
        }) else { return nil }
        let props = head.properties ?? PlainObject()
        return ResourceRequest(type: head.type ?? "", urn: head.urn ?? "", name: head.name ?? "", properties: props,
                               plainProperties: EngineEncoding.isPlain(props),
                               options: AnalyzerMessages.options(options),
                               provider: provider.map { .inline($0) } ?? .none)
    }

    /// Fields 1–4, which AnalyzeRequest and AnalyzerProviderResource share: type, properties, urn, name.
    private struct Head {
        var type: String?, urn: String?, name: String?
        var properties: PlainObject?

        /// Reads a whole message: fields 1–4 here, others through `more` (false: give up). False when
        /// the message is not of the shape this decoder takes.
        mutating func read(_ bytes: UnsafeRawBufferPointer, more: (Int, UnsafeRawBufferPointer) -> Bool) -> Bool {
            var reader = WireReader(bytes)
            while !reader.atEnd {
                guard let (field, body) = reader.lengthDelimitedField() else { return false }
                switch field {
                case 1 where type == nil:
                    guard let v = string(body) else { return false }
                    type = v
                case 2 where properties == nil:
                    guard let v = object(body, depth: 1) else { return false }
                    properties = v
                case 3 where urn == nil:
                    guard let v = string(body) else { return false }
                    urn = v
                case 4 where name == nil:
                    guard let v = string(body) else { return false }
                    name = v
                case 1, 2, 3, 4:
                    return false  // a repeated field: protobuf overrides or merges
                default:
                    guard more(field, body) else { return false }
                }
            }
            return true
        }
    }

    private static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// A `google.protobuf.Struct`, keys sorted as `PlainObject(Google_Protobuf_Struct)` sorts them.
    private static func object(_ bytes: UnsafeRawBufferPointer, depth: Int) -> PlainObject? {
        var reader = WireReader(bytes)
        var entries: [(String, PlainValue)] = []
        while !reader.atEnd {
            guard let (field, entry) = reader.lengthDelimitedField(), field == 1 else { return nil }
            // A map entry: key (1) then value (2), nothing else.
            var inner = WireReader(entry)
            guard let (keyField, keyBytes) = inner.lengthDelimitedField(), keyField == 1,
                  let (valueField, valueBytes) = inner.lengthDelimitedField(), valueField == 2, inner.atEnd,
                  let key = string(keyBytes), let value = value(valueBytes, depth: depth) else { return nil }
            entries.append((key, value))
        }
        entries.sort { $0.0 < $1.0 }
        // Equal keys (the same, or canonically equivalent) are neighbours now: protobuf's map keeps the
        // last, String's equality decides which are equal — not this decoder's business.
        for i in entries.indices.dropFirst() where entries[i - 1].0 == entries[i].0 { return nil }
        var object = PlainObject()
        object.reserveCapacity(entries.count)
        for (key, value) in entries { object[key] = value }
        return object
    }

    /// A `google.protobuf.Value` with exactly one kind, as `PlainValue(Google_Protobuf_Value)` reads it.
    private static func value(_ bytes: UnsafeRawBufferPointer, depth: Int) -> PlainValue? {
        guard depth <= depthLimit else { return nil }
        var reader = WireReader(bytes)
        guard let (field, wire) = reader.tag() else { return nil }
        let result: PlainValue?
        switch (field, wire) {
        case (1, 0): result = reader.varint() == 0 ? .null : nil
        case (2, 1): result = reader.fixed64().map { .double(Double(bitPattern: $0)) }
        case (3, 2): result = reader.lengthDelimited().flatMap(string).map { .string($0) }
        case (4, 0):
            switch reader.varint() {
            case 0: result = .bool(false)
            case 1: result = .bool(true)
            default: result = nil
            }
        case (5, 2): result = reader.lengthDelimited().flatMap { object($0, depth: depth + 1) }.map { .object($0) }
        case (6, 2): result = reader.lengthDelimited().flatMap { list($0, depth: depth + 1) }.map { .array($0) }
        default: result = nil
        }
        return reader.atEnd ? result : nil
    }

    /// A `google.protobuf.ListValue`.
    private static func list(_ bytes: UnsafeRawBufferPointer, depth: Int) -> [PlainValue]? {
        var reader = WireReader(bytes)
        var items: [PlainValue] = []
        while !reader.atEnd {
            guard let (field, item) = reader.lengthDelimitedField(), field == 1,
                  let value = value(item, depth: depth) else { return nil }
            items.append(value)
        }
        return items
    }
}

/// Protobuf's wire format, read strictly: nil on anything malformed or truncated.
private struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var atEnd: Bool { at == bytes.count }

    /// A varint of at most 10 bytes whose value fits 64 bits.
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while at < bytes.count, shift < 64 {
            let byte = bytes[at]
            at += 1
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// A field's number (1 ... 2^29 - 1) and wire type.
    mutating func tag() -> (field: Int, wire: Int)? {
        guard let key = varint(), key <= UInt64(UInt32.max) else { return nil }
        let field = Int(key >> 3)
        guard field > 0 else { return nil }
        return (field, Int(key & 7))
    }

    mutating func fixed64() -> UInt64? {
        guard bytes.count - at >= 8 else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += 8
        return value
    }

    /// The body of a length-delimited field (its tag already read).
    mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
        guard let length = varint(), length <= UInt64(bytes.count - at) else { return nil }
        let start = at
        at += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<at])
    }

    /// The next field, which must be length-delimited: its number and body.
    mutating func lengthDelimitedField() -> (Int, UnsafeRawBufferPointer)? {
        guard let (field, wire) = tag(), wire == 2, let body = lengthDelimited() else { return nil }
        return (field, body)
    }
}
