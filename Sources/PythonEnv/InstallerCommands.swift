import HostCore

/// One installer process: what `VenvManager` runs to create or fill a venv.
///
/// Built by the pure functions of `InstallerCommands` from facts about the pack, so the exact
/// argv, working directory and environment of every toolchain are checked by golden tests
/// without running pip, uv or Poetry.
public struct InstallerStep: Equatable, Sendable {
    /// The program: a path known when planning, or a tool (`uv`, `poetry`) found or installed
    /// by `VenvManager` when the step runs.
    public enum Program: Equatable, Sendable {
        case path(String)
        case tool(String)
    }

    public var program: Program
    public var arguments: [String]
    /// The phase shown on stderr while the step runs.
    public var phase: String
    /// What the step does, for its error message ("installing dependencies via …").
    public var what: String
    /// The working directory, or nil for policy-host's own.
    public var cwd: String?
    /// Variables set on top of the environment (PATH here replaces PATH).
    public var environment: [String: String]

    public init(_ program: Program, _ arguments: [String], phase: String, what: String,
                cwd: String? = nil, environment: [String: String] = [:]) {
        self.program = program
        self.arguments = arguments
        self.phase = phase
        self.what = what
        self.cwd = cwd
        self.environment = environment
    }

    /// The argv with `program` resolved.
    public func argv(tool: (String) throws(HostError) -> String) throws(HostError) -> [String] {
        switch program {
        case .path(let path): return [path] + arguments
        case .tool(let name): return [try tool(name)] + arguments
        }
    }
}

/// The facts about a pack directory that decide what the installer does.
public struct PackInstallFacts: Equatable, Sendable {
    public var hasRequirements: Bool
    public var hasUVLock: Bool
    public var hasPoetryLock: Bool
    /// pyproject.toml as read (nil: none).
    public var project: PyProject?

    public init(hasRequirements: Bool, hasUVLock: Bool = false, hasPoetryLock: Bool = false, project: PyProject? = nil) {
        self.hasRequirements = hasRequirements
        self.hasUVLock = hasUVLock
        self.hasPoetryLock = hasPoetryLock
        self.project = project
    }
}

/// What installing a pack's dependencies into a venv means, per toolchain: notices for stderr
/// (shown before the steps) and the steps in order. No step is the right answer for a pack
/// without dependency files.
public struct InstallerPlan: Equatable, Sendable {
    public var notices: [String] = []
    public var steps: [InstallerStep] = []
}

/// The installer commands of every toolchain, as pure functions of paths and facts.
public enum InstallerCommands {
    /// Creating the (already marked, empty) venv directory `venv` from `base`: uv's own venv for
    /// toolchain uv, else the stdlib's `venv` followed by an upgrade of pip (as the Pulumi CLI does).
    public static func createVenv(_ venv: String, base: String, toolchain: PolicyManifest.Toolchain) -> [InstallerStep] {
        let what = "creating virtual environment at '\(venv)'"
        switch toolchain {
        case .uv:
            return [InstallerStep(.tool("uv"), ["venv", "--quiet", "--allow-existing", "--python", base, venv],
                                  phase: "Creating venv (uv)", what: what)]
        case .pip, .poetry:
            return [
                InstallerStep(.path(base), ["-m", "venv", venv], phase: "Creating venv", what: what),
                InstallerStep(.path(venvPython(venv)), ["-m", "pip", "install", "--upgrade", "pip", "setuptools", "wheel"],
                              phase: "Upgrading pip", what: "upgrading pip in '\(venv)'", cwd: parent(of: venv)),
            ]
        }
    }

    /// Installing the pack at `packDirectory` into `venv`. `path` is the PATH of the environment
    /// (Poetry gets the venv's `bin` in front of it).
    public static func install(into venv: String, packDirectory dir: String, toolchain: PolicyManifest.Toolchain,
                               facts: PackInstallFacts, path: String?) -> InstallerPlan {
        let python = venvPython(venv)
        var plan = InstallerPlan()
        let pipRequirements = InstallerStep(
            .path(python), ["-m", "pip", "install", "-r", "requirements.txt"], phase: "Installing requirements",
            what: "installing dependencies via '\(python) -m pip install -r requirements.txt'", cwd: dir)
        switch toolchain {
        case .uv where facts.project?.hasProject == true:
            // The lock file is the source: sync the venv to it exactly. Without one, `uv sync`
            // resolves the project's dependencies and writes uv.lock, as uv does.
            let frozen = facts.hasUVLock
            if !frozen {
                plan.notices.append("\(dir) has no uv.lock: `uv sync` resolves pyproject.toml and writes uv.lock, as uv does")
            }
            plan.steps.append(InstallerStep(
                .tool("uv"), ["sync"] + (frozen ? ["--frozen"] : []) + ["--compile-bytecode", "--no-install-project"],
                phase: "uv sync", what: "installing dependencies via 'uv sync\(frozen ? " --frozen" : "")'", cwd: dir,
                environment: ["UV_PROJECT_ENVIRONMENT": venv, "UV_PYTHON": python]))
        case .uv where facts.hasRequirements:
            plan.steps.append(InstallerStep(
                .tool("uv"), ["pip", "install", "--python", python, "--compile-bytecode", "-r", "requirements.txt"],
                phase: "Installing requirements (uv)", what: "installing dependencies via 'uv pip install -r requirements.txt'", cwd: dir))
        case .poetry where facts.project != nil:
            // Poetry installs into the active virtualenv: ours, at the pack's `virtualenv` path.
            // requirements.txt is never converted, rewritten or deleted (the CLI's poetry toolchain does).
            if !facts.hasPoetryLock {
                plan.notices.append("\(dir) has no poetry.lock: `poetry install` resolves pyproject.toml and writes poetry.lock, as Poetry does")
            }
            plan.steps.append(InstallerStep(
                .tool("poetry"), ["install", "--no-root", "--no-interaction", "--no-ansi"], phase: "poetry install",
                what: "installing dependencies via 'poetry install --no-root'", cwd: dir,
                environment: ["VIRTUAL_ENV": venv, "PATH": venv + "/bin:" + (path ?? "/usr/bin:/bin"),
                              "POETRY_VIRTUALENVS_CREATE": "false", "POETRY_NO_INTERACTION": "1"]))
        case .poetry:
            if facts.hasRequirements {
                plan.notices.append("toolchain poetry without a pyproject.toml: installing requirements.txt with pip "
                                    + "(the Pulumi CLI would convert it into a pyproject.toml and delete it; policy-host never rewrites it)")
                plan.steps.append(pipRequirements)
            }
        case .pip, .uv:
            if facts.hasRequirements {
                plan.steps.append(pipRequirements)
            } else if let deps = facts.project?.dependencies, !deps.isEmpty {
                plan.notices.append("no requirements.txt: installing the \(deps.count) dependencies of pyproject.toml's [project] table "
                                    + "(the Pulumi CLI's pip toolchain would install nothing)")
                // `--` so that a dependency string can never be read as an option.
                plan.steps.append(InstallerStep(
                    .path(python), ["-m", "pip", "install", "--"] + deps, phase: "Installing pyproject.toml dependencies",
                    what: "installing the dependencies of pyproject.toml via pip", cwd: dir))
            }
        }
        return plan
    }

    /// A tool venv of policy-host's own at `cache` holding `package` (uv, Poetry), made from `base`.
    public static func toolEnvironment(name: String, package: String, cache: String, base: String) -> [InstallerStep] {
        [
            InstallerStep(.path(base), ["-m", "venv", cache], phase: "Installing \(name)", what: "creating the \(name) tool environment"),
            InstallerStep(.path(venvPython(cache)), ["-m", "pip", "install", package], phase: "Installing \(name)",
                          what: "installing \(name) from PyPI"),
        ]
    }

    /// The environment a step runs in: `base` with the step's variables on top; a venv's own
    /// Python runs as if the venv were activated (its bin first on PATH, VIRTUAL_ENV set,
    /// PYTHONHOME dropped); pip's version check is off.
    public static func environment(for argv: [String], step: [String: String], base: [String: String]) -> [String: String] {
        var env = base.merging(step) { $1 }
        if let program = argv.first, program.hasSuffix("/bin/python") {
            let bin = parent(of: program)
            env["PATH"] = bin + ":" + (env["PATH"] ?? "")
            env["VIRTUAL_ENV"] = parent(of: bin)
            env.removeValue(forKey: "PYTHONHOME")
        }
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return env
    }

    static func venvPython(_ venv: String) -> String { venv + "/bin/python" }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
