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
        try expectSameResultsAsTheSDKServer(try preparedPack(c.pack), c)
    }
}
