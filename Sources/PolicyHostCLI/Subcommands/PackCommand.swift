import ArgumentParser
import Foundation
import PolicyHost
import PolicyValues

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Package a policy pack as `pulumi policy publish` does: a .tar.gz with the files under package/.",
        discussion: """
        .gitignore files from the pack up to the filesystem root are honoured and .git is skipped, as publish \
        does; venvs, __pycache__, *.pyc and policy-host's stamp files are never included. PulumiPolicy.yaml \
        must have a `version`; the name is the one the pack gives itself (its venv is prepared to read it).
        """
    )

    @Argument(help: ArgumentHelp("The policy pack directory.", valueName: "PACK_DIR"))
    var packDirectory: String = "."

    @Option(name: .shortAndLong, help: ArgumentHelp("The archive to write (default: <name>-v<version>.tar.gz here).", valueName: "FILE"))
    var output: String?

    @OptionGroup var environment: EnvironmentOptions

    func run() throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let dir = URL(fileURLWithPath: packDirectory, relativeTo: cwd).standardizedFileURL
        let manifest = try PolicyManifest.load(packDirectory: dir)
        guard let version = manifest.version, !version.isEmpty else {
            throw HostError(.usage, "\(dir.appendingPathComponent(PolicyManifest.fileName).path): the pack has no `version`",
                            hint: "add e.g. `version: 0.1.0`; the archive and installs are keyed by it")
        }
        guard PackArchive.isValidVersion(version) else {
            throw HostError(.usage, "invalid version \"\(version)\": versions may only contain alphanumeric, hyphens, or underscores and be at most 100 characters")
        }
        // The name comes from the pack itself, as publish asks the analyzer for it.
        let python = try environment.manager().ensure(manifest)
        let name = try PackName.read(python: python, manifest: manifest)
        let out = URL(fileURLWithPath: output ?? "\(name)-v\(version).tar.gz", relativeTo: cwd).standardizedFileURL
        let (data, files) = try PackArchive.build(manifest, excluding: [out.path])
        do {
            try data.write(to: out, options: .atomic)
        } catch {
            throw HostError(.usage, "cannot write \(out.path): \(error.localizedDescription)")
        }
        print("Packed \(name) \(version): \(out.path) (\(data.count) bytes, \(files.count) files)")
    }
}

/// Reads a pack's own name by loading it, in a child process so that the caller's
/// interpreter (if any) is untouched.
enum PackName {
    static func read(python: String, manifest: PolicyManifest) throws(HostError) -> String {
        let r: ProcessResult
        do {
            r = try Subprocess.run([AnalyzeCommand.selfExecutable, "__pack-name", manifest.packDirectory.path, python])
        } catch {
            throw HostError(.internal, "could not start policy-host to read the pack's name: \(error.localizedDescription)")
        }
        let lines = r.output.split(separator: "\n")
        guard r.status == 0, let last = lines.last, last.hasPrefix("name: ") else {
            let err = lines.first { $0.hasPrefix("error: ") }.map { String($0.dropFirst(7)) } ?? "exit status \(r.status)"
            throw HostError(.packLoad, err, detail: r.tail(12))
        }
        return String(last.dropFirst("name: ".count))
    }
}

/// Internal: loads a pack and prints `name: <name>`.
struct PackNameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__pack-name", shouldDisplay: false)

    @Argument var packDirectory: String
    @Argument var python: String

    func run() throws {
        let manifest = try PolicyManifest.load(packDirectory: URL(fileURLWithPath: packDirectory))
        let settings = StackSettings(organization: "", project: "", stack: "", dryRun: nil)
        Terminal.isolateStdout()
        let session = try PackSession.start(python: python, manifest: manifest, settings: settings)
        session.interpreter.flushStandardStreams()
        Terminal.writeReport("name: \(session.info.name)\n")
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List packs installed under <PULUMI_HOME or ~/.pulumi>/policies and whether each is usable."
    )

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        let store = PolicyStore()
        let installed = store.list()
        func stateText(_ s: PolicyStore.State) -> String {
            switch s {
            case .installed: "installed"
            case .missing: "missing"
            case .broken(let why): "broken: \(why) (install it again to repair)"
            }
        }
        switch format {
        case .json:
            let v: PlainValueArray = installed.map { i in
                ["org": .string(i.org), "name": .string(i.name), "version": .string(i.version),
                 "directory": .string(i.directory.path), "state": .string(stateText(i.state))]
            }
            print(JSON.serialize(.array(v), pretty: true))
        case .text:
            if installed.isEmpty { print("No policy packs installed in \(store.root.path)") }
            for i in installed { print("\(i.org)/\(i.name)@\(i.version)  \(stateText(i.state))  \(i.directory.path)") }
        }
    }
}

struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Show which pack versions and configuration the policy groups require for a stack.",
        discussion: """
        All groups the stack belongs to are aggregated; one version of each pack runs, the newest; when the \
        same version is enabled with different configuration, the most recently modified one wins.
        """
    )

    @Option(name: .customLong("policy-groups"), help: ArgumentHelp("The policy-groups file.", valueName: "FILE"))
    var policyGroups: String

    @Option(name: .long, help: ArgumentHelp("The stack, as ORG/PROJECT/STACK.", valueName: "ORG/PROJECT/STACK"))
    var stack: String

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        if stack.split(separator: "/", omittingEmptySubsequences: false).count != 3 || stack.split(separator: "/").count != 3 {
            throw ValidationError("--stack must be ORG/PROJECT/STACK, got '\(stack)'")
        }
    }

    func run() throws {
        let groups = try PolicyGroups.load(URL(fileURLWithPath: policyGroups))
        let resolved = groups.resolve(stack: stack)
        switch format {
        case .json:
            let iso = ISO8601DateFormatter()
            let v: PlainValueArray = resolved.map { r in
                var o = PlainObject()
                o["name"] = .string(r.name)
                o["version"] = r.version.map { .int($0) } ?? .null
                o["versionTag"] = r.versionTag.map { .string($0) } ?? .null
                o["config"] = .object(r.config)
                o["configModified"] = r.configModified.map { .string(iso.string(from: $0)) } ?? .null
                o["policyGroup"] = .string(r.group)
                return .object(o)
            }
            print(JSON.serialize(.object(PlainObject([("stack", .string(stack)), ("policyPacks", .array(v))])), pretty: true))
        case .text:
            if resolved.isEmpty { print("No policy group requires a pack for \(stack).") }
            for r in resolved {
                print("\(r.name)@\(r.versionLabel)  (policy group \(r.group))  config: \(r.config.isEmpty ? "none" : JSON.serialize(.object(r.config)))")
            }
        }
    }
}

typealias PlainValueArray = [PlainValue]
