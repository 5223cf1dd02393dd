/// Enforcement levels with the numbers of `pulumirpc.EnforcementLevel`.
public enum EnforcementLevel: Int, Sendable, CaseIterable {
    case advisory = 0, mandatory = 1, disabled = 2, remediate = 3

    public var name: String {
        switch self {
        case .advisory: "advisory"
        case .mandatory: "mandatory"
        case .disabled: "disabled"
        case .remediate: "remediate"
        }
    }

    public init?(name: String) {
        guard let l = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = l
    }
}

/// `pulumirpc.PolicySeverity`.
public enum PolicySeverity: Int, Sendable {
    case unspecified = 0, low, medium, high, critical

    public var name: String {
        switch self {
        case .unspecified: ""
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        case .critical: "critical"
        }
    }
}
