import Crypto
import Foundation
import PythonRuntime
import HostCore

/// Finds the interpreter that matches the embedded libpython, and creates,
/// checks and repairs a pack's venv so that it matches requirements.txt.
public struct VenvManager: Sendable {
    public var verbosity: Verbosity
    public var recreate: Bool
    /// `--python`: an interpreter to use instead of the discovered one.
    public var pythonOverride: String?
    public var environment: [String: String]
    let reporter: InstallReporter

    public var quiet: Bool { verbosity == .quiet }

    public init(verbosity: Verbosity = .normal, recreate: Bool = false, pythonOverride: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.verbosity = verbosity
        self.recreate = recreate
        self.pythonOverride = pythonOverride
        self.environment = environment
        reporter = InstallReporter(verbosity: verbosity)
    }

    /// The owner file of the venv being prepared (set by `ensure` while it holds the lock).
    private var currentLockOwnerFile: String { ownerBox.path }
    private let ownerBox = OwnerBox()

    /// The install log kept inside each venv.
    public static let logName = ".policy-host-install.log"

    /// The version of the embedded libpython, e.g. "3.11.2".
    public static var embeddedVersion: String { PythonInterpreter.linkedVersion }

    /// The prefix of the embedded libpython's own installation (its standard library), found
    /// through the interpreter of exactly its version; `nil` leaves CPython's own search.
    public static let embeddedHome: String? = {
        let mm = PythonInterpreter.linkedMajorMinor
        for c in ["/usr/bin/python\(mm)", "/usr/local/bin/python\(mm)"] where FileManager.default.isExecutableFile(atPath: c) {
            if let info = try? InterpreterInfo.query(c), info.version == embeddedVersion { return info.basePrefix }
        }
        return nil
    }()

    /// The base interpreter for new venvs: the one whose version equals the embedded libpython's.
    public func baseInterpreter() throws(HostError) -> InterpreterInfo {
        let embedded = Self.embeddedVersion
        let mm = PythonInterpreter.linkedMajorMinor
        var candidates: [String] = []
        if let o = pythonOverride { candidates = [o] } else {
            if let cmd = environment["PULUMI_PYTHON_CMD"], !cmd.isEmpty, let p = Subprocess.which(cmd, path: environment["PATH"]) { candidates.append(p) }
            candidates += ["/usr/bin/python\(mm)", "/usr/local/bin/python\(mm)"]
        }
        var seen: [String] = []
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) {
            let info = try InterpreterInfo.query(c)
            if info.version == embedded { return info }
            seen.append("\(c) is \(info.version)")
            if pythonOverride != nil { break }
        }
        let found = seen.isEmpty ? "none was found" : seen.joined(separator: "; ")
        throw HostError(.environment, "no Python interpreter matches the embedded libpython \(embedded) (\(found))",
                        hint: "install Debian's python\(mm) and python\(mm)-venv (apt-get install python3-dev python3-venv), or pass --python /usr/bin/python\(mm)")
    }

    /// The ambient interpreter with no `virtualenv` option: an activated venv (`VIRTUAL_ENV`, as
    /// `pipenv run` and `source venv/bin/activate` set it), else what the CLI uses:
    /// `PULUMI_PYTHON_CMD`, else `python3`, else `python` on PATH. Any patch release of the
    /// embedded minor version will do.
    public func ambientInterpreter(versions: VenvVersionRule = .embeddedMinorVersion) throws(HostError) -> InterpreterInfo {
        var path: String?
        var source = "on PATH"
        if let venv = environment["VIRTUAL_ENV"], !venv.isEmpty, FileManager.default.isExecutableFile(atPath: venv + "/bin/python") {
            path = venv + "/bin/python"
            source = "of the active virtualenv (VIRTUAL_ENV)"
        } else {
            let names = [environment["PULUMI_PYTHON_CMD"]].compactMap { $0 }.filter { !$0.isEmpty } + ["python3", "python"]
            path = names.lazy.compactMap({ Subprocess.which($0, path: self.environment["PATH"]) }).first
        }
        guard let path else {
            throw HostError(.environment, "failed to locate any of [python3 python] on your PATH. Have you installed Python 3.6 or greater?")
        }
        let info = try InterpreterInfo.query(path)
        guard versions == .anyVersion || VenvPlan.minor(info.version) == VenvPlan.minor(Self.embeddedVersion) else {
            throw HostError(.environment,
                            "the Python \(source) (\(path), \(info.version)) is not Python \(VenvPlan.minor(Self.embeddedVersion)), which the embedded runtime needs",
                            hint: "set `virtualenv: venv` under runtime.options in PulumiPolicy.yaml so policy-host manages a venv, or set PULUMI_PYTHON_CMD=/usr/bin/python\(PythonInterpreter.linkedMajorMinor)")
        }
        return info
    }

    /// sha256 over the content of requirements.txt (and the files it includes with -r/-c), pyproject.toml,
    /// uv.lock, poetry.lock and .python-version.
    /// Only names and contents count, so a copied pack with the same requirements shares the same digest.
    public static func requirementsDigest(packDirectory: URL) -> String {
        var hasher = SHA256()
        var visited = Set<String>()
        func add(_ url: URL) {
            let path = url.standardizedFileURL.path
            guard visited.insert(path).inserted, let data = FileManager.default.contents(atPath: path) else { return }
            hasher.update(data: Data("\(url.lastPathComponent)\n".utf8))
            hasher.update(data: data)
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let t = line.trimmingCharacters(in: .whitespaces)
                for flag in ["-r ", "-c ", "--requirement ", "--constraint "] where t.hasPrefix(flag) {
                    let rel = t.dropFirst(flag.count).trimmingCharacters(in: .whitespaces)
                    add(url.deletingLastPathComponent().appendingPathComponent(rel))
                }
            }
        }
        for name in ["requirements.txt", "pyproject.toml", "uv.lock", "poetry.lock", ".python-version"] {
            add(packDirectory.appendingPathComponent(name))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The toolchain: the YAML option, else the CLI's auto-detection (uv.lock → uv, poetry.lock → poetry, else pip).
    public static func toolchain(for manifest: PolicyManifest) -> PolicyManifest.Toolchain {
        if let t = manifest.toolchain { return t }
        var dir = manifest.packDirectory
        while true {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("uv.lock").path) { return .uv }
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("poetry.lock").path) { return .poetry }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return .pip }
            dir = parent
        }
    }

    /// The interpreter a pack runs on, once its venv is ready.
    public struct PreparedInterpreter: Sendable, Equatable {
        /// `<venv>/bin/python`, or the ambient interpreter when the pack has no `virtualenv`.
        public var executable: String
        /// Its version ("3.12.1"), from pyvenv.cfg or from running it.
        public var version: String
        /// Whether `executable` is a venv's (else the ambient interpreter).
        public var isVenv: Bool

        public init(executable: String, version: String, isVenv: Bool) {
            self.executable = executable
            self.version = version
            self.isVenv = isVenv
        }

        /// Whether the embedded libpython can run the pack (same minor version).
        public var matchesEmbedded: Bool { VenvPlan.minor(version) == VenvPlan.minor(VenvManager.embeddedVersion) }
    }

    /// Makes the pack's venv ready and returns the interpreter to embed
    /// (`<venv>/bin/python`, or the ambient one with no `virtualenv`).
    @discardableResult
    public func ensure(_ manifest: PolicyManifest) throws(HostError) -> String {
        try prepare(manifest, versions: .embeddedMinorVersion).executable
    }

    /// Makes the pack's venv ready under `versions` and says which interpreter, of which version,
    /// the pack runs on. With `.anyVersion` a venv (or ambient interpreter) of another minor
    /// version is used as it is — installed into when its requirements changed, never rebuilt
    /// unasked — for the out-of-process route.
    public func prepare(_ manifest: PolicyManifest, versions: VenvVersionRule) throws(HostError) -> PreparedInterpreter {
        guard let venv = manifest.virtualenvURL else {
            let info = try ambientInterpreter(versions: versions)
            return PreparedInterpreter(executable: info.executable, version: info.version, isVenv: false)
        }
        let toolchain = Self.toolchain(for: manifest)
        let project = try pyproject(manifest)
        let request = try PythonRequest.of(packDirectory: manifest.packDirectory, pyproject: project)
        if let request, versions == .embeddedMinorVersion, !request.allows(Self.embeddedVersion) {
            throw HostError(.environment, "the pack asks for \(request), and the embedded runtime is Python \(Self.embeddedVersion)",
                            hint: "run it with `--runtime auto` or `--runtime sdk-server`, which run other versions out of process")
        }
        let lock = try VenvLock.acquire(for: venv, quiet: quiet)
        defer { lock.release() }
        // An installer left running by a policy-host that was killed must not keep writing.
        lock.stopOrphanedInstaller()
        ownerBox.path = lock.ownerFile
        // Every installer this run starts carries this token in its environment, and the token is on
        // disk before the first one starts: a run killed at any moment leaves installers the next
        // run can find and stop.
        ownerBox.token = "\(getpid())-\(UUID().uuidString)"
        VenvLock.recordToken(ownerBox.token, in: lock.ownerFile)
        defer { try? FileManager.default.removeItem(atPath: lock.ownerFile + ".token") }
        let state = VenvState.inspect(venv)
        let python = venv.appendingPathComponent("bin/python").path
        let digest = Self.requirementsDigest(packDirectory: manifest.packDirectory)
        // A venv of another minor version, under `.anyVersion`: its own interpreter is the one
        // recorded, and the embedded one is needed only if it has to be (re)built.
        let otherVersion: String? = versions == .anyVersion && state.kind == .venv && state.pythonIsFile
            ? state.pyvenvVersion.flatMap { VenvPlan.minor($0) == VenvPlan.minor(Self.embeddedVersion) ? nil : $0 } : nil
        var baseInfo: InterpreterInfo?
        func base() throws(HostError) -> InterpreterInfo {
            if let baseInfo { return baseInfo }
            let b = try venvBaseInterpreter(request: request, versions: versions)
            baseInfo = b
            return b
        }
        let recorded = try otherVersion == nil ? base().executable : python
        let planInputs = VenvInputs(requirementsDigest: digest, interpreter: recorded,
                                    interpreterVersion: otherVersion ?? Self.embeddedVersion, toolchain: toolchain.rawValue)
        var action = try VenvPlan.make(state: state, inputs: planInputs, recreate: recreate, venvPath: venv.path, versions: versions)
        // A venv of a version the pack does not ask for: ours is rebuilt; the user's is used as it is.
        if let request, let v = state.pyvenvVersion, state.kind == .venv, !request.allows(v), !recreate {
            if state.ownedByPolicyHost {
                action = .recreate(reason: "the pack asks for \(request), and the venv is Python \(v)")
            } else {
                reporter.warning("\(venv.path) is Python \(v), and the pack asks for \(request); using it as it is "
                                 + "(policy-host did not create it; `policy-host install --recreate` rebuilds it)")
            }
        }
        var inputs = planInputs
        var version = otherVersion ?? state.pyvenvVersion ?? Self.embeddedVersion
        defer { reporter.closeLog() }
        switch action {
        case .reuse:
            return PreparedInterpreter(executable: python, version: version, isVenv: true)
        case .create, .recreate:
            let b = try base()
            inputs = VenvInputs(requirementsDigest: digest, interpreter: b.executable, interpreterVersion: b.version, toolchain: toolchain.rawValue)
            version = b.version
        case .install:
            break
        }
        switch action {
        case .reuse:
            break
        case .create:
            let base = try base()
            try create(venv, base: base, inputs: inputs, toolchain: toolchain,
                       headline: "Creating virtual environment at \(venv.path) with \(base.executable) (\(base.version))")
        case .recreate(let reason):
            let base = try base()
            // Only a venv policy-host created, or one the user asked to rebuild (VenvPlan).
            do { try FileManager.default.removeItem(at: venv) } catch {
                throw HostError(.environment, "could not remove the old virtual environment \(venv.path): \(error.localizedDescription)")
            }
            try create(venv, base: base, inputs: inputs, toolchain: toolchain,
                       headline: "Recreating virtual environment at \(venv.path): \(reason)")
        case .install(let reason):
            reporter.openLog(venv.appendingPathComponent(Self.logName))
            reporter.message("Installing dependencies into \(venv.path): \(reason)")
        }
        try install(venv, manifest: manifest, inputs: inputs, toolchain: toolchain, project: project)
        return PreparedInterpreter(executable: python, version: version, isVenv: true)
    }

    /// The pack's pyproject.toml as Python's tomllib reads it (nil when there is none).
    public func pyproject(_ manifest: PolicyManifest) throws(HostError) -> PyProject? {
        let file = manifest.packDirectory.appendingPathComponent("pyproject.toml").path
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return try PyProject.read(packDirectory: manifest.packDirectory, python: baseInterpreter().executable)
    }

    /// The interpreter a new venv is made with: `--python` when given; else, when the pack asks for a
    /// version (`.python-version`, `requires-python`), the embedded version's interpreter if allowed,
    /// else the newest allowed one found on the machine; else the embedded version's.
    public func venvBaseInterpreter(request: PythonRequest?, versions: VenvVersionRule) throws(HostError) -> InterpreterInfo {
        if let o = pythonOverride, versions == .anyVersion {
            let info = try InterpreterInfo.query(o)
            if let request, !request.allows(info.version) {
                throw HostError(.environment, "--python \(o) is Python \(info.version), and the pack asks for \(request)")
            }
            return info
        }
        guard let request else { return try baseInterpreter() }
        let embedded = try? baseInterpreter()
        if let embedded, request.allows(embedded.version) { return embedded }
        let found = PythonInterpreters.discover(environment: environment)
        if let best = PythonInterpreters.best(for: request, among: found, embedded: embedded) { return best }
        let seen = found.map { "\($0.executable) (\($0.version))" }
        throw HostError(.environment, "the pack asks for \(request), and no interpreter found matches it"
                        + (seen.isEmpty ? "" : ": found " + seen.joined(separator: ", ")),
                        hint: "install one (`pyenv install <version>`, `uv python install <version>`, your distribution's package) or pass --python PATH")
    }

    private func stamp(_ state: VenvStamp.State, _ inputs: VenvInputs) -> VenvStamp {
        VenvStamp(state: state, requirementsDigest: inputs.requirementsDigest, interpreter: inputs.interpreter,
                  interpreterVersion: inputs.interpreterVersion, toolchain: inputs.toolchain)
    }

    private func create(_ venv: URL, base: InterpreterInfo, inputs: VenvInputs, toolchain: PolicyManifest.Toolchain,
                        headline: String) throws(HostError) {
        // The directory gets its name only once it holds our marker: a venv path that exists is
        // either the user's or visibly ours, even after a kill -9 at any moment.
        let parent = venv.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(venv.lastPathComponent).policy-host-new-\(getpid())")
        let stagingPrefix = ".\(venv.lastPathComponent).policy-host-new-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where entry.hasPrefix(stagingPrefix) {
            // Left by a run that was killed before the rename (ours by name and marker).
            if let pid = Int32(entry.dropFirst(stagingPrefix.count)), pid != getpid(), kill(pid, 0) == 0 { continue }
            let dir = parent.appendingPathComponent(entry)
            if VenvState.isOwned(dir) || ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).isEmpty {
                try? FileManager.default.removeItem(at: dir)
            }
        }
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: staging)
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
            // Marked as ours and as disposable (as uv does).
            try VenvState.markerText.write(to: staging.appendingPathComponent(VenvState.markerName), atomically: false, encoding: .utf8)
            try stamp(.creating, inputs).write(to: staging)
            try "*\n".write(to: staging.appendingPathComponent(".gitignore"), atomically: false, encoding: .utf8)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw HostError(.environment, "could not create \(venv.path): \(error.localizedDescription)")
        }
        // rename(2) replaces an empty directory, and fails on anything else.
        guard rename(staging.path, venv.path) == 0 else {
            let err = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: staging)
            throw HostError(.environment, "could not create \(venv.path): \(err)")
        }
        reporter.openLog(venv.appendingPathComponent(Self.logName))
        reporter.message(headline)
        for step in InstallerCommands.createVenv(venv.path, base: base.executable, toolchain: toolchain) {
            try run(step)
        }
    }

    private func install(_ venv: URL, manifest: PolicyManifest, inputs: VenvInputs, toolchain: PolicyManifest.Toolchain,
                         project: PyProject?) throws(HostError) {
        do { try stamp(.installing, inputs).write(to: venv) } catch {
            throw HostError(.environment, "could not write to \(venv.path): \(error.localizedDescription)")
        }
        let dir = manifest.packDirectory
        let has = { (name: String) in FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path) }
        let facts = PackInstallFacts(hasRequirements: has("requirements.txt"), hasUVLock: has("uv.lock"),
                                     hasPoetryLock: has("poetry.lock"), project: project)
        let plan = InstallerCommands.install(into: venv.path, packDirectory: dir.path, toolchain: toolchain,
                                             facts: facts, path: environment["PATH"])
        for notice in plan.notices { reporter.message(notice) }
        for step in plan.steps { try run(step) }
        // A lock file written by the install is part of the inputs from now on.
        var done = inputs
        done.requirementsDigest = Self.requirementsDigest(packDirectory: dir)
        do { try stamp(.complete, done).write(to: venv) } catch {
            throw HostError(.environment, "could not write to \(venv.path): \(error.localizedDescription)")
        }
    }

    /// A tool (`uv`, `poetry`) from PATH, else from policy-host's tool cache, installing it there
    /// from PyPI on first use (Poetry ≥ 2).
    private func toolExecutable(_ name: String) throws(HostError) -> String {
        try toolExecutable(name, package: name == "poetry" ? "poetry>=2" : name)
    }

    /// A Python tool from PATH, else `<cache>/policy-host/tools/<name>/bin/<name>`, a venv of
    /// policy-host's own made on first use (the directory is policy-host's, so it may rebuild it).
    private func toolExecutable(_ name: String, package: String) throws(HostError) -> String {
        if let tool = Subprocess.which(name, path: environment["PATH"]) { return tool }
        let cache = URL(fileURLWithPath: environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache"))
            .appendingPathComponent("policy-host/tools/\(name)")
        let tool = cache.appendingPathComponent("bin/\(name)").path
        if FileManager.default.isExecutableFile(atPath: tool) { return tool }
        reporter.message("\(name) is not on PATH; installing it from PyPI into \(cache.path)")
        let base = try baseInterpreter()
        try? FileManager.default.removeItem(at: cache)
        for step in InstallerCommands.toolEnvironment(name: name, package: package, cache: cache.path, base: base.executable) {
            try run(step)
        }
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw HostError(.environment, "installing \(name) did not produce \(tool)", hint: "install \(name) yourself and put it on PATH")
        }
        return tool
    }

    private func run(_ step: InstallerStep) throws(HostError) {
        let argv = try step.argv(tool: toolExecutable)
        let (phase, what) = (step.phase, step.what)
        var env = InstallerCommands.environment(for: argv, step: step.environment, base: environment)
        if !ownerBox.token.isEmpty { env[VenvLock.tokenVariable] = ownerBox.token }
        let cwd = step.cwd.map { URL(fileURLWithPath: $0) }
        let result: ProcessResult
        reporter.begin(phase, command: argv)
        defer { reporter.end() }
        let reporter = self.reporter
        let owner = currentLockOwnerFile
        do {
            result = try Subprocess.run(argv, cwd: cwd, environment: env, onOutput: { reporter.output($0) },
                                        onStart: { pid in VenvLock.recordInstaller(pid: pid, command: argv, in: owner) })
            VenvLock.clearInstaller(in: owner)
        } catch {
            throw HostError(.environment, "\(what): could not start \(argv[0]): \(error.localizedDescription)")
        }
        guard result.status == 0 else {
            reporter.end()
            throw HostError(.environment, "\(what) failed with exit status \(result.status)",
                            hint: "the full output is in the venv's \(Self.logName); fix the cause and run `policy-host install` again",
                            detail: "command: \(argv.joined(separator: " "))\n" + result.tail(15))
        }
    }
}

/// An exclusive lock per venv path, held while the venv is checked or built,
/// so two policy-host processes never build the same venv at once. Beside it,
/// an owner file names the installer process group running for that venv, so
/// that one orphaned by a killed policy-host can be stopped before a repair.
struct VenvLock {
    let fd: Int32
    let ownerFile: String

    /// The venv's path with every symlink resolved (its nearest existing ancestor through
    /// realpath), so that runs reaching one venv through different paths share one lock.
    static func canonicalPath(_ venv: URL) -> String {
        var existing = venv.standardizedFileURL
        var rest: [String] = []
        while true {
            if let real = realpath(existing.path, nil) {
                defer { free(real) }
                return ([String(cString: real)] + rest.reversed()).joined(separator: "/").replacingOccurrences(of: "//", with: "/")
            }
            let parent = existing.deletingLastPathComponent()
            if parent.path == existing.path { return venv.standardizedFileURL.path }
            rest.append(existing.lastPathComponent)
            existing = parent
        }
    }

    static func paths(for venv: URL) -> (lock: String, owner: String) {
        let home = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let dir = URL(fileURLWithPath: home).appendingPathComponent("policy-host/locks")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let digest = SHA256.hash(data: Data(canonicalPath(venv).utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return (dir.appendingPathComponent("venv-\(digest).lock").path, dir.appendingPathComponent("venv-\(digest).owner").path)
    }

    /// Writes "pid starttime command" of a running installer (Foundation makes it a process group leader).
    static func recordInstaller(pid: Int32, command: [String], in ownerFile: String) {
        guard !ownerFile.isEmpty else { return }
        let line = "\(pid) \(startTime(of: pid) ?? "?") \(command.joined(separator: " "))\n"
        try? line.write(toFile: ownerFile, atomically: true, encoding: .utf8)
    }

    static func clearInstaller(in ownerFile: String) {
        guard ownerFile.hasSuffix(".owner") else { return }
        try? FileManager.default.removeItem(atPath: ownerFile)
    }

    /// Field 22 of /proc/PID/stat: tells a live process from a reused PID.
    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// The environment variable that marks installers with their run's token.
    static let tokenVariable = "POLICY_HOST_INSTALLER"

    /// Records the run's token (before any installer starts).
    static func recordToken(_ token: String, in ownerFile: String) {
        try? "token \(token)\n".write(toFile: ownerFile + ".token", atomically: true, encoding: .utf8)
    }

    /// Kills what an earlier run that died left installing: the recorded process group (same PID and
    /// start time), and every process whose environment carries that run's token — which also finds
    /// an installer started just before the run was killed, before its PID could be recorded.
    func stopOrphanedInstaller() {
        var victims: [Int32] = []
        if let text = try? String(contentsOfFile: ownerFile, encoding: .utf8) {
            let parts = text.split(separator: " ", maxSplits: 2)
            if parts.count >= 2, let pid = Int32(parts[0]), Self.startTime(of: pid) == String(parts[1]) {
                kill(-pid, SIGKILL)
                victims.append(pid)
            }
        }
        if let text = try? String(contentsOfFile: ownerFile + ".token", encoding: .utf8), text.hasPrefix("token ") {
            let needle = Data("\(Self.tokenVariable)=\(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines))\0".utf8)
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry), pid != getpid(),
                      let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ"), env.range(of: needle) != nil else { continue }
                kill(pid, SIGKILL)
                victims.append(pid)
            }
        }
        for pid in victims {
            for _ in 0..<200 where Self.startTime(of: pid) != nil && !Self.isZombie(pid) { usleep(10_000) }
        }
        Self.clearInstaller(in: ownerFile)
        try? FileManager.default.removeItem(atPath: ownerFile + ".token")
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    static func acquire(for venv: URL, quiet: Bool) throws(HostError) -> VenvLock {
        let (path, owner) = paths(for: venv)
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HostError(.environment, "could not open the lock file \(path)") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if !quiet {
                FileHandle.standardError.write(Data("Waiting for another policy-host process to finish preparing \(venv.path)...\n".utf8))
            }
            guard flock(fd, LOCK_EX) == 0 else {
                close(fd)
                throw HostError(.environment, "could not lock \(path)")
            }
        }
        return VenvLock(fd: fd, ownerFile: owner)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

final class OwnerBox: @unchecked Sendable {
    /// Empty while no venv lock is held: then nothing is recorded.
    var path = ""
    /// The token this run's installers carry in their environment.
    var token = ""
}
