import Foundation
import PolicyValues
import Testing
import HostCore
import PolicyPack

@Suite struct ConfigTests {
    func info() -> AnalyzerInfo {
        AnalyzerInfo([
            "name": "pack", "version": "0.0.1",
            "policies": [
                ["name": "b-policy", "description": "B", "enforcementLevel": 1, "severity": 3, "policyType": 1,
                 "configSchema": ["properties": ["max": ["type": "integer", "default": 5, "minimum": 1],
                                                 "names": ["type": "array", "items": ["type": "string"]]],
                                  "required": ["max"]]],
                ["name": "a-policy", "description": "A", "enforcementLevel": 0, "severity": 0, "policyType": 2,
                 "configSchema": ["properties": [:], "required": []]],
            ],
            "initialConfig": ["b-policy": ["enforcementLevel": 0, "properties": ["max": 7]]],
        ], yamlVersion: "2.0.0", yamlDescription: nil)
    }

    @Test func yamlVersionWinsAndPoliciesAreSorted() {
        let i = info()
        #expect(i.version == "2.0.0")
        #expect(i.sdkReportedVersion == "0.0.1")
        #expect(i.policies.map(\.name) == ["a-policy", "b-policy"])
        #expect(i.policies[1].isStackPolicy == false)
        #expect(i.policies[0].isStackPolicy == true)
    }

    @Test func layering() throws {
        let i = info()
        // defaults < initial config
        var r = ConfigReconciler.reconcile(info: i, file: nil)
        #expect(r.map(\.0) == ["a-policy", "b-policy"])
        #expect(r[1].1 == .advisory)
        #expect(r[1].2["max"] == 7)
        // < file; "all" sets every level first, then per-policy keys win.
        let file = try PolicyPackConfig.parse(Data(#"{"all": "mandatory", "b-policy": {"enforcementLevel": "disabled", "max": 9}}"#.utf8), file: "c.json")
        r = ConfigReconciler.reconcile(info: i, file: file)
        #expect(r[0].1 == .mandatory)
        #expect(r[1].1 == .disabled)
        #expect(r[1].2["max"] == 9)
        #expect(ConfigReconciler.validate(info: i, reconciled: r).isEmpty)
    }

    @Test func schemaFailuresNamePackVersionPolicyAndField() throws {
        let file = try PolicyPackConfig.parse(Data(#"{"b-policy": {"max": 0, "names": ["x", 3]}}"#.utf8), file: "c.json")
        let errors = ConfigReconciler.validate(info: info(), reconciled: ConfigReconciler.reconcile(info: info(), file: file))
        #expect(errors == [
            "pack 2.0.0  b-policy: max: Must be greater than or equal to 1",
            "pack 2.0.0  b-policy: names.1: Invalid type. Expected: string, given: integer",
        ])
    }

    @Test(arguments: [
        (#"{"p": 3}"#, #"parsing "p": 3 is not a valid value; must be a string or object"#),
        (#"{"p": "strict"}"#, #"parsing enforcement level for "p": "strict" is not a valid enforcement level"#),
        (#"{"p": {"enforcementLevel": 1}}"#, #"parsing enforcement level for "p": 1 is not a valid enforcement level"#),
        (#"{"environments": "prod"}"#, #""environments" must be an array of strings"#),
        (#"[1]"#, "must be a JSON object"),
    ])
    func parseErrors(_ text: String, _ message: String) {
        do {
            _ = try PolicyPackConfig.parse(Data(text.utf8), file: "c.json")
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.status == .usage)
        }
    }

    /// An empty file is an error naming it, as for the CLI (`unexpected end of JSON input`): a gate must not
    /// read "no file" where the user meant one.
    @Test func emptyFileIsAnErrorAndEmptyEntriesAreDropped() throws {
        #expect(throws: HostError.self) { try PolicyPackConfig.parse(Data("  \n".utf8), file: "c.json") }
        #expect(try PolicyPackConfig.parse(Data(#"{"p": {}}"#.utf8), file: "c.json").entries.isEmpty)
    }

    @Test func configDeeperThanTheLimitIsAnError() {
        let deep = String(repeating: #"{"a":"#, count: 200) + "1" + String(repeating: "}", count: 200)
        #expect(throws: HostError.self) { try PolicyPackConfig.parse(Data((#"{"p": "# + deep + "}").utf8), file: "c.json") }
    }

    static let schemaCases: [(PlainValue, PlainValue, String)] = [
        (["type": "string", "pattern": "^a"], "b", "(root): Does not match pattern '^a'"),
        (["enum": ["x", "y"]], "z", #"(root): (root) must be one of the following: "x", "y""#),
        (["type": "object", "additionalProperties": false], ["k": 1], "(root): Additional property k is not allowed"),
        (["type": "array", "maxItems": 1], [1, 2], "(root): Array must have at most 1 items"),
        (["type": "number"], true, "(root): Invalid type. Expected: number, given: boolean"),
    ]

    @Test(arguments: ConfigTests.schemaCases)
    func schemaKeywords(_ schema: PlainValue, _ value: PlainValue, _ expected: String) {
        #expect(JSONSchema.validate(value, schema: schema) == [expected])
    }
}
