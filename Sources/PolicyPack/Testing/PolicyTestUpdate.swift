import Foundation
import HostCore
import PolicyValues

/// `policy-test --update`: writes what a run observed into the `expect:` of the cases that have
/// none (and of the cases the author names), as plain YAML lines inserted into the file; every other
/// line of the file is kept as it is.
public enum PolicyTestUpdate {
    /// The expectations that describe a report: per policy, in the pack's order, what it fired
    /// (message and level), remediated, found not applicable or raised on each resource, or that
    /// it passed. "Does not implement validate/remediate" results are left out (they always occur).
    public static func observed(_ result: PolicyTestRunner.CaseResult, info: AnalyzerInfo) -> [String] {
        let report = result.report
        let name = StackResource.name(ofURN:)
        func quoted(_ s: String) -> String { scalar(s) }
        var lines: [String] = []
        for p in info.policies {
            var mine: [String] = []
            var seen = Set<String>()
            func add(_ entry: String) { if seen.insert(entry).inserted { mine.append(entry) } }
            for v in report.violations where v.policyName == p.name {
                let on = v.stackPolicy ? "" : "\n  resource: \(quoted(name(v.urn)))"
                add("- policy: \(quoted(p.name))\(on)\n  fires: \(quoted(PolicyTestRunner.reportedMessage(v)))\n  level: \(v.enforcementLevel.name)")
            }
            for r in report.remediations where r.policyName == p.name {
                add("- policy: \(quoted(p.name))\n  resource: \(quoted(name(r.urn)))\n  remediates: \(JSON.serialize(r.properties, sortKeys: true))")
            }
            for n in report.notApplicable where n.policyName == p.name && !n.reason.hasPrefix("Policy does not implement ") {
                let on = n.urn.isEmpty ? "" : "\n  resource: \(quoted(name(n.urn)))"
                add("- policy: \(quoted(p.name))\(on)\n  notApplicable: \(quoted(n.reason))")
            }
            for e in report.errors where e.policyName == p.name {
                let on = e.urn.isEmpty ? "" : "\n  resource: \(quoted(name(e.urn)))"
                add("- policy: \(quoted(p.name))\(on)\n  raises: \(quoted(PolicyTestRunner.errorType(e)))")
            }
            let level = report.packs.first?.rules.first { $0.name == p.name }?.enforcementLevel
            if mine.isEmpty && level != .disabled && report.notApplicable.allSatisfy({ $0.policyName != p.name }) {
                mine.append("- policy: \(quoted(p.name))\n  passes: true")
            }
            lines += mine
        }
        return lines
    }

    /// A YAML scalar for `s`: plain when YAML would read it back as this very string, else
    /// double-quoted (JSON's escapes are YAML's).
    static func scalar(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_./".unicodeScalars.contains($0) }
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(s.lowercased())
            && Double(s) == nil && !s.hasPrefix("-") && !s.hasPrefix(".")
        return plain ? s : JSON.serialize(.string(s))
    }

    /// Rewrites `path` with the `expect:` (and `nothingElse: true`) of each case in `updates` replaced
    /// by the observed one. Written atomically (a new file renamed over the old).
    public static func write(_ updates: [(PolicyTestCase, [String])], to path: String) throws(HostError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw HostError(.usage, "\(path): cannot read the file") }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // From the last case up, so that earlier line numbers stay right.
        for (c, expectations) in updates.sorted(by: { ($0.0.layout?.firstLine ?? 0) > ($1.0.layout?.firstLine ?? 0) }) {
            guard let layout = c.layout else {
                throw HostError(.usage, "\(path):\(c.line): case \(JSON.serialize(.string(c.name))) is written in flow style ({…}); --update cannot add lines to it",
                                hint: "write the case in block style (one key per line)")
            }
            let indent = String(repeating: " ", count: max(0, layout.keyColumn - 1))
            var last = min(layout.lastLine, lines.count)
            while last > layout.firstLine, lines[last - 1].trimmingCharacters(in: .whitespaces).isEmpty
                    || lines[last - 1].trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                last -= 1
            }
            var block = ["\(indent)expect:"] + expectations.flatMap { e in e.split(separator: "\n").map { "\(indent)  \($0)" } }
            if !layout.keyLines.contains(where: { $0.key == "nothingElse" }) { block.append("\(indent)nothingElse: true") }
            if let expect = layout.keyLines.firstIndex(where: { $0.key == "expect" }) {
                let start = layout.keyLines[expect].line
                let end = expect + 1 < layout.keyLines.count ? layout.keyLines[expect + 1].line - 1 : last
                lines.replaceSubrange((start - 1)..<max(start, end), with: block)
            } else {
                lines.insert(contentsOf: block, at: last)
            }
        }
        let text = lines.joined(separator: "\n")
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).policy-host-update")
        do {
            try Data(text.utf8).write(to: temporary, options: .withoutOverwriting)
        } catch {
            throw HostError(.usage, "cannot write next to \(path): \(error.localizedDescription)")
        }
        // rename(2) replaces the file in one step: it is the old text or the new, never neither.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw HostError(.usage, "cannot replace \(path): \(reason)")
        }
    }
}
