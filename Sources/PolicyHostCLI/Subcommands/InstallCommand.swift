import ArgumentParser
import Foundation
import HostCore
import PackStore

struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Create or refresh a policy pack's virtualenv so that it matches requirements.txt, or install a pack archive.",
        discussion: """
        With --archive, installs a published pack archive as the Pulumi service side does, into \
        <PULUMI_HOME or ~/.pulumi>/policies/<org>/pulumi-analyzer-<name>-v<version>: validated extraction \
        beside the target and an atomic rename, `virtualenv: venv` forced, then the venv. A half-installed \
        pack is repaired by installing it again.
        """
    )

    @Argument(help: ArgumentHelp("The policy pack directory.", valueName: "PACK_DIR"))
    var packDirectory: String = "."

    @Flag(name: .long, help: "Delete and rebuild the venv (only one policy-host made or that has a pyvenv.cfg).")
    var recreate = false

    @Option(name: .long, help: ArgumentHelp("A pack archive (.tar.gz) to install.", valueName: "FILE"))
    var archive: String?

    @Option(name: .long, help: "The organization to install the archive under.")
    var org: String = "default"

    @Option(name: .long, help: "The pack's name (default: from the archive's file name, <name>-v<version>.tar.gz).")
    var name: String?

    @Option(name: .customLong("max-size"), help: ArgumentHelp("Largest archive accepted, uncompressed, in MiB.", valueName: "MIB"))
    var maxSize: Int = 256

    @OptionGroup var environment: EnvironmentOptions

    func validate() throws {
        guard maxSize >= 1, maxSize <= 1 << 20 else {
            throw ValidationError("--max-size must be between 1 and 1048576 (MiB)")
        }
    }

    func run() throws {
        ChildProcesses.installTerminationHandlers()
        if let archive {
            let url = URL(fileURLWithPath: archive, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
            let installed = try PolicyStore().install(archive: url, org: org, name: name, maxSize: maxSize << 20,
                                                      manager: environment.manager(recreate: recreate))
            print("Installed \(installed.name)@\(installed.version) in \(installed.directory.path)")
            return
        }
        let dir = URL(fileURLWithPath: packDirectory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        var manifest = try PolicyManifest.load(packDirectory: dir)
        if manifest.virtualenvURL == nil {
            // As `pulumi install` does for packs: install into <pack>/venv.
            manifest.virtualenv = "venv"
        }
        // A venv of another Python version is kept and installed into: `analyze` runs it out of
        // process (`--runtime sdk-server`); `--recreate` rebuilds it with the embedded version.
        let python = try environment.manager(recreate: recreate).prepare(manifest, versions: .anyVersion).executable
        if !environment.quiet {
            FileHandle.standardError.write(Data("Virtual environment ready: \(python)\n".utf8))
        }
    }
}
