import Foundation
import Yams
import YAMLScan

/// `PulumiPolicy.yaml`, as the Pulumi CLI reads it (`workspace.PolicyPackProject`).
public struct PolicyManifest: Sendable, Equatable {
    /// The Python toolchains the language host accepts.
    public enum Toolchain: String, Sendable, CaseIterable {
        case pip, uv, poetry
    }

    public var runtime: String
    public var version: String?
    public var description: String?
    public var main: String?
    /// `runtime.options.virtualenv` as written (relative to the pack directory when not absolute).
    public var virtualenv: String?
    /// `runtime.options.toolchain`; `nil` means auto-detect as the CLI does.
    public var toolchain: Toolchain?
    public var typechecker: String?
    /// Keys the CLI reads without complaint but ignores (a misspelt or mis-indented option, usually):
    /// one sentence each, printed as `warning:` lines by `load`.
    public var warnings: [String] = []

    /// The directory holding the manifest (absolute, standardised).
    public var packDirectory: URL

    /// The venv path: `virtualenv` resolved against the pack directory.
    public var virtualenvURL: URL? {
        guard let v = virtualenv, !v.isEmpty else { return nil }
        if v.hasPrefix("/") { return URL(fileURLWithPath: v).standardizedFileURL }
        return packDirectory.appendingPathComponent(v).standardizedFileURL
    }

    public static let fileName = "PulumiPolicy.yaml"

    /// Loads `<packDirectory>/PulumiPolicy.yaml` and checks that the pack can run (its `__main__.py`;
    /// `requireEntryPoint: false` leaves that to the caller, as `pack` does for a pack with `main`).
    public static func load(packDirectory: URL, requireEntryPoint: Bool = true) throws(HostError) -> PolicyManifest {
        let dir = packDirectory.standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) else {
            throw HostError(.usage, "policy pack directory \(dir.path) does not exist")
        }
        guard isDir.boolValue else {
            throw HostError(.usage, "policy pack path \(dir.path) is not a directory",
                            hint: "pass the directory that holds PulumiPolicy.yaml")
        }
        let file = dir.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw HostError(.packLoad, "\(file.path): no such file; this is not a policy pack directory",
                            hint: "create one with `policy-host new`, or pass the directory that holds PulumiPolicy.yaml")
        }
        var manifest = try parse(data, packDirectory: dir, path: file.path)
        manifest.packDirectory = dir
        ManifestWarnings.printOnce(manifest.warnings)
        let mainPy = dir.appendingPathComponent("__main__.py")
        guard !requireEntryPoint || FileManager.default.fileExists(atPath: mainPy.path) else {
            throw HostError(.packLoad, "\(mainPy.path): no such file; a Python policy pack needs a __main__.py",
                            hint: "the pack's entry point must be __main__.py next to PulumiPolicy.yaml")
        }
        return manifest
    }

    /// The directory `pulumi policy publish` boots and archives (`GetPwdMain`): the pack directory, or
    /// the directory `main` names inside it. Running a pack ignores `main`, as the CLI does. `main`
    /// must be relative, lead to a directory inside the pack once links are resolved, and hold the
    /// pack's `__main__.py`.
    public func publishDirectory() throws(HostError) -> URL {
        let yaml = packDirectory.appendingPathComponent(Self.fileName).path
        guard let main, !main.isEmpty, main != ".", main != "./" else { return packDirectory }
        guard !main.hasPrefix("/"), !main.contains("\0") else {
            throw HostError(.usage, "\(yaml): `main` must be a directory relative to the pack, not \"\(main)\"")
        }
        let candidate = packDirectory.appendingPathComponent(main).standardizedFileURL
        let root = packDirectory.resolvingSymlinksInPath().path
        let resolved = candidate.resolvingSymlinksInPath().path
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw HostError(.usage, "\(yaml): `main` (\"\(main)\") leads outside the pack directory",
                            hint: "a published pack holds only what is under its directory")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDir), isDir.boolValue else {
            throw HostError(.usage, "\(yaml): `main` (\"\(main)\") is not a directory of the pack",
                            hint: "`main` names the directory publish boots and archives; it must hold the pack's __main__.py")
        }
        guard FileManager.default.fileExists(atPath: candidate.appendingPathComponent("__main__.py").path) else {
            throw HostError(.packLoad, "\(candidate.appendingPathComponent("__main__.py").path): no such file; `main` names the directory that holds the pack's __main__.py")
        }
        return candidate
    }

    /// Largest PulumiPolicy.yaml read.
    public static let maxSize = 1 << 20

    /// Parses manifest text. `path` is only used in messages.
    public static func parse(_ data: Data, packDirectory: URL, path: String) throws(HostError) -> PolicyManifest {
        guard data.count <= maxSize else {
            throw HostError(.packLoad, "\(path): the file is larger than \(maxSize >> 20) MiB; refusing it")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw HostError(.packLoad, "\(path): the file is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        try YAMLLimits.check(text, path: path)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw HostError(.packLoad, "\(path): invalid YAML: \(yamlErrorText(error))")
        } catch {
            throw HostError(.packLoad, "\(path): invalid YAML: \(error)")
        }
        if let node { try rejectDuplicateKeys(node, path: path) }
        // An empty document (or `~`) decodes to an empty project, as for yaml.v3.
        let empty = node == nil || (node?.null != nil && node?.scalar?.style == .plain)
        guard let root = empty ? Node.Mapping([]) : node?.mapping else {
            throw HostError(.packLoad, "\(path): expected a mapping at the top level",
                            hint: "a minimal PulumiPolicy.yaml is `runtime: python`")
        }
        var m = PolicyManifest(runtime: "", packDirectory: packDirectory)
        m.version = try scalarString(root["version"], key: "version", path: path)
        m.description = try scalarString(root["description"], key: "description", path: path)
        m.main = try scalarString(root["main"], key: "main", path: path)
        for key in ["author", "website", "license"] { _ = try scalarString(root[key], key: key, path: path) }
        m.warnings += ignoredKeys(root, known: topLevelKeys, path: path) { key in
            "'\(key)' is not a PulumiPolicy.yaml key; the Pulumi CLI ignores it"
        }

        var options: Node.Mapping?
        let runtimeShape = "\(path): runtime section must be a string or an object with name and options attributes"
        switch root["runtime"] {
        case nil:
            break
        case let node? where node.null != nil && node.scalar?.style == .plain:
            break  // `runtime: ~` is no runtime, as for the CLI
        case .scalar(let s)?:
            m.runtime = s.string
        case .mapping(let rt)?:
            if let name = rt["name"], name.scalar == nil { throw HostError(.packLoad, runtimeShape) }
            m.runtime = try scalarString(rt["name"], key: "runtime.name", path: path) ?? ""
            // A null `options:` is an empty map (the CLI's yaml.v3 decoding is that lenient).
            if let o = rt["options"], !(o.null != nil && o.scalar?.style == .plain) {
                guard let map = o.mapping else { throw HostError(.packLoad, runtimeShape) }
                options = map
            }
            m.warnings += ignoredKeys(rt, known: ["name", "options"], path: path) { key in
                if optionKeys.contains(key) {
                    return "'runtime.\(key)' is ignored: runtime takes only name and options, and an option belongs "
                        + "under options (indent it below `options:`)"
                }
                return "'runtime.\(key)' is ignored: runtime takes only name and options"
            }
        default:
            throw HostError(.packLoad, runtimeShape)
        }
        if m.runtime.isEmpty {
            throw HostError(.packLoad, "\(path): project is missing a 'runtime' attribute",
                            hint: "add `runtime: python`")
        }
        if m.runtime != "python" {
            throw HostError(.packLoad, "\(path): runtime '\(m.runtime)' is not supported; policy-host runs Python policy packs",
                            hint: "use the Pulumi CLI for '\(m.runtime)' packs")
        }
        if let options {
            if let v = options["virtualenv"] {
                guard let s = v.goString else { throw HostError(.packLoad, "\(path): virtualenv option must be a string") }
                m.virtualenv = s.string
            }
            if let t = options["toolchain"] {
                guard let s = t.goString else { throw HostError(.packLoad, "\(path): toolchain option must be a string") }
                guard let tc = Toolchain(rawValue: s.string) else {
                    throw HostError(.packLoad, "\(path): unsupported toolchain option: \(s.string)",
                                    hint: "toolchain must be one of pip, uv, poetry")
                }
                m.toolchain = tc
            }
            if let t = options["typechecker"] {
                guard let s = t.goString else { throw HostError(.packLoad, "\(path): typechecker option must be a string") }
                guard ["mypy", "pyright"].contains(s.string) else {
                    throw HostError(.packLoad, "\(path): unsupported typechecker option: \(s.string)",
                                    hint: "typechecker must be mypy or pyright")
                }
                m.typechecker = s.string
            }
            m.warnings += ignoredKeys(options, known: optionKeys, path: path) { key in
                "'runtime.options.\(key)' is not an option of the Python runtime (\(optionKeys.joined(separator: ", "))); it is ignored"
            }
        }
        return m
    }

    /// The keys the CLI decodes, at the top level and in `runtime.options` (the language host's).
    static let topLevelKeys = ["runtime", "version", "main", "description", "author", "website", "license"]
    static let optionKeys = ["virtualenv", "toolchain", "typechecker"]

    /// One warning per key of `map` that is not in `known` (yaml.v3 into the CLI's structs ignores
    /// them), with the closest known key when one is close.
    private static func ignoredKeys(_ map: Node.Mapping, known: [String], path: String,
                                    _ text: (String) -> String) -> [String] {
        map.keys.compactMap { node -> String? in
            let key = node.scalar?.string ?? "\(node)"
            guard !known.contains(key) else { return nil }
            let guess = Spelling.suggestion(for: key, among: known).map { " (did you mean '\($0)'?)" } ?? ""
            return "\(path): " + text(key) + guess
        }
    }

    /// yaml.v3 refuses a mapping that repeats a key (same text and tag), at any depth.
    private static func rejectDuplicateKeys(_ node: Node, path: String) throws(HostError) {
        switch node {
        case .mapping(let map):
            var seen: [String: Int] = [:]
            for (key, value) in map {
                if let s = key.scalar {
                    let id = "\(key.tag.description)\u{0}\(s.string)"
                    if let line = seen[id] {
                        throw HostError(.packLoad, "\(path): line \((key.mark?.line).map(String.init) ?? "?"): mapping key \"\(s.string)\" already defined at line \(line)")
                    }
                    seen[id] = key.mark?.line ?? 0
                }
                try rejectDuplicateKeys(value, path: path)
            }
        case .sequence(let seq):
            for item in seq { try rejectDuplicateKeys(item, path: path) }
        default:
            break
        }
    }

    private static func scalarString(_ node: Node?, key: String, path: String) throws(HostError) -> String? {
        guard let node else { return nil }
        if case .scalar(let s) = node {
            if s.style == .plain && node.null != nil { return nil }
            return s.string
        }
        throw HostError(.packLoad, "\(path): '\(key)' must be a string")
    }

    private static func yamlErrorText(_ e: YamlError) -> String {
        let s = "\(e)".split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        // Yams ends its first line with ":" before a snippet of the document; the line alone is the message.
        var first = s.first ?? "\(e)"
        while first.hasSuffix(":") || first.hasSuffix(" ") { first.removeLast() }
        return first
    }
}

/// Each manifest warning is printed once per process (some commands load a manifest more than once).
private final class ManifestWarnings: @unchecked Sendable {
    private static let shared = ManifestWarnings()
    private let lock = NSLock()
    private var printed = Set<String>()

    static func printOnce(_ warnings: [String]) {
        for w in warnings where shared.lock.withLock({ shared.printed.insert(w).inserted }) {
            FileHandle.standardError.write(Data("warning: \(w)\n".utf8))
        }
    }
}

private extension Node {
    /// The scalar when yaml.v3 would decode it into `any` as a Go string: quoted, or plain text
    /// that resolves to no other type (not a number, boolean or null).
    var goString: Node.Scalar? {
        guard case .scalar(let s) = self else { return nil }
        if s.style == .plain && (int != nil || float != nil || bool != nil || null != nil) { return nil }
        return s
    }
}

extension PolicyManifest {
    /// The manifest of an installed pack: what the CLI reads from `data`, written anew with
    /// `virtualenv: venv` whatever `data` said (an archive must not choose where its venv goes).
    /// Keys the CLI ignores are dropped; nothing of the original text is echoed.
    /// `droppingMain` leaves `main` out (the manifest `pack` adds to an archive of the `main` directory).
    public static func forcingVirtualenv(_ data: Data, path: String, droppingMain: Bool = false) throws(HostError) -> Data {
        var m = try parse(data, packDirectory: URL(fileURLWithPath: "/"), path: path)
        if droppingMain { m.main = nil }
        func quoted(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where u.value < 0x20 || u.value == 0x7f || (0x80...0x9f).contains(u.value) || u.value == 0x2028 || u.value == 0x2029:
                    out += "\\U" + String(format: "%08x", u.value)
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
        var lines = ["# Written by policy-host when the pack was installed: `virtualenv` is always `venv`."]
        lines.append("runtime:")
        lines.append("  name: \(quoted(m.runtime))")
        lines.append("  options:")
        lines.append("    virtualenv: venv")
        if let t = m.toolchain { lines.append("    toolchain: \(t.rawValue)") }
        if let t = m.typechecker { lines.append("    typechecker: \(quoted(t))") }
        if let v = m.version { lines.append("version: \(quoted(v))") }
        if let d = m.description { lines.append("description: \(quoted(d))") }
        if let main = m.main { lines.append("main: \(quoted(main))") }
        let out = Data((lines.joined(separator: "\n") + "\n").utf8)
        let check = try parse(out, packDirectory: URL(fileURLWithPath: "/"), path: path)
        guard check.virtualenv == "venv", check.version == m.version, check.runtime == m.runtime else {
            throw HostError(.internal, "\(path): could not write the installed pack's PulumiPolicy.yaml")
        }
        return out
    }
}

/// Bounds on YAML that Yams's recursive node building could not survive, checked first on
/// libyaml's event stream (see `YAMLShape`). A refusal has the exit status of the file's kind.
public enum YAMLLimits {
    static let maxDepth = 100
    static let maxAliases = 100
    static let maxExpandedNodes = 100_000

    public static func check(_ text: String, path: String, status: ExitStatus = .packLoad) throws(HostError) {
        let shape = YAMLShape.scan(text, maxDepth: maxDepth, maxAliases: maxAliases, maxExpandedNodes: maxExpandedNodes)
        if shape.depth > maxDepth {
            throw HostError(status, "\(path): the YAML is nested more than \(maxDepth) levels deep; refusing it")
        }
        if shape.aliases > maxAliases {
            throw HostError(status, "\(path): the YAML uses more than \(maxAliases) aliases; refusing it")
        }
        if shape.expandedNodes > maxExpandedNodes {
            throw HostError(status, "\(path): the YAML's aliases expand to more than \(maxExpandedNodes) nodes; refusing it")
        }
    }
}
