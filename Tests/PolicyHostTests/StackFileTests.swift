import Foundation
import PolicyValues
import Testing
import HostCore
import PolicyPack

/// The stack files of `Fixtures/stacks/`, read with the results the CLI's rules imply.
enum StackFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func url(_ name: String) -> URL { root.appendingPathComponent("Fixtures/stacks/\(name)") }
    static func load(_ name: String) throws -> StackSnapshot { try StackSnapshot.load(url(name)) }

    /// The error a fixture is refused with.
    static func refusal(_ name: String) -> HostError? {
        do {
            _ = try load(name)
            return nil
        } catch let e as HostError {
            return e
        } catch {
            return nil
        }
    }

    static func requests(_ s: StackSnapshot, project: String? = nil, stack: String? = nil) -> AnalysisRequests {
        // Throws only for a secret that does not decrypt, which no fixture read here has.
        try! AnalysisRequests(snapshot: s, project: project ?? s.project, stack: stack ?? s.stack)
    }
}

extension ResourceRequest {
    /// The resource's name, for compact expectations.
    var requestName: String { name }
}

extension StackResourceRequest {
    var requestName: String { name }
}

@Suite struct StackFileTests {
    typealias F = StackFixtures
    static let intranet = ["intranet-prod", "default_6_52_0", "wiki", "app"]

    // MARK: Checkpoints

    @Test func stackLatestCheckpointIsReadAsTheCLIReadsIt() throws {
        // pulumi/pulumi#20726: `pulumi stack import` on a DIY backend wrote "Stack" and "Latest"
        // from v3.54.0 to v3.202.x; Go's decoder matches them to `stack` and `latest`.
        let s = try F.load("checkpoint-stack-latest-keys.json")
        #expect(s.format == .checkpoint)
        #expect(s.resources.map(\.name) == Self.intranet)
        #expect(s.organization == "acme")
        #expect(s.project == "intranet")
        #expect(s.stack == "prod")
        #expect(s.secretsProvider == "passphrase")
        #expect(s.warnings.isEmpty)
        #expect(s.rootStackURN == "urn:pulumi:prod::intranet::pulumi:pulumi:Stack::intranet-prod")
    }

    @Test func checkpointStackNamesTheStack() throws {
        // A bare stack name (older DIY backends) names the stack, not the project or organization.
        let s = try F.load("checkpoint-v2.json")
        #expect(s.stack == "intranet-prod")
        #expect(s.project == "intranet")
        #expect(s.organization == nil)
        let v4 = try F.load("checkpoint-v4.json")
        #expect((v4.organization, v4.project, v4.stack) == ("organization", "intranet", "prod"))
    }

    @Test func versionZeroCheckpointIsTheBareCheckpoint() throws {
        let s = try F.load("checkpoint-v0.json")
        #expect(s.version == 0)
        #expect(s.resources.map(\.name) == Self.intranet)
        // A v0 checkpoint holds a DeploymentV1: ResourceV1 has no `provider`.
        #expect(s.resources.allSatisfy { $0.provider.isEmpty })
    }

    @Test func checkpointVersionsOutsideZeroToFourAreRefused() throws {
        for v in [-1, 5, 17] {
            let doc: PlainValue = ["version": .int(v), "checkpoint": ["stack": "s"]]
            #expect(throws: HostError.self) { try StackSnapshot.parse(doc, file: "f.json") }
        }
        let e = try #require(Self.error { try StackSnapshot.parse(["version": 5, "checkpoint": [:]], file: "f.json") })
        #expect(e.message == "f.json: unsupported checkpoint version 5")
    }

    @Test func checkpointWithoutVersionButWithABodyIsRefused() throws {
        let doc = try JSON.parse(#"{"checkpoint":{"stack":"s","latest":{"resources":[]}}}"#)
        let e = try #require(Self.error { try StackSnapshot.parse(doc, file: "f.json") })
        #expect(e.message.contains("but no \"version\""))
    }

    @Test func versionFourCheckpointChecksItsFeatures() throws {
        let s = try F.load("checkpoint-v4.json")
        #expect(s.version == 4)
        #expect(s.features == ["refreshBeforeUpdate", "taint"])
        #expect(s.resources.count == 4)
        let e = try #require(F.refusal("checkpoint-v4-unknown-feature.json"))
        #expect(e.status == .usage)
        #expect(e.message.hasSuffix("checkpoint-v4-unknown-feature.json: the deployment needs features this tool does not support: quantumState"))
    }

    @Test func gzipStateIsRecognisedByItsMagicBytes() throws {
        let s = try F.load("checkpoint-gzip.json.gz")
        #expect(s.resources.map(\.name) == Self.intranet)
        #expect(s.stack == "prod")
        // The name does not matter: the same bytes under another name read the same.
        try Self.withCopy(of: "checkpoint-gzip.json.gz", as: "state") { url in
            let copy = try StackSnapshot.load(url)
            #expect(copy.resources.count == 4)
        }
        // Corrupt gzip is one clear error.
        try Self.withTemporaryFile(Data([0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02])) { url in
            let e = try #require(Self.error { try StackSnapshot.load(url) })
            #expect(e.message.contains("gzip-compressed, but it does not decompress"))
        }
    }

    // MARK: Deployments

    @Test func keysMatchAsGoMatchesThem() throws {
        let s = try F.load("deployment-key-case.json")
        #expect(s.format == .deployment)
        #expect(s.resources.map(\.name) == Self.intranet)
        #expect(s.secretsProvider == "b64")
        let app = try #require(s.resources.last)
        #expect(app.custom)
        #expect(app.id == "i-0abc")
        #expect(app.provider.hasSuffix("::p-1"))
        #expect(app.dependencies == ["urn:pulumi:prod::intranet::aws:s3/bucket:Bucket::wiki"])
        #expect(app.propertyDependencies.map(\.0) == ["instanceType", "rootBlockDevice"])
        // Property maps are maps, not structs: their keys stay exactly as written.
        #expect(app.inputs.keys == ["instanceType", "rootBlockDevice"])
    }

    @Test func exactKeyIsPreferredAndCaseVariantsMergeInDocumentOrder() throws {
        // Both keys name the field: a scalar takes the later value, a map merges, a slice is replaced.
        let doc = try JSON.parse("""
            {"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:s::p::t::a","type":"t","custom":true,
              "id":"first","ID":"second","inputs":{"a":1,"b":2},"Inputs":{"b":3,"c":4},
              "dependencies":["x"],"Dependencies":["y","z"],"protect":true,"Protect":null}]}}
            """)
        let r = try #require(try StackSnapshot.parse(doc, file: "f.json").resources.first)
        #expect(r.id == "second")
        #expect(r.inputs == PlainObject([("a", 1.0), ("b", 3.0), ("c", 4.0)]))
        #expect(r.dependencies == ["y", "z"])
        #expect(r.protect)  // null leaves a bool as it was
        // Go folds with Unicode simple folding: KELVIN SIGN is a k, LONG S an s.
        let folded = try JSON.parse(#"{"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:s::p::t::a","cu\#u{017F}tom":true,"id":"i","type":"t"}]}}"#)
        #expect(try StackSnapshot.parse(folded, file: "f.json").resources.first?.custom == true)
        let kind = GoStruct("T", [("kind", .string), ("Kind", .int)])
        #expect(kind.field(for: "\u{212A}IND")?.name == "kind")
        #expect(kind.field(for: "Kind")?.name == "Kind")  // an exact match wins over a folded one
        #expect(kind.field(for: "KIND")?.name == "kind")  // else the first field that folds equal
        #expect(kind.field(for: "kınd") == nil)  // dotless i folds to no ASCII letter
    }

    @Test func versionFourWithEachKnownFeature() throws {
        for feature in StackSnapshot.knownFeatures.sorted() {
            let s = try F.load("v4/\(feature).json")
            #expect(s.version == 4, "\(feature)")
            #expect(s.features == [feature])
            #expect(s.warnings.isEmpty, "\(feature): \(s.warnings)")
            #expect(s.resources.count == (feature == "views" ? 5 : 4), "\(feature)")
            let r = F.requests(s)
            #expect(r.resources.map(\.requestName) == s.resources.map(\.name))
        }
    }

    @Test func byteStringsAndFloatSignaturesAreTheirValues() throws {
        let s = try F.load("v4/byteString.json")
        let wiki = try #require(s.resources.first { $0.name == "wiki" })
        #expect(wiki.inputs["tag"] == "café")
        #expect(wiki.outputs["ratio"]?.doubleValue?.isNaN == true)
        // Bytes that are not UTF-8 cannot reach a policy (the engine fails the same way).
        let bad = Data([0xFF, 0xFE]).base64EncodedString()
        let doc: PlainValue = ["version": 4, "features": ["byteString"], "deployment": ["resources": [[
            "urn": "urn:pulumi:s::p::t::a", "type": "t",
            "inputs": ["blob": .object(PlainObject([(EngineEncoding.sigKey, "803fd3297a5875dc03ca845dda5d2a98"), ("value", .string(bad))]))]]]]]
        let e = try #require(Self.error { try StackSnapshot.parse(doc, file: "f.json") })
        #expect(e.message == "f.json: deployment.resources[0].inputs.blob: a string of bytes that are not UTF-8, which the engine cannot send to a policy pack")
    }

    @Test func unknownFeatureIsOneErrorNamingIt() throws {
        let e = try #require(F.refusal("v4/unknown-feature.json"))
        #expect(e.status == .usage)
        #expect(e.message.hasSuffix("unknown-feature.json: the deployment needs features this tool does not support: teleportation"))
        // Features are only looked at from version 4 on, as the CLI does.
        var doc = try JSON.parse(Data(contentsOf: F.url("v4/unknown-feature.json")))
        if case .object(var o) = doc { o["version"] = 3; doc = .object(o) }
        #expect(try StackSnapshot.parse(doc, file: "f.json").resources.count == 4)
    }

    @Test func deploymentVersionsAreTheCLIs() throws {
        for (v, ok) in [(0, false), (1, true), (2, true), (3, true), (4, true), (5, false)] {
            let doc: PlainValue = ["version": .int(v), "deployment": ["resources": [["urn": "urn:pulumi:s::p::t::a", "type": "t"]]]]
            let result = Result { try StackSnapshot.parse(doc, file: "f.json") }
            let read = (try? result.get()) != nil
            #expect(read == ok, "version \(v)")
        }
        let e = try #require(Self.error { try StackSnapshot.parse(["deployment": [:]], file: "f.json") })
        #expect(e.message.contains("deployment version 0 is too old"))
    }

    @Test func versionOneAndTwoAreMigratedAsTheCLIMigratesThem() throws {
        let dep = "urn:pulumi:prod::intranet::aws:s3/bucket:Bucket::wiki"
        for name in ["deployment-v1.json", "deployment-v2.json", "checkpoint-v0.json", "checkpoint-v2.json"] {
            let s = try F.load(name)
            let app = try #require(s.resources.first { $0.name == "app" }, "\(name)")
            // UpToResourceV3: every input property depends on all of the resource's dependencies.
            #expect(app.propertyDependencies.map(\.0) == ["instanceType", "rootBlockDevice"], "\(name)")
            #expect(app.propertyDependencies.allSatisfy { $0.1 == [dep] }, "\(name)")
            let wiki = try #require(s.resources.first { $0.name == "wiki" })
            // ResourceV1 has no provider; ResourceV2 has.
            #expect(wiki.provider.isEmpty == (name == "deployment-v1.json" || name == "checkpoint-v0.json"), "\(name)")
        }
    }

    @Test func existingFixturesStillRead() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: F.root.appendingPathComponent("Fixtures/stacks").path)
        for name in names where ["aws-", "azure-", "gcp-", "storefront-", "thumbnailer-", "intranet-", "edge-"].contains(where: name.hasPrefix) {
            let s = try F.load(name)
            #expect(!s.resources.isEmpty, "\(name)")
            #expect(s.warnings.isEmpty || s.format == .preview, "\(name): \(s.warnings)")
        }
    }

    @Test func requestsEqualTheFullEncodingForEveryFixture() throws {
        // Maps read without a signed value skip EngineEncoding; the result must be the same.
        let dir = F.root.appendingPathComponent("Fixtures/stacks")
        let names = try FileManager.default.subpathsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".gz") || $0.hasSuffix(".jsonl") }
        var checked = 0
        for name in names {
            guard let s = try? F.load(name) else { continue }
            let r = F.requests(s)
            var enc = EngineEncoding(secretsProvider: s.secretsProvider)
            let byURN = Dictionary(s.live.map { ($0.urn, $0) }, uniquingKeysWith: { a, _ in a })
            for typed in r.resources {
                let request = typed.plain
                let res = try #require(byURN[typed.urn])
                let full = try enc.encode(res.inputs, skipInternalKeys: false, path: "p")
                // Compared as JSON: the float signature's NaN is not equal to itself.
                #expect(JSON.serialize(request["properties"] ?? .null) == JSON.serialize(.object(full)), "\(name) \(res.name)")
                #expect(request["plain"] == .bool(EngineEncoding.isPlain(full)), "\(name) \(res.name)")
            }
            for typed in r.stackResources {
                let request = typed.plain
                let res = try #require(byURN[typed.urn])
                let full = try enc.encode(res.outputs, skipInternalKeys: true, path: "p")
                // Compared as JSON: the float signature's NaN is not equal to itself.
                #expect(JSON.serialize(request["properties"] ?? .null) == JSON.serialize(.object(full)), "\(name) \(res.name)")
                #expect(request["plain"] == .bool(EngineEncoding.isPlain(full)), "\(name) \(res.name)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    // MARK: Never an empty pass

    @Test func emptyDeploymentWarns() throws {
        let s = try F.load("deployment-empty.json")
        #expect(s.resources.isEmpty)
        #expect(s.rootStackURN == "")
        #expect(s.warnings.count == 1)
        #expect(s.warnings.first?.hasSuffix("deployment-empty.json: the deployment has no resources: a stack that was never deployed, or was destroyed; no resource was analysed") == true)
        let r = F.requests(s, project: "intranet", stack: "dev")
        #expect(r.rootStackURN == "")
        #expect(r.warnings == s.warnings)
    }

    @Test func neverDeployedCheckpointWarns() throws {
        let s = try F.load("checkpoint-never-deployed.json")
        #expect(s.resources.isEmpty)
        #expect(s.stack == "dev")
        #expect(s.warnings.first?.contains("the stack has never been deployed") == true)
    }

    @Test func pendingDeletionOnlyWarns() throws {
        let s = try F.load("deployment-pending-delete.json")
        #expect(s.live.isEmpty)
        #expect(s.warnings.first?.contains("all 4 resource(s) are pending deletion") == true)
        // Stack policies' violations still go to the root stack resource, as AnalyzeSnapshot's do.
        #expect(s.rootStackURN == "urn:pulumi:prod::intranet::pulumi:pulumi:Stack::intranet-prod")
    }

    @Test func emptyReadOfUndefinedKeysIsRefused() throws {
        let e = try #require(F.refusal("checkpoint-misspelt.json"))
        #expect(e.status == .usage)
        #expect(e.message.hasSuffix("checkpoint-misspelt.json: no resource was read, and the file has keys its format does not define: \"checkpoint.lastest\""))
        for text in [#"{"version":3,"deployment":{"Resourcez":[{"urn":"urn:pulumi:s::p::t::a"}]}}"#,
                     #"{"stack":"dev","latests":{}}"#,
                     #"{"version":3,"deployment":null,"extra":1}"#,
                     #"{"steps":[],"stepz":[{"op":"create"}]}"#] {
            let e = try #require(Self.error { try StackSnapshot.parse(try JSON.parse(text), file: "f.json") }, "\(text)")
            #expect(e.message.contains("no resource was read"), "\(text)")
        }
        // With resources read, unknown keys are ignored, as the CLI ignores them.
        let ok = try JSON.parse(#"{"version":3,"extra":1,"deployment":{"extra":2,"resources":[{"urn":"urn:pulumi:s::p::t::a","type":"t","extra":3}]}}"#)
        #expect(try StackSnapshot.parse(ok, file: "f.json").resources.count == 1)
    }

    @Test func rootStackURNIsTheCLIs() throws {
        func root(_ resources: String) throws -> String? {
            try StackSnapshot.parse(try JSON.parse(#"{"version":3,"deployment":{"resources":[\#(resources)]}}"#), file: "f.json").rootStackURN
        }
        #expect(try root("") == "")
        #expect(try root(#"{"urn":"urn:pulumi:dev::p::aws:s3/bucket:Bucket::b","type":"aws:s3/bucket:Bucket"}"#)
                == "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev")
        #expect(try root(#"{"urn":"urn:pulumi:dev::p::t::x","type":"t"},{"urn":"urn:pulumi:dev::p::pulumi:pulumi:Stack::root","type":"pulumi:pulumi:Stack"}"#)
                == "urn:pulumi:dev::p::pulumi:pulumi:Stack::root")
    }

    @Test func namesAreTheURNsFourthPart() throws {
        #expect(StackResource.name(ofURN: "urn:pulumi:s::p::t::a::b") == "a::b")
        #expect(StackResource.name(ofURN: "urn:pulumi:s::p::x$t::n") == "n")
        let e = try #require(Self.error {
            try StackSnapshot.parse(try JSON.parse(#"{"version":3,"deployment":{"resources":[{"urn":"urn:other:x","type":"t"}]}}"#), file: "f.json")
        })
        #expect(e.message == "f.json: deployment.resources[0]: invalid URN \"urn:other:x\"")
    }

    // MARK: Helpers

    static func error(_ body: () throws -> Any) -> HostError? {
        do {
            _ = try body()
            return nil
        } catch let e as HostError {
            return e
        } catch {
            return nil
        }
    }

    static func withTemporaryFile(_ data: Data, _ body: (URL) throws -> Void) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stackfile-\(UUID().uuidString)")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        try body(url)
    }

    static func withCopy(of name: String, as newName: String, _ body: (URL) throws -> Void) throws {
        try withTemporaryFile(try Data(contentsOf: F.url(name)), body)
    }
}
