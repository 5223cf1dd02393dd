import Foundation
import PolicyValues
import HostCore

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
    /// Whether `inputs` / `outputs` are known to hold no signed value anywhere (then they are
    /// already in the engine's wire form, and encoding them is only dropping internal keys).
    var inputsPlain = false
    var outputsPlain = false

    /// The resource's name: the URN after its fourth part's delimiter (`URN.Name()`; a name may
    /// itself contain `::`).
    public var name: String { StackResource.name(ofURN: urn) }

    /// `urn:pulumi:stack::project::[parent$]type::name` → `name`.
    public static func name(ofURN urn: String) -> String {
        let d = delimiters(urn)
        guard d.count >= 3 else { return urn }
        return String(decoding: urn.utf8[urn.utf8.index(urn.utf8.startIndex, offsetBy: d[2] + 2)...], as: UTF8.self)
    }

    /// `urn:pulumi:stack::project::[parent$]type::name` → `type`.
    public static func typeFromURN(_ urn: String) -> String {
        let d = delimiters(urn)
        guard d.count >= 3 else { return "" }
        let bytes = Array(urn.utf8)
        var start = d[1] + 2
        for i in start..<d[2] where bytes[i] == UInt8(ascii: "$") { start = i + 1 }
        return String(decoding: bytes[start..<d[2]], as: UTF8.self)
    }

    /// Whether `urn` is well formed as `URN.IsValid()` has it: the `urn:pulumi:` prefix and at least
    /// three `::` delimiters.
    public static func isValidURN(_ urn: String) -> Bool {
        urn.utf8.starts(with: "urn:pulumi:".utf8) && delimiters(urn).count >= 3
    }

    /// The byte offsets of the first three `::` delimiters, counted left to right without overlap
    /// as Go's `strings.Count` and `getComponentN` count them.
    static func delimiters(_ urn: String) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(3)
        var previousColon = false
        var i = 0
        for b in urn.utf8 {
            if b == UInt8(ascii: ":") {
                if previousColon {
                    out.append(i - 1)
                    if out.count == 3 { return out }
                    previousColon = false
                } else {
                    previousColon = true
                }
            } else {
                previousColon = false
            }
            i += 1
        }
        return out
    }

    /// Reads one resource object of a deployment of `version` (1–4), decoding it as the CLI does,
    /// migrating v1/v2 resources up, and applying `DeserializeResource`'s checks; `path` names it
    /// in errors (e.g. `deployment.resources[3]`).
    static func decode(_ value: PlainValue, version: Int, path: () -> String, decoder: inout GoDecoder,
                       values: inout PropertyValueReader) throws(HostError) -> StackResource {
        let layout = version == 1 ? Layout.v1 : version == 2 ? Layout.v2 : Layout.v3
        let slots = try decoder.fields(value, of: layout.schema, path: path)
        var r = try fromFields({ $0.flatMap { slots[$0] } }, layout, path: path, file: decoder.file, values: &values)
        if version <= 2 {
            // UpToResourceV3: every input property depends on all of the resource's dependencies.
            r.propertyDependencies = r.inputs.keys.map { ($0, r.dependencies) }
        }
        return r
    }

    /// A resource from its canonical decoded form (a `ResourceV3`, or the fields a
    /// `StepEventStateMetadata` shares with it).
    static func fromCanonical(_ o: PlainObject, path: String, file: String, values: inout PropertyValueReader) throws(HostError) -> StackResource {
        let fields = Layout.v3.schema.fields
        return try fromFields({ $0.flatMap { o[fields[$0].name] } }, .v3, path: { path }, file: file, values: &values)
    }

    /// Where the fields read here are in a resource struct (`nil`: the version has no such field).
    struct Layout: Sendable {
        let schema: GoStruct
        let urn, type, id, custom, delete, parent, provider, inputs, outputs, dependencies, propertyDependencies,
            protect, ignoreChanges, additionalSecretOutputs, aliases, customTimeouts: Int?

        init(_ schema: GoStruct) {
            self.schema = schema
            (urn, type, id, custom) = (schema.index(of: "urn"), schema.index(of: "type"), schema.index(of: "id"), schema.index(of: "custom"))
            (delete, parent, provider) = (schema.index(of: "delete"), schema.index(of: "parent"), schema.index(of: "provider"))
            (inputs, outputs, dependencies) = (schema.index(of: "inputs"), schema.index(of: "outputs"), schema.index(of: "dependencies"))
            propertyDependencies = schema.index(of: "propertyDependencies")
            (protect, ignoreChanges) = (schema.index(of: "protect"), schema.index(of: "ignoreChanges"))
            additionalSecretOutputs = schema.index(of: "additionalSecretOutputs")
            (aliases, customTimeouts) = (schema.index(of: "aliases"), schema.index(of: "customTimeouts"))
        }

        static let v1 = Layout(StateSchema.resourceV1)
        static let v2 = Layout(StateSchema.resourceV2)
        static let v3 = Layout(StateSchema.resourceV3)
    }

    /// A resource from its decoded fields (`field(i)`: the canonical value of the field at `i`, if set).
    static func fromFields(_ field: (Int?) -> PlainValue?, _ l: Layout, path: () -> String, file: String,
                           values: inout PropertyValueReader) throws(HostError) -> StackResource {
        func string(_ key: Int?) -> String { field(key)?.stringValue ?? "" }
        func bool(_ key: Int?) -> Bool { field(key)?.boolValue ?? false }
        func strings(_ key: Int?) -> [String] { field(key)?.arrayValue?.map { $0.stringValue ?? "" } ?? [] }
        func object(_ key: Int?) -> PlainObject { field(key)?.objectValue ?? PlainObject() }

        let urn = string(l.urn)
        guard !urn.isEmpty else { throw HostError(.usage, "\(file): \(path()): resource missing required 'urn' field") }
        guard isValidURN(urn) else {
            throw HostError(.usage, "\(file): \(path()): invalid URN \"\(urn)\"",
                            hint: "a URN reads urn:pulumi:<stack>::<project>::<type>::<name>")
        }
        let type = string(l.type)
        guard !type.isEmpty else { throw HostError(.usage, "\(file): \(path()): resource '\(urn)' missing required 'type' field") }
        let custom = bool(l.custom)
        let id = string(l.id)
        guard custom || id.isEmpty else {
            throw HostError(.usage, "\(file): \(path()): resource '\(urn)' has 'custom' false but non-empty ID")
        }
        var propertyDependencies: [(String, [String])] = []
        for e in object(l.propertyDependencies).entries {
            propertyDependencies.append((e.key, e.value.arrayValue?.map { $0.stringValue ?? "" } ?? []))
        }
        var timeouts: (Double, Double, Double)?
        if let t = field(l.customTimeouts)?.objectValue {
            timeouts = (t["create"]?.doubleValue ?? 0, t["update"]?.doubleValue ?? 0, t["delete"]?.doubleValue ?? 0)
        }
        let before = values.keptSignatures
        let inputs = try values.read(object(l.inputs), path: { "\(path()).inputs" })
        let between = values.keptSignatures
        let outputs = try values.read(object(l.outputs), path: { "\(path()).outputs" })
        var r = StackResource(
            urn: urn, type: type, id: id, custom: custom, delete: bool(l.delete), parent: string(l.parent),
            provider: string(l.provider), inputs: inputs, outputs: outputs,
            dependencies: strings(l.dependencies), propertyDependencies: propertyDependencies,
            protect: bool(l.protect), ignoreChanges: strings(l.ignoreChanges),
            additionalSecretOutputs: strings(l.additionalSecretOutputs), aliases: strings(l.aliases),
            customTimeouts: timeouts)
        r.inputsPlain = between == before
        r.outputsPlain = values.keptSignatures == between
        return r
    }
}
