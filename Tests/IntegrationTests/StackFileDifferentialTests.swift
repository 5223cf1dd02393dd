import Foundation
import PolicyValues
import Testing

/// The differential test of DifferentialTests.swift over the stack file shapes added for the CLI's
/// formats: the same requests through policy-host and through the SDK's own gRPC server must give
/// the same results. (v4/byteString.json is left out: its NaN cannot travel through the JSON
/// request dump the reference reads.)
let stackFileDifferentialCases: [DifferentialCase] = [
    .init(pack: "proxy-probe", stack: "preview-digest.json"),
    .init(pack: "proxy-probe", stack: "preview-replacement-steps.json"),
    .init(pack: "proxy-probe", stack: "preview-streaming.jsonl"),
    .init(pack: "proxy-probe", stack: "checkpoint-stack-latest-keys.json"),
    .init(pack: "proxy-probe", stack: "deployment-v1.json"),
    .init(pack: "proxy-probe", stack: "v4/views.json"),
    .init(pack: "proxy-probe", stack: "deployment-empty.json"),
    .init(pack: "aws-basics", stack: "preview-show-sames.json"),
    .init(pack: "aws-basics", stack: "checkpoint-gzip.json.gz"),
    .init(pack: "preview-unknowns", stack: "preview-streaming.jsonl"),
]

@Suite(.serialized) struct StackFileDifferentialTests {
    @Test(arguments: stackFileDifferentialCases)
    func sameResultsAsTheSDKServer(_ c: DifferentialCase) throws {
        let pack = try preparedPack(c.pack)
        try withTemporaryDirectory { tmp in
            let requests = tmp.appendingPathComponent("requests.json")
            let ours = try policyHost(["analyze", Repo.stack(c.stack).path, "--policy-pack", pack.path, "--format", "json",
                                       "--emit-requests", requests.path] + c.flags)
            #expect([0, 1, 5].contains(ours.status), "policy-host failed: \(ours.stderr)")
            let reference = try run([pack.appendingPathComponent("venv/bin/python").path,
                                     Repo.root.appendingPathComponent("Tests/Differential/reference_driver.py").path,
                                     pack.path, requests.path])
            #expect(reference.status == 0, "reference driver failed: \(reference.stderr)")
            let a = try #require(ours.json, "policy-host printed no JSON: \(ours.stdout)")
            let b = try #require(reference.json, "reference printed no JSON: \(reference.stdout)")
            for key in ["violations", "remediations", "notApplicable"] {
                let mine = (a[key]?.arrayValue ?? []).map { JSON.serialize($0, sortKeys: true) }.sorted()
                let theirs = (b[key]?.arrayValue ?? []).map { JSON.serialize($0, sortKeys: true) }.sorted()
                #expect(mine == theirs, "\(key) differ for \(c)")
            }
            let ourErrors = (a["errors"]?.arrayValue ?? []).map { "\($0["urn"]?.stringValue ?? "") \($0["phase"]?.stringValue ?? "")" }.sorted()
            let refErrors = (b["errors"]?.arrayValue ?? []).map { "\($0["urn"]?.stringValue ?? "") \($0["phase"]?.stringValue ?? "")" }.sorted()
            #expect(ourErrors == refErrors)
        }
    }
}
