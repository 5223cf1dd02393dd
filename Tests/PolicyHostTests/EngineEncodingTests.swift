import Foundation
import PolicyValues
import Testing
import HostCore
import PolicyPack

@Suite struct EngineEncodingTests {
    let sig = EngineEncoding.sigKey

    func secret(_ v: PlainValue) -> PlainValue { [sig: .string(EngineEncoding.secretSig), "value": v] }

    @Test func plaintextSecretsBecomeValueSecrets() throws {
        var enc = EngineEncoding(secretsProvider: "passphrase")
        let v: PlainValue = [sig: .string(EngineEncoding.secretSig), "plaintext": #"{"user":"admin","port":5432}"#]
        #expect(try enc.encode(v, path: "p") == secret(["user": "admin", "port": 5432.0]))
        #expect(enc.undecryptable.isEmpty)
    }

    @Test func b64CiphertextIsDecrypted() throws {
        var enc = EngineEncoding(secretsProvider: "b64")
        let cipher = Data(#""hunter2""#.utf8).base64EncodedString()
        #expect(try enc.encode([sig: .string(EngineEncoding.secretSig), "ciphertext": .string(cipher)], path: "p") == secret("hunter2"))
    }

    @Test func otherCiphertextIsReported() throws {
        var enc = EngineEncoding(secretsProvider: "awskms")
        let v: PlainValue = [sig: .string(EngineEncoding.secretSig), "ciphertext": "AQICAHh..."]
        #expect(try enc.encode(v, path: "r.password") == secret("[secret]"))
        _ = try enc.encode(v, path: "r.password")
        #expect(enc.undecryptable == ["r.password"])
    }

    @Test func resourceReferencesFlattenToIdOrURN() throws {
        var enc = EngineEncoding(secretsProvider: nil)
        #expect(try enc.encode([sig: .string(EngineEncoding.resourceSig), "urn": "urn:x", "id": "i-123"], path: "p") == "i-123")
        // An empty ID is an unknown one (`MakeCustomResourceReference`): the engine sends the unknown sentinel.
        #expect(try enc.encode([sig: .string(EngineEncoding.resourceSig), "urn": "urn:x", "id": ""], path: "p") == .string(EngineEncoding.unknownString))
        #expect(try enc.encode([sig: .string(EngineEncoding.resourceSig), "urn": "urn:component"], path: "p") == "urn:component")
    }

    @Test func outputValues() throws {
        var enc = EngineEncoding(secretsProvider: nil)
        #expect(try enc.encode([sig: .string(EngineEncoding.outputSig), "value": 3.0], path: "p") == 3.0)
        #expect(try enc.encode([sig: .string(EngineEncoding.outputSig)], path: "p") == .string(EngineEncoding.unknownString))
        #expect(try enc.encode([sig: .string(EngineEncoding.outputSig), "value": "x", "secret": true], path: "p") == secret("x"))
    }

    @Test func assetsAndArchivesKeepTheirSignatures() throws {
        var enc = EngineEncoding(secretsProvider: nil)
        let asset: PlainValue = [sig: .string(EngineEncoding.assetSig), "hash": "h", "text": "hi"]
        let archive: PlainValue = [sig: .string(EngineEncoding.archiveSig), "assets": ["a": asset]]
        #expect(try enc.encode(archive, path: "p") == archive)
    }

    @Test func plainMeansNoSignatureAtAnyDepth() throws {
        let asset: PlainValue = [sig: .string(EngineEncoding.assetSig), "text": "hi"]
        #expect(EngineEncoding.isPlain(PlainObject([("a", ["b": [1.0, "x"]]), ("c", .null)])))
        #expect(!EngineEncoding.isPlain(PlainObject([("a", asset)])))
        #expect(!EngineEncoding.isPlain(PlainObject([("a", ["b": [1.0, asset]])])))
        #expect(!EngineEncoding.isPlain(PlainObject([(sig, .string(EngineEncoding.secretSig)), ("value", "x")])))
        // A signature string as a value, not as a key, is plain data.
        #expect(EngineEncoding.isPlain(PlainObject([("a", .string(sig))])))
    }

    @Test func internalKeysDependOnTheCall() throws {
        var enc = EngineEncoding(secretsProvider: nil)
        let props = PlainObject([("__defaults", ["x"]), ("x", 1.0), ("nested", ["__keep": true])])
        #expect(try enc.encode(props, skipInternalKeys: true, path: "p").keys == ["x", "nested"])
        #expect(try enc.encode(props, skipInternalKeys: true, path: "p")["nested"] == ["__keep": true])
        #expect(try enc.encode(props, skipInternalKeys: false, path: "p").keys == ["__defaults", "x", "nested"])
    }
}

@Suite struct StackSnapshotTests {
    @Test func deploymentV3() throws {
        let v = try JSON.parse(#"{"version":3,"deployment":{"secrets_providers":{"type":"b64"},"resources":[{"urn":"urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev","type":"pulumi:pulumi:Stack"},{"urn":"urn:pulumi:dev::proj::a$aws:s3/bucket:Bucket::b","type":"aws:s3/bucket:Bucket","custom":true,"delete":true}]}}"#)
        let s = try StackSnapshot.parse(v, file: "f.json")
        #expect(s.format == .deployment)
        #expect(s.stack == "dev")
        #expect(s.project == "proj")
        #expect(s.secretsProvider == "b64")
        #expect(s.resources.count == 2)
        #expect(s.live.count == 1)
        #expect(s.resources[1].name == "b")
    }

    @Test func previewSkipsDeletes() throws {
        let v = try JSON.parse(#"{"steps":[{"op":"create","newState":{"urn":"urn:pulumi:s::p::t::a","type":"t"}},{"op":"delete","oldState":{"urn":"urn:pulumi:s::p::t::b"}},{"op":"delete-replaced","newState":{"urn":"urn:pulumi:s::p::t::c","type":"t"}}]}"#)
        let s = try StackSnapshot.parse(v, file: "f.json")
        #expect(s.format == .preview)
        #expect(s.resources.map(\.name) == ["a"])
    }

    @Test func checkpointReadsOrganization() throws {
        let v = try JSON.parse(#"{"version":1,"checkpoint":{"stack":"acme/p/s","latest":{"resources":[{"urn":"urn:pulumi:s::p::t::a","type":"t"}]}}}"#)
        let s = try StackSnapshot.parse(v, file: "f.json")
        #expect(s.organization == "acme")
        #expect(s.resources.first?.type == "t")
    }

    @Test func rejectsOtherShapes() throws {
        #expect(throws: HostError.self) { try StackSnapshot.parse(["resources": []], file: "f.json") }
        #expect(throws: HostError.self) { try StackSnapshot.parse([1.0], file: "f.json") }
        #expect(throws: HostError.self) { try StackSnapshot.parse(["version": 5, "deployment": [:]], file: "f.json") }
        #expect(throws: HostError.self) { try StackSnapshot.parse(["deployment": ["resources": [["type": "t"]]]], file: "f.json") }
    }
}
