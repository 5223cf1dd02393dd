import Foundation
import PolicyValues

/// `--format events` (`-j`/`--json`): the newline-delimited `apitype.EngineEvent` stream that
/// `pulumi policy analyze --json` prints (pulumi v3.252+; `sdk/go/common/apitype/events.go`,
/// `pkg/cmd/pulumi/policy/policy_analyze.go`). Go's `encoding/json` layout: struct fields in
/// declaration order, `omitempty` fields dropped when empty, map keys sorted, `<>&` escaped,
/// float64 numbers. Order: per resource in stack order its remediations (pack by pack), then its
/// violations; then the stack policies' violations; then one `summaryEvent`.
public struct EventStream {
    public var report: AnalysisReport
    /// The resources analysed, in stack order, with their state inputs (a remediation's `before`).
    public var resources: [(urn: String, inputs: PlainObject)]
    /// Unix seconds for every line (the CLI takes the clock per line; a run takes well under a second per event).
    public var timestamp: Int

    public init(report: AnalysisReport, resources: [(urn: String, inputs: PlainObject)], timestamp: Int = Int(Date().timeIntervalSince1970)) {
        self.report = report
        self.resources = resources
        self.timestamp = timestamp
    }

    /// A Go struct: fields in order, each already encoded; nil fields (omitempty) left out.
    static func object(_ fields: [(String, String?)]) -> String {
        "{" + fields.compactMap { f in f.1.map { GoJSONText.quoted(f.0) + ":" + $0 } }.joined(separator: ",") + "}"
    }

    static func string(_ s: String) -> String { GoJSONText.quoted(s) }
    static func omitEmpty(_ s: String) -> String? { s.isEmpty ? nil : GoJSONText.quoted(s) }

    /// A property map as `stack.SerializeProperties` with the blinding crypter writes it: secrets as
    /// `{sig, "ciphertext": "[secret]"}`, keys sorted, numbers float64.
    static func properties(_ p: PlainValue) -> String? {
        guard case .object(let o) = p, !o.entries.isEmpty else { return nil }
        return (try? GoJSONText.marshal(goValue(p), path: "properties")) ?? "{}"
    }

    static func goValue(_ v: PlainValue) -> GoJSONText.Value {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .float(Double(i))
        case .double(let d): return d.isFinite ? .float(d) : .string("\(d)")
        case .string(let s): return .string(s)
        case .array(let items): return .array(items.map(goValue))
        case .object(let o):
            if o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig {
                return .object([(EngineEncoding.sigKey, .string(EngineEncoding.secretSig)), ("ciphertext", .string("[secret]"))])
            }
            return .object(o.entries.map { ($0.key, goValue($0.value)) })
        }
    }

    func policyEvent(urn: String, message: String, policy: String, pack: String, version: String, level: String, severity: String) -> String {
        Self.object([
            ("resourceUrn", Self.omitEmpty(urn)), ("message", Self.string(message)), ("color", Self.string("")),
            ("policyName", Self.string(policy)), ("policyPackName", Self.string(pack)),
            ("policyPackVersion", Self.string(version)), ("policyPackVersionTag", Self.string(version)),
            ("enforcementLevel", Self.string(level)), ("severity", Self.omitEmpty(severity)),
        ])
    }

    /// The stream, one JSON object per line.
    public var lines: [String] {
        var events: [(String, String)] = []
        var seen = Set<String>()
        let inputs = Dictionary(resources.map { ($0.urn, $0.inputs) }, uniquingKeysWith: { a, _ in a })
        var order = resources.map(\.urn).filter { seen.insert($0).inserted }
        // URNs reported on that are not in the stack (none from a well-formed run) come after it.
        for v in report.violations where !v.stackPolicy && seen.insert(v.urn).inserted { order.append(v.urn) }
        for r in report.remediations where seen.insert(r.urn).inserted { order.append(r.urn) }
        let packOrder = Dictionary(report.packs.enumerated().map { ("\($1.name)@\($1.version)", $0) }, uniquingKeysWith: { a, _ in a })
        func packIndex(_ name: String, _ version: String) -> Int { packOrder["\(name)@\(version)"] ?? Int.max }
        let remediationsBy = Dictionary(grouping: report.remediations, by: \.urn)
        let violationsBy = Dictionary(grouping: report.violations.filter { !$0.stackPolicy }, by: \.urn)
        for urn in order {
            // Remediation diagnostics became advisory violations in the report; the CLI shows each once,
            // as a policyEvent of the remediation pass, without a severity.
            var fromRemediation: [(String, String, String)] = []
            for r in (remediationsBy[urn] ?? []).sorted(by: { packIndex($0.policyPackName, $0.policyPackVersion) < packIndex($1.policyPackName, $1.policyPackVersion) }) {
                if !r.diagnostic.isEmpty {
                    fromRemediation.append((r.policyPackName, r.policyName, r.diagnostic))
                    events.append(("policyEvent", policyEvent(urn: urn, message: r.diagnostic, policy: r.policyName, pack: r.policyPackName,
                                                             version: r.policyPackVersion, level: "advisory", severity: "")))
                } else {
                    let before = Self.properties(.object(inputs[urn] ?? PlainObject()))
                    events.append(("policyRemediationEvent", Self.object([
                        ("resourceUrn", Self.omitEmpty(urn)), ("color", Self.string("")),
                        ("policyName", Self.string(r.policyName)), ("policyPackName", Self.string(r.policyPackName)),
                        ("policyPackVersion", Self.string(r.policyPackVersion)), ("policyPackVersionTag", Self.string(r.policyPackVersion)),
                        ("before", before), ("after", Self.properties(r.properties)),
                    ])))
                }
            }
            for v in (violationsBy[urn] ?? []).sorted(by: { packIndex($0.policyPackName, $0.policyPackVersion) < packIndex($1.policyPackName, $1.policyPackVersion) }) {
                if let i = fromRemediation.firstIndex(where: { $0 == (v.policyPackName, v.policyName, v.message) }) {
                    fromRemediation.remove(at: i)
                    continue
                }
                events.append(("policyEvent", policyEvent(urn: v.urn, message: v.message, policy: v.policyName, pack: v.policyPackName,
                                                         version: v.policyPackVersion, level: v.enforcementLevel.name, severity: v.severity.name)))
            }
        }
        for v in report.violations where v.stackPolicy {
            events.append(("policyEvent", policyEvent(urn: v.urn, message: v.message, policy: v.policyName, pack: v.policyPackName,
                                                     version: v.policyPackVersion, level: v.enforcementLevel.name, severity: v.severity.name)))
        }
        let packs = GoJSONText.Value.object(report.packs.map { ($0.name, .string($0.version)) })
        let failed = report.mandatoryCount > 0 || !report.errors.isEmpty || !report.packFailures.isEmpty
        events.append(("summaryEvent", Self.object([
            ("maybeCorrupt", "false"), ("durationSeconds", "0"), ("resourceChanges", "{}"),
            ("PolicyPacks", (try? GoJSONText.marshal(packs, path: "PolicyPacks")) ?? "{}"),
            ("isPreview", "false"), ("result", Self.string(failed ? "failed" : "succeeded")),
        ])))
        return events.enumerated().map { i, e in
            "{\"sequence\":\(i),\"timestamp\":\(timestamp),\(GoJSONText.quoted(e.0)):\(e.1)}"
        }
    }
}
