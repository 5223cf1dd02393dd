import PolicyHost
import PolicyValues

/// Analyzer protocol messages as the driver's plain requests and back.
enum AnalyzerMessages {
    static func options(_ o: Pulumirpc_AnalyzerResourceOptions?) -> PlainValue {
        guard let o else { return .null }
        var out = PlainObject()
        out["protect"] = .bool(o.protect)
        out["ignoreChanges"] = .array(o.ignoreChanges.map { .string($0) })
        out["deleteBeforeReplace"] = .bool(o.deleteBeforeReplace)
        out["deleteBeforeReplaceDefined"] = .bool(o.deleteBeforeReplaceDefined)
        out["additionalSecretOutputs"] = .array(o.additionalSecretOutputs.map { .string($0) })
        out["aliases"] = .array(o.aliases.map { .string($0) })
        if o.hasCustomTimeouts {
            out["customTimeouts"] = .object(PlainObject([
                ("create", .double(o.customTimeouts.create)), ("update", .double(o.customTimeouts.update)),
                ("delete", .double(o.customTimeouts.delete)),
            ]))
        }
        out["parent"] = .string(o.parent)
        return .object(out)
    }

    static func provider(_ has: Bool, _ p: Pulumirpc_AnalyzerProviderResource) -> PlainValue {
        guard has else { return .null }
        return .object(PlainObject([
            ("type", .string(p.type)), ("urn", .string(p.urn)), ("name", .string(p.name)),
            ("properties", .object(PlainObject(p.properties))),
        ]))
    }

    static func resource(_ r: Pulumirpc_AnalyzeRequest) -> PlainValue {
        .object(PlainObject([
            ("type", .string(r.type)), ("urn", .string(r.urn)), ("name", .string(r.name)),
            ("properties", .object(PlainObject(r.properties))),
            ("options", options(r.hasOptions ? r.options : nil)), ("provider", provider(r.hasProvider, r.provider)),
        ]))
    }

    static func stackResource(_ r: Pulumirpc_AnalyzerResource) -> PlainValue {
        var deps = PlainObject()
        for (k, v) in r.propertyDependencies { deps[k] = .array(v.urns.map { .string($0) }) }
        return .object(PlainObject([
            ("type", .string(r.type)), ("urn", .string(r.urn)), ("name", .string(r.name)),
            ("properties", .object(PlainObject(r.properties))),
            ("options", options(r.hasOptions ? r.options : nil)), ("provider", provider(r.hasProvider, r.provider)),
            // The SDK tests `parent is not None`: an empty string is a parent that matches nothing.
            ("parent", .string(r.parent)),
            ("dependencies", .array(r.dependencies.map { .string($0) })),
            ("propertyDependencies", .object(deps)),
        ]))
    }

    static func diagnostics(_ list: [DiagnosticResult], pack: String, version: String) -> [Pulumirpc_AnalyzeDiagnostic] {
        list.map { d in
            var out = Pulumirpc_AnalyzeDiagnostic()
            out.policyName = d.policyName
            out.policyPackName = pack
            out.policyPackVersion = version
            out.description_p = d.description
            out.message = d.message
            out.enforcementLevel = Pulumirpc_EnforcementLevel(rawValue: d.enforcementLevel.rawValue) ?? .advisory
            out.urn = d.urn
            out.severity = Pulumirpc_PolicySeverity(rawValue: d.severity.rawValue) ?? .unspecified
            return out
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
