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

/// Reports spell both enums by name; an unknown name is an error, not a default.
extension EnforcementLevel: Codable {
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let level = EnforcementLevel(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(name)\" is not an enforcement level"))
        }
        self = level
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

extension PolicySeverity: CaseIterable, Codable {
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let severity = PolicySeverity.allCases.first(where: { $0.name == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(name)\" is not a severity"))
        }
        self = severity
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}
