import Crypto
import Foundation
import PolicyValues

/// `--format sarif`: the report as a SARIF 2.1.0 log (OASIS), the format GitHub code scanning, GitLab
/// and Azure DevOps ingest. README "SARIF" documents the mapping.
public struct SARIFReport {
    /// Where results point: the stack file, as a URI relative to `root` when it lies inside it (a
    /// repository), else as an absolute `file:` URI; `lines` maps a URN to the 1-based line that
    /// holds it in the file.
    public struct Location: Sendable {
        public var uri: String
        public var uriBaseId: String?
        public var lines: [String: Int]

        public init(uri: String, uriBaseId: String? = nil, lines: [String: Int] = [:]) {
            self.uri = uri
            self.uriBaseId = uriBaseId
            self.lines = lines
        }

        /// The location of `stackFile`: relative to the enclosing git repository (`%SRCROOT%`) when
        /// there is one, with the lines of its URNs read from `bytes`.
        public static func of(stackFile: URL, bytes: [UInt8]?) -> Location {
            let path = stackFile.standardizedFileURL.path
            var dir = stackFile.standardizedFileURL.deletingLastPathComponent()
            while dir.path != "/" {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) {
                    let relative = String(path.dropFirst(dir.path.count + 1))
                    return Location(uri: percentEncoded(relative), uriBaseId: "%SRCROOT%", lines: bytes.map(urnLines) ?? [:])
                }
                dir = dir.deletingLastPathComponent()
            }
            return Location(uri: "file://" + percentEncoded(path), lines: bytes.map(urnLines) ?? [:])
        }

        /// For each `"urn": "<urn>"` member of a JSON stack file, the line it is on (the first one
        /// for a URN that appears twice, as in a preview's steps).
        static func urnLines(_ bytes: [UInt8]) -> [String: Int] {
            var lines: [String: Int] = [:]
            var line = 1
            var i = 0
            let key = Array("\"urn\"".utf8)
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x0A { line += 1; i += 1; continue }
                if b == 0x22, i + key.count <= bytes.count, bytes[i..<(i + key.count)].elementsEqual(key) {
                    var j = i + key.count
                    while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x3A { j += 1 }
                    if j < bytes.count, bytes[j] == 0x22 {
                        var k = j + 1
                        while k < bytes.count, bytes[k] != 0x22, bytes[k] != 0x0A {
                            k += bytes[k] == 0x5C ? 2 : 1
                        }
                        if k < bytes.count, bytes[k] == 0x22,
                           let urn = (try? JSON.parse(String(decoding: bytes[j...k], as: UTF8.self)))?.stringValue, lines[urn] == nil {
                            lines[urn] = line
                        }
                        i = k
                    } else {
                        i = j
                    }
                    continue
                }
                i += 1
            }
            return lines
        }

        static func percentEncoded(_ path: String) -> String {
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#[]@!$&'()*+,;=")
            return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        }
    }

    /// GitHub code scanning's limit on results per run; beyond it the most severe are kept.
    public static let maxResults = 25_000

    public var report: AnalysisReport
    public var location: Location
    public var toolVersion: String

    public init(report: AnalysisReport, location: Location, toolVersion: String) {
        self.report = report
        self.location = location
        self.toolVersion = toolVersion
    }

    static func level(_ e: EnforcementLevel) -> String? {
        switch e {
        case .mandatory, .remediate: "error"
        case .advisory: "warning"
        case .disabled: nil
        }
    }

    static func ruleID(pack: String, policy: String) -> String { "\(pack)/\(policy)" }

    /// A fingerprint of what a result is about (rule, resource, message), stable across runs while
    /// they do not change.
    static func fingerprint(_ parts: [String]) -> String {
        SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    static func text(_ s: String) -> PlainValue { .object(PlainObject([("text", .string(s))])) }

    /// The SARIF log.
    public var document: PlainValue {
        var rules: [PlainValue] = []
        var ruleIndex: [String: Int] = [:]
        for pack in report.packs {
            for rule in pack.rules {
                guard let level = Self.level(rule.enforcementLevel) else { continue }
                let id = Self.ruleID(pack: pack.name, policy: rule.name)
                guard ruleIndex[id] == nil else { continue }
                ruleIndex[id] = rules.count
                var properties: [(String, PlainValue)] = [
                    ("policyPack", .string(pack.name)), ("policyPackVersion", .string(pack.version)),
                    ("enforcementLevel", .string(rule.enforcementLevel.name)), ("stackPolicy", .bool(rule.stackPolicy)),
                ]
                if rule.severity != .unspecified { properties.append(("severity", .string(rule.severity.name))) }
                rules.append(.object(PlainObject([
                    ("id", .string(id)),
                    ("name", .string(rule.name)),
                    ("shortDescription", Self.text(rule.description.isEmpty ? rule.name : rule.description)),
                    ("fullDescription", Self.text("\(rule.description.isEmpty ? rule.name : rule.description) "
                                                  + "(\(rule.stackPolicy ? "stack" : "resource") policy \(rule.name) of policy pack \(pack.name))")),
                    ("help", Self.text("Policy \(rule.name) of policy pack \(pack.name)@v\(pack.version), enforcement level \(rule.enforcementLevel.name)"
                                       + (rule.severity != .unspecified ? ", severity \(rule.severity.name)" : "") + ".")),
                    ("defaultConfiguration", .object(PlainObject([("level", .string(level))]))),
                    ("properties", .object(PlainObject(properties))),
                ])))
            }
        }

        var results: [PlainValue] = []
        let place = self.location
        func location(_ urn: String) -> PlainValue {
            var physical: [(String, PlainValue)] = [("artifactLocation", .object(PlainObject(
                [("uri", .string(place.uri))] + (place.uriBaseId.map { [("uriBaseId", PlainValue.string($0))] } ?? []))))]
            if let line = place.lines[urn] {
                physical.append(("region", .object(PlainObject([("startLine", .int(line))]))))
            }
            var loc: [(String, PlainValue)] = [("physicalLocation", .object(PlainObject(physical)))]
            if !urn.isEmpty {
                let parts = urn.components(separatedBy: "::")
                var logical: [(String, PlainValue)] = [("fullyQualifiedName", .string(urn)), ("name", .string(parts.last ?? urn)),
                                                       ("kind", .string("resource"))]
                if parts.count >= 3 {
                    let qualifiedType = parts[parts.count - 2]
                    let type = qualifiedType.components(separatedBy: "$").last ?? qualifiedType
                    logical.append(("properties", .object(PlainObject([("type", .string(type))]))))
                }
                loc.append(("logicalLocations", .array([.object(PlainObject(logical))])))
            }
            return .array([.object(PlainObject(loc))])
        }
        func result(ruleID: String, level: String, kind: String, message: String, urn: String, fingerprintOf: [String],
                    properties: [(String, PlainValue)] = []) -> PlainValue {
            var members: [(String, PlainValue)] = [("ruleId", .string(ruleID))]
            if let index = ruleIndex[ruleID] { members.append(("ruleIndex", .int(index))) }
            members += [("kind", .string(kind)), ("level", .string(level)), ("message", Self.text(message.isEmpty ? ruleID : message)),
                        ("locations", location(urn)),
                        ("partialFingerprints", .object(PlainObject([("policyHost/v1", .string(Self.fingerprint(fingerprintOf)))])))]
            if !properties.isEmpty { members.append(("properties", .object(PlainObject(properties)))) }
            return .object(PlainObject(members))
        }
        // Mandatory first, so that the most severe survive the results limit.
        let ordered = report.violations.filter { $0.enforcementLevel == .mandatory } + report.violations.filter { $0.enforcementLevel != .mandatory }
        for v in ordered {
            let id = Self.ruleID(pack: v.policyPackName, policy: v.policyName)
            results.append(result(ruleID: id, level: Self.level(v.enforcementLevel) ?? "warning", kind: "fail", message: v.message, urn: v.urn,
                                  fingerprintOf: [id, v.urn, v.message],
                                  properties: v.severity != .unspecified ? [("severity", .string(v.severity.name))] : []))
        }
        for r in report.remediations {
            let id = Self.ruleID(pack: r.policyPackName, policy: r.policyName)
            let message = r.diagnostic.isEmpty ? "Remediated by policy \(r.policyName): its properties were changed." : r.diagnostic
            results.append(result(ruleID: id, level: "note", kind: "informational", message: message, urn: r.urn,
                                  fingerprintOf: [id, r.urn, "remediation"], properties: [("remediation", .bool(true))]))
        }
        for n in report.notApplicable {
            let id = Self.ruleID(pack: n.policyPackName, policy: n.policyName)
            results.append(result(ruleID: id, level: "none", kind: "notApplicable", message: n.reason, urn: n.urn,
                                   fingerprintOf: [id, n.urn, "not-applicable", n.reason]))
        }
        var notifications: [PlainValue] = []
        if results.count > Self.maxResults {
            notifications.append(.object(PlainObject([("level", .string("warning")),
                ("message", Self.text("\(results.count - Self.maxResults) results left out: GitHub code scanning accepts at most \(Self.maxResults) per run"))])))
            results.removeLast(results.count - Self.maxResults)
        }
        for e in report.errors {
            notifications.append(.object(PlainObject([
                ("level", .string("error")),
                ("message", Self.text("policy \(e.policyName) of \(e.policyPackName) raised during \(e.phase) of \(e.urn): \(e.message)")),
                ("descriptor", .object(PlainObject([("id", .string(Self.ruleID(pack: e.policyPackName, policy: e.policyName)))]))),
            ])))
        }
        for f in report.packFailures {
            notifications.append(.object(PlainObject([("level", .string("error")), ("message", Self.text("\(f.policyPack): \(f.message)"))])))
        }
        for w in report.warnings {
            notifications.append(.object(PlainObject([("level", .string("warning")), ("message", Self.text(w))])))
        }
        var invocation: [(String, PlainValue)] = [
            ("executionSuccessful", .bool(report.errors.isEmpty && report.packFailures.isEmpty)),
            ("exitCode", .int(Int(report.exitStatus.rawValue))),
        ]
        if !notifications.isEmpty { invocation.append(("toolExecutionNotifications", .array(notifications))) }

        var run: [(String, PlainValue)] = [
            ("tool", .object(PlainObject([("driver", .object(PlainObject([
                ("name", .string("policy-host")),
                ("version", .string(toolVersion)),
                ("semanticVersion", .string(toolVersion)),
                ("rules", .array(rules)),
            ])))]))),
            ("invocations", .array([.object(PlainObject(invocation))])),
            ("results", .array(results)),
        ]
        if place.uriBaseId != nil {
            run.insert(("originalUriBaseIds", .object(PlainObject([("%SRCROOT%", .object(PlainObject([
                ("description", Self.text("The root of the repository that holds the stack file")),
            ])))]))), at: 1)
        }
        return .object(PlainObject([
            ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")),
            ("version", .string("2.1.0")),
            ("runs", .array([.object(PlainObject(run))])),
        ]))
    }
}
