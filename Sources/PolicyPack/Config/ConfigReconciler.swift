import PolicyValues

/// The engine's `ReconcilePolicyPackConfig` and validation: schema defaults <
/// the pack's initial config < the config file, then a JSON-schema check of
/// every policy's configuration.
public enum ConfigReconciler {
    /// Returns an entry for every policy, each with a level.
    public static func reconcile(info: AnalyzerInfo, file: PolicyPackConfig?) -> [(String, EnforcementLevel, PlainObject)] {
        var levels: [String: EnforcementLevel] = [:]
        var props: [String: PlainObject] = [:]
        for p in info.policies {
            levels[p.name] = p.enforcementLevel
            var defaults = PlainObject()
            for (k, schema) in p.schemaProperties.entries {
                if let d = schema["default"] { defaults[k] = d }
            }
            props[p.name] = defaults
        }
        func apply(_ entries: [(String, PolicyConfigEntry)]) {
            if let all = entries.first(where: { $0.0 == "all" })?.1, let l = all.enforcementLevel {
                for p in info.policies { levels[p.name] = l }
            }
            for (name, entry) in entries where name != "all" {
                if let l = entry.enforcementLevel { levels[name] = l }
                var merged = props[name] ?? PlainObject()
                for (k, v) in entry.properties.entries { merged[k] = v }
                props[name] = merged
                if levels[name] == nil { levels[name] = .advisory }
            }
        }
        apply(info.initialConfig)
        if let file { apply(file.entries) }
        return info.policies.map { ($0.name, levels[$0.name] ?? .advisory, props[$0.name] ?? PlainObject()) }
    }

    /// Validates each policy's reconciled properties against its schema; returns every failure.
    public static func validate(info: AnalyzerInfo, reconciled: [(String, EnforcementLevel, PlainObject)]) -> [String] {
        var errors: [String] = []
        for (name, _, properties) in reconciled {
            guard let p = info.policy(named: name) else { continue }
            if p.schemaProperties.isEmpty && p.schemaRequired.isEmpty { continue }
            let schema: PlainValue = .object(PlainObject([
                ("type", "object"), ("properties", .object(p.schemaProperties)),
                ("required", .array(p.schemaRequired.map { .string($0) })),
            ]))
            for e in JSONSchema.validate(.object(properties), schema: schema) {
                errors.append("\(info.name) \(info.version)  \(name): \(e)")
            }
        }
        return errors
    }
}
