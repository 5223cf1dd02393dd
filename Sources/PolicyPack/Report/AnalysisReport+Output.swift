import Foundation
import PolicyValues

extension AnalysisReport {
    /// The `--format json` document (see README "JSON output").
    public var json: PlainValue {
        func s(_ x: String) -> PlainValue { .string(x) }
        let v: [PlainValue] = violations.map { x in
            .object(PlainObject([
                ("policyPackName", s(x.policyPackName)), ("policyPackVersion", s(x.policyPackVersion)),
                ("policyName", s(x.policyName)), ("description", s(x.description)), ("message", s(x.message)),
                ("enforcementLevel", s(x.enforcementLevel.name)), ("severity", s(x.severity.name)),
                ("urn", s(x.urn)), ("stackPolicy", .bool(x.stackPolicy)),
            ]))
        }
        let r: [PlainValue] = remediations.map { x in
            .object(PlainObject([
                ("policyPackName", s(x.policyPackName)), ("policyPackVersion", s(x.policyPackVersion)),
                ("policyName", s(x.policyName)), ("urn", s(x.urn)), ("properties", x.properties),
                ("diagnostic", s(x.diagnostic)),
            ]))
        }
        let n: [PlainValue] = notApplicable.map { x in
            .object(PlainObject([
                ("policyPackName", s(x.policyPackName)), ("policyPackVersion", s(x.policyPackVersion)),
                ("policyName", s(x.policyName)), ("urn", s(x.urn)), ("reason", s(x.reason)),
            ]))
        }
        let e: [PlainValue] = errors.map { x in
            .object(PlainObject([
                ("policyPackName", s(x.policyPackName)), ("policyPackVersion", s(x.policyPackVersion)),
                ("policyName", s(x.policyName)), ("urn", s(x.urn)), ("phase", s(x.phase)),
                ("message", s(x.message)), ("traceback", s(x.traceback)),
            ]))
        }
        let p: [PlainValue] = packs.map { x in
            .object(PlainObject([("name", s(x.name)), ("version", s(x.version)), ("sdkVersion", s(x.sdkVersion)),
                                 ("policies", .int(x.policies))]))
        }
        let f: [PlainValue] = packFailures.map { x in
            .object(PlainObject([("policyPack", s(x.policyPack)), ("message", s(x.message)),
                                 ("exitStatus", .int(Int(x.exitStatus))), ("stderrTail", s(x.stderrTail))]))
        }
        return .object(PlainObject([
            ("policyPacks", .array(p)), ("packFailures", .array(f)),
            ("violations", .array(v)), ("remediations", .array(r)), ("notApplicable", .array(n)),
            ("errors", .array(e)), ("warnings", .array(warnings.map { .string($0) })),
            ("summary", .object(PlainObject([
                ("resources", .int(resources)), ("mandatory", .int(mandatoryCount)), ("advisory", .int(advisoryCount)),
                ("remediations", .int(remediations.count)), ("notApplicable", .int(notApplicable.count)),
                ("errors", .int(errors.count)), ("packFailures", .int(packFailures.count)),
                ("passed", .bool(exitStatus == .ok)),
            ]))),
        ]))
    }

    /// The `--format text` rendering: grouped by pack and resource, no colour needed.
    public var text: String {
        var out = ""
        for pack in packs {
            out += "Policy Pack \(pack.name)@v\(pack.version)\n"
            let mine = violations.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version }
            let byURN = Dictionary(grouping: mine, by: \.urn)
            let order = mine.map(\.urn).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            if mine.isEmpty { out += "    no violations\n" }
            for urn in order {
                out += "  \(Self.shortName(urn))\n"
                for v in byURN[urn] ?? [] {
                    let sev = v.severity == .unspecified ? "" : " [severity: \(v.severity.name)]"
                    out += "    \(v.enforcementLevel.name)\(sev)  \(v.policyName)\(v.stackPolicy ? " (stack policy)" : "")\n"
                    for line in v.message.split(separator: "\n", omittingEmptySubsequences: false) {
                        out += "        \(line)\n"
                    }
                }
            }
            let rems = remediations.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version && $0.diagnostic.isEmpty }
            for r in rems {
                out += "  remediation  \(r.policyName) on \(Self.shortName(r.urn))\n"
            }
            for e in errors where e.policyPackName == pack.name && e.policyPackVersion == pack.version {
                out += "  error  \(e.policyName.isEmpty ? "(pack)" : e.policyName) on \(Self.shortName(e.urn)) (\(e.phase)): \(e.message)\n"
            }
        }
        for f in packFailures {
            out += "Policy Pack \(f.policyPack) FAILED: \(f.message)\n"
            for line in f.stderrTail.split(separator: "\n") { out += "    | \(line)\n" }
        }
        for w in warnings { out += "warning: \(w)\n" }
        out += "\(resources) resources, \(mandatoryCount) mandatory, \(advisoryCount) advisory, "
            + "\(remediations.count) remediations, \(errors.count) policy errors"
            + (packFailures.isEmpty ? "" : ", \(packFailures.count) packs failed") + "\n"
        return out
    }

    /// `type: name` from a URN, for display.
    static func shortName(_ urn: String) -> String {
        let parts = urn.components(separatedBy: "::")
        guard parts.count >= 4 else { return urn.isEmpty ? "(stack)" : urn }
        let type = parts[2].split(separator: "$").last.map(String.init) ?? parts[2]
        return "\(type): \(parts.last ?? "")"
    }
}

extension AnalysisReport {
    /// Reads back the `--format json` document (a child process's report in multi-pack runs).
    public init?(json v: PlainValue) {
        guard v["violations"]?.arrayValue != nil else { return nil }
        self.init()
        func s(_ x: PlainValue, _ k: String) -> String { x[k]?.stringValue ?? "" }
        packs = (v["policyPacks"]?.arrayValue ?? []).map {
            Pack(name: s($0, "name"), version: s($0, "version"), sdkVersion: s($0, "sdkVersion"), policies: ($0["policies"]?.doubleValue?.exactInt ?? 0))
        }
        func severity(_ name: String) -> PolicySeverity {
            let all: [PolicySeverity] = [.low, .medium, .high, .critical]
            return all.first { $0.name == name } ?? .unspecified
        }
        violations = (v["violations"]?.arrayValue ?? []).map { (x: PlainValue) -> Violation in
            let level: EnforcementLevel = EnforcementLevel(name: s(x, "enforcementLevel")) ?? .advisory
            return Violation(policyPackName: s(x, "policyPackName"), policyPackVersion: s(x, "policyPackVersion"),
                             policyName: s(x, "policyName"), description: s(x, "description"), message: s(x, "message"),
                             enforcementLevel: level, severity: severity(s(x, "severity")),
                             urn: s(x, "urn"), stackPolicy: x["stackPolicy"]?.boolValue ?? false)
        }
        remediations = (v["remediations"]?.arrayValue ?? []).map {
            Remediation(policyPackName: s($0, "policyPackName"), policyPackVersion: s($0, "policyPackVersion"),
                        policyName: s($0, "policyName"), urn: s($0, "urn"), properties: $0["properties"] ?? .null,
                        diagnostic: s($0, "diagnostic"))
        }
        notApplicable = (v["notApplicable"]?.arrayValue ?? []).map {
            NotApplicable(policyPackName: s($0, "policyPackName"), policyPackVersion: s($0, "policyPackVersion"),
                          policyName: s($0, "policyName"), urn: s($0, "urn"), reason: s($0, "reason"))
        }
        errors = (v["errors"]?.arrayValue ?? []).map {
            PolicyError(policyPackName: s($0, "policyPackName"), policyPackVersion: s($0, "policyPackVersion"),
                        policyName: s($0, "policyName"), urn: s($0, "urn"), phase: s($0, "phase"), message: s($0, "message"),
                        traceback: s($0, "traceback"))
        }
        packFailures = (v["packFailures"]?.arrayValue ?? []).map {
            PackFailure(policyPack: s($0, "policyPack"), message: s($0, "message"),
                        exitStatus: Int32(clamping: $0["exitStatus"]?.doubleValue?.exactInt ?? 4), stderrTail: s($0, "stderrTail"))
        }
        warnings = (v["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        resources = (v["summary"]?["resources"]?.doubleValue?.exactInt ?? 0)
    }
}
