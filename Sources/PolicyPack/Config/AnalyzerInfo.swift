import PolicyValues

/// What the pack reports about itself (`GetAnalyzerInfo`), with the YAML version applied.
public struct AnalyzerInfo: Sendable {
    public struct Policy: Sendable {
        public var name: String
        public var description: String
        public var enforcementLevel: EnforcementLevel
        public var severity: PolicySeverity
        public var isStackPolicy: Bool
        public var schemaProperties: PlainObject
        public var schemaRequired: [String]
    }

    public var name: String
    /// The version shown to users: PulumiPolicy.yaml's `version` when set, else the SDK's.
    public var version: String
    /// The version the SDK itself reports (always "0.0.1" for Python).
    public var sdkReportedVersion: String
    public var sdkVersion: String
    public var description: String
    /// Policies sorted by name, as the engine sorts them.
    public var policies: [Policy]
    public var initialConfig: [(String, PolicyConfigEntry)]

    public init(_ v: PlainValue, yamlVersion: String?, yamlDescription: String?) {
        name = v["name"]?.stringValue ?? ""
        sdkReportedVersion = v["version"]?.stringValue ?? ""
        version = (yamlVersion?.isEmpty == false ? yamlVersion : nil) ?? sdkReportedVersion
        sdkVersion = v["sdkVersion"]?.stringValue ?? ""
        let d = v["description"]?.stringValue ?? ""
        description = d.isEmpty ? (yamlDescription ?? "") : d
        policies = (v["policies"]?.arrayValue ?? []).map { p in
            Policy(name: p["name"]?.stringValue ?? "", description: p["description"]?.stringValue ?? "",
                   enforcementLevel: EnforcementLevel(rawValue: (p["enforcementLevel"]?.doubleValue?.exactInt ?? 0)) ?? .advisory,
                   severity: PolicySeverity(rawValue: (p["severity"]?.doubleValue?.exactInt ?? 0)) ?? .unspecified,
                   isStackPolicy: (p["policyType"]?.doubleValue?.exactInt ?? 0) == 2,
                   schemaProperties: p["configSchema"]?["properties"]?.objectValue ?? PlainObject(),
                   schemaRequired: p["configSchema"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }.sorted { $0.name < $1.name }
        initialConfig = (v["initialConfig"]?.objectValue?.entries ?? []).map { (k, e) in
            let level = e["enforcementLevel"]?.doubleValue?.exactInt.flatMap { EnforcementLevel(rawValue: $0) }
            return (k, PolicyConfigEntry(enforcementLevel: level, properties: e["properties"]?.objectValue ?? PlainObject()))
        }
    }

    public func policy(named n: String) -> Policy? { policies.first { $0.name == n } }
}
