import Foundation
import PolicyValues
import HostCore

/// The outcome of analysing a stack with one or more packs, as the engine would report it.
/// `Codable`: the `--format json` document (README "JSON output") is its encoding, member names are
/// the document's keys, and a worker's report is decoded from it strictly (`Report/AnalysisReport+Output.swift`).
public struct AnalysisReport: Sendable {
    public struct Violation: Sendable, Equatable, Codable {
        public var policyPackName, policyPackVersion, policyName, description, message: String
        public var enforcementLevel: EnforcementLevel
        public var severity: PolicySeverity
        public var urn: String
        public var stackPolicy: Bool
    }
    public struct Remediation: Sendable, Equatable, Codable {
        public var policyPackName, policyPackVersion, policyName, urn: String
        public var properties: PlainValue
        public var diagnostic: String
    }
    public struct NotApplicable: Sendable, Equatable, Codable {
        public var policyPackName, policyPackVersion, policyName, urn, reason: String
    }
    public struct PolicyError: Sendable, Equatable, Codable {
        public var policyPackName, policyPackVersion, policyName, urn, phase, message, traceback: String
    }
    public struct Pack: Sendable, Equatable, Codable {
        public var name, version, sdkVersion: String
        public var policies: Int
        /// Every policy of the pack with the enforcement level it ran at (after config).
        public var rules: [Rule] = []
    }
    /// A policy as it ran: what SARIF rules and JUnit test cases are made of.
    public struct Rule: Sendable, Equatable, Codable {
        public var name, description: String
        public var enforcementLevel: EnforcementLevel
        public var severity: PolicySeverity
        public var stackPolicy: Bool
    }
    /// A pack that could not run at all (crashed, timed out, failed to load or install).
    public struct PackFailure: Sendable, Equatable, Codable {
        public var policyPack: String
        public var message: String
        public var exitStatus: Int32
        public var stderrTail: String
    }

    public var packs: [Pack] = []
    public var violations: [Violation] = []
    public var remediations: [Remediation] = []
    public var notApplicable: [NotApplicable] = []
    public var errors: [PolicyError] = []
    public var warnings: [String] = []
    public var packFailures: [PackFailure] = []
    public var resources = 0
    /// The URNs of the resources analysed, in stack order (not part of the JSON document; set by the
    /// frontend for the formats that list every resource, JUnit).
    public var resourceURNs: [String] = []

    public init() {}

    public var mandatoryCount: Int { violations.filter { $0.enforcementLevel == .mandatory }.count }
    public var advisoryCount: Int { violations.filter { $0.enforcementLevel == .advisory }.count }

    /// A pack that could not run (3 when only its environment failed, else 4), else 5 when a policy
    /// raised, else 1 with a mandatory violation, else 0.
    public var exitStatus: ExitStatus {
        if !packFailures.isEmpty {
            return packFailures.allSatisfy { $0.exitStatus == ExitStatus.environment.rawValue } ? .environment : .packLoad
        }
        if !errors.isEmpty { return .policyError }
        return mandatoryCount > 0 ? .violations : .ok
    }

    /// Appends another pack's report (multi-pack runs); order is stable by pack.
    public mutating func merge(_ other: AnalysisReport) {
        packs += other.packs
        violations += other.violations
        remediations += other.remediations
        notApplicable += other.notApplicable
        errors += other.errors
        // Warnings about the stack file come from every pack's run: say each once.
        warnings += other.warnings.filter { !warnings.contains($0) }
        packFailures += other.packFailures
        resources = max(resources, other.resources)
        if other.resourceURNs.count > resourceURNs.count { resourceURNs = other.resourceURNs }
    }
}
