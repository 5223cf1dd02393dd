import Foundation
import Testing
import HostCore
import PythonEnv
import TestSupport

/// The installers' exact command lines, working directories and environments for every toolchain
/// and pack shape, against `Tests/Golden/installers/`. Nothing runs: `InstallerCommands` is pure.
@Suite struct InstallerCommandsTests {
    static let venv = "/packs/guard/venv"
    static let pack = "/packs/guard"
    static let base = "/usr/bin/python3.11"
    static let path = "/usr/local/bin:/usr/bin:/bin"

    static func render(_ steps: [InstallerStep]) -> String {
        steps.map { step in
            var text = "[\(step.phase)]\n"
            switch step.program {
            case .path(let path): text += "  program: \(path)\n"
            case .tool(let name): text += "  program: <\(name) from PATH or the tool cache>\n"
            }
            text += "  args:" + step.arguments.map { " \($0)" }.joined() + "\n"
            text += "  cwd: \(step.cwd ?? "<policy-host's>")\n"
            for key in step.environment.keys.sorted() { text += "  env \(key)=\(step.environment[key]!)\n" }
            text += "  on failure: \(step.what)\n"
            return text
        }.joined()
    }

    static func render(_ plan: InstallerPlan) -> String {
        plan.notices.map { "notice: \($0)\n" }.joined() + (plan.steps.isEmpty ? "(nothing to run)\n" : render(plan.steps))
    }

    static let project = PyProject(hasProject: true, dependencies: ["pulumi-policy>=1.13", "pulumi>=3"])
    static let poetryProject = PyProject(hasProject: false, hasPoetry: true)

    /// Every toolchain × pack shape that chooses a different installer.
    static let cases: [(String, PolicyManifest.Toolchain, PackInstallFacts)] = [
        ("pip requirements.txt", .pip, PackInstallFacts(hasRequirements: true)),
        ("pip requirements.txt beside pyproject.toml", .pip, PackInstallFacts(hasRequirements: true, project: project)),
        ("pip pyproject.toml only", .pip, PackInstallFacts(hasRequirements: false, project: project)),
        ("pip pyproject.toml without dependencies", .pip, PackInstallFacts(hasRequirements: false, project: PyProject(hasProject: true))),
        ("pip no dependency files", .pip, PackInstallFacts(hasRequirements: false)),
        ("uv project with uv.lock", .uv, PackInstallFacts(hasRequirements: true, hasUVLock: true, project: project)),
        ("uv project without uv.lock", .uv, PackInstallFacts(hasRequirements: false, project: project)),
        ("uv requirements.txt only", .uv, PackInstallFacts(hasRequirements: true)),
        ("uv pyproject.toml without [project]", .uv, PackInstallFacts(hasRequirements: false, project: poetryProject)),
        ("poetry with poetry.lock", .poetry, PackInstallFacts(hasRequirements: true, hasPoetryLock: true, project: poetryProject)),
        ("poetry without poetry.lock", .poetry, PackInstallFacts(hasRequirements: false, project: poetryProject)),
        ("poetry requirements.txt only", .poetry, PackInstallFacts(hasRequirements: true)),
        ("poetry no dependency files", .poetry, PackInstallFacts(hasRequirements: false)),
    ]

    @Test func golden() {
        var text = ""
        for toolchain in PolicyManifest.Toolchain.allCases {
            text += "## create venv, toolchain \(toolchain.rawValue)\n"
            text += Self.render(InstallerCommands.createVenv(Self.venv, base: Self.base, toolchain: toolchain)) + "\n"
        }
        for (name, toolchain, facts) in Self.cases {
            text += "## install: \(name)\n"
            text += Self.render(InstallerCommands.install(into: Self.venv, packDirectory: Self.pack, toolchain: toolchain,
                                                          facts: facts, path: Self.path)) + "\n"
        }
        text += "## tool environment: uv\n"
        text += Self.render(InstallerCommands.toolEnvironment(name: "uv", package: "uv", cache: "/home/u/.cache/policy-host/tools/uv",
                                                              base: Self.base))
        Golden.assert(text, named: "installers/commands", scrub: Scrubber())
    }

    /// Every toolchain covered by the table, so a new one cannot go unplanned.
    @Test func everyToolchainHasCases() {
        for toolchain in PolicyManifest.Toolchain.allCases {
            #expect(Self.cases.contains { $0.1 == toolchain }, "no installer case for \(toolchain)")
        }
    }

    /// A dependency that looks like an option stays an argument (after `--`), never a pip option.
    @Test func hostileDependencyStaysAnArgument() {
        let facts = PackInstallFacts(hasRequirements: false, project: PyProject(hasProject: true, dependencies: ["--index-url=http://evil", "-e."]))
        let plan = InstallerCommands.install(into: Self.venv, packDirectory: Self.pack, toolchain: .pip, facts: facts, path: nil)
        let args = plan.steps.first?.arguments ?? []
        let dashdash = args.firstIndex(of: "--")
        #expect(dashdash != nil && dashdash! < args.firstIndex(of: "--index-url=http://evil")!)
    }

    /// A venv's own Python runs as if activated; any other program keeps PATH and PYTHONHOME.
    @Test func stepEnvironment() {
        let base = ["PATH": "/usr/bin", "PYTHONHOME": "/opt/py", "HOME": "/home/u"]
        let venvEnv = InstallerCommands.environment(for: ["/packs/guard/venv/bin/python", "-m", "pip"], step: [:], base: base)
        #expect(venvEnv["PATH"] == "/packs/guard/venv/bin:/usr/bin")
        #expect(venvEnv["VIRTUAL_ENV"] == "/packs/guard/venv")
        #expect(venvEnv["PYTHONHOME"] == nil)
        #expect(venvEnv["PIP_DISABLE_PIP_VERSION_CHECK"] == "1")
        let uvEnv = InstallerCommands.environment(for: ["/usr/bin/uv", "sync"], step: ["UV_PYTHON": "/x/bin/python"], base: base)
        #expect(uvEnv["PATH"] == "/usr/bin")
        #expect(uvEnv["PYTHONHOME"] == "/opt/py")
        #expect(uvEnv["VIRTUAL_ENV"] == nil)
        #expect(uvEnv["UV_PYTHON"] == "/x/bin/python")
    }
}
