import PolicyValues
import Testing
@testable import HostCore
@testable import PolicyPack

/// The typed results of a driver call: decoded field by field, and a missing or mistyped field is an
/// internal error naming its path — never an empty string in a report.
@Suite struct DriverResultsTests {
    static func diagnostic(_ overrides: [(String, PlainValue?)] = []) -> PlainValue {
        var o = PlainObject([("policyName", "p"), ("description", "d"), ("message", "m"), ("enforcementLevel", .int(1)),
                             ("severity", .int(3)), ("urn", "urn:pulumi:s::p::t::n")])
        for (k, v) in overrides { o[k] = v }
        return .object(PlainObject([("diagnostics", .array([.object(o)]))]))
    }

    @Test func decodesEveryList() throws {
        let value: PlainValue = .object(PlainObject([
            ("remediations", .array([.object(PlainObject([("policyName", "r"), ("description", "rd"), ("properties", .null), ("diagnostic", "")]))])),
            ("notApplicable", .array([.object(PlainObject([("policyName", "n"), ("reason", "why")]))])),
            ("errors", .array([.object(PlainObject([("policyName", ""), ("phase", "analyze"), ("type", "ValueError"), ("message", "x"), ("traceback", "tb")]))])),
        ]))
        let r = try CallResult(driver: value)
        #expect(r.remediations == [RemediationResult(policyName: "r", description: "rd", properties: .null, diagnostic: "")])
        #expect(r.notApplicable == [NotApplicableResult(policyName: "n", reason: "why")])
        #expect(r.errors.first?.type == "ValueError" && r.diagnostics.isEmpty)
        let d = try CallResult(driver: Self.diagnostic()).diagnostics
        #expect(d == [DiagnosticResult(policyName: "p", description: "d", message: "m", enforcementLevel: .mandatory, severity: .high, urn: "urn:pulumi:s::p::t::n")])
    }

    @Test(arguments: [
        ("policyName", nil, "result.diagnostics[0].policyName: missing"),
        ("message", .int(3), "result.diagnostics[0].message: expected a string, found a number"),
        ("enforcementLevel", .string("mandatory"), "result.diagnostics[0].enforcementLevel: expected an integer, found a string"),
        ("enforcementLevel", .int(42), "result.diagnostics[0].enforcementLevel: unknown level 42"),
        ("severity", .double(1.5), "result.diagnostics[0].severity: expected an integer, found a number"),
    ] as [(String, PlainValue?, String)])
    func aBadFieldIsAnErrorNamingIt(_ key: String, _ value: PlainValue?, _ expected: String) {
        do {
            _ = try CallResult(driver: Self.diagnostic([(key, value)]))
            Issue.record("decoded a result with \(key) = \(String(describing: value))")
        } catch {
            #expect(error.status == .internal)
            #expect(error.message.hasSuffix(expected), "\(error.message)")
        }
    }

    @Test func listsAndEntriesMustHaveTheirShapes() {
        #expect(throws: HostError.self) { try CallResult(driver: .array([])) }
        #expect(throws: HostError.self) { try CallResult(driver: .object(PlainObject([("errors", .string("boom"))]))) }
        #expect(throws: HostError.self) { try CallResult(driver: .object(PlainObject([("notApplicable", .array([.string("x")]))]))) }
        #expect(throws: HostError.self) {
            try CallResult(driver: .object(PlainObject([("remediations", .array([.object(PlainObject([
                ("policyName", "r"), ("description", "d"), ("properties", .array([])), ("diagnostic", "")]))]))])))
        }
    }
}
