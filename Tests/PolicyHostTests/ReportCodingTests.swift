import Foundation
import PolicyValues
import Testing
@testable import HostCore
@testable import PolicyPack

/// The report as a `Codable` model: written by the one JSON writer through `PlainValueEncoder`, read
/// back (a worker's report) strictly through `PlainValueDecoder`.
@Suite struct ReportCodingTests {
    static func sample() -> AnalysisReport {
        var r = AnalysisReport()
        r.packs = [.init(name: "p", version: "1.0.0", sdkVersion: "1.17.0", policies: 3)]
        r.violations = [.init(policyPackName: "p", policyPackVersion: "1.0.0", policyName: "no-public", description: "d",
                              message: "line one\nline two", enforcementLevel: .mandatory, severity: .high,
                              urn: "urn:pulumi:dev::proj::aws:s3/bucket:Bucket::b", stackPolicy: false)]
        // Property order that is not sorted, a number that is an integer and one that is not.
        let props: PlainValue = .object(PlainObject([("zeta", .int(1)), ("alpha", .double(0.5)), ("m", .array([.null, .bool(true)]))]))
        r.remediations = [.init(policyPackName: "p", policyPackVersion: "1.0.0", policyName: "fix", urn: "u", properties: props, diagnostic: "")]
        r.notApplicable = [.init(policyPackName: "p", policyPackVersion: "1.0.0", policyName: "na", urn: "u", reason: "why")]
        r.errors = [.init(policyPackName: "p", policyPackVersion: "1.0.0", policyName: "boom", urn: "u", phase: "analyze", message: "m", traceback: "tb")]
        r.warnings = ["w"]
        r.packFailures = [.init(policyPack: "q", message: "crashed", exitStatus: 4, stderrTail: "x")]
        r.resources = 7
        return r
    }

    @Test func roundTripKeepsEverythingAndItsOrder() throws {
        let r = Self.sample()
        let bytes = Data(JSON.serializeBytes(r.json, pretty: true))
        let back = try AnalysisReport.decode(json: bytes)
        #expect(back.json == r.json)
        #expect(JSON.serialize(back.json) == JSON.serialize(r.json))
        #expect(back.remediations.first?.properties.objectValue?.entries.map(\.key) == ["zeta", "alpha", "m"])
        #expect(back.resources == 7 && back.violations == r.violations && back.packFailures == r.packFailures)
    }

    @Test func documentShape() {
        let doc = Self.sample().json
        #expect(doc.objectValue?.entries.map(\.key) == ["policyPacks", "packFailures", "violations", "remediations",
                                                        "notApplicable", "errors", "warnings", "summary"])
        #expect(doc["violations"]?.arrayValue?.first?.objectValue?.entries.map(\.key) == [
            "policyPackName", "policyPackVersion", "policyName", "description", "message", "enforcementLevel",
            "severity", "urn", "stackPolicy"])
        #expect(doc["violations"]?.arrayValue?.first?["enforcementLevel"] == "mandatory")
        #expect(doc["summary"]?["mandatory"] == .int(1) && doc["summary"]?["passed"] == .bool(false))
        #expect(doc["policyPacks"]?.arrayValue?.first?["policies"] == .int(3))
    }

    /// A worker's report with a member missing, of another type, or with an unknown level is an
    /// internal error naming the path — never a report with empty strings.
    @Test(arguments: [
        ("violations[0].message", #"{"violations":[{"policyPackName":"p","policyPackVersion":"1","policyName":"x","description":"d","enforcementLevel":"mandatory","severity":"","urn":"u","stackPolicy":false}]}"#, "missing"),
        ("violations[0].enforcementLevel", #"{"violations":[{"policyPackName":"p","policyPackVersion":"1","policyName":"x","description":"d","message":"m","enforcementLevel":"fatal","severity":"","urn":"u","stackPolicy":false}]}"#, "not an enforcement level"),
        ("violations[0].stackPolicy", #"{"violations":[{"policyPackName":"p","policyPackVersion":"1","policyName":"x","description":"d","message":"m","enforcementLevel":"advisory","severity":"","urn":"u","stackPolicy":"no"}]}"#, "expected a Boolean"),
        ("packFailures[0].exitStatus", #"{"packFailures":[{"policyPack":"p","message":"m","exitStatus":4.5,"stderrTail":""}]}"#, "not an integer"),
        ("packFailures[0].exitStatus", #"{"packFailures":[{"policyPack":"p","message":"m","exitStatus":99999999999,"stderrTail":""}]}"#, "not an integer in the range"),
        ("warnings[1]", #"{"warnings":["a",2]}"#, "expected a string, found a number"),
        ("summary.resources", #"{"summary":{}}"#, "missing"),
    ])
    func strictDecoding(path: String, override: String, expected: String) throws {
        var doc = try #require(Self.sample().json.objectValue)
        for e in try #require(try JSON.parse(override).objectValue).entries { doc[e.key] = e.value }
        #expect {
            try AnalysisReport.decode(json: Data(JSON.serializeBytes(.object(doc))))
        } throws: { error in
            guard let e = error as? HostError else { return false }
            return e.status == .internal && e.message.contains("\(path):") && e.message.contains(expected)
        }
    }

    @Test func notJSONIsAnInternalError() {
        #expect(throws: HostError.self) { try AnalysisReport.decode(json: Data("{\"violations\": [".utf8)) }
    }

    /// PlainValue members pass through whole; integers keep their case; other Codable types nest.
    @Test func coderBasics() throws {
        struct Inner: Codable, Equatable { var n: Int; var d: Double; var o: String? }
        struct Outer: Codable, Equatable { var list: [Inner]; var raw: PlainValue; var flag: Bool; var u: UInt8 }
        let value = Outer(list: [Inner(n: 3, d: 2, o: nil), Inner(n: -1, d: 0.25, o: "x")],
                          raw: .object(PlainObject([("b", .int(2)), ("a", .string("s"))])), flag: true, u: 200)
        let plain = try PlainValueEncoder().encode(value)
        #expect(plain["list"]?.arrayValue?.first?["n"].map { if case .int = $0 { true } else { false } } == true)
        #expect(plain["list"]?.arrayValue?.first?.objectValue?["o"] == nil)
        #expect(plain["raw"]?.objectValue?.entries.map(\.key) == ["b", "a"])
        #expect(try PlainValueDecoder().decode(Outer.self, from: plain) == value)
        // A number where a string belongs, an integer out of a UInt8's range.
        var bad = try #require(plain.objectValue)
        bad["u"] = .int(300)
        #expect(throws: DecodingError.self) { try PlainValueDecoder().decode(Outer.self, from: .object(bad)) }
        bad["u"] = .string("1")
        #expect(throws: DecodingError.self) { try PlainValueDecoder().decode(Outer.self, from: .object(bad)) }
    }
}
