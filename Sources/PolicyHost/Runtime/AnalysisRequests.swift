import Foundation
import PythonRuntime

/// Builds the engine's requests for a stack: per resource the Remediate and
/// Analyze inputs (Analyze drops top-level `__` keys, Remediate keeps them),
/// and the AnalyzeStack resources with their outputs.
public struct AnalysisRequests: Sendable {
    public var resources: [PlainValue]
    public var stackResources: [PlainValue]
    /// Paths of secrets that could not be decrypted.
    public var undecryptable: [String]
    public var rootStackURN: String
    public var urns: Set<String>

    public init(snapshot: StackSnapshot, project: String, stack: String) {
        var enc = EngineEncoding(secretsProvider: snapshot.secretsProvider)
        let live = snapshot.live
        var byURN: [String: StackResource] = [:]
        for r in live { byURN[r.urn] = r }

        func options(_ r: StackResource) -> PlainValue {
            var o = PlainObject()
            o["protect"] = .bool(r.protect)
            o["ignoreChanges"] = .array(r.ignoreChanges.map { .string($0) })
            o["deleteBeforeReplaceDefined"] = .bool(false)
            o["additionalSecretOutputs"] = .array(r.additionalSecretOutputs.map { .string($0) })
            o["aliases"] = .array(r.aliases.map { .string($0) })
            if let t = r.customTimeouts {
                o["customTimeouts"] = .object(PlainObject([("create", .double(t.create)), ("update", .double(t.update)), ("delete", .double(t.delete))]))
            }
            o["parent"] = .string(r.parent)
            return .object(o)
        }
        var providerCache: [String: PlainValue] = [:]
        func provider(_ r: StackResource) -> PlainValue {
            guard !r.provider.isEmpty else { return .null }
            if let p = providerCache[r.provider] { return p }
            let urn = r.provider.range(of: "::", options: .backwards).map { String(r.provider[..<$0.lowerBound]) } ?? r.provider
            guard let p = byURN[urn] else { return .null }
            let v: PlainValue = .object(PlainObject([
                ("type", .string(p.type)), ("urn", .string(p.urn)), ("name", .string(p.name)),
                ("properties", .object(enc.encode(p.inputs, skipInternalKeys: true, path: p.urn + ":inputs"))),
            ]))
            providerCache[r.provider] = v
            return v
        }

        var resources: [PlainValue] = []
        var stackResources: [PlainValue] = []
        resources.reserveCapacity(live.count)
        stackResources.reserveCapacity(live.count)
        for r in live {
            let opts = options(r)
            let prov = provider(r)
            let remediateProps = enc.encode(r.inputs, skipInternalKeys: false, path: r.urn + ":inputs")
            var analyzeProps = PlainObject()
            for (k, v) in remediateProps.entries where !k.hasPrefix("__") { analyzeProps[k] = v }
            resources.append(.object(PlainObject([
                ("type", .string(r.type)), ("urn", .string(r.urn)), ("name", .string(r.name)),
                ("properties", .object(analyzeProps)), ("remediateProperties", .object(remediateProps)),
                ("options", opts), ("provider", prov),
            ])))
            var deps = PlainObject()
            for (k, urns) in r.propertyDependencies where !urns.isEmpty { deps[k] = .array(urns.map { .string($0) }) }
            stackResources.append(.object(PlainObject([
                ("type", .string(r.type)), ("urn", .string(r.urn)), ("name", .string(r.name)),
                ("properties", .object(enc.encode(r.outputs, skipInternalKeys: true, path: r.urn + ":outputs"))),
                ("options", opts), ("provider", prov),
                ("parent", r.parent.isEmpty ? .null : .string(r.parent)),
                ("dependencies", .array(r.dependencies.map { .string($0) })),
                ("propertyDependencies", .object(deps)),
            ])))
        }
        self.resources = resources
        self.stackResources = stackResources
        self.undecryptable = enc.undecryptable
        self.urns = Set(live.map(\.urn))
        self.rootStackURN = live.first(where: { $0.type == "pulumi:pulumi:Stack" })?.urn
            ?? "urn:pulumi:\(stack)::\(project)::pulumi:pulumi:Stack::\(project)-\(stack)"
    }
}
