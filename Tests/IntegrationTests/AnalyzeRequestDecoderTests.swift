import Foundation
import PolicyPack
import PolicyValues
@testable import PolicyServer
import SwiftProtobuf
import Testing
import TestSupport

/// `AnalyzeRequestDecoder` (serve's direct decoding of Analyze and Remediate requests) against the
/// reference, SwiftProtobuf's decoding followed by the conversion it replaces: for every request the
/// fast decoder accepts, the same driver request, byte for byte (doubles by bit pattern, keys in
/// order); what it does not accept, SwiftProtobuf decides — including every malformed request.
@Suite struct AnalyzeRequestDecoderTests {
    // MARK: The reference and the decoder

    static func reference(_ bytes: [UInt8]) -> ResourceRequest? {
        guard let request = try? Pulumirpc_AnalyzeRequest(serializedBytes: bytes) else { return nil }
        return AnalyzerMessages.resource(request)
    }

    static func fast(_ bytes: [UInt8]) -> ResourceRequest? {
        bytes.withUnsafeBytes { AnalyzeRequestDecoder.resource($0) }
    }

    /// Equal as the driver sees them: same keys in the same order, doubles with the same bits.
    static func same(_ a: PlainValue, _ b: PlainValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x.entries, y.entries).allSatisfy {
                Array($0.key.utf8) == Array($1.key.utf8) && same($0.value, $1.value)
            }
        default: return false
        }
    }

    static func same(_ a: ResourceRequest, _ b: ResourceRequest) -> Bool {
        same(a.plain, b.plain) && a.plainProperties == b.plainProperties
    }

    // MARK: Generated requests

    static let strings = ["", "a", "bucket", "\u{E9}", "e\u{301}", "\u{1F642} ok", "4dabf18193072939515e22adb298388d",
                          "1b47061264138c4ac30d75fd1eb44270", String(repeating: "x", count: 300), "ключ", "tab\tnew\nline", "\u{0}"]
    static let keys = ["a", "b", "B", "acl", "tags", "\u{E9}", "__meta", "ключ", String(repeating: "k", count: 70), "\u{1F642}"]
    static let numbers: [Double] = [0, -0.0, 1, -1, 1.5, 42, 1e300, -1e-300, .infinity, -.infinity, .nan, 9_007_199_254_740_993]

    static func value(_ r: inout SplitMix64, depth: Int) -> Google_Protobuf_Value {
        switch r.below(depth > 4 ? 4 : 6) {
        case 0: return Google_Protobuf_Value(nilLiteral: ())
        case 1: return Google_Protobuf_Value(numberValue: r.below(3) == 0 ? Double(bitPattern: r.next()) : r.pick(numbers))
        case 2: return Google_Protobuf_Value(stringValue: r.pick(strings))
        case 3: return Google_Protobuf_Value(boolValue: r.below(2) == 0)
        case 4: return Google_Protobuf_Value(structValue: object(&r, depth: depth + 1))
        default:
            return Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: (0..<r.below(4)).map { _ in value(&r, depth: depth + 1) }))
        }
    }

    static func object(_ r: inout SplitMix64, depth: Int) -> Google_Protobuf_Struct {
        var s = Google_Protobuf_Struct()
        for _ in 0..<r.below(depth == 0 ? 8 : 4) { s.fields[r.pick(keys)] = value(&r, depth: depth) }
        return s
    }

    static func request(_ r: inout SplitMix64) -> Pulumirpc_AnalyzeRequest {
        var q = Pulumirpc_AnalyzeRequest()
        q.type = r.pick(["aws:s3/bucket:Bucket", "aws:ec2/instance:Instance", ""])
        q.urn = "urn:pulumi:dev::p::\(q.type)::\(r.pick(strings))"
        q.name = r.pick(strings)
        q.properties = object(&r, depth: 0)
        if r.below(3) == 0 {
            var o = Pulumirpc_AnalyzerResourceOptions()
            o.protect = r.below(2) == 0
            o.ignoreChanges = ["tags", r.pick(strings)]
            o.parent = r.pick(strings)
            q.options = o
        }
        if r.below(3) == 0 {
            var p = Pulumirpc_AnalyzerProviderResource()
            p.type = "pulumi:providers:aws"
            p.urn = "urn:pulumi:dev::p::pulumi:providers:aws::default"
            p.name = r.pick(strings)
            p.properties = object(&r, depth: 1)
            q.provider = p
        }
        return q
    }

    /// Requests as a protobuf encoder writes them: the fast decoder takes nearly all and agrees on each.
    @Test func generatedRequestsDecodeAsTheReferenceDecodesThem() throws {
        var r = SplitMix64(seed: 18)
        var taken = 0
        let count = 3000
        for _ in 0..<count {
            let bytes: [UInt8] = try Self.request(&r).serializedBytes()
            let reference = try #require(Self.reference(bytes))
            guard let fast = Self.fast(bytes) else { continue }
            taken += 1
            #expect(Self.same(fast, reference), "\(bytes)")
        }
        // What it leaves to SwiftProtobuf here is only what an encoder leaves out (an empty map key).
        #expect(taken > count * 9 / 10, "the fast decoder took \(taken) of \(count)")
    }

    /// Requests with bytes flipped, cut, inserted or repeated: whenever the fast decoder accepts one, the
    /// reference accepts it too, with the same result.
    @Test func mutatedRequestsNeverDecodeDifferently() throws {
        var r = SplitMix64(seed: 1805)
        var accepted = 0, rejected = 0
        for _ in 0..<600 {
            let original: [UInt8] = try Self.request(&r).serializedBytes()
            for _ in 0..<12 {
                var bytes = original
                guard !bytes.isEmpty else { continue }
                switch r.below(4) {
                case 0: bytes[r.below(bytes.count)] ^= UInt8(1 << r.below(8))
                case 1: bytes.removeLast(1 + r.below(bytes.count))
                case 2: bytes.insert(UInt8(r.below(256)), at: r.below(bytes.count + 1))
                default:
                    let start = r.below(bytes.count)
                    bytes += bytes[start..<min(bytes.count, start + 1 + r.below(16))]
                }
                let reference = Self.reference(bytes)
                guard let fast = Self.fast(bytes) else {
                    rejected += 1
                    continue
                }
                accepted += 1
                let expected = try #require(reference, "the fast decoder accepted what SwiftProtobuf rejects: \(bytes)")
                #expect(Self.same(fast, expected), "\(bytes)")
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    // MARK: Shapes left to the reference

    @Test func unusualShapesAreLeftToTheReference() throws {
        let cases: [(String, [UInt8], Bool)] = [
            // (what, request bytes, whether the reference accepts it)
            ("keys equal as Strings (composed and decomposed é)",
             field(2, entry(Array("\u{E9}".utf8), stringValue) + entry(Array("e\u{301}".utf8), text(3, "w"))), true),
            ("a repeated key", field(2, entry(Array("k".utf8), stringValue) + entry(Array("k".utf8), text(3, "w"))), true),
            ("a key that is not UTF-8", field(2, entry([0xC3, 0x28], stringValue)), false),
            ("a value with two kinds", field(2, entry(Array("k".utf8), text(3, "v") + [0x10, 0x01])), true),
            ("a null numbered 7", field(2, entry(Array("k".utf8), [0x08, 0x07])), true),
            ("a bool of 2", field(2, entry(Array("k".utf8), [0x20, 0x02])), true),
            ("an empty value", field(2, entry(Array("k".utf8), [])), true),
            ("value before key", field(2, field(1, field(2, stringValue) + field(1, Array("k".utf8)))), true),
            ("properties twice (protobuf merges)", field(2, entry(Array("a".utf8), stringValue)) + field(2, entry(Array("b".utf8), stringValue)), true),
            ("type twice (the last wins)", text(1, "a") + text(1, "b"), true),
            ("an unknown field", text(1, "a") + text(99, "x"), true),
            ("a varint field", text(1, "a") + [0x38, 0x01], true),
            ("a truncated string", Array(text(1, "abcdef").dropLast(2)), false),
            ("a name that is not UTF-8", field(4, [0xFF]), false),
        ]
        for (what, bytes, accepted) in cases {
            #expect(Self.fast(bytes) == nil, "\(what): taken by the fast decoder")
            #expect((Self.reference(bytes) != nil) == accepted, "\(what): the reference \(accepted ? "rejects" : "accepts") it")
        }
        // Nesting deeper than the fast decoder goes (and deeper than SwiftProtobuf's limit).
        var nested = text(3, "leaf")
        for _ in 0..<(AnalyzeRequestDecoder.depthLimit + 2) { nested = field(6, field(1, nested)) }
        let deep = field(2, entry(Array("k".utf8), nested))
        #expect(Self.fast(deep) == nil)
        #expect(Self.reference(deep) != nil)
        for _ in 0..<120 { nested = field(6, field(1, nested)) }
        let tooDeep = field(2, entry(Array("k".utf8), nested))
        #expect(Self.fast(tooDeep) == nil)
        #expect(Self.reference(tooDeep) == nil)
    }
}

// Protobuf's wire format by hand, for shapes an encoder does not write.
private func varint(_ v: UInt64) -> [UInt8] {
    var v = v, out: [UInt8] = []
    while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
    return out + [UInt8(v)]
}
private func field(_ n: Int, _ body: [UInt8]) -> [UInt8] { varint(UInt64(n << 3 | 2)) + varint(UInt64(body.count)) + body }
private func text(_ n: Int, _ s: String) -> [UInt8] { field(n, Array(s.utf8)) }
private func entry(_ key: [UInt8], _ value: [UInt8]) -> [UInt8] { field(1, field(1, key) + field(2, value)) }
private let stringValue = text(3, "v")

