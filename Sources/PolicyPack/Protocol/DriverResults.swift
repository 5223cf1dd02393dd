import PolicyValues
import HostCore

/// What one Remediate + Analyze (or AnalyzeStack) call of a pack returns, typed: the one shape both
/// runtimes produce — the embedded driver as plain values decoded here, the out-of-process route
/// built from the SDK's protobuf replies — and the only one the report, `serve` and the SDK-server
/// route read. Decoding fails loudly: a missing or mistyped field is an internal error naming the
/// path, never an empty string.
public struct CallResult: Sendable, Equatable {
    public var remediations: [RemediationResult] = []
    public var diagnostics: [DiagnosticResult] = []
    public var notApplicable: [NotApplicableResult] = []
    /// Calls a policy failed (the run goes on).
    public var errors: [PolicyFault] = []

    public init(remediations: [RemediationResult] = [], diagnostics: [DiagnosticResult] = [],
                notApplicable: [NotApplicableResult] = [], errors: [PolicyFault] = []) {
        self.remediations = remediations
        self.diagnostics = diagnostics
        self.notApplicable = notApplicable
        self.errors = errors
    }
}

/// A violation as a policy reported it (levels as the protocol's numbers, before the engine's
/// post-processing in `PackAnalysis`).
public struct DiagnosticResult: Sendable, Equatable {
    public var policyName: String
    public var description: String
    public var message: String
    public var enforcementLevel: EnforcementLevel
    public var severity: PolicySeverity
    /// Stack policies may name a resource; "" otherwise.
    public var urn: String

    public init(policyName: String, description: String, message: String, enforcementLevel: EnforcementLevel,
                severity: PolicySeverity, urn: String) {
        self.policyName = policyName
        self.description = description
        self.message = message
        self.enforcementLevel = enforcementLevel
        self.severity = severity
        self.urn = urn
    }
}

public struct RemediationResult: Sendable, Equatable {
    public var policyName: String
    public var description: String
    /// The remediated properties (an object), or `.null` when the policy changed nothing.
    public var properties: PlainValue
    /// A diagnostic the remediation reported instead of (or besides) properties; "" for none.
    public var diagnostic: String

    public init(policyName: String, description: String, properties: PlainValue, diagnostic: String) {
        self.policyName = policyName
        self.description = description
        self.properties = properties
        self.diagnostic = diagnostic
    }
}

public struct NotApplicableResult: Sendable, Equatable {
    public var policyName: String
    public var reason: String

    public init(policyName: String, reason: String) {
        self.policyName = policyName
        self.reason = reason
    }
}

/// An exception a policy raised in one call.
public struct PolicyFault: Sendable, Equatable {
    /// "" when no policy could be named.
    public var policyName: String
    /// "remediate", "analyze" or "analyzeStack".
    public var phase: String
    public var type: String
    public var message: String
    public var traceback: String

    public init(policyName: String, phase: String, type: String, message: String, traceback: String) {
        self.policyName = policyName
        self.phase = phase
        self.type = type
        self.message = message
        self.traceback = traceback
    }
}

// MARK: - decoding the driver's plain values

/// Where a plain value sits in a driver result, for error messages: rendered only when one is thrown
/// (formatting every element's path up front cost a sequential `serve` call several string builds).
enum ResultPath {
    case root(String)
    /// `parent.key[index]`
    case element(String, String, Int)

    var text: String {
        switch self {
        case .root(let path): path
        case .element(let parent, let key, let index): "\(parent).\(key)[\(index)]"
        }
    }
}

/// Reads fields of one plain object, each required and of one type; errors name the path.
struct PlainReader {
    let object: PlainObject
    let location: ResultPath
    var path: String { location.text }

    init(_ value: PlainValue, path: String) throws(HostError) {
        try self.init(value, at: .root(path))
    }

    init(_ value: PlainValue, at location: ResultPath) throws(HostError) {
        guard case .object(let o) = value else {
            throw Self.error(location.text, "expected an object, found \(GoDecoder.describe(value))")
        }
        object = o
        self.location = location
    }

    static func error(_ path: String, _ what: String) -> HostError {
        HostError(.internal, "the policy driver returned a malformed result: \(path): \(what)")
    }

    private func field(_ key: String) throws(HostError) -> PlainValue {
        guard let v = object[key] else { throw Self.error("\(path).\(key)", "missing") }
        return v
    }

    func string(_ key: String) throws(HostError) -> String {
        let v = try field(key)
        guard case .string(let s) = v else { throw Self.error("\(path).\(key)", "expected a string, found \(GoDecoder.describe(v))") }
        return s
    }

    func int(_ key: String) throws(HostError) -> Int {
        let v = try field(key)
        switch v {
        case .int(let i): return i
        case .double(let d): if let i = d.exactInt { return i }
        default: break
        }
        throw Self.error("\(path).\(key)", "expected an integer, found \(GoDecoder.describe(v))")
    }

    func any(_ key: String) throws(HostError) -> PlainValue { try field(key) }

    /// An array field that may be absent (results omit the lists a call cannot produce): its elements
    /// (each at `.element(path, key, offset)`).
    func list(_ key: String) throws(HostError) -> [PlainValue] {
        switch object[key] {
        case nil: return []
        case .array(let a)?: return a
        case let v?: throw Self.error("\(path).\(key)", "expected an array, found \(GoDecoder.describe(v))")
        }
    }

    /// Decodes each element of the array field `key` with `decode`, which gets where the element sits.
    func each<T>(_ key: String, _ decode: (PlainValue, ResultPath) throws(HostError) -> T) throws(HostError) -> [T] {
        let items = try list(key)
        var out: [T] = []
        out.reserveCapacity(items.count)
        for i in items.indices { out.append(try decode(items[i], .element(path, key, i))) }
        return out
    }
}

extension CallResult {
    /// Decodes what the driver returned for one call.
    public init(driver value: PlainValue, path: String = "result") throws(HostError) {
        let r = try PlainReader(value, path: path)
        remediations = try r.each("remediations") { v, p throws(HostError) in try RemediationResult(driver: v, at: p) }
        diagnostics = try r.each("diagnostics") { v, p throws(HostError) in try DiagnosticResult(driver: v, at: p) }
        notApplicable = try r.each("notApplicable") { v, p throws(HostError) in try NotApplicableResult(driver: v, at: p) }
        errors = try r.each("errors") { v, p throws(HostError) in try PolicyFault(driver: v, at: p) }
    }
}

extension DiagnosticResult {
    init(driver value: PlainValue, at location: ResultPath) throws(HostError) {
        let r = try PlainReader(value, at: location)
        let level = try r.int("enforcementLevel"), severity = try r.int("severity")
        guard let l = EnforcementLevel(rawValue: level) else { throw PlainReader.error("\(r.path).enforcementLevel", "unknown level \(level)") }
        guard let s = PolicySeverity(rawValue: severity) else { throw PlainReader.error("\(r.path).severity", "unknown severity \(severity)") }
        self.init(policyName: try r.string("policyName"), description: try r.string("description"), message: try r.string("message"),
                  enforcementLevel: l, severity: s, urn: try r.string("urn"))
    }
}

extension RemediationResult {
    init(driver value: PlainValue, at location: ResultPath) throws(HostError) {
        let r = try PlainReader(value, at: location)
        let properties = try r.any("properties")
        switch properties {
        case .object, .null: break
        default: throw PlainReader.error("\(r.path).properties", "expected an object or null, found \(GoDecoder.describe(properties))")
        }
        self.init(policyName: try r.string("policyName"), description: try r.string("description"),
                  properties: properties, diagnostic: try r.string("diagnostic"))
    }
}

extension NotApplicableResult {
    init(driver value: PlainValue, at location: ResultPath) throws(HostError) {
        let r = try PlainReader(value, at: location)
        self.init(policyName: try r.string("policyName"), reason: try r.string("reason"))
    }
}

extension PolicyFault {
    init(driver value: PlainValue, path: String) throws(HostError) {
        try self.init(driver: value, at: .root(path))
    }

    init(driver value: PlainValue, at location: ResultPath) throws(HostError) {
        let r = try PlainReader(value, at: location)
        self.init(policyName: try r.string("policyName"), phase: try r.string("phase"), type: try r.string("type"),
                  message: try r.string("message"), traceback: try r.string("traceback"))
    }
}
