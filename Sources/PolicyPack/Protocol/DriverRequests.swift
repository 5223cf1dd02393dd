import PolicyValues

/// The requests a pack is sent, typed: built once from a stack file (`AnalysisRequests`) or from the
/// engine's protobuf messages (`serve`), then sent to the embedded driver as plain values (`plain`) or
/// to the SDK's own analyzer as protobuf (PolicyServer). Each plain encoding lives here and only here.

extension PlainObject {
    /// Without the top-level `__` keys, as the engine marshals Analyze's inputs and providers
    /// (SkipInternalKeys); the same storage when it has none.
    public var withoutInternalKeys: PlainObject {
        guard entries.contains(where: { $0.key.hasPrefix("__") }) else { return self }
        return PlainObject(entries.filter { !$0.key.hasPrefix("__") }.map { ($0.key, $0.value) })
    }
}

/// `pulumirpc.AnalyzerResourceOptions`.
public struct ResourceOptions: Sendable, Equatable {
    public struct CustomTimeouts: Sendable, Equatable {
        public var create: Double, update: Double, delete: Double
        public init(create: Double, update: Double, delete: Double) {
            self.create = create
            self.update = update
            self.delete = delete
        }
    }

    public var protect = false
    public var ignoreChanges: [String] = []
    /// Sent only when the engine sends it (`serve`); a stack file does not record it.
    public var deleteBeforeReplace: Bool?
    public var deleteBeforeReplaceDefined = false
    public var additionalSecretOutputs: [String] = []
    public var aliases: [String] = []
    public var customTimeouts: CustomTimeouts?
    public var parent = ""

    public init(protect: Bool = false, ignoreChanges: [String] = [], deleteBeforeReplace: Bool? = nil,
                deleteBeforeReplaceDefined: Bool = false, additionalSecretOutputs: [String] = [], aliases: [String] = [],
                customTimeouts: CustomTimeouts? = nil, parent: String = "") {
        self.protect = protect
        self.ignoreChanges = ignoreChanges
        self.deleteBeforeReplace = deleteBeforeReplace
        self.deleteBeforeReplaceDefined = deleteBeforeReplaceDefined
        self.additionalSecretOutputs = additionalSecretOutputs
        self.aliases = aliases
        self.customTimeouts = customTimeouts
        self.parent = parent
    }

    public var plain: PlainValue {
        var o = PlainObject()
        o.reserveCapacity(8)
        o["protect"] = .bool(protect)
        o["ignoreChanges"] = .array(ignoreChanges.map { .string($0) })
        if let deleteBeforeReplace { o["deleteBeforeReplace"] = .bool(deleteBeforeReplace) }
        o["deleteBeforeReplaceDefined"] = .bool(deleteBeforeReplaceDefined)
        o["additionalSecretOutputs"] = .array(additionalSecretOutputs.map { .string($0) })
        o["aliases"] = .array(aliases.map { .string($0) })
        if let t = customTimeouts {
            o["customTimeouts"] = .object(PlainObject([("create", .double(t.create)), ("update", .double(t.update)), ("delete", .double(t.delete))]))
        }
        o["parent"] = .string(parent)
        return .object(o)
    }
}

/// `pulumirpc.AnalyzerProviderResource`: a resource's provider, its inputs without `__` keys.
public struct ProviderResource: Sendable, Equatable {
    public var type: String, urn: String, name: String
    public var properties: PlainObject

    public init(type: String, urn: String, name: String, properties: PlainObject) {
        self.type = type
        self.urn = urn
        self.name = name
        self.properties = properties
    }

    public var plain: PlainValue {
        .object(PlainObject([("type", .string(type)), ("urn", .string(urn)), ("name", .string(name)), ("properties", .object(properties))]))
    }
}

/// Where a request's provider is: none, an index into the run's provider list (each provider encoded
/// once per run), or inline (`serve`, one request at a time).
public enum ProviderReference: Sendable, Equatable {
    case none
    case index(Int)
    case inline(ProviderResource)

    public var plain: PlainValue {
        switch self {
        case .none: .null
        case .index(let i): .int(i)
        case .inline(let p): p.plain
        }
    }

    /// The provider itself, looking indexes up in `providers`.
    public func resolved(in providers: [ProviderResource]) -> ProviderResource? {
        switch self {
        case .none: nil
        case .index(let i): providers.indices.contains(i) ? providers[i] : nil
        case .inline(let p): p
        }
    }
}

/// Remediate's and Analyze's request (`pulumirpc.AnalyzeRequest`). `properties` are Remediate's view,
/// with top-level `__` keys; the driver drops them for Analyze, as the engine's SkipInternalKeys does.
public struct ResourceRequest: Sendable, Equatable {
    public var type: String, urn: String, name: String
    public var properties: PlainObject
    /// The properties hold no secret, asset, archive, reference or unknown: the driver may skip the
    /// decoding pass. Nil when not known (`serve`).
    public var plainProperties: Bool?
    public var options: ResourceOptions?
    public var provider: ProviderReference

    public init(type: String, urn: String, name: String, properties: PlainObject, plainProperties: Bool? = nil,
                options: ResourceOptions?, provider: ProviderReference) {
        self.type = type
        self.urn = urn
        self.name = name
        self.properties = properties
        self.plainProperties = plainProperties
        self.options = options
        self.provider = provider
    }

    public var plain: PlainValue {
        var o = PlainObject()
        o.reserveCapacity(7)
        o["type"] = .string(type)
        o["urn"] = .string(urn)
        o["name"] = .string(name)
        o["properties"] = .object(properties)
        if let plainProperties { o["plain"] = .bool(plainProperties) }
        o["options"] = options?.plain ?? .null
        o["provider"] = provider.plain
        return .object(o)
    }
}

/// One resource of AnalyzeStack's request (`pulumirpc.AnalyzerResource`): outputs, parent, dependencies.
public struct StackResourceRequest: Sendable, Equatable {
    public var type: String, urn: String, name: String
    public var properties: PlainObject
    public var plainProperties: Bool?
    public var options: ResourceOptions?
    public var provider: ProviderReference
    /// Nil for none. (The engine's message always has a string; the SDK tests `parent is not None`,
    /// so `serve` passes "" through as it came.)
    public var parent: String?
    public var dependencies: [String]
    /// Property name → the URNs it depends on, in the file's order.
    public var propertyDependencies: [(String, [String])]

    public init(type: String, urn: String, name: String, properties: PlainObject, plainProperties: Bool? = nil,
                options: ResourceOptions?, provider: ProviderReference, parent: String?, dependencies: [String],
                propertyDependencies: [(String, [String])]) {
        self.type = type
        self.urn = urn
        self.name = name
        self.properties = properties
        self.plainProperties = plainProperties
        self.options = options
        self.provider = provider
        self.parent = parent
        self.dependencies = dependencies
        self.propertyDependencies = propertyDependencies
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.type == b.type && a.urn == b.urn && a.name == b.name && a.properties == b.properties && a.plainProperties == b.plainProperties
            && a.options == b.options && a.provider == b.provider && a.parent == b.parent && a.dependencies == b.dependencies
            && a.propertyDependencies.map(\.0) == b.propertyDependencies.map(\.0) && a.propertyDependencies.map(\.1) == b.propertyDependencies.map(\.1)
    }

    public var plain: PlainValue {
        var o = PlainObject()
        o.reserveCapacity(10)
        o["type"] = .string(type)
        o["urn"] = .string(urn)
        o["name"] = .string(name)
        o["properties"] = .object(properties)
        if let plainProperties { o["plain"] = .bool(plainProperties) }
        o["options"] = options?.plain ?? .null
        o["provider"] = provider.plain
        o["parent"] = parent.map { .string($0) } ?? .null
        o["dependencies"] = .array(dependencies.map { .string($0) })
        o["propertyDependencies"] = .object(PlainObject(propertyDependencies.map { ($0.0, .array($0.1.map { .string($0) })) }))
        return .object(o)
    }
}

/// One policy's entry of `Configure` (`pulumirpc.PolicyConfig`).
public struct PolicyConfiguration: Sendable, Equatable {
    public var policyName: String
    public var enforcementLevel: EnforcementLevel
    public var properties: PlainObject

    public init(policyName: String, enforcementLevel: EnforcementLevel, properties: PlainObject) {
        self.policyName = policyName
        self.enforcementLevel = enforcementLevel
        self.properties = properties
    }

    /// `{policyName: {enforcementLevel, properties}}`, as the driver's `configure` and `--emit-requests` take it.
    public static func plain(_ entries: [PolicyConfiguration]) -> PlainValue {
        .object(PlainObject(entries.map { e in
            (e.policyName, .object(PlainObject([("enforcementLevel", .int(e.enforcementLevel.rawValue)), ("properties", .object(e.properties))])))
        }))
    }
}
