import Foundation
import HostCore
import PolicyValues

/// Builds the engine's requests for a stack, in the compact form the driver
/// takes: per resource its inputs with top-level `__` keys (Remediate's view;
/// the driver drops them for Analyze, as the engine's SkipInternalKeys does),
/// options and an index into `providers`; and the AnalyzeStack resources with
/// their outputs. Each provider's inputs are encoded once.
public struct AnalysisRequests: Sendable {
    public var resources: [ResourceRequest]
    public var stackResources: [StackResourceRequest]
    /// Provider resources referenced by `.index` provider references.
    public var providers: [ProviderResource]
    /// Paths of secrets that could not be decrypted.
    public var undecryptable: [String]
    /// Every secret of the stack, in plaintext (for `SecretRedactor`).
    public var secretValues: [PlainValue]
    /// What the report must say about the stack file (see `StackSnapshot.warnings`).
    public var warnings: [String]
    /// Where stack policies' violations go when their URN names no resource in the stack: the
    /// snapshot's root stack URN ("" for an empty one, as `pulumi policy analyze --file`), or for a
    /// preview the default root URN of the stack previewed (as the engine's `AnalyzeResources`).
    public var rootStackURN: String
    public var urns: Set<String>

    /// `secrets` decrypts the file's encrypted secrets; without it, only `b64` ones are decrypted.
    /// Throws when a secret does not decrypt (a wrong passphrase, a damaged value).
    public init(snapshot: StackSnapshot, project: String, stack: String, secrets: StackSecrets? = nil) throws(HostError) {
        var enc = secrets.map { EngineEncoding(secrets: $0) } ?? EngineEncoding(secretsProvider: snapshot.secretsProvider)
        let live = snapshot.live
        var byURN: [String: Int] = [:]
        for (i, r) in live.enumerated() { byURN[r.urn] = i }

        func options(_ r: StackResource) -> ResourceOptions {
            ResourceOptions(protect: r.protect, ignoreChanges: r.ignoreChanges, additionalSecretOutputs: r.additionalSecretOutputs,
                            aliases: r.aliases,
                            customTimeouts: r.customTimeouts.map { .init(create: $0.create, update: $0.update, delete: $0.delete) },
                            parent: r.parent)
        }
        var providers: [ProviderResource] = []
        var providerIndex: [String: Int] = [:]
        func provider(_ r: StackResource) throws(HostError) -> ProviderReference {
            guard !r.provider.isEmpty else { return .none }
            if let i = providerIndex[r.provider] { return .index(i) }
            let urn = r.provider.range(of: "::", options: .backwards).map { String(r.provider[..<$0.lowerBound]) } ?? r.provider
            guard let pi = byURN[urn] else { return .none }
            let p = live[pi]
            let properties = p.inputsPlain ? p.inputs.withoutInternalKeys
                : try enc.encode(p.inputs, skipInternalKeys: true, path: p.urn + ":inputs")
            providers.append(ProviderResource(type: p.type, urn: p.urn, name: p.name, properties: properties))
            providerIndex[r.provider] = providers.count - 1
            return .index(providers.count - 1)
        }

        var resources: [ResourceRequest] = []
        var stackResources: [StackResourceRequest] = []
        resources.reserveCapacity(live.count)
        stackResources.reserveCapacity(live.count)
        for r in live {
            let opts = options(r)
            let prov = try provider(r)
            if r.analyzedAlone {
                // Inputs read without a signed value anywhere are in wire form already.
                let inputs = r.inputsPlain ? r.inputs : try enc.encode(r.inputs, skipInternalKeys: false, path: r.urn + ":inputs")
                resources.append(ResourceRequest(type: r.type, urn: r.urn, name: r.name, properties: inputs,
                                                 plainProperties: r.inputsPlain || EngineEncoding.isPlain(inputs), options: opts, provider: prov))
            }
            let outputs = r.outputsPlain ? r.outputs.withoutInternalKeys
                : try enc.encode(r.outputs, skipInternalKeys: true, path: r.urn + ":outputs")
            stackResources.append(StackResourceRequest(
                type: r.type, urn: r.urn, name: r.name, properties: outputs,
                plainProperties: r.outputsPlain || EngineEncoding.isPlain(outputs), options: opts, provider: prov,
                parent: r.parent.isEmpty ? nil : r.parent, dependencies: r.dependencies,
                propertyDependencies: r.propertyDependencies.filter { !$0.1.isEmpty }))
        }
        self.resources = resources
        self.stackResources = stackResources
        self.providers = providers
        self.undecryptable = enc.undecryptable
        self.secretValues = enc.secretValues
        self.urns = Set(live.map(\.urn))
        self.warnings = snapshot.warnings
        if let w = enc.secrets.redactionWarning(count: enc.undecryptable.count, examples: enc.undecryptable) { warnings.append(w) }
        self.rootStackURN = snapshot.rootStackURN ?? StackSnapshot.defaultRootStackURN(stack: stack, project: project)
    }

    /// The engine's own request shapes (Analyze without `__` keys, Remediate with
    /// them, providers inline), for the reference driver of the differential test.
    public var engineForm: (resources: [PlainValue], stackResources: [PlainValue]) {
        let res: [PlainValue] = resources.map { r in
            var inline = r
            inline.provider = r.provider.resolved(in: providers).map { .inline($0) } ?? .none
            var o = inline.plain.objectValue ?? PlainObject()
            o["remediateProperties"] = .object(r.properties)
            o["properties"] = .object(r.properties.withoutInternalKeys)
            return .object(o)
        }
        let stack: [PlainValue] = stackResources.map { r in
            var inline = r
            inline.provider = r.provider.resolved(in: providers).map { .inline($0) } ?? .none
            return inline.plain
        }
        return (res, stack)
    }
}
