import Foundation
import PolicyValues
import Testing
import PolicyPack

/// Previews give policies what the engine's analyzers get during `pulumi preview`, as far as the
/// file carries it (Fixtures/stacks/preview-*).
@Suite struct StackPreviewTests {
    typealias F = StackFixtures
    static let dp = "urn:pulumi:dev::webshop::pulumi:providers:aws::default_6_52_0"
    static let secretKey = EngineEncoding.sigKey
    static let redacted: PlainValue = .object(PlainObject([(EngineEncoding.sigKey, .string(EngineEncoding.secretSig)), ("value", "[secret]")]))

    func resource(_ s: StackSnapshot, _ name: String) throws -> StackResource {
        try #require(s.resources.first { $0.name == name }, "no \(name) in \(s.resources.map(\.name))")
    }

    @Test func digestWithoutSames() throws {
        let s = try F.load("preview-digest.json")
        #expect(s.format == .preview)
        #expect((s.project, s.stack) == ("webshop", "dev"))
        // Each registered or read resource once, in order; the default provider before its first user;
        // the deleted bucket not at all.
        #expect(s.resources.map(\.name) == ["webshop-dev", "default_6_52_0", "default", "web", "assets", "db"])
        let r = F.requests(s)
        // A read resource reaches AnalyzeStack only.
        #expect(r.resources.map(\.requestName) == ["webshop-dev", "default_6_52_0", "web", "assets", "db"])
        #expect(r.stackResources.map(\.requestName) == s.resources.map(\.name))
        #expect(r.rootStackURN == "urn:pulumi:dev::webshop::pulumi:pulumi:Stack::webshop-dev")

        // Outputs: an unchanged or read resource keeps its old ones; an update's old ones with the new
        // inputs laid over; a create's are its inputs.
        #expect(try resource(s, "webshop-dev").outputs == PlainObject([("url", "http://web.example.com")]))
        #expect(try resource(s, "default").outputs["cidrBlock"] == "172.31.0.0/16")
        let web = try resource(s, "web")
        #expect(web.outputs["instanceType"] == "m6i.large")
        #expect(web.outputs["arn"] == "arn:aws:ec2:us-west-2:1:instance/i-0abc")
        #expect(try resource(s, "assets").outputs == (try resource(s, "assets")).inputs)

        // Secrets are secrets again, holding what the CLI left of them.
        let db = try resource(s, "db")
        #expect(db.inputs["password"] == Self.redacted)
        #expect(db.additionalSecretOutputs == ["password"])
        #expect(db.propertyDependencies.map(\.0) == ["password", "vpcSecurityGroupIds"])

        // The default provider is rebuilt from the preview's config, and every resource points at it.
        let provider = try resource(s, "default_6_52_0")
        #expect(provider.urn == Self.dp)
        #expect(provider.id == "3c1f8b6e-1d6f-4c39-9f1e-2b8f0a7c9d11")
        #expect(provider.inputs == PlainObject([("region", "us-west-2"), ("secretKey", Self.redacted)]))
        #expect(r.providers.count == 1)
        #expect(r.providers.first?.urn == Self.dp)
        #expect(r.resources.dropFirst(2).allSatisfy { $0.provider == .index(0) })

        // One warning names everything the file could not carry.
        #expect(s.warnings.count == 1)
        let w = try #require(s.warnings.first)
        #expect(w.contains("a preview does not carry everything the engine gives policies: "))
        #expect(w.contains("1 unchanged resource(s) (run `pulumi preview --json --show-sames` to include them)"))
        #expect(w.contains("the outputs of 3 resource(s) the update would create or change, which providers compute later; stack policies see their inputs instead (web, assets, db)"))
        #expect(w.contains("default provider(s) default_6_52_0, rebuilt with their package's config as inputs"))
        #expect(w.contains("2 secret value(s), redacted by the CLI"))
        #expect(!w.contains("streaming"))
    }

    @Test func digestWithShowSames() throws {
        let s = try F.load("preview-show-sames.json")
        #expect(s.resources.map(\.name) == ["webshop-dev", "default_6_52_0", "default", "logs", "web", "assets", "db"])
        #expect(try resource(s, "logs").outputs["arn"] == "arn:aws:s3:::logs-9")
        let w = try #require(s.warnings.first)
        #expect(!w.contains("unchanged"))
    }

    @Test func replacementStepsAnalyseTheResourceOnce() throws {
        let s = try F.load("preview-replacement-steps.json")
        #expect(s.resources.map(\.name) == ["webshop-dev", "default_6_52_0", "default", "logs", "web", "assets", "db"])
        let r = F.requests(s)
        #expect(r.resources.filter { $0.requestName == "web" }.count == 1)
        #expect(r.stackResources.filter { $0.requestName == "web" }.count == 1)
        let web = try resource(s, "web")
        #expect(web.inputs["ami"] == "ami-0ffee")
        // A replacement is a new resource: its old outputs do not carry over.
        #expect(web.outputs["arn"] == nil)
    }

    @Test func streamingPreview() throws {
        let s = try F.load("preview-streaming.jsonl")
        #expect(s.format == .preview)
        #expect(s.resources.map(\.name) == ["webshop-dev", "default_6_52_0", "logs", "web", "assets", "db"])
        // The outputs after each step ran, as the provider previewed them.
        let web = try resource(s, "web")
        #expect(web.outputs["publicIp"] == .string(EngineEncoding.unknownString))
        #expect(web.outputs["instanceType"] == "m6i.large")
        #expect(try resource(s, "assets").outputs["arn"] == .string(EngineEncoding.unknownString))
        #expect(try resource(s, "logs").outputs["arn"] == "arn:aws:s3:::logs-9")
        let db = try resource(s, "db")
        #expect(db.inputs["password"] == Self.redacted)
        #expect(db.outputs["password"] == Self.redacted)
        let w = try #require(s.warnings.first)
        #expect(s.warnings.count == 1)
        #expect(!w.contains("unchanged"))
        #expect(!w.contains("the outputs of"))
        #expect(w.contains("dependencies, property dependencies, aliases, ignoreChanges, additionalSecretOutputs and custom timeouts (the streaming format has none)"))
        #expect(w.contains("3 secret value(s)"))
    }

    @Test func streamingErrorsNameTheLine() throws {
        let lines = #"{"sequence":0,"preludeEvent":{"config":{}}}"# + "\n" + #"{"sequence":1,"resourcePreEvent":{"metadata":{"op":"create","urn":"urn:pulumi:s::p::t::a","new":{"urn":"urn:pulumi:s::p::t::a","type":"t","inputs":"x"}}}}"# + "\n"
        try StackFileTests.withTemporaryFile(Data(lines.utf8)) { url in
            let e = try #require(StackFileTests.error { try StackSnapshot.load(url) })
            #expect(e.message == "\(url.path): line 2: resourcePreEvent.metadata.new.inputs: expected an object, found a string")
        }
        let broken = #"{"sequence":0,"preludeEvent":{"config":{}}}"# + "\n" + #"{"sequence":1,"#  + "\n"
        try StackFileTests.withTemporaryFile(Data(broken.utf8)) { url in
            let e = try #require(StackFileTests.error { try StackSnapshot.load(url) })
            #expect(e.message.hasPrefix("\(url.path):2:"))
            #expect(e.message.contains("invalid JSON in an event stream"))
        }
    }

    @Test func existingPreviewFixtureKeepsItsOutputs() throws {
        // Hand-made: outputs in newState, an output value, plaintext secrets.
        let s = try F.load("edge-preview.json")
        #expect(s.resources.map(\.name) == ["edge-dev", "default", "web-1", "web-2", "http", "http-known", "db"])
        let db = try resource(s, "db")
        #expect(db.outputs["password"] == .object(PlainObject([(EngineEncoding.sigKey, .string(EngineEncoding.secretSig)), ("value", "short")])))
    }

    @Test func extremeCountsDoNotTrap() throws {
        let text = #"{"steps":[{"op":"same","urn":"urn:pulumi:s::p::t::a","newState":{"urn":"urn:pulumi:s::p::t::a","type":"t"}}],"changeSummary":{"same":-9.2e18}}"#
        let s = try StackSnapshot.parse(try JSON.parse(text), file: "p.json")
        #expect(s.resources.count == 1)
        #expect(s.warnings.allSatisfy { !$0.contains("unchanged") })
    }

    @Test func emptyPreviewWarns() throws {
        let s = try StackSnapshot.parse(try JSON.parse(#"{"config":{},"steps":[{"op":"delete","urn":"urn:pulumi:s::p::t::a","oldState":{"urn":"urn:pulumi:s::p::t::a","type":"t"}}],"changeSummary":{"delete":1}}"#), file: "p.json")
        #expect(s.resources.isEmpty)
        #expect(s.warnings == ["p.json: the preview has no resource to analyse (no steps, or only deletions); no resource was analysed"])
    }
}
