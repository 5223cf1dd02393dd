import Foundation
import PolicyValues
import Testing
import PolicyPack
import TestSupport

/// Property: Go matches struct keys case-insensitively, so re-keying every struct key of a valid
/// checkpoint or deployment with case variants (and the two non-ASCII runes Go folds into ASCII
/// letters) never changes what is read. Property-map keys (inputs, outputs, …) are left alone:
/// they are map keys, matched exactly.
@Suite struct StackFileKeyCaseTests {
    /// Builds one random document; `key` spells every struct key. Structure comes from `rng` only,
    /// so two builds with equal seeds differ in their keys' spelling alone.
    static func document(_ rng: inout SplitMix64, key: (String) -> String) -> PlainValue {
        func obj(_ pairs: [(String, PlainValue)]) -> PlainValue { .object(PlainObject(pairs.map { (key($0.0), $0.1) })) }
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func chance(_ p: Double) -> Bool { Double(rng.next() % 1000) / 1000 < p }
        func value(_ depth: Int) -> PlainValue {
            switch rng.next() % (depth > 2 ? 4 : 7) {
            case 0: return .string(pick(["a", "public-read", "Name", "[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]))
            case 1: return .double(Double(rng.next() % 5000) / 4)
            case 2: return .bool(chance(0.5))
            case 3: return .null
            case 4: return .array((0..<Int(rng.next() % 4)).map { _ in value(depth + 1) })
            case 5: return [EngineEncoding.sigKey: .string(EngineEncoding.secretSig), "plaintext": .string(JSON.serialize(value(depth + 1)))]
            default:
                let n = Int(rng.next() % 4)
                return .object(PlainObject((0..<n).map { ("Key\($0)", value(depth + 1)) }))
            }
        }
        func props() -> PlainValue {
            .object(PlainObject((0..<Int(rng.next() % 5)).map { (pick(["acl", "ACL", "tags", "Tags", "bucket", "size", "__defaults"]) + "\($0)", value(0)) }))
        }
        let stack = pick(["dev", "prod", "staging"]), project = pick(["shop", "intranet"])
        let prefix = "urn:pulumi:\(stack)::\(project)::"
        let root = prefix + "pulumi:pulumi:Stack::\(project)-\(stack)"
        var urns: [String] = []
        var resources: [PlainValue] = [obj([("urn", .string(root)), ("custom", false), ("type", "pulumi:pulumi:Stack"), ("outputs", props())])]
        let provider = prefix + "pulumi:providers:aws::default"
        resources.append(obj([("urn", .string(provider)), ("custom", true), ("id", "p1"), ("type", "pulumi:providers:aws"), ("inputs", props())]))
        for i in 0..<Int(rng.next() % 12) {
            let type = pick(["aws:s3/bucket:Bucket", "aws:ec2/instance:Instance", "kubernetes:apps/v1:Deployment"])
            let urn = prefix + "\(type)::r\(i)"
            var fields: [(String, PlainValue)] = [("urn", .string(urn)), ("custom", true), ("id", .string("id-\(i)")), ("type", .string(type)),
                                                  ("inputs", props()), ("outputs", props()), ("parent", .string(root)),
                                                  ("provider", .string(provider + "::p1"))]
            let deps = urns.filter { _ in chance(0.3) }
            if !deps.isEmpty {
                fields.append(("dependencies", .array(deps.map { .string($0) })))
                fields.append(("propertyDependencies", .object(PlainObject([("acl0", .array(deps.map { .string($0) }))]))))
            }
            if chance(0.3) { fields.append(("protect", true)) }
            if chance(0.2) { fields.append(("delete", true)) }
            if chance(0.3) { fields.append(("ignoreChanges", ["tags"])) }
            if chance(0.3) { fields.append(("additionalSecretOutputs", ["password"])) }
            if chance(0.2) { fields.append(("aliases", .array([.string(prefix + "\(type)::old\(i)")]))) }
            if chance(0.3) { fields.append(("customTimeouts", obj([("create", 60), ("delete", 30)]))) }
            if chance(0.3) { fields.append(("created", "2024-05-06T07:08:09.123Z")) }
            if chance(0.2) { fields.append(("refreshBeforeUpdate", true)) }
            if chance(0.2) { fields.append(("stackTrace", .array([obj([("sourcePosition", "project:///index.ts#3,1")])]))) }
            resources.shuffle(using: &rng)
            resources.append(obj(fields))
            urns.append(urn)
        }
        let deployment = obj([
            ("manifest", obj([("time", "2026-01-02T03:04:05Z"), ("magic", "m"), ("version", "v3.200.0"),
                              ("plugins", .array([obj([("name", "aws"), ("path", "/p"), ("type", "resource"), ("version", "6.0.0")])]))])),
            ("secrets_providers", obj([("type", .string(pick(["b64", "passphrase"]))), ("state", ["salt": "x"])])),
            ("resources", .array(resources)),
        ])
        if chance(0.5) {
            let version = pick([3, 4])
            return obj([("version", .int(version)), ("features", version == 4 ? ["refreshBeforeUpdate"] : .null),
                        ("checkpoint", obj([("stack", .string("acme/\(project)/\(stack)")), ("latest", deployment)]))])
        }
        return obj([("version", .int(pick([3, 4]))), ("features", ["refreshBeforeUpdate", "taint"]), ("deployment", deployment)])
    }

    /// A random spelling of a key that Go matches to it.
    static func variant(_ key: String, _ rng: inout SplitMix64) -> String {
        var out = ""
        for c in key {
            switch rng.next() % 5 {
            case 0 where c == "k" || c == "K": out.append("\u{212A}")  // KELVIN SIGN
            case 1 where c == "s" || c == "S": out.append("\u{017F}")  // LATIN SMALL LETTER LONG S
            case 0, 1: out += c.uppercased()
            default: out += c.lowercased()
            }
        }
        return out
    }

    /// Everything a snapshot holds that reaches policies, as comparable data.
    static func digest(_ s: StackSnapshot) -> PlainValue {
        let r = try! AnalysisRequests(snapshot: s, project: s.project, stack: s.stack)
        return .object(PlainObject([
            ("format", .string(s.format.rawValue)), ("stack", .string(s.stack)), ("project", .string(s.project)),
            ("organization", s.organization.map { .string($0) } ?? .null), ("secrets", s.secretsProvider.map { .string($0) } ?? .null),
            ("version", .int(s.version)), ("features", .array(s.features.map { .string($0) })),
            ("warnings", .array(s.warnings.map { .string($0) })), ("root", .string(r.rootStackURN)),
            ("resources", .array(r.resources.map(\.plain))), ("stackResources", .array(r.stackResources.map(\.plain))),
            ("providers", .array(r.providers.map(\.plain))),
            ("deps", .array(s.resources.map { res in .array(res.propertyDependencies.map { [.string($0.0), .array($0.1.map { .string($0) })] }) })),
            ("flags", .array(s.resources.map { .array([.bool($0.custom), .bool($0.delete), .string($0.id)]) })),
        ]))
    }

    @Test(arguments: 0..<200)
    func caseVariantsReadTheSame(_ seed: Int) throws {
        var structure = SplitMix64(seed: UInt64(seed))
        let canonical = Self.document(&structure, key: { $0 })
        structure = SplitMix64(seed: UInt64(seed))
        var spelling = SplitMix64(seed: UInt64(seed) &+ 0xC0FFEE)
        let rekeyed = Self.document(&structure, key: { Self.variant($0, &spelling) })
        #expect(canonical != rekeyed)  // the spellings do differ
        let a = try StackSnapshot.parse(canonical, file: "f.json")
        let b = try StackSnapshot.parse(rekeyed, file: "f.json")
        #expect(!a.resources.isEmpty)
        #expect(Self.digest(a) == Self.digest(b), "seed \(seed): \(JSON.serialize(rekeyed))")
    }
}
