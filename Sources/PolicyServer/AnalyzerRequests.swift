import PolicyValues
import PolicyPack

/// Analyzer protocol messages as the driver's plain requests and back.
enum AnalyzerMessages {
    static func options(_ o: Pulumirpc_AnalyzerResourceOptions?) -> ResourceOptions? {
        guard let o else { return nil }
        return ResourceOptions(
            protect: o.protect, ignoreChanges: o.ignoreChanges, deleteBeforeReplace: o.deleteBeforeReplace,
            deleteBeforeReplaceDefined: o.deleteBeforeReplaceDefined, additionalSecretOutputs: o.additionalSecretOutputs,
            aliases: o.aliases,
            customTimeouts: o.hasCustomTimeouts
                ? .init(create: o.customTimeouts.create, update: o.customTimeouts.update, delete: o.customTimeouts.delete) : nil,
            parent: o.parent)
    }

    static func provider(_ has: Bool, _ p: Pulumirpc_AnalyzerProviderResource) -> ProviderReference {
        guard has else { return .none }
        return .inline(ProviderResource(type: p.type, urn: p.urn, name: p.name, properties: PlainObject(p.properties)))
    }

    /// The request as the driver takes it; properties with no signed value anywhere are marked
    /// plain, so the driver reads them through its lazy proxies without the SDK's deserialising pass
    /// (as `analyze` does with a stack file's).
    static func resource(_ r: Pulumirpc_AnalyzeRequest) -> ResourceRequest {
        let properties = PlainObject(r.properties)
        return ResourceRequest(type: r.type, urn: r.urn, name: r.name, properties: properties,
                               plainProperties: EngineEncoding.isPlain(properties),
                               options: options(r.hasOptions ? r.options : nil), provider: provider(r.hasProvider, r.provider))
    }

    static func stackResource(_ r: Pulumirpc_AnalyzerResource) -> StackResourceRequest {
        let properties = PlainObject(r.properties)
        return StackResourceRequest(
            type: r.type, urn: r.urn, name: r.name, properties: properties, plainProperties: EngineEncoding.isPlain(properties),
            options: options(r.hasOptions ? r.options : nil), provider: provider(r.hasProvider, r.provider),
            // The SDK tests `parent is not None`: an empty string is a parent that matches nothing.
            parent: r.parent, dependencies: r.dependencies,
            propertyDependencies: r.propertyDependencies.map { ($0.key, $0.value.urns) })
    }

    static func config(_ request: Pulumirpc_ConfigureAnalyzerRequest) -> [PolicyConfiguration] {
        request.policyConfig.sorted(by: { $0.key < $1.key }).map { name, c in
            PolicyConfiguration(policyName: name, enforcementLevel: EnforcementLevel(rawValue: c.enforcementLevel.rawValue) ?? .advisory,
                              properties: PlainObject(c.properties))
        }
    }

    static func notApplicable(_ list: [NotApplicableResult]) -> [Pulumirpc_PolicyNotApplicable] {
        list.map { n in
            var out = Pulumirpc_PolicyNotApplicable()
            out.policyName = n.policyName
            out.reason = n.reason
            return out
        }
    }
}
