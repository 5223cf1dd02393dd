import Foundation
import PolicyValues
import HostCore

/// Runs a loaded pack over a stack the way the engine drives an analyzer:
/// Configure, then per resource Remediate and Analyze, then AnalyzeStack;
/// diagnostics are post-processed as the engine does (YAML version, REMEDIATE
/// shown as MANDATORY, stack-policy URNs, severity fill-in).
public enum PackAnalysis {
    public struct Options: Sendable {
        public var applyRemediations = false
        public var config: PolicyPackConfig?
        /// Sign again, in the report, remediated top-level values that were secret in the request
        /// and come back unsigned (so that redaction hides them); off, the report holds exactly
        /// what the SDK returned.
        public var keepSecrecy = false
        public init(applyRemediations: Bool = false, config: PolicyPackConfig? = nil, keepSecrecy: Bool = false) {
            self.applyRemediations = applyRemediations
            self.config = config
            self.keepSecrecy = keepSecrecy
        }
    }

    /// Reconciles and validates config; throws the engine's "validating policy config" error.
    public static func reconciledConfig(info: AnalyzerInfo, options: Options) throws(HostError) -> [PolicyConfiguration] {
        let reconciled = ConfigReconciler.reconcile(info: info, file: options.config)
        let problems = ConfigReconciler.validate(info: info, reconciled: reconciled)
        if !problems.isEmpty {
            throw HostError(.usage, "validating policy config: \(problems[0])",
                            hint: problems.count > 1 ? "\(problems.count - 1) more problem(s): " + problems.dropFirst().joined(separator: "; ") : "fix the --policy-pack-config file to match the policy's config schema",
                            detail: nil)
        }
        return reconciled.map { PolicyConfiguration(policyName: $0.0, enforcementLevel: $0.1, properties: $0.2) }
    }

    /// Resources handed to Python per call.
    static let batchSize = 1000

    /// Takes the requests over: each part is released as soon as Python has its own copy, so the
    /// host and Python never both hold a whole large stack.
    public static func run(_ session: some AnalysisSession, requests consumedRequests: consuming AnalysisRequests, options: Options,
                           clock: PhaseClock = PhaseClock(enabled: false)) throws(HostError) -> AnalysisReport {
        let info = session.info
        var requests = consumedRequests
        let config = try reconciledConfig(info: info, options: options)
        try session.configure(config)
        var report = AnalysisReport()
        let levels = Dictionary(config.map { ($0.policyName, $0.enforcementLevel) }, uniquingKeysWith: { a, _ in a })
        let rules = info.policies.map { p in
            AnalysisReport.Rule(name: p.name, description: p.description, enforcementLevel: levels[p.name] ?? p.enforcementLevel,
                                severity: p.severity, stackPolicy: p.isStackPolicy)
        }
        report.packs = [.init(name: info.name, version: info.version, sdkVersion: info.sdkVersion, policies: info.policies.count, rules: rules)]
        report.resourceURNs = requests.resources.map(\.urn)
        report.resources = requests.resources.count
        report.warnings += requests.warnings  // the undecryptable secrets' warning among them
        clock.mark("configure")
        // In batches, so that only one batch of resources exists as Python objects at a time.
        var start = 0
        while start < requests.resources.count {
            let batch = Array(requests.resources[start..<min(start + batchSize, requests.resources.count)])
            let results = try session.runResources(batch, providers: requests.providers, applyRemediations: options.applyRemediations)
            for (request, result) in zip(batch, results) {
                collect(result, urn: request.urn, properties: options.keepSecrecy ? request.properties : nil, stackPolicy: false, info: info, requests: requests, into: &report)
            }
            start += batchSize
        }
        clock.mark("remediate + analyze")
        requests.resources = []
        var stackResources = requests.stackResources
        requests.stackResources = []
        // Hand over from the end, so that each chunk's storage can be released right away.
        try session.stackBegin(providers: requests.providers)
        while !stackResources.isEmpty {
            let n = min(batchSize, stackResources.count)
            let chunk = Array(stackResources.suffix(n))
            stackResources.removeLast(n)
            try session.stackAdd(chunk, prepend: true)
        }
        let stack = try session.stackRun()
        clock.mark("analyze stack")
        collect(stack, urn: "", properties: nil, stackPolicy: true, info: info, requests: requests, into: &report)
        return report
    }

    /// `properties`: the resource's request, whose secret top-level values stay secret in
    /// remediations (`Options.keepSecrecy`).
    private static func collect(_ result: CallResult, urn: String, properties: PlainObject?, stackPolicy: Bool, info: AnalyzerInfo,
                                requests: AnalysisRequests, into report: inout AnalysisReport) {
        for r in result.remediations {
            report.remediations.append(.init(policyPackName: info.name, policyPackVersion: info.version, policyName: r.policyName,
                                             urn: urn, properties: properties.map { AnalysisReport.keepingSecrecy(r.properties, of: $0) } ?? r.properties,
                                             diagnostic: r.diagnostic))
            if !r.diagnostic.isEmpty {
                // The engine shows a remediation diagnostic as an advisory violation.
                report.violations.append(.init(policyPackName: info.name, policyPackVersion: info.version, policyName: r.policyName,
                                               description: r.description, message: r.diagnostic,
                                               enforcementLevel: .advisory, severity: info.policy(named: r.policyName)?.severity ?? .unspecified,
                                               urn: urn, stackPolicy: false))
            }
        }
        for d in result.diagnostics {
            // The engine's post-processing, here only: REMEDIATE is shown as MANDATORY, DISABLED dropped.
            var level = d.enforcementLevel
            if level == .remediate { level = .mandatory }
            guard level == .advisory || level == .mandatory else { continue }
            var severity = d.severity
            if severity == .unspecified { severity = info.policy(named: d.policyName)?.severity ?? .unspecified }
            var target = urn
            if stackPolicy { target = requests.urns.contains(d.urn) ? d.urn : requests.rootStackURN }
            report.violations.append(.init(policyPackName: info.name, policyPackVersion: info.version, policyName: d.policyName,
                                           description: d.description, message: d.message,
                                           enforcementLevel: level, severity: severity, urn: target, stackPolicy: stackPolicy))
        }
        for n in result.notApplicable {
            report.notApplicable.append(.init(policyPackName: info.name, policyPackVersion: info.version,
                                              policyName: n.policyName, urn: stackPolicy ? "" : urn, reason: n.reason))
        }
        for e in result.errors {
            report.errors.append(.init(policyPackName: info.name, policyPackVersion: info.version,
                                       policyName: e.policyName, urn: stackPolicy ? "" : urn, phase: e.phase,
                                       message: "\(e.type): \(e.message)", traceback: e.traceback))
        }
    }
}
