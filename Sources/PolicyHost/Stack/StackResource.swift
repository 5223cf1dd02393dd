import Foundation
import PythonRuntime

/// A resource as the engine holds it after reading a state file (`ResourceV3`; older versions are
/// migrated as the CLI migrates them), with what analyzers are sent about it.
public struct StackResource: Sendable {
    public var urn: String
    public var type: String
    public var id: String
    public var custom: Bool
    public var delete: Bool
    public var parent: String
    public var provider: String
    public var inputs: PlainObject
    public var outputs: PlainObject
    public var dependencies: [String]
    public var propertyDependencies: [(String, [String])]
    public var protect: Bool
    public var ignoreChanges: [String]
    public var additionalSecretOutputs: [String]
    public var aliases: [String]
    public var customTimeouts: (create: Double, update: Double, delete: Double)?
    /// Whether the engine runs Remediate and Analyze on it. A resource a program only reads
    /// (`get`) is registered without them and reaches policies through AnalyzeStack alone.
    public var analyzedAlone: Bool = true

    /// The resource's name: the URN after its fourth part's delimiter (`URN.Name()`; a name may
    /// itself contain `::`).
    public var name: String { StackResource.name(ofURN: urn) }

    /// `urn:pulumi:stack::project::[parent$]type::name` → `name`.
    public static func name(ofURN urn: String) -> String {
        var rest = Substring(urn)
        for _ in 0..<3 {
            guard let r = rest.range(of: "::") else { return urn }
            rest = rest[r.upperBound...]
        }
        return String(rest)
    }

    /// `urn:pulumi:stack::project::[parent$]type::name` → `type`.
    public static func typeFromURN(_ urn: String) -> String {
        let parts = urn.components(separatedBy: "::")
        guard parts.count >= 4 else { return "" }
        let qualified = parts[2]
        return String(qualified.split(separator: "$").last ?? Substring(qualified))
    }

    /// Whether `urn` is well formed as `URN.IsValid()` has it: the `urn:pulumi:` prefix and at least
    /// three `::` delimiters.
    public static func isValidURN(_ urn: String) -> Bool {
        urn.hasPrefix("urn:pulumi:") && urn.components(separatedBy: "::").count >= 4
    }

    /// Reads one resource object of a deployment of `version` (1–4), decoding it as the CLI does,
    /// migrating v1/v2 resources up, and applying `DeserializeResource`'s checks; `path` names it
    /// in errors (e.g. `deployment.resources[3]`).
    static func decode(_ value: PlainValue, version: Int, path: String, decoder: inout GoDecoder,
                       values: PropertyValueReader) throws(HostError) -> StackResource {
        let schema: GoStruct = version == 1 ? StateSchema.resourceV1 : version == 2 ? StateSchema.resourceV2 : StateSchema.resourceV3
        let o = try decoder.decode(value, as: .structure(schema), path: path).objectValue ?? PlainObject()
        var r = try fromCanonical(o, path: path, file: decoder.file, values: values)
        if version <= 2 {
            // UpToResourceV3: every input property depends on all of the resource's dependencies.
            r.propertyDependencies = r.inputs.keys.map { ($0, r.dependencies) }
        }
        return r
    }

    /// A resource from its canonical decoded form (a `ResourceV3`, or the fields a
    /// `StepEventStateMetadata` shares with it).
    static func fromCanonical(_ o: PlainObject, path: String, file: String, values: PropertyValueReader) throws(HostError) -> StackResource {
        func string(_ key: String) -> String { o[key]?.stringValue ?? "" }
        func bool(_ key: String) -> Bool { o[key]?.boolValue ?? false }
        func strings(_ key: String) -> [String] { o[key]?.arrayValue?.map { $0.stringValue ?? "" } ?? [] }
        func object(_ key: String) -> PlainObject { o[key]?.objectValue ?? PlainObject() }

        let urn = string("urn")
        guard !urn.isEmpty else { throw HostError(.usage, "\(file): \(path): resource missing required 'urn' field") }
        guard isValidURN(urn) else {
            throw HostError(.usage, "\(file): \(path): invalid URN \"\(urn)\"",
                            hint: "a URN reads urn:pulumi:<stack>::<project>::<type>::<name>")
        }
        let type = string("type")
        guard !type.isEmpty else { throw HostError(.usage, "\(file): \(path): resource '\(urn)' missing required 'type' field") }
        let custom = bool("custom")
        let id = string("id")
        guard custom || id.isEmpty else {
            throw HostError(.usage, "\(file): \(path): resource '\(urn)' has 'custom' false but non-empty ID")
        }
        var propertyDependencies: [(String, [String])] = []
        for e in object("propertyDependencies").entries {
            propertyDependencies.append((e.key, e.value.arrayValue?.map { $0.stringValue ?? "" } ?? []))
        }
        var timeouts: (Double, Double, Double)?
        if let t = o["customTimeouts"]?.objectValue {
            timeouts = (t["create"]?.doubleValue ?? 0, t["update"]?.doubleValue ?? 0, t["delete"]?.doubleValue ?? 0)
        }
        return StackResource(
            urn: urn, type: type, id: id, custom: custom, delete: bool("delete"), parent: string("parent"),
            provider: string("provider"),
            inputs: try values.read(object("inputs"), path: "\(path).inputs"),
            outputs: try values.read(object("outputs"), path: "\(path).outputs"),
            dependencies: strings("dependencies"), propertyDependencies: propertyDependencies,
            protect: bool("protect"), ignoreChanges: strings("ignoreChanges"),
            additionalSecretOutputs: strings("additionalSecretOutputs"), aliases: strings("aliases"),
            customTimeouts: timeouts)
    }
}
