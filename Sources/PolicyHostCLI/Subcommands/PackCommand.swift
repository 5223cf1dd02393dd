import ArgumentParser
import Foundation
import PolicyValues
import HostCore
import PackStore

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Package a policy pack as `pulumi policy publish` does: a .tar.gz with the files under package/.",
        discussion: """
        .gitignore files from the pack up to the filesystem root are honoured and .git is skipped, as publish \
        does; venvs, __pycache__, *.pyc and policy-host's stamp files are never included. PulumiPolicy.yaml \
        must have a `version`; the name is the one the pack gives itself (its venv is prepared to read it). \
        With `main: DIR` in PulumiPolicy.yaml the archive holds that directory and the pack is booted \
        there, as publish does; its PulumiPolicy.yaml (without `main`) is added when DIR has none.
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
        let manifest = try PolicyManifest.load(packDirectory: dir, requireEntryPoint: false)
        _ = try manifest.publishDirectory()  // `main` checked before any environment work
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
