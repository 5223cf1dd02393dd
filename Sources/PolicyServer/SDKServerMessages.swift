import GRPCCore
import GRPCProtobuf
import PolicyValues
import SwiftProtobuf
import PolicyPack

/// The client side of the Analyzer protocol: the typed requests as the engine's messages, and the
/// SDK's responses as typed `CallResult` parts. The mirror of `AnalyzerMessages`, which serves the other direction.
enum SDKServerMessages {
    // MARK: requests

    static func options(_ v: ResourceOptions?) -> Pulumirpc_AnalyzerResourceOptions {
        var o = Pulumirpc_AnalyzerResourceOptions()
        guard let v else { return o }
        o.protect = v.protect
        o.ignoreChanges = v.ignoreChanges
        o.deleteBeforeReplace = v.deleteBeforeReplace ?? false
        o.deleteBeforeReplaceDefined = v.deleteBeforeReplaceDefined
        o.additionalSecretOutputs = v.additionalSecretOutputs
        o.aliases = v.aliases
        if let t = v.customTimeouts {
            var c = Pulumirpc_AnalyzerResourceOptions.CustomTimeouts()
            c.create = t.create
            c.update = t.update
            c.delete = t.delete
            o.customTimeouts = c
        }
        o.parent = v.parent
        return o
    }

    static func provider(_ v: ProviderResource) -> Pulumirpc_AnalyzerProviderResource {
        var p = Pulumirpc_AnalyzerProviderResource()
        p.type = v.type
        p.urn = v.urn
        p.name = v.name
        p.properties = v.properties.protobufStruct
        return p
    }

    /// The provider a request refers to (`providers` converted once per run, by index), or none.
    static func provider(_ ref: ProviderReference, in providers: [Pulumirpc_AnalyzerProviderResource]) -> Pulumirpc_AnalyzerProviderResource? {
        switch ref {
        case .none: nil
        case .index(let i): providers.indices.contains(i) ? providers[i] : nil
        case .inline(let p): provider(p)
        }
    }

    /// Remediate's and Analyze's request: the engine sends options always, a provider when there is one.
    static func analyzeRequest(_ r: ResourceRequest, properties: PlainObject,
                               provider: Pulumirpc_AnalyzerProviderResource?) -> Pulumirpc_AnalyzeRequest {
        var req = Pulumirpc_AnalyzeRequest()
        req.type = r.type
        req.urn = r.urn
        req.name = r.name
        req.properties = properties.protobufStruct
        req.options = options(r.options)
        if let provider { req.provider = provider }
        return req
    }

    static func stackResource(_ r: StackResourceRequest, provider: Pulumirpc_AnalyzerProviderResource?) -> Pulumirpc_AnalyzerResource {
        var res = Pulumirpc_AnalyzerResource()
        res.type = r.type
        res.urn = r.urn
        res.name = r.name
        res.properties = r.properties.protobufStruct
        res.options = options(r.options)
        if let provider { res.provider = provider }
        res.parent = r.parent ?? ""
        res.dependencies = r.dependencies
        for (k, urns) in r.propertyDependencies {
            var deps = Pulumirpc_AnalyzerPropertyDependencies()
            deps.urns = urns
            res.propertyDependencies[k] = deps
        }
        return res
    }

    static func configure(_ config: [PolicyConfiguration]) -> Pulumirpc_ConfigureAnalyzerRequest {
        var req = Pulumirpc_ConfigureAnalyzerRequest()
        for e in config {
            var c = Pulumirpc_PolicyConfig()
            c.enforcementLevel = Pulumirpc_EnforcementLevel(rawValue: e.enforcementLevel.rawValue) ?? .advisory
            // As the engine (and the embedded driver): properties only when there are some.
            if !e.properties.isEmpty { c.properties = e.properties.protobufStruct }
            req.policyConfig[e.policyName] = c
        }
        return req
    }

    static func configureStack(_ s: StackSettings) -> Pulumirpc_AnalyzerStackConfigureRequest {
        var req = Pulumirpc_AnalyzerStackConfigureRequest()
        req.stack = s.stack
        req.project = s.project
        req.organization = s.organization
        req.dryRun = s.dryRun ?? false
        for (k, v) in s.config { req.config[k] = v }
        for (k, v) in s.tags { req.tags[k] = v }
        return req
    }


    // MARK: responses

    /// GetAnalyzerInfo in the shape `AnalyzerInfo` reads (the embedded driver's `analyzer_info`).
    static func info(_ i: Pulumirpc_AnalyzerInfo, sdkVersion: String) -> PlainValue {
        let policies: [PlainValue] = i.policies.map { p in
            .object(PlainObject([
                ("name", .string(p.name)), ("displayName", .string(p.displayName)),
                ("description", .string(p.description_p)),
                ("enforcementLevel", .int(p.enforcementLevel.rawValue)), ("severity", .int(p.severity.rawValue)),
                ("policyType", .int(p.policyType.rawValue)),
                ("configSchema", .object(PlainObject([
                    ("properties", .object(PlainObject(p.configSchema.properties))),
                    ("required", .array(p.configSchema.required.map { .string($0) })),
                ]))),
                ("tags", .array(p.tags.map { .string($0) })), ("remediationSteps", .string(p.remediationSteps)),
                ("url", .string(p.url)),
            ]))
        }
        let initial = PlainObject(i.initialConfig.sorted { $0.key < $1.key }.map { k, v in
            (k, .object(PlainObject([("enforcementLevel", .int(v.enforcementLevel.rawValue)),
                                     ("properties", .object(PlainObject(v.properties)))])))
        })
        return .object(PlainObject([
            ("name", .string(i.name)), ("version", .string(i.version)), ("displayName", .string(i.displayName)),
            ("description", .string(i.description_p)), ("supportsConfig", .bool(i.supportsConfig)),
            ("policies", .array(policies)), ("initialConfig", .object(initial)), ("sdkVersion", .string(sdkVersion)),
        ]))
    }

    static func remediations(_ r: Pulumirpc_RemediateResponse) -> [RemediationResult] {
        r.remediations.map { x in
            RemediationResult(policyName: x.policyName, description: x.description_p,
                              properties: x.hasProperties ? .object(PlainObject(x.properties)) : .null, diagnostic: x.diagnostic)
        }
    }

    static func diagnostics(_ list: [Pulumirpc_AnalyzeDiagnostic]) -> [DiagnosticResult] {
        list.map { d in
            DiagnosticResult(policyName: d.policyName, description: d.description_p, message: d.message,
                             enforcementLevel: EnforcementLevel(rawValue: d.enforcementLevel.rawValue) ?? .advisory,
                             severity: PolicySeverity(rawValue: d.severity.rawValue) ?? .unspecified, urn: d.urn)
        }
    }

    static func notApplicable(_ list: [Pulumirpc_PolicyNotApplicable]) -> [NotApplicableResult] {
        list.map { NotApplicableResult(policyName: $0.policyName, reason: $0.reason) }
    }
}

/// Serialises with map entries in key order (Struct fields included), so that a run sends the same
/// bytes every time: the SDK's maps, and so the key order policies see, do not depend on Swift's
/// per-process hash seed.
struct SortedMapSerializer<Message: SwiftProtobuf.Message>: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        do {
            let bytes: [UInt8] = try message.serializedBytes(options: options)
            return Bytes(bytes)
        } catch {
            throw RPCError(code: .invalidArgument, message: "cannot serialise \(Message.protoMessageName)", cause: error)
        }
    }
}

/// The calls whose requests hold maps, with `SortedMapSerializer`.
extension Pulumirpc_Analyzer.ClientProtocol {
    func analyze(sorted m: Pulumirpc_AnalyzeRequest, options: CallOptions) async throws -> Pulumirpc_AnalyzeResponse {
        try await analyze(request: .init(message: m), serializer: SortedMapSerializer(), deserializer: ProtobufDeserializer(),
                          options: options) { try $0.message }
    }

    func remediate(sorted m: Pulumirpc_AnalyzeRequest, options: CallOptions) async throws -> Pulumirpc_RemediateResponse {
        try await remediate(request: .init(message: m), serializer: SortedMapSerializer(), deserializer: ProtobufDeserializer(),
                            options: options) { try $0.message }
    }

    func analyzeStack(sorted m: Pulumirpc_AnalyzeStackRequest, options: CallOptions) async throws -> Pulumirpc_AnalyzeResponse {
        try await analyzeStack(request: .init(message: m), serializer: SortedMapSerializer(), deserializer: ProtobufDeserializer(),
                               options: options) { try $0.message }
    }

    func configure(sorted m: Pulumirpc_ConfigureAnalyzerRequest, options: CallOptions) async throws -> Google_Protobuf_Empty {
        try await configure(request: .init(message: m), serializer: SortedMapSerializer(), deserializer: ProtobufDeserializer(),
                            options: options) { try $0.message }
    }

    func configureStack(sorted m: Pulumirpc_AnalyzerStackConfigureRequest, options: CallOptions) async throws -> Pulumirpc_AnalyzerStackConfigureResponse {
        try await configureStack(request: .init(message: m), serializer: SortedMapSerializer(), deserializer: ProtobufDeserializer(),
                                 options: options) { try $0.message }
    }
}
