import Foundation
import PythonRuntime

/// The resources to analyse, read from a `pulumi stack export` file (deployment
/// v1–v3), an older checkpoint file, or `pulumi preview --json` output.
public struct StackSnapshot: Sendable {
    public enum Format: String, Sendable { case deployment, checkpoint, preview }

    public var format: Format
    public var resources: [StackResource]
    /// `secrets_providers.type` of the deployment ("b64", "passphrase", "service", …), if any.
    public var secretsProvider: String?
    /// Stack and project as read from the URNs (`urn:pulumi:<stack>::<project>::…`).
    public var stack: String
    public var project: String
    public var organization: String?

    /// Resources that the engine would analyse: every resource not pending deletion.
    public var live: [StackResource] { resources.filter { !$0.delete } }

    public static func load(_ url: URL) throws(HostError) -> StackSnapshot {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw HostError(.usage, "\(url.path): no such file or not readable", hint: "create one with `pulumi stack export --file stack.json`")
        }
        let value: PlainValue
        do {
            value = try JSON.parse(data)
        } catch {
            throw HostError(.usage, "\(url.path):\(error.line):\(error.column): invalid JSON: \(error.message)")
        }
        return try parse(value, file: url.path)
    }

    public static func parse(_ value: PlainValue, file: String) throws(HostError) -> StackSnapshot {
        guard let root = value.objectValue else {
            throw HostError(.usage, "\(file): expected a JSON object at the top level",
                            hint: "pass the output of `pulumi stack export` or `pulumi preview --json`")
        }
        var snap: StackSnapshot
        if let deployment = root["deployment"] {
            guard let d = deployment.objectValue else { throw HostError(.usage, "\(file): \"deployment\" is not an object") }
            if let v = root["version"]?.doubleValue, v > 3 {
                throw HostError(.usage, "\(file): deployment version \(JSON.formatNumber(v)) is newer than this tool understands (1–3)",
                                hint: "export with a Pulumi CLI that writes version 3")
            }
            snap = StackSnapshot(format: .deployment, resources: try resources(d["resources"], path: "deployment.resources", file: file),
                                 secretsProvider: d["secrets_providers"]?["type"]?.stringValue, stack: "", project: "")
        } else if let checkpoint = root["checkpoint"] {
            guard let c = checkpoint.objectValue else { throw HostError(.usage, "\(file): \"checkpoint\" is not an object") }
            let latest = c["latest"]?.objectValue ?? PlainObject()
            snap = StackSnapshot(format: .checkpoint, resources: try resources(latest["resources"], path: "checkpoint.latest.resources", file: file),
                                 secretsProvider: latest["secrets_providers"]?["type"]?.stringValue, stack: "", project: "")
            if let name = c["stack"]?.stringValue {
                let parts = name.split(separator: "/").map(String.init)
                if parts.count == 3 { snap.organization = parts[0] }
            }
        } else if let steps = root["steps"] {
            guard let list = steps.arrayValue else { throw HostError(.usage, "\(file): \"steps\" is not an array") }
            var out: [StackResource] = []
            let skipped: Set<String> = ["delete", "delete-replaced", "discard", "discard-replaced", "read-discard", "remove-pending-replace"]
            for (i, step) in list.enumerated() {
                guard let s = step.objectValue else { throw HostError(.usage, "\(file): steps[\(i)] is not an object") }
                if let op = s["op"]?.stringValue, skipped.contains(op) { continue }
                guard let ns = s["newState"], ns != .null else { continue }
                out.append(try StackResource.parse(ns, path: "steps[\(i)].newState", file: file))
            }
            snap = StackSnapshot(format: .preview, resources: out, secretsProvider: nil, stack: "", project: "")
        } else {
            throw HostError(.usage, "\(file): unknown file format: expected \"deployment\" (pulumi stack export), \"checkpoint\" or \"steps\" (pulumi preview --json)",
                            hint: "produce the file with `pulumi stack export --show-secrets --file stack.json` or `pulumi preview --json > preview.json`")
        }
        if let urn = snap.resources.first?.urn {
            let parts = urn.components(separatedBy: "::")
            if parts.count >= 2, parts[0].hasPrefix("urn:pulumi:") {
                snap.stack = String(parts[0].dropFirst("urn:pulumi:".count))
                snap.project = parts[1]
            }
        }
        return snap
    }

    private static func resources(_ v: PlainValue?, path: String, file: String) throws(HostError) -> [StackResource] {
        guard let v, v != .null else { return [] }
        guard let list = v.arrayValue else { throw HostError(.usage, "\(file): \(path) is not an array") }
        var out: [StackResource] = []
        out.reserveCapacity(list.count)
        for (i, r) in list.enumerated() { out.append(try StackResource.parse(r, path: "\(path)[\(i)]", file: file)) }
        return out
    }
}
