import Foundation
import PolicyValues

/// Builds the engine's requests for a stack, in the compact form the driver
/// takes: per resource its inputs with top-level `__` keys (Remediate's view;
/// the driver drops them for Analyze, as the engine's SkipInternalKeys does),
/// options and an index into `providers`; and the AnalyzeStack resources with
/// their outputs. Each provider's inputs are encoded once.
public struct AnalysisRequests: Sendable {
    public var resources: [PlainValue]
    public var stackResources: [PlainValue]
    /// Provider resources referenced by `provider` indexes: `{type, urn, name, properties}`.
    public var providers: [PlainValue]
    /// Paths of secrets that could not be decrypted.
    public var undecryptable: [String]
    /// What the report must say about the stack file (see `StackSnapshot.warnings`).
    public var warnings: [String]
    /// Where stack policies' violations go when their URN names no resource in the stack: the
    /// snapshot's root stack URN ("" for an empty one, as `pulumi policy analyze --file`), or for a
    /// preview the default root URN of the stack previewed (as the engine's `AnalyzeResources`).
    public var rootStackURN: String
    public var urns: Set<String>

    public init(snapshot: StackSnapshot, project: String, stack: String) {
        var enc = EngineEncoding(secretsProvider: snapshot.secretsProvider)
        let live = snapshot.live
        var byURN: [String: Int] = [:]
        for (i, r) in live.enumerated() { byURN[r.urn] = i }

        func options(_ r: StackResource) -> PlainValue {
            var o = PlainObject()
            o.reserveCapacity(7)
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
        var providers: [PlainValue] = []
        var providerIndex: [String: Int] = [:]
        func provider(_ r: StackResource) -> PlainValue {
            guard !r.provider.isEmpty else { return .null }
            if let i = providerIndex[r.provider] { return .int(i) }
            let urn = r.provider.range(of: "::", options: .backwards).map { String(r.provider[..<$0.lowerBound]) } ?? r.provider
            guard let pi = byURN[urn] else { return .null }
            let p = live[pi]
            let properties = p.inputsPlain ? Self.withoutInternalKeys(p.inputs)
                : enc.encode(p.inputs, skipInternalKeys: true, path: p.urn + ":inputs")
            providers.append(.object(PlainObject([
                ("type", .string(p.type)), ("urn", .string(p.urn)), ("name", .string(p.name)),
                ("properties", .object(properties)),
            ])))
            providerIndex[r.provider] = providers.count - 1
            return .int(providers.count - 1)
        }

        var resources: [PlainValue] = []
        var stackResources: [PlainValue] = []
        resources.reserveCapacity(live.count)
        stackResources.reserveCapacity(live.count)
        for r in live {
            let opts = options(r)
            let prov = provider(r)
            if r.analyzedAlone {
                // Inputs read without a signed value anywhere are in wire form already.
                let inputs = r.inputsPlain ? r.inputs : enc.encode(r.inputs, skipInternalKeys: false, path: r.urn + ":inputs")
                resources.append(.object(PlainObject([
                    ("type", .string(r.type)), ("urn", .string(r.urn)), ("name", .string(r.name)),
                    ("properties", .object(inputs)), ("plain", .bool(r.inputsPlain || EngineEncoding.isPlain(inputs))),
                    ("options", opts), ("provider", prov),
                ])))
            }
            var deps = PlainObject()
            for (k, urns) in r.propertyDependencies where !urns.isEmpty { deps[k] = .array(urns.map { .string($0) }) }
            let outputs = r.outputsPlain ? Self.withoutInternalKeys(r.outputs)
                : enc.encode(r.outputs, skipInternalKeys: true, path: r.urn + ":outputs")
            stackResources.append(.object(PlainObject([
                ("type", .string(r.type)), ("urn", .string(r.urn)), ("name", .string(r.name)),
                ("properties", .object(outputs)), ("plain", .bool(r.outputsPlain || EngineEncoding.isPlain(outputs))),
                ("options", opts), ("provider", prov),
                ("parent", r.parent.isEmpty ? .null : .string(r.parent)),
                ("dependencies", .array(r.dependencies.map { .string($0) })),
                ("propertyDependencies", .object(deps)),
            ])))
        }
        self.resources = resources
        self.stackResources = stackResources
        self.providers = providers
        self.undecryptable = enc.undecryptable
        self.urns = Set(live.map(\.urn))
        self.warnings = snapshot.warnings
        self.rootStackURN = snapshot.rootStackURN ?? StackSnapshot.defaultRootStackURN(stack: stack, project: project)
    }

    /// The map without its top-level `__` keys (the engine's SkipInternalKeys), the same storage
    /// when it has none.
    static func withoutInternalKeys(_ props: PlainObject) -> PlainObject {
        guard props.entries.contains(where: { $0.key.hasPrefix("__") }) else { return props }
        return PlainObject(props.entries.filter { !$0.key.hasPrefix("__") }.map { ($0.key, $0.value) })
    }

    /// The engine's own request shapes (Analyze without `__` keys, Remediate with
    /// them, providers inline), for the reference driver of the differential test.
    public var engineForm: (resources: [PlainValue], stackResources: [PlainValue]) {
        func inline(_ r: PlainValue) -> PlainObject {
            var o = r.objectValue ?? PlainObject()
            if case .int(let i)? = o["provider"] { o["provider"] = providers[i] }
            return o
        }
        let res: [PlainValue] = resources.map { r in
            var o = inline(r)
            let props = o["properties"]?.objectValue ?? PlainObject()
            o["remediateProperties"] = .object(props)
            o["properties"] = .object(PlainObject(props.entries.filter { !$0.key.hasPrefix("__") }.map { ($0.key, $0.value) }))
            return .object(o)
        }
        return (res, stackResources.map { .object(inline($0)) })
    }
}
