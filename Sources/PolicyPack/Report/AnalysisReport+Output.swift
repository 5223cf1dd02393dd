import Foundation
import PolicyValues
import HostCore

extension AnalysisReport: Codable {
    enum CodingKeys: String, CodingKey {
        case policyPacks, packFailures, violations, remediations, notApplicable, errors, warnings, summary
    }

    /// The document's `summary`: derived on writing; of it, only `resources` is read back.
    struct Summary: Codable {
        var resources, mandatory, advisory, remediations, notApplicable, errors, packFailures: Int
        var passed: Bool
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(packs, forKey: .policyPacks)
        try c.encode(packFailures, forKey: .packFailures)
        try c.encode(violations, forKey: .violations)
        try c.encode(remediations, forKey: .remediations)
        try c.encode(notApplicable, forKey: .notApplicable)
        try c.encode(errors, forKey: .errors)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(Summary(resources: resources, mandatory: mandatoryCount, advisory: advisoryCount,
                             remediations: remediations.count, notApplicable: notApplicable.count,
                             errors: errors.count, packFailures: packFailures.count, passed: exitStatus == .ok),
                     forKey: .summary)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        packs = try c.decode([Pack].self, forKey: .policyPacks)
        packFailures = try c.decode([PackFailure].self, forKey: .packFailures)
        violations = try c.decode([Violation].self, forKey: .violations)
        remediations = try c.decode([Remediation].self, forKey: .remediations)
        notApplicable = try c.decode([NotApplicable].self, forKey: .notApplicable)
        errors = try c.decode([PolicyError].self, forKey: .errors)
        warnings = try c.decode([String].self, forKey: .warnings)
        resources = try c.decode(Summary.self, forKey: .summary).resources
    }

    /// The `--format json` document.
    public var json: PlainValue {
        // Encoding plain members into a PlainValue cannot fail (no unsigned 64-bit numbers, no throwing members).
        (try? PlainValueEncoder().encode(self)) ?? .null
    }

    /// Reads back the `--format json` document (a worker's report), strictly: a missing or mistyped
    /// member is an internal error naming its path.
    public static func decode(json bytes: Data) throws(HostError) -> AnalysisReport {
        let value: PlainValue
        do { value = try JSON.parse(bytes) } catch {
            throw HostError(.internal, "a worker's report is not JSON (\(error.line):\(error.column): \(error.message))")
        }
        do { return try PlainValueDecoder().decode(AnalysisReport.self, from: value) } catch {
            throw HostError(.internal, "a worker's report does not match the report format: \(PlainValueDecoder.describe(error))")
        }
    }
}

extension AnalysisReport {
    /// The `--format text` rendering: grouped by pack and resource, no colour needed.
    public var text: String { text(color: false) }

    /// The text rendering; `color` (a terminal) colours the levels and shows control characters in
    /// the pack's own text as `\u{…}`, so that a message cannot move the cursor or recolour the screen.
    public func text(color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        func level(_ e: EnforcementLevel) -> String {
            switch e {
            case .mandatory, .remediate: paint(e.name, "31")
            case .advisory: paint(e.name, "33")
            case .disabled: e.name
            }
        }
        func safe<S: StringProtocol>(_ s: S) -> String {
            guard color else { return String(s) }
            var out = ""
            for u in s.unicodeScalars {
                if (u.value < 0x20 && u != "\t") || (0x7F...0x9F).contains(u.value) {
                    out += "\\u{\(String(u.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
            return out
        }
        var out = ""
        for pack in packs {
            out += "Policy Pack \(pack.name)@v\(pack.version)\n"
            let mine = violations.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version }
            let byURN = Dictionary(grouping: mine, by: \.urn)
            let order = mine.map(\.urn).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            if mine.isEmpty { out += "    no violations\n" }
            for urn in order {
                out += "  \(safe(Self.shortName(urn)))\n"
                for v in byURN[urn] ?? [] {
                    let sev = v.severity == .unspecified ? "" : " [severity: \(v.severity.name)]"
                    out += "    \(level(v.enforcementLevel))\(sev)  \(safe(v.policyName))\(v.stackPolicy ? " (stack policy)" : "")\n"
                    for line in v.message.split(separator: "\n", omittingEmptySubsequences: false) {
                        out += "        \(safe(line))\n"
                    }
                }
            }
            let rems = remediations.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version && $0.diagnostic.isEmpty }
            for r in rems {
                out += "  \(paint("remediation", "36"))  \(safe(r.policyName)) on \(safe(Self.shortName(r.urn)))\n"
            }
            for e in errors where e.policyPackName == pack.name && e.policyPackVersion == pack.version {
                out += "  \(paint("error", "1;31"))  \(e.policyName.isEmpty ? "(pack)" : safe(e.policyName)) on \(safe(Self.shortName(e.urn))) (\(e.phase)): \(safe(e.message))\n"
            }
        }
        for f in packFailures {
            out += "Policy Pack \(f.policyPack) \(paint("FAILED", "1;31")): \(safe(f.message))\n"
            for line in f.stderrTail.split(separator: "\n") { out += "    | \(safe(line))\n" }
        }
        for w in warnings { out += "\(paint("warning", "33")): \(safe(w))\n" }
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
