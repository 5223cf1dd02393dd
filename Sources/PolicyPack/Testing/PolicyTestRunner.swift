import Foundation
import HostCore
import PolicyValues

/// Runs test cases through the pipeline `analyze` uses: each case becomes a stack export (the
/// stack's root, its providers and resources), read by `StackSnapshot`, encoded by
/// `AnalysisRequests` and run by `PackAnalysis` on the loaded pack — so a case sees what the same
/// resources in a stack file would see. Then each expectation is checked against the report.
public enum PolicyTestRunner {
    /// One case's outcome.
    public struct CaseResult: Sendable {
        public var testCase: PolicyTestCase
        /// Why the case fails, one readable line each; empty when it passes.
        public var failures: [String]
        public var report: AnalysisReport
        public var seconds: Double
        public var passed: Bool { failures.isEmpty }
    }

    /// The stack export a case stands for.
    public static func deployment(_ c: PolicyTestCase) -> PlainValue {
        let s = c.settings.stackSettings
        let prefix = "urn:pulumi:\(s.stack)::\(s.project)::"
        let root = prefix + "pulumi:pulumi:Stack::\(s.project)-\(s.stack)"
        var resources: [PlainValue] = [.object(PlainObject([("urn", .string(root)), ("custom", .bool(false)),
                                                             ("type", .string("pulumi:pulumi:Stack"))]))]
        var providerRefs: [String: String] = [:]
        var urns: [String: String] = [:]
        func urn(_ r: PolicyTestCase.Resource) -> String {
            let parentType = r.parent.flatMap { p in c.resources.first { $0.name == p }?.type }
            return prefix + (parentType.map { "\($0)$" } ?? "") + r.type + "::" + r.name
        }
        for r in c.resources where urns[r.name] == nil { urns[r.name] = urn(r) }
        for r in c.resources {
            var o = PlainObject([("urn", .string(urn(r))), ("custom", .bool(r.custom)), ("type", .string(r.type))])
            if r.custom { o["id"] = .string("\(r.name)-id") }
            o["inputs"] = .object(r.inputs)
            o["outputs"] = .object(r.outputs ?? r.inputs)
            o["parent"] = .string(r.parent.flatMap { urns[$0] } ?? root)
            if r.protect { o["protect"] = .bool(true) }
            if !r.dependencies.isEmpty { o["dependencies"] = .array(r.dependencies.compactMap { urns[$0] }.map { .string($0) }) }
            if !r.ignoreChanges.isEmpty { o["ignoreChanges"] = .array(r.ignoreChanges.map { .string($0) }) }
            if let p = r.provider {
                let ref: String
                let key = p.type + "\u{0}" + p.name + "\u{0}" + JSON.serialize(.object(p.inputs), sortKeys: true)
                if let known = providerRefs[key] {
                    ref = known
                } else {
                    let urn = prefix + p.type + "::" + p.name
                    let id = "\(p.name)-\(providerRefs.count)-id"
                    resources.append(.object(PlainObject([("urn", .string(urn)), ("custom", .bool(true)), ("id", .string(id)),
                                                          ("type", .string(p.type)), ("inputs", .object(p.inputs)),
                                                          ("outputs", .object(p.inputs))])))
                    ref = urn + "::" + id
                    providerRefs[key] = ref
                }
                o["provider"] = .string(ref)
            }
            resources.append(.object(o))
        }
        return .object(PlainObject([("version", .int(3)), ("deployment", .object(PlainObject([
            ("manifest", .object(PlainObject([("time", .string("2026-01-01T00:00:00Z")), ("magic", .string("")),
                                              ("version", .string("policy-host test"))]))),
            ("resources", .array(resources)),
        ])))]))
    }

    /// Runs `cases` on `session`, switching the stack settings between cases as the engine's
    /// ConfigureStack does (`configureStack`).
    public static func run(_ cases: [PolicyTestCase], session: some AnalysisSession, startedWith: StackSettings,
                           configureStack: (StackSettings) throws(HostError) -> Void) throws(HostError) -> [CaseResult] {
        var current = startedWith
        var results: [CaseResult] = []
        for c in cases {
            let start = Date()
            let (requests, settings) = try requests(for: c)
            if settings != current {
                try configureStack(settings)
                current = settings
            }
            let report = try PackAnalysis.run(session, requests: requests, options: .init(config: c.settings.policyConfig))
            results.append(CaseResult(testCase: c, failures: check(c, report: report, info: session.info), report: report,
                                      seconds: Date().timeIntervalSince(start)))
        }
        return results
    }

    /// The engine's requests of a case and its stack settings: from its resources, or from its stack
    /// file read as `analyze` reads one (project, stack, organization and preview from the file unless
    /// the case gives them; encrypted secrets with the passphrase in the environment).
    public static func requests(for c: PolicyTestCase) throws(HostError) -> (AnalysisRequests, StackSettings) {
        guard let url = c.stackFile else {
            let s = c.settings.stackSettings
            let snapshot = try StackSnapshot.parse(deployment(c), file: c.label)
            return (try AnalysisRequests(snapshot: snapshot, project: s.project, stack: s.stack), s)
        }
        let snapshot = try StackSnapshot.load(url)
        var s = c.settings.stackSettings
        s.organization = c.settings.organization ?? snapshot.organization ?? "organization"
        s.project = c.settings.project ?? (snapshot.project.isEmpty ? "project" : snapshot.project)
        s.stack = c.settings.stack ?? (snapshot.stack.isEmpty ? "stack" : snapshot.stack)
        s.dryRun = c.settings.preview ?? (snapshot.format == .preview)
        var secrets = StackSecrets(snapshot: snapshot, file: url.path, passphrase: .environment())
        if snapshot.encryptedSecrets > 0 { try secrets.prepare() }
        return (try AnalysisRequests(snapshot: snapshot, project: s.project, stack: s.stack, secrets: secrets), s)
    }

    /// The message a policy passed to `report_violation` (the report's holds the description first).
    public static func reportedMessage(_ v: AnalysisReport.Violation) -> String {
        if v.message == v.description { return "" }
        if v.message.hasPrefix(v.description + "\n") { return String(v.message.dropFirst(v.description.count + 1)) }
        return v.message
    }

    /// The exception type of a policy error (`Type: text`).
    public static func errorType(_ e: AnalysisReport.PolicyError) -> String {
        String(e.message.prefix { $0 != ":" })
    }

    /// Every way the report differs from the case's expectations.
    public static func check(_ c: PolicyTestCase, report: AnalysisReport, info: AnalyzerInfo) -> [String] {
        var failures: [String] = []
        if c.expectations.isEmpty && !c.nothingElse {
            failures.append("the case expects nothing; record what happens with `policy-host test --update`")
        }
        /// Whether a result is about the resource named (any resource of that name, whatever its type).
        func about(_ urn: String, _ resource: String?) -> Bool {
            guard let resource else { return true }
            return urn.hasSuffix("::" + resource)
        }
        let name = StackResource.name(ofURN:)
        func quoted(_ s: String) -> String { GoJSONText.quoted(s) }
        let known = Set(info.policies.map(\.name))
        for e in c.expectations {
            let on = e.resource.map { " on \(quoted($0))" } ?? ""
            guard known.contains(e.policy) else {
                failures.append("\(e.policy): the pack has no policy of this name (line \(e.line))")
                continue
            }
            let violations = report.violations.filter { $0.policyName == e.policy && (about($0.urn, e.resource) || $0.stackPolicy && e.resource == nil) }
            let notApplicable = report.notApplicable.filter { $0.policyName == e.policy && about($0.urn, e.resource) }
            let errors = report.errors.filter { $0.policyName == e.policy && about($0.urn, e.resource) }
            let remediations = report.remediations.filter { $0.policyName == e.policy && about($0.urn, e.resource) }
            let got: String = {
                var parts: [String] = []
                if !violations.isEmpty { parts.append("fired " + violations.map { quoted(reportedMessage($0)) + " (\($0.enforcementLevel.name)\($0.stackPolicy ? "" : " on " + quoted(name($0.urn))))" }.joined(separator: ", ")) }
                if !notApplicable.isEmpty { parts.append("was not applicable: " + notApplicable.map { quoted($0.reason) }.joined(separator: ", ")) }
                if !errors.isEmpty { parts.append("raised " + errors.map { $0.message.split(separator: "\n").first.map(String.init) ?? "" }.joined(separator: "; ")) }
                if !remediations.isEmpty { parts.append("remediated " + remediations.map { JSON.serialize($0.properties, sortKeys: true) }.joined(separator: ", ")) }
                return parts.isEmpty ? "it reported nothing" : parts.joined(separator: "; ")
            }()
            switch e.outcome {
            case .fires(let message, let level):
                let matching = violations.filter { v in
                    (message?.matches(reportedMessage(v)) ?? true) && (level.map { $0 == v.enforcementLevel } ?? true)
                }
                if matching.isEmpty {
                    let what = [message.map { "with message \($0)" }, level.map { "at level \($0.name)" }].compactMap { $0 }.joined(separator: " ")
                    failures.append("\(e.policy): expected to fire\(on)\(what.isEmpty ? "" : " " + what), but \(got)")
                }
            case .passes:
                if !violations.isEmpty || !notApplicable.isEmpty || !errors.isEmpty {
                    failures.append("\(e.policy): expected to pass\(on), but \(got)")
                }
            case .notApplicable(let reason):
                if !notApplicable.contains(where: { reason?.matches($0.reason) ?? true }) {
                    failures.append("\(e.policy): expected to be not applicable\(on)\(reason.map { " with reason \($0)" } ?? ""), but \(got)")
                }
            case .remediates(let properties):
                let ok = remediations.contains { r in
                    guard let expected = properties else { return true }
                    guard case .object(let actual) = r.properties else { return false }
                    return expected.entries.allSatisfy { k, v in actual[k] == v }
                }
                if !ok {
                    failures.append("\(e.policy): expected to remediate\(on)\(properties.map { " to " + JSON.serialize(.object($0), sortKeys: true) } ?? ""), but \(got)")
                }
            case .raises(let type):
                if !errors.contains(where: { type == nil || errorType($0) == type }) {
                    failures.append("\(e.policy): expected to raise\(type.map { " " + $0 } ?? "")\(on), but \(got)")
                }
            }
        }
        if c.nothingElse {
            func expected(_ policy: String, _ kinds: (PolicyTestCase.Outcome) -> Bool) -> Bool {
                c.expectations.contains { $0.policy == policy && kinds($0.outcome) }
            }
            for v in report.violations where !expected(v.policyName, { if case .fires = $0 { return true }; return false }) {
                failures.append("\(v.policyName): fired \(quoted(reportedMessage(v)))\(v.stackPolicy ? "" : " on " + quoted(name(v.urn))), which the case does not expect (nothingElse)")
            }
            for r in report.remediations where !expected(r.policyName, { if case .remediates = $0 { return true }; return false }) {
                failures.append("\(r.policyName): remediated \(quoted(name(r.urn))), which the case does not expect (nothingElse)")
            }
            for err in report.errors where !expected(err.policyName, { if case .raises = $0 { return true }; return false }) {
                failures.append("\(err.policyName): raised \(err.message.split(separator: "\n").first.map(String.init) ?? ""), which the case does not expect (nothingElse)")
            }
        }
        return failures
    }

    /// Per policy of the pack: whether some case made it fire and some case made it pass.
    public struct Coverage: Sendable {
        public var policy: String
        public var fires: Bool
        public var passes: Bool
        public var complete: Bool { fires && passes }
    }

    /// A policy fires when it reports a violation or a remediation; it passes in a case with
    /// resources where it reports neither, raises nothing and is applicable (a remediation-only
    /// policy's "does not implement validate" does not count against it).
    public static func coverage(_ results: [CaseResult], info: AnalyzerInfo) -> [Coverage] {
        info.policies.map { p in
            var fires = false, passes = false
            for r in results {
                let report = r.report
                let acted = report.violations.contains { $0.policyName == p.name } || report.remediations.contains { $0.policyName == p.name }
                let other = report.errors.contains { $0.policyName == p.name }
                    || report.notApplicable.contains { $0.policyName == p.name && !$0.reason.hasPrefix("Policy does not implement ") }
                let level = report.packs.first?.rules.first { $0.name == p.name }?.enforcementLevel
                if acted { fires = true }
                if !acted && !other && level != .disabled && (!r.testCase.resources.isEmpty || r.testCase.stackFile != nil || p.isStackPolicy) { passes = true }
            }
            return Coverage(policy: p.name, fires: fires, passes: passes)
        }
    }
}
