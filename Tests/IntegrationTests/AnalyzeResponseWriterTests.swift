import NIOCore
import PolicyPack
@testable import PolicyServer
import SwiftProtobuf
import Testing

/// `AnalyzeResponseWriter` (serve's direct writing of Analyze and AnalyzeStack answers) against the
/// reference, SwiftProtobuf serialising the same `pulumirpc.AnalyzeResponse`: the same bytes, frame
/// header included, for every shape a result takes.
@Suite struct AnalyzeResponseWriterTests {
    static func reference(_ diagnostics: [DiagnosticResult], _ notApplicable: [NotApplicableResult],
                          pack: String, version: String) throws -> [UInt8] {
        var message = Pulumirpc_AnalyzeResponse()
        message.diagnostics = diagnostics.map { d in
            var out = Pulumirpc_AnalyzeDiagnostic()
            out.policyName = d.policyName
            out.policyPackName = pack
            out.policyPackVersion = version
            out.description_p = d.description
            out.message = d.message
            out.enforcementLevel = Pulumirpc_EnforcementLevel(rawValue: d.enforcementLevel.rawValue)!
            out.urn = d.urn
            out.severity = Pulumirpc_PolicySeverity(rawValue: d.severity.rawValue)!
            return out
        }
        message.notApplicable = notApplicable.map { n in
            var out = Pulumirpc_PolicyNotApplicable()
            out.policyName = n.policyName
            out.reason = n.reason
            return out
        }
        let body: [UInt8] = try message.serializedBytes()
        return [0] + withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }

    static func written(_ diagnostics: [DiagnosticResult], _ notApplicable: [NotApplicableResult],
                        pack: String, version: String) -> [UInt8] {
        let buffer = AnalyzeResponseWriter.frame(diagnostics: diagnostics, notApplicable: notApplicable,
                                                 pack: pack, version: version)
        return Array(buffer.readableBytesView)
    }

    static let texts = ["", "p", "policy-name", "a longer description\nwith a second line and ünïcödé 🚀",
                        String(repeating: "x", count: 127), String(repeating: "y", count: 128),
                        String(repeating: "z", count: 16_384), "nul\u{0} inside", "日本語のメッセージ"]

    @Test func emptyAnswer() throws {
        #expect(Self.written([], [], pack: "pack", version: "1.0.0") == [0, 0, 0, 0, 0])
        #expect(Self.written([], [], pack: "pack", version: "1.0.0") == (try Self.reference([], [], pack: "pack", version: "1.0.0")))
    }

    @Test func everyLevelSeverityAndFieldLength() throws {
        var diagnostics: [DiagnosticResult] = []
        var index = 0
        for level in EnforcementLevel.allCases {
            for severity in [PolicySeverity.unspecified, .low, .medium, .high, .critical] {
                let t = { (k: Int) in Self.texts[(index + k) % Self.texts.count] }
                diagnostics.append(DiagnosticResult(policyName: t(0), description: t(1), message: t(2), enforcementLevel: level,
                                                    severity: severity, urn: t(3)))
                index += 1
            }
        }
        let notApplicable = Self.texts.indices.map { NotApplicableResult(policyName: Self.texts[$0], reason: Self.texts[($0 + 4) % Self.texts.count]) }
        for (pack, version) in [("pack", "1.2.3"), ("", ""), (String(repeating: "n", count: 300), "0.0.1")] {
            for (d, n) in [(diagnostics, notApplicable), (diagnostics, []), ([], notApplicable), (Array(diagnostics.prefix(1)), [])] {
                #expect(Self.written(d, n, pack: pack, version: version) == (try Self.reference(d, n, pack: pack, version: version)))
            }
        }
    }

    /// A diagnostic whose own length needs a three-byte varint (over 16 KiB), and a whole message over 64 KiB.
    @Test func largeMessages() throws {
        let big = String(repeating: "m", count: 70_000)
        let d = [DiagnosticResult(policyName: "p", description: big, message: big, enforcementLevel: .mandatory, severity: .high, urn: "")]
        #expect(Self.written(d, [], pack: "pack", version: "1") == (try Self.reference(d, [], pack: "pack", version: "1")))
    }
}
