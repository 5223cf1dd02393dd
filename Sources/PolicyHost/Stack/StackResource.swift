import Foundation
import PythonRuntime

/// A resource as recorded in a Pulumi state file (deployment v3 `ResourceV3`).
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

    /// The resource's name: the last URN component.
    public var name: String {
        guard let r = urn.range(of: "::", options: .backwards) else { return urn }
        return String(urn[r.upperBound...])
    }

    /// Reads one resource object; `path` names it in errors (e.g. `deployment.resources[3]`).
    public static func parse(_ v: PlainValue, path: String, file: String) throws(HostError) -> StackResource {
        guard let o = v.objectValue else { throw HostError(.usage, "\(file): \(path) is not an object") }
        guard let urn = o["urn"]?.stringValue, !urn.isEmpty else { throw HostError(.usage, "\(file): \(path) has no \"urn\"") }
        func strings(_ key: String) -> [String] { o[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        var propDeps: [(String, [String])] = []
        for (k, v) in o["propertyDependencies"]?.objectValue?.entries ?? [] {
            propDeps.append((k, v.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        var timeouts: (Double, Double, Double)?
        if let t = o["customTimeouts"]?.objectValue {
            timeouts = (t["create"]?.doubleValue ?? 0, t["update"]?.doubleValue ?? 0, t["delete"]?.doubleValue ?? 0)
        }
        let type = o["type"]?.stringValue ?? StackResource.typeFromURN(urn)
        // Aliases may be URN strings or (newer states) alias specs; only URNs reach analyzers.
        let aliases = (o["aliases"]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["urn"]?.stringValue }
        return StackResource(
            urn: urn, type: type, id: o["id"]?.stringValue ?? "", custom: o["custom"]?.boolValue ?? false,
            delete: o["delete"]?.boolValue ?? false, parent: o["parent"]?.stringValue ?? "",
            provider: o["provider"]?.stringValue ?? "", inputs: o["inputs"]?.objectValue ?? PlainObject(),
            outputs: o["outputs"]?.objectValue ?? PlainObject(), dependencies: strings("dependencies"),
            propertyDependencies: propDeps, protect: o["protect"]?.boolValue ?? false,
            ignoreChanges: strings("ignoreChanges"), additionalSecretOutputs: strings("additionalSecretOutputs"),
            aliases: aliases, customTimeouts: timeouts)
    }

    /// `urn:pulumi:stack::project::[parent$]type::name` → `type`.
    public static func typeFromURN(_ urn: String) -> String {
        let parts = urn.components(separatedBy: "::")
        guard parts.count >= 4 else { return "" }
        let qualified = parts[2]
        return String(qualified.split(separator: "$").last ?? Substring(qualified))
    }
}
