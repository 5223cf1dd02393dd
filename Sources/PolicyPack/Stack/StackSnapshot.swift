import Foundation
import PolicyValues
import HostCore

/// The resources to analyse, read from a stack file the way the Pulumi CLI reads it: a
/// `pulumi stack export` deployment (versions 1–4), a checkpoint (a DIY backend's state file,
/// versions 0–4, gzip-compressed or not), or a preview (`pulumi preview --json`, digest or
/// streaming). See docs/stack-files.md.
public struct StackSnapshot: Sendable {
    public enum Format: String, Sendable { case deployment, checkpoint, preview }

    public var format: Format
    public var resources: [StackResource]
    /// `secrets_providers.type` of the deployment ("b64", "passphrase", "service", …), if any.
    public var secretsProvider: String?
    /// `secrets_providers.state` as written (the passphrase provider's `{"salt": "v1:…"}`), if any.
    public var secretsState: PlainValue?
    /// How many secrets the resources hold encrypted (`ciphertext`).
    public var encryptedSecrets = 0
    /// Stack and project: from a checkpoint's `stack` when it names them, else from the URNs
    /// (`urn:pulumi:<stack>::<project>::…`).
    public var stack: String
    public var project: String
    public var organization: String?
    /// The schema version the file declares (deployments 1–4, checkpoints 0–4).
    public var version: Int = 0
    /// The features a version-4 file declares.
    public var features: [String] = []
    /// What the run must say about the file: why nothing is analysed, what a preview cannot carry.
    public var warnings: [String] = []
    /// Where stack policies' violations go when their URN names no resource: the snapshot's root
    /// stack resource, else the default root URN of its first resource's stack and project, else
    /// "" (an empty snapshot), as `pulumi policy analyze --file` has it. `nil` for previews, where the
    /// engine uses the default root URN of the stack being previewed.
    public var rootStackURN: String?

    public init(format: Format, resources: [StackResource], secretsProvider: String?, stack: String, project: String,
                organization: String? = nil) {
        self.format = format
        self.resources = resources
        self.secretsProvider = secretsProvider
        self.stack = stack
        self.project = project
        self.organization = organization
    }

    /// Resources that the engine would analyse: every resource not pending deletion.
    public var live: [StackResource] { resources.filter { !$0.delete } }

    /// Features of version-4 deployments the CLI (v3.259.0) knows. None changes which resources or
    /// options policies see; `byteString` changes values, and is read (`PropertyValueReader`).
    public static let knownFeatures: Set<String> = [
        "refreshBeforeUpdate", "views", "hooks", "taint", "replaceWith", "snippets-prototype",
        "extensionParameterization", "byteString",
    ]

    /// Reads a stack file: gzip is recognised by its magic bytes, and a file of several JSON lines is
    /// the streaming preview.
    public static func load(_ url: URL) throws(HostError) -> StackSnapshot {
        try StackFile.read(url)
    }

    /// Reads a parsed stack file; `file` names it in errors.
    public static func parse(_ value: PlainValue, file: String) throws(HostError) -> StackSnapshot {
        guard case .object(let root) = value else {
            throw HostError(.usage, "\(file): expected a JSON object at the top level",
                            hint: "pass the output of `pulumi stack export` or `pulumi preview --json`")
        }
        let keys = Set(root.keys.compactMap(GoStruct.fold))
        var snap: StackSnapshot
        if keys.contains("DEPLOYMENT") {
            snap = try deployment(value, root: root, file: file)
        } else if keys.contains("CHECKPOINT") || keys.contains("LATEST") || keys.contains("STACK") {
            snap = try checkpoint(value, root: root, file: file)
        } else if keys.contains("STEPS") {
            snap = try PreviewReader(file: file).digest(value)
        } else if !keys.isDisjoint(with: PreviewReader.eventKeys) {
            snap = try PreviewReader(file: file).events([(1, value)])
        } else {
            let found = root.keys.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
            throw HostError(.usage, "\(file): unknown file format: expected \"deployment\" (pulumi stack export), \"checkpoint\" (a state file) or \"steps\" (pulumi preview --json)\(root.isEmpty ? "; the object is empty" : ", found \(found)")",
                            hint: "produce the file with `pulumi stack export --show-secrets --file stack.json` or `pulumi preview --json > preview.json`")
        }
        snap.finish(file: file)
        return snap
    }

    // MARK: Deployments and checkpoints

    /// `apitype.UntypedDeployment`, read as `UnmarshalUntypedDeployment` does.
    static func deployment(_ value: PlainValue, root: PlainObject, file: String) throws(HostError) -> StackSnapshot {
        var dec = GoDecoder(file: file)
        let top = try dec.decode(value, as: .structure(StateSchema.untypedDeployment), path: "").objectValue ?? PlainObject()
        let version = top["version"]?.intValue ?? 0
        guard version >= 1 else {
            throw HostError(.usage, "\(file): deployment version \(version) is too old: the CLI refuses it (\"this stack's deployment is too old\")",
                            hint: "a `pulumi stack export` file has \"version\": 1, 2, 3 or 4 next to \"deployment\"")
        }
        guard version <= 4 else {
            throw HostError(.usage, "\(file): deployment version \(version) is newer than this tool understands (1–4)",
                            hint: "the Pulumi CLI refuses it too (\"this stack's deployment version is too new\"); export with a CLI that writes version 4 or older")
        }
        let features = stringList(top["features"])
        if version >= 4 { try checkFeatures(features, file: file) }
        let path = writtenKey(root, "deployment")
        var snap = try body(top["deployment"] ?? .null, version: version, path: path, decoder: &dec, format: .deployment)
        snap.features = version >= 4 ? features : []
        if snap.resources.isEmpty, snap.warnings.isEmpty {
            snap.warnings.append("\(file): the deployment has no resources: a stack that was never deployed, or was destroyed; no resource was analysed")
        }
        try refuseEmpty(snap, unknownKeys: dec.unknownKeys, file: file)
        return snap
    }

    /// `apitype.VersionedCheckpoint`, read as `UnmarshalVersionedCheckpointToLatestCheckpoint` does:
    /// version 0 is a bare `CheckpointV1`, 1–4 wrap one in `checkpoint`. Keys are matched as Go
    /// matches them, so the `Stack`/`Latest` checkpoints of pulumi/pulumi#20726 read as the CLI
    /// reads them.
    static func checkpoint(_ value: PlainValue, root: PlainObject, file: String) throws(HostError) -> StackSnapshot {
        var dec = GoDecoder(file: file)
        let top = try dec.decode(value, as: .structure(StateSchema.versionedCheckpoint), path: "").objectValue ?? PlainObject()
        let version = top["version"]?.intValue ?? 0
        let features = stringList(top["features"])
        var body: PlainObject
        var path: String
        var written: PlainObject
        switch version {
        case 0:
            dec = GoDecoder(file: file)
            body = try dec.decode(value, as: .structure(StateSchema.unversionedCheckpoint), path: "").objectValue ?? PlainObject()
            path = ""
            written = root
            if root.keys.contains(where: { GoStruct.fold($0) == "CHECKPOINT" }) {
                throw HostError(.usage, "\(file): the file has \"\(writtenKey(root, "checkpoint"))\" but no \"version\": the CLI reads it as an unversioned checkpoint and finds no deployment in it",
                                hint: "a state file reads {\"version\": 3, \"checkpoint\": {\"stack\": …, \"latest\": …}}")
            }
        case 1...4:
            path = writtenKey(root, "checkpoint")
            guard let raw = top["checkpoint"] else {
                throw HostError(.usage, "\(file): checkpoint version \(version) without a \"checkpoint\" member")
            }
            body = try dec.decode(raw, as: .structure(StateSchema.checkpoint), path: path).objectValue ?? PlainObject()
            written = raw.objectValue ?? PlainObject()
            if version == 4 { try checkFeatures(features, file: file) }
        default:
            throw HostError(.usage, "\(file): unsupported checkpoint version \(version)",
                            hint: "the Pulumi CLI reads checkpoint versions 0–4")
        }
        let latest = body["latest"] ?? .null
        let latestKey = writtenKey(written, "latest")
        var snap: StackSnapshot
        if latest == .null {
            snap = StackSnapshot(format: .checkpoint, resources: [], secretsProvider: nil, stack: "", project: "")
            snap.warnings.append("\(file): the checkpoint holds no deployment (no \"latest\"): the stack has never been deployed; no resource was analysed")
        } else {
            // Checkpoints 0 and 1 hold a DeploymentV1, 2 a DeploymentV2, 3 and 4 a DeploymentV3.
            snap = try self.body(latest, version: max(version, 1), path: path.isEmpty ? latestKey : "\(path).\(latestKey)",
                                 decoder: &dec, format: .checkpoint)
            if snap.resources.isEmpty, snap.warnings.isEmpty {
                snap.warnings.append("\(file): the checkpoint's deployment has no resources: a stack that was never deployed, or was destroyed; no resource was analysed")
            }
        }
        snap.version = version
        snap.features = version >= 4 ? features : []
        // The checkpoint's stack is the name the backend knows the stack by: `org/project/stack`
        // (project-scoped DIY backends, the service) or a bare stack name (older DIY backends).
        if let name = body["stack"]?.stringValue, !name.isEmpty {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            snap.stack = parts.last ?? name
            if parts.count == 3 {
                snap.organization = parts[0]
                snap.project = parts[1]
            }
        }
        try refuseEmpty(snap, unknownKeys: dec.unknownKeys, file: file)
        return snap
    }

    /// A deployment body of `version` (1–4): its resources, migrated to v3 as the CLI migrates them.
    static func body(_ value: PlainValue, version: Int, path: String, decoder dec: inout GoDecoder,
                     format: Format) throws(HostError) -> StackSnapshot {
        let schema = StateSchema.deployment(version: version)
        let d = try dec.decode(value, as: .structure(schema), path: path).objectValue ?? PlainObject()
        var values = PropertyValueReader(file: dec.file, allowsOutputValues: false)
        var resources: [StackResource] = []
        switch d["resources"] ?? .null {
        case .null:
            break
        case .array(let list):
            resources.reserveCapacity(list.count)
            let resourcesPath = "\(path).\(writtenKey(value.objectValue ?? PlainObject(), "resources"))"
            for (i, r) in list.enumerated() {
                resources.append(try StackResource.decode(r, version: version, path: { "\(resourcesPath)[\(i)]" }, decoder: &dec, values: &values))
            }
        case let other:
            throw dec.mismatch("\(path).\(writtenKey(value.objectValue ?? PlainObject(), "resources"))", "an array", other)
        }
        var snap = StackSnapshot(format: format, resources: resources,
                                 secretsProvider: d["secrets_providers"]?["type"]?.stringValue, stack: "", project: "")
        snap.version = version
        snap.secretsState = d["secrets_providers"]?["state"]
        snap.encryptedSecrets = values.ciphertexts
        return snap
    }

    /// Refuses a version-4 file with a feature the CLI does not know, as the CLI does.
    static func checkFeatures(_ features: [String], file: String) throws(HostError) {
        let unknown = features.filter { !knownFeatures.contains($0) }
        guard unknown.isEmpty else {
            throw HostError(.usage, "\(file): the deployment needs features this tool does not support: \(unknown.joined(separator: ", "))",
                            hint: "the Pulumi CLI v3.259 refuses it too (\"this stack's deployment needs support for the following features\"); a newer policy-host may read it")
        }
    }

    /// Never an empty pass: a file from which no resource was read while it holds keys its format
    /// does not define is refused, naming them (likely a misspelt or foreign file).
    static func refuseEmpty(_ snap: StackSnapshot, unknownKeys: [String], file: String) throws(HostError) {
        guard snap.resources.isEmpty, !unknownKeys.isEmpty else { return }
        let keys = unknownKeys.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
        throw HostError(.usage, "\(file): no resource was read, and the file has keys its format does not define: \(keys)\(unknownKeys.count > 8 ? ", …" : "")",
                        hint: "policy-host refuses an empty read of a file it does not fully understand; see docs/stack-files.md")
    }

    // MARK: Helpers

    /// The key of `object` that Go would decode into `field` (the last one in document order),
    /// or `field` itself.
    static func writtenKey(_ object: PlainObject, _ field: String) -> String {
        let folded = GoStruct.fold(field)
        if object[field] != nil { return field }
        return object.keys.last { GoStruct.fold($0) == folded } ?? field
    }

    static func stringList(_ v: PlainValue?) -> [String] {
        v?.arrayValue?.map { $0.stringValue ?? "" } ?? []
    }

    /// Stack, project and root URN from the resources, and the warning for nothing to analyse.
    mutating func finish(file: String) {
        if let urn = resources.first?.urn {
            let parts = urn.dropFirst("urn:pulumi:".count).components(separatedBy: "::")
            if parts.count >= 2 {
                if stack.isEmpty { stack = parts[0] }
                if project.isEmpty { project = parts[1] }
            }
        }
        if format != .preview {
            rootStackURN = StackSnapshot.rootStackURN(of: resources)
        }
        if !resources.isEmpty, resources.allSatisfy(\.delete), warnings.isEmpty {
            warnings.append("\(file): all \(resources.count) resource(s) are pending deletion, which the engine does not analyse; no resource was analysed")
        }
    }

    /// `snapshotRootStackURN` (pkg/resource/deploy/analyze_snapshot.go).
    static func rootStackURN(of resources: [StackResource]) -> String {
        var fallback = ""
        for r in resources {
            if r.type == "pulumi:pulumi:Stack", r.parent.isEmpty { return r.urn }
            if fallback.isEmpty {
                let parts = r.urn.dropFirst("urn:pulumi:".count).components(separatedBy: "::")
                fallback = defaultRootStackURN(stack: parts[0], project: parts.count > 1 ? parts[1] : "")
            }
        }
        return fallback
    }

    /// `resource.DefaultRootStackURN`.
    public static func defaultRootStackURN(stack: String, project: String) -> String {
        "urn:pulumi:\(stack)::\(project)::pulumi:pulumi:Stack::\(project)-\(stack)"
    }
}

extension PlainValue {
    /// The number as an `Int`, when it is integral and in range.
    var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }
}
