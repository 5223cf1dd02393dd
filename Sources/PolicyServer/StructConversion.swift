import PolicyValues
import SwiftProtobuf

/// google.protobuf.Struct ⇄ PlainValue, with json_format.MessageToDict's view:
/// every number is a double.
extension PlainValue {
    init(_ value: Google_Protobuf_Value) {
        switch value.kind {
        case .nullValue, nil: self = .null
        case .numberValue(let d): self = .double(d)
        case .stringValue(let s): self = .string(s)
        case .boolValue(let b): self = .bool(b)
        case .structValue(let s): self = .object(PlainObject(s))
        case .listValue(let l): self = .array(l.values.map(PlainValue.init))
        }
    }

    var protobufValue: Google_Protobuf_Value {
        switch self {
        case .null: return Google_Protobuf_Value(nilLiteral: ())
        case .bool(let b): return Google_Protobuf_Value(boolValue: b)
        case .int(let i): return Google_Protobuf_Value(numberValue: Double(i))
        case .double(let d): return Google_Protobuf_Value(numberValue: d)
        case .string(let s): return Google_Protobuf_Value(stringValue: s)
        case .array(let a): return Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: a.map(\.protobufValue)))
        case .object(let o): return Google_Protobuf_Value(structValue: o.protobufStruct)
        }
    }
}

extension PlainObject {
    init(_ s: Google_Protobuf_Struct) {
        self.init()
        reserveCapacity(s.fields.count)
        // A protobuf map has no order; sorted keys make what policies iterate the same on every run.
        for (k, v) in s.fields.sorted(by: { $0.key < $1.key }) { self[k] = PlainValue(v) }
    }

    var protobufStruct: Google_Protobuf_Struct {
        var s = Google_Protobuf_Struct()
        for (k, v) in entries { s.fields[k] = v.protobufValue }
        return s
    }
}
