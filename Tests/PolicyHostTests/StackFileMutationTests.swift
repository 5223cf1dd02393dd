import Foundation
import PolicyValues
import Testing
import TestSupport
import HostCore
import PolicyPack

/// Whatever a stack file holds, reading it either succeeds or is one `HostError` (exit 2): every
/// fixture, with values replaced at random (seeded) by values of other types, odd numbers and odd
/// strings, is read and turned into requests without trapping.
@Suite struct StackFileMutationTests {
    static let replacements: [PlainValue] = [
        .null, "", "x", 0.0, -1.0, 1e300, -1e300, 4.5, .double(.infinity), true, false, [], [.null], ["a", 1.0],
        [:], ["k": "v"], "urn:pulumi:", "urn:pulumi:s::p", "urn:pulumi:::::::", "::", "a::b::c::d",
        .object(PlainObject([(EngineEncoding.sigKey, .string(EngineEncoding.secretSig))])),
        .object(PlainObject([(EngineEncoding.sigKey, .string(EngineEncoding.resourceSig)), ("urn", "u"), ("id", ["V": 1.0])])),
        .object(PlainObject([(EngineEncoding.sigKey, "8ad145fe-0d11-4827-bfd7-1abcbf086f5c"), ("value", "ffffffffffffffff")])),
        .object(PlainObject([(EngineEncoding.sigKey, "803fd3297a5875dc03ca845dda5d2a98"), ("value", "////")])),
        .object(PlainObject([(EngineEncoding.sigKey, .string(EngineEncoding.archiveSig)), ("assets", ["a": .null])])),
    ]

    static func mutate(_ v: PlainValue, _ rng: inout SplitMix64, rate: UInt64) -> PlainValue {
        if rng.next() % rate == 0 {
            return replacements[Int(rng.next() % UInt64(replacements.count))]
        }
        switch v {
        case .array(let items): return .array(items.map { mutate($0, &rng, rate: rate) })
        case .object(let o): return .object(PlainObject(o.entries.map { ($0.key, mutate($0.value, &rng, rate: rate)) }))
        default: return v
        }
    }

    static let fixtures: [String] = [
        "aws-webshop.json", "intranet-checkpoint-v1.json", "edge-preview.json", "thumbnailer-assets.json",
        "checkpoint-stack-latest-keys.json", "deployment-key-case.json", "v4/byteString.json", "v4/views.json",
        "checkpoint-v0.json", "deployment-v2.json", "preview-digest.json", "preview-replacement-steps.json",
    ]

    @Test(arguments: fixtures)
    func mutatedFilesReadOrFailCleanly(_ name: String) throws {
        let original = try JSON.parse(Data(contentsOf: StackFixtures.url(name)))
        var rng = SplitMix64(seed: UInt64(name.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
        var read = 0, refused = 0
        for round in 0..<150 {
            let doc = Self.mutate(original, &rng, rate: UInt64([3, 20, 80][round % 3]))
            do {
                let s = try StackSnapshot.parse(doc, file: "m.json")
                _ = try AnalysisRequests(snapshot: s, project: s.project, stack: s.stack)
                read += 1
            } catch {
                #expect(!error.message.isEmpty)
                #expect(error.status == .usage)
                refused += 1
            }
        }
        #expect(read + refused == 150)
    }
}
