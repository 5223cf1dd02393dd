import ArgumentParser
import Foundation
import HostCore
import PythonEnv
import PolicyPack

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the embedded Python, every interpreter found, and for a pack: its venv, interpreter and runtime, and why."
    )

    @Argument(help: ArgumentHelp("The policy pack directory.", valueName: "PACK_DIR"))
    var packDirectory: String?

    @OptionGroup var environment: EnvironmentOptions

    func run() throws {
        var lines: [String] = []
        let embeddedMinor = VenvPlan.minor(VenvManager.embeddedVersion)
        lines.append("embedded libpython: \(VenvManager.embeddedVersion) (stdlib: \(VenvManager.embeddedHome ?? "CPython's own search"))")
        let manager = environment.manager()
        do {
            let base = try manager.baseInterpreter()
            lines.append("venv interpreter: \(base.executable) (\(base.version))")
        } catch {
            lines.append("venv interpreter: none (\(error.message))")
        }
        lines.append("interpreters found:")
        let found = PythonInterpreters.discover(environment: manager.environment)
        for info in found {
            let how = VenvPlan.minor(info.version) == embeddedMinor
                ? "embeddable: runs packs in process" : "out of process (the SDK's analyzer)"
            lines.append("  \(info.executable)  \(info.version)  \(how)")
        }
        if found.isEmpty { lines.append("  none") }
        for tool in ["uv", "poetry", "pipenv"] {
            lines.append("\(tool): \(Subprocess.which(tool, path: manager.environment["PATH"]) ?? "not found")")
        }
        if let packDirectory {
            let dir = URL(fileURLWithPath: packDirectory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
            let manifest = try PolicyManifest.load(packDirectory: dir)
            lines += try packLines(manifest, manager: manager)
        }
        print(lines.joined(separator: "\n"))
    }

    /// The pack's toolchain, version request, venv state, interpreter and route, each with its reason.
    private func packLines(_ manifest: PolicyManifest, manager: VenvManager) throws -> [String] {
        var lines: [String] = []
        let project = try manager.pyproject(manifest)
        let request = try PythonRequest.of(packDirectory: manifest.packDirectory, pyproject: project)
        lines.append("pack asks for: " + (request?.description ?? "any Python (no .python-version, no requires-python)"))
        func route(_ executable: String, _ version: String, isVenv: Bool) {
            let r = PackRuntime.auto.resolve(for: .init(executable: executable, version: version, isVenv: isVenv))
            lines.append("runtime: " + (r.notice.map { "sdk-server (\($0))" }
                ?? "embedded (Python \(VenvPlan.minor(version)) is the embedded libpython's minor version)"))
            guard FileManager.default.isExecutableFile(atPath: executable) else { return }
            // The SDK releases there, and which path runs them (the embedded runtime decides; the
            // out-of-process route always runs the SDK's own analyzer).
            switch SDKPath.inspect(python: executable) {
            case .success(let path):
                lines.append("sdk: " + (r.runtime == .embedded ? path.description
                    : "pulumi-policy \(path.policyVersion) with pulumi \(path.pulumiVersion): the SDK's own analyzer, out of process"))
            case .failure(let e):
                lines.append("sdk: none usable (\(e.message))")
            }
        }
        guard let venv = manifest.virtualenvURL else {
            lines.append("pack venv: none (runtime.options.virtualenv is not set)")
            switch Result(catching: { () throws(HostError) in try manager.ambientInterpreter(versions: .anyVersion) }) {
            case .success(let info):
                let why = manager.environment["VIRTUAL_ENV"].map { "the active virtualenv \($0) (VIRTUAL_ENV)" }
                    ?? (manager.environment["PULUMI_PYTHON_CMD"].map { "PULUMI_PYTHON_CMD=\($0)" } ?? "the first of python3, python on PATH")
                lines.append("interpreter: \(info.executable) (\(info.version)), because it is \(why)")
                route(info.executable, info.version, isVenv: false)
            case .failure(let e):
                lines.append("interpreter: none (\(e.message))")
            }
            return lines
        }
        let state = VenvState.inspect(venv)
        let toolchain = VenvManager.toolchain(for: manifest)
        let toolchainWhy = manifest.toolchain != nil ? "set in PulumiPolicy.yaml" : "detected as the CLI detects it"
        lines.append("pack venv: \(venv.path) (toolchain \(toolchain.rawValue), \(toolchainWhy); "
                     + (state.ownedByPolicyHost ? "created by policy-host" : state.kind == .venv ? "not created by policy-host: never removed unasked" : "not there yet") + ")")
        let base = Result { () throws(HostError) in try manager.venvBaseInterpreter(request: request, versions: .anyVersion) }
        if case .success(let b) = base {
            let inputs = VenvInputs(requirementsDigest: VenvManager.requirementsDigest(packDirectory: manifest.packDirectory), interpreter: b.executable,
                                    interpreterVersion: b.version, toolchain: toolchain.rawValue)
            switch Result(catching: { () throws(HostError) in
                try VenvPlan.make(state: state, inputs: inputs, recreate: false, venvPath: venv.path, versions: .anyVersion)
            }) {
            case .success(.reuse): lines.append("venv state: fresh; install would do nothing")
            case .success(.create): lines.append("venv state: missing; install would create it with \(b.executable) (\(b.version))")
            case .success(.recreate(let why)): lines.append("venv state: broken (\(why)); install would recreate it")
            case .success(.install(let why)): lines.append("venv state: stale (\(why)); install would reinstall requirements")
            case .failure(let e): lines.append("venv state: unusable: \(e.message)")
            }
        }
        if let v = state.pyvenvVersion, state.pythonIsFile {
            lines.append("interpreter: \(venv.path)/bin/python (\(v)), the venv's own")
            if let request, !request.allows(v) { lines.append("warning: the venv is Python \(v), and the pack asks for \(request)") }
            route(venv.appendingPathComponent("bin/python").path, v, isVenv: true)
        } else {
            switch base {
            case .success(let b):
                lines.append("interpreter: \(b.executable) (\(b.version)) would make the venv"
                             + (request.map { ", the best match for \($0)" } ?? ", the embedded libpython's version"))
                route(b.executable, b.version, isVenv: true)
            case .failure(let e):
                lines.append("interpreter: none (\(e.message))")
            }
        }
        return lines
    }
}
