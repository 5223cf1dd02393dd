import Foundation
import Testing
import PythonEnv

/// Every Python environment the Pulumi docs describe, with real interpreters (Debian's 3.11, pyenv's
/// 3.9–3.13) and real installs (pip, uv, Poetry, pipenv from PyPI): version requests
/// (`.python-version`, `requires-python`), pyproject-only packs, uv without a lock, Poetry, the docs'
/// hand-made venv, an activated venv, `pipenv run`, and the rule that a venv policy-host did not create
/// is never removed. Reports are compared with the embedded runtime's on the fixture pack's own venv.
@Suite(.serialized) struct PythonEnvironmentTests {
    static let reference = RouteCase(pack: "aws-basics", stack: "aws-webshop.json")

    /// A copy of aws-basics without its venv; `yaml` replaces PulumiPolicy.yaml's runtime block,
    /// `requirements: false` drops requirements.txt, `files` are written into the pack.
    static func pack(in dir: URL, _ name: String = "pack", options: String? = "virtualenv: venv", requirements: Bool = true,
                     files: [String: String] = [:]) throws -> URL {
        let pack = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: pack, withIntermediateDirectories: true)
        let source = Repo.pack("aws-basics")
        try FileManager.default.copyItem(at: source.appendingPathComponent("__main__.py"), to: pack.appendingPathComponent("__main__.py"))
        if requirements {
            try FileManager.default.copyItem(at: source.appendingPathComponent("requirements.txt"), to: pack.appendingPathComponent("requirements.txt"))
        }
        var yaml = "description: Storage and network guard rails for AWS stacks.\nruntime:\n  name: python\n"
        if let options { yaml += "  options:\n" + options.split(separator: "\n").map { "    \($0)\n" }.joined() }
        yaml += "version: 1.2.0\n"
        try yaml.write(to: pack.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
        for (file, text) in files { try text.write(to: pack.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        return pack
    }

    static let dependency = "pulumi-policy>=1.20.0,<2.0.0"
    /// Poetry resolves for every Python the project allows and backtracks through pulumi's hundreds of
    /// releases: with a loose range that takes minutes, so its test pins (as a Poetry user's lock would).
    static let pinned = ["pulumi-policy==1.21.0", "pulumi==3.272.0", "grpcio==1.85.3", "protobuf==5.29.6"]

    static func pyproject(requiresPython: String? = nil, dependencies: [String] = [dependency]) -> String {
        var text = "[project]\nname = \"aws-basics\"\nversion = \"1.2.0\"\n"
        if let requiresPython { text += "requires-python = \"\(requiresPython)\"\n" }
        text += "dependencies = [" + dependencies.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n"
        return text
    }

    /// `analyze --format json` without `-q`: the install notices are part of what is checked.
    static func arguments(_ pack: URL) -> [String] {
        ["analyze", Repo.stack(reference.stack).path, "--policy-pack", pack.path, "--format", "json"]
    }

    static func analyze(_ pack: URL, _ extra: [String] = [], env: [String: String]? = nil) throws -> Run {
        try policyHost(arguments(pack) + extra, env: env)
    }

    static func expectReferenceReport(_ r: Run, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect([0, 1, 5].contains(r.status), "\(what): \(r.stderr)", sourceLocation: sourceLocation)
        let mine = comparableReport(r), expected = try EmbeddedReports.shared.report(reference)
        for key in Set(mine.keys).union(expected.keys).sorted() {
            #expect(mine[key] == expected[key], "\(what): \(key) differ", sourceLocation: sourceLocation)
        }
    }

    static func pyvenvVersion(_ venv: URL) -> String? {
        VenvState.inspect(venv).pyvenvVersion
    }

    static let installWords = ["Creating virtual environment", "Recreating virtual environment", "Installing dependencies"]

    // MARK: version requests

    /// `.python-version` and `requires-python` pick the interpreter of a new venv; the pack then runs out
    /// of process with the embedded runtime's report; changing the request rebuilds policy-host's venv.
    @Test(arguments: [("3.12", "python-version"), ("3.13", "requires-python"), ("3.10", "requires-python ~=")])
    func versionRequestPicksTheInterpreter(_ minor: String, _ how: String) throws {
        guard OtherPythons.interpreter(minor) != nil else { print("skipping Python \(minor): no pyenv interpreter"); return }
        try withTemporaryDirectory { dir in
            let files: [String: String] = switch how {
            case "python-version": [".python-version": "# pinned\n\(minor)\n"]
            case "requires-python": ["pyproject.toml": Self.pyproject(requiresPython: ">=\(minor)")]
            default: ["pyproject.toml": Self.pyproject(requiresPython: "~=\(minor).0")]
            }
            let pack = try Self.pack(in: dir, files: files)
            let venv = pack.appendingPathComponent("venv")
            let r = try Self.analyze(pack)
            try Self.expectReferenceReport(r, "Python \(minor) by \(how)")
            #expect(Self.pyvenvVersion(venv).map { VenvPlan.minor($0) } == minor, "\(r.stderr)")
            #expect(r.stderr.contains("running out of process: the venv uses Python \(minor)"), "\(r.stderr)")

            let doctor = try policyHost(["doctor", pack.path])
            #expect(doctor.stdout.contains("pack asks for: Python "), "\(doctor.stdout)")
            #expect(doctor.stdout.contains("runtime: sdk-server"), "\(doctor.stdout)")
            #expect(doctor.stdout.contains("venv state: fresh"), "\(doctor.stdout)")

            let again = try policyHost(["install", pack.path])
            #expect(again.status == 0 && !Self.installWords.contains { again.stderr.contains($0) }, "a second install had work to do: \(again.stderr)")

            // Asking for the embedded version now: policy-host's venv is rebuilt, and the pack runs embedded.
            try "3.11\n".write(to: pack.appendingPathComponent(".python-version"), atomically: true, encoding: .utf8)
            let back = try Self.analyze(pack)
            try Self.expectReferenceReport(back, "back to 3.11")
            #expect(back.stderr.contains("Recreating virtual environment") && back.stderr.contains("asks for Python 3.11"), "\(back.stderr)")
            #expect(Self.pyvenvVersion(venv).map { VenvPlan.minor($0) } == "3.11")
            #expect(!back.stderr.contains("running out of process"), "\(back.stderr)")
        }
    }

    /// Python 3.9, which current `pulumi` releases no longer support: with the last SDK that does
    /// (pulumi-policy 1.19.0, pulumi 3.201.0), the pack runs out of process with the same report (its
    /// packs entry naming SDK 1.19.0).
    @Test func python39WithTheLastSDKThatSupportsIt() throws {
        guard OtherPythons.interpreter("3.9") != nil else { print("skipping Python 3.9: no pyenv interpreter"); return }
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir, files: [".python-version": "3.9\n", "requirements.txt": "pulumi-policy==1.19.0\n"])
            let r = try Self.analyze(pack)
            #expect([0, 1, 5].contains(r.status), "\(r.stderr)")
            // The same report but for the SDK version the pack's packs entry names.
            var mine = comparableReport(r), expected = try EmbeddedReports.shared.report(Self.reference)
            #expect(mine["policyPacks"]?.first?.contains("\"sdkVersion\":\"1.19.0\"") == true, "\(mine["policyPacks"] ?? [])")
            mine["policyPacks"] = nil
            expected["policyPacks"] = nil
            #expect(mine == expected, "Python 3.9 report differs")
            #expect(r.stderr.contains("running out of process: the venv uses Python 3.9"), "\(r.stderr)")
            #expect(Self.pyvenvVersion(pack.appendingPathComponent("venv")).map { VenvPlan.minor($0) } == "3.9")
        }
    }

    /// A request no interpreter meets: one error naming what was asked and what was found; nothing made.
    @Test func unmatchedRequestIsAClearError() throws {
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir, files: ["pyproject.toml": Self.pyproject(requiresPython: ">=3.30")])
            let r = try Self.analyze(pack)
            #expect(r.status == 3, "\(r.stderr)")
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            #expect(errors.count == 1 && errors[0].contains("asks for Python >=3.30 (requires-python in pyproject.toml), and no interpreter found matches it: found ")
                    && errors[0].contains("/usr/bin/python3.11 (3.11"), "\(r.stderr)")
            #expect(r.stderr.contains("hint: install one"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("venv").path))
        }
    }

    /// `--runtime embedded` cannot honour a request for another version: it says so before making anything.
    @Test func embeddedRuntimeRefusesAnotherRequestedVersion() throws {
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir, files: [".python-version": "3.12\n"])
            let r = try Self.analyze(pack, ["--runtime", "embedded"])
            #expect(r.status == 3, "\(r.stderr)")
            #expect(r.stderr.contains("error: the pack asks for Python 3.12 (.python-version), and the embedded runtime is Python 3.11"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("venv").path))
        }
    }

    /// Malformed requests and pyproject files: exit 4, one error naming the file.
    @Test(arguments: [
        (".python-version", "pypy3.10\n", ".python-version: cannot read the Python version"),
        (".python-version", "3.x\n", ".python-version: cannot read the Python version"),
        ("pyproject.toml", "[project\nname = 1\n", "pyproject.toml: Expected ']'"),
        ("pyproject.toml", "[project]\nrequires-python = 3.12\n", "project.requires-python must be a string"),
        ("pyproject.toml", "[project]\nrequires-python = \"3.12\"\n", "has no comparison operator"),
        ("pyproject.toml", "[project]\nrequires-python = \">=3.12.*\"\n", "a wildcard is allowed only with == and !="),
        ("pyproject.toml", "[project]\ndependencies = \"pulumi-policy\"\n", "project.dependencies must be an array of strings"),
        ("pyproject.toml", "project = 1\n", "[project] must be a table"),
        ("pyproject.toml", "<5000 nested arrays>", "pyproject.toml: "),
        ("pyproject.toml", "<2 MiB>", "larger than 1 MiB"),
        (".python-version", "<2 MiB>", "larger than 1 MiB"),
        (".python-version", "<link to /dev/zero>", ".python-version: not a regular file"),
        ("pyproject.toml", "<link to /dev/zero>", "pyproject.toml: not a regular file"),
        ("pyproject.toml", "<a directory>", "pyproject.toml: not a regular file"),
    ])
    func malformedRequestsAreClearErrors(_ file: String, _ label: String, _ expected: String) throws {
        let text = switch label {
        case "<5000 nested arrays>": "a = " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        case "<2 MiB>": String(repeating: "# padding\n", count: 210_000)
        default: label
        }
        try withTemporaryDirectory { dir in
            let special = label.hasPrefix("<link") || label == "<a directory>"
            let pack = try Self.pack(in: dir, files: special ? [:] : [file: text])
            let target = pack.appendingPathComponent(file)
            if label.hasPrefix("<link") { try FileManager.default.createSymbolicLink(atPath: target.path, withDestinationPath: "/dev/zero") }
            if label == "<a directory>" { try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false) }
            let r = try policyHost(["install", pack.path])
            #expect(r.status == 4, "\(file) \(text.prefix(40).debugDescription): \(r.stderr)")
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            #expect(errors.count == 1 && errors[0].contains(expected), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("venv").path))
        }
    }

    // MARK: project formats

    /// `toolchain: pip` with dependencies only in pyproject.toml: installed, with a notice; nothing written.
    @Test func pyprojectOnlyPackUnderPip() throws {
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir, requirements: false, files: ["pyproject.toml": Self.pyproject()])
            let r = try Self.analyze(pack)
            try Self.expectReferenceReport(r, "pyproject-only")
            #expect(r.stderr.contains("no requirements.txt: installing the 1 dependencies of pyproject.toml's [project] table"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("requirements.txt").path))
            let again = try policyHost(["install", pack.path])
            #expect(!Self.installWords.contains { again.stderr.contains($0) }, "\(again.stderr)")
        }
    }

    /// `toolchain: uv` with a pyproject.toml and no uv.lock: `uv sync` writes the lock, as uv does, and says so.
    @Test func uvWithoutALock() throws {
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir, options: "virtualenv: venv\ntoolchain: uv", requirements: false,
                                     files: ["pyproject.toml": Self.pyproject(requiresPython: ">=3.10")])
            let r = try Self.analyze(pack)
            try Self.expectReferenceReport(r, "uv without a lock")
            #expect(r.stderr.contains("has no uv.lock: `uv sync` resolves pyproject.toml and writes uv.lock"), "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: pack.appendingPathComponent("uv.lock").path))
            let again = try policyHost(["install", pack.path])
            #expect(again.status == 0 && !Self.installWords.contains { again.stderr.contains($0) }, "\(again.stderr)")
        }
    }

    /// `toolchain: poetry`: Poetry (from PyPI when not on PATH) installs into the pack's venv, which
    /// policy-host made and marked; requirements.txt is left byte for byte.
    @Test func poetryInstallsIntoThePacksVenvAndLeavesRequirementsAlone() throws {
        try withTemporaryDirectory { dir in
            let mine = "\(Self.dependency)\n# kept as the user wrote it\n"
            let pack = try Self.pack(in: dir, options: "virtualenv: venv\ntoolchain: poetry",
                                     files: ["pyproject.toml": Self.pyproject(requiresPython: ">=3.11,<3.12", dependencies: Self.pinned),
                                             "requirements.txt": mine])
            let r = try Self.analyze(pack)
            try Self.expectReferenceReport(r, "poetry")
            #expect(r.stderr.contains("has no poetry.lock"), "\(r.stderr)")
            #expect(try String(contentsOf: pack.appendingPathComponent("requirements.txt"), encoding: .utf8) == mine)
            #expect(FileManager.default.fileExists(atPath: pack.appendingPathComponent("poetry.lock").path))
            #expect(VenvState.inspect(pack.appendingPathComponent("venv")).ownedByPolicyHost)
            let again = try policyHost(["install", pack.path])
            #expect(again.status == 0 && !Self.installWords.contains { again.stderr.contains($0) }, "\(again.stderr)")
        }
    }

    /// `toolchain: poetry` with only requirements.txt: installed with pip, never converted.
    @Test func poetryWithOnlyRequirements() throws {
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir, options: "virtualenv: venv\ntoolchain: poetry")
            let before = try Data(contentsOf: pack.appendingPathComponent("requirements.txt"))
            let r = try Self.analyze(pack)
            try Self.expectReferenceReport(r, "poetry with requirements.txt")
            #expect(r.stderr.contains("toolchain poetry without a pyproject.toml: installing requirements.txt with pip"), "\(r.stderr)")
            #expect(try Data(contentsOf: pack.appendingPathComponent("requirements.txt")) == before)
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("pyproject.toml").path))
        }
    }

    // MARK: environments the user made

    /// The docs' two commands with another patch release of 3.11 (pyenv's): used as is, no rebuild,
    /// the user's files intact — through `virtualenv: venv`, and activated with `virtualenv` unset.
    @Test func docsManualVenvAndActivatedVenv() throws {
        guard let python = OtherPythons.interpreter("3.11"), let info = try? InterpreterInfo.query(python),
              info.version != VenvManager.embeddedVersion else {
            print("skipping: no pyenv Python 3.11 of another patch release than the embedded one")
            return
        }
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir)
            let venv = pack.appendingPathComponent("venv")
            #expect(try run([python, "-m", "venv", venv.path]).status == 0)
            let pip = try run([venv.path + "/bin/pip", "install", "-q", "-r", pack.appendingPathComponent("requirements.txt").path])
            #expect(pip.status == 0, "\(pip.stderr)")
            let note = venv.appendingPathComponent("MY-NOTES.txt")
            try "mine\n".write(to: note, atomically: true, encoding: .utf8)
            let before = try FileManager.default.contentsOfDirectory(atPath: venv.path).sorted()

            let r = try Self.analyze(pack)
            try Self.expectReferenceReport(r, "the docs' manual venv")
            #expect(!r.stderr.contains("Recreating") && !r.stderr.contains("running out of process"), "\(r.stderr)")
            #expect(try String(contentsOf: note, encoding: .utf8) == "mine\n")
            #expect(!VenvState.inspect(venv).ownedByPolicyHost)
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: venv.path)).isSuperset(of: before))
            #expect(Self.pyvenvVersion(venv) == info.version)

            // The same venv activated, for a pack with no `virtualenv` option.
            let ambient = try Self.pack(in: dir, "ambient", options: nil)
            var env = ProcessInfo.processInfo.environment
            env["VIRTUAL_ENV"] = venv.path
            env["PATH"] = venv.path + "/bin:" + (env["PATH"] ?? "")
            let a = try Self.analyze(ambient, env: env)
            try Self.expectReferenceReport(a, "the activated venv")
            #expect(!a.stderr.contains("running out of process"), "\(a.stderr)")
            let doctor = try policyHost(["doctor", ambient.path], env: env)
            #expect(doctor.stdout.contains("interpreter: \(venv.path)/bin/python (\(info.version)), because it is the active virtualenv"), "\(doctor.stdout)")
        }
    }

    /// `pipenv run policy-host analyze …`: pipenv's environment (VIRTUAL_ENV, PATH) is the pack's.
    @Test func pipenvRun() throws {
        try withTemporaryDirectory { dir in
            let tools = dir.appendingPathComponent("tools")
            #expect(try run(["/usr/bin/python3.11", "-m", "venv", tools.path]).status == 0)
            let install = try run([tools.path + "/bin/python", "-m", "pip", "install", "-q", "pipenv"])
            try #require(install.status == 0, "pip install pipenv failed: \(install.stderr)")
            let project = try dir.appendingPathComponent("project").creatingDirectory()
            try "[packages]\npulumi-policy = \">=1.20.0,<2.0.0\"\n\n[requires]\npython_version = \"3.11\"\n"
                .write(to: project.appendingPathComponent("Pipfile"), atomically: true, encoding: .utf8)
            var env = ProcessInfo.processInfo.environment
            env["PIPENV_VENV_IN_PROJECT"] = "1"
            env["PIPENV_YES"] = "1"
            env["PIPENV_NOSPIN"] = "1"
            env.removeValue(forKey: "VIRTUAL_ENV")
            let pipenv = tools.path + "/bin/pipenv"
            let made = try run([pipenv, "install", "--python", "/usr/bin/python3.11"], cwd: project, env: env)
            try #require(made.status == 0, "pipenv install failed: \(made.stderr.suffix(2000))")
            let pack = try Self.pack(in: dir, "ambient", options: nil)
            let r = try run([pipenv, "run", Repo.binary] + Self.arguments(pack), cwd: project, env: env)
            try Self.expectReferenceReport(r, "pipenv run")
            let doctor = try run([pipenv, "run", Repo.binary, "doctor", pack.path], cwd: project, env: env)
            #expect(doctor.stdout.contains("interpreter: \(project.path)/.venv/bin/python"), "\(doctor.stdout)")
            #expect(doctor.stdout.contains("because it is the active virtualenv"), "\(doctor.stdout)")
        }
    }

    /// Every path that could rebuild a venv, on a venv the user made: it is used (or refused) and never
    /// removed — a file of the user's inside survives each.
    @Test(arguments: ["another minor version with --runtime embedded", "bin/python missing", "an interrupted creation stamp",
                      "another toolchain in the stamp", "another version requested", "a stamp of another interpreter version"])
    func aVenvWithoutOurMarkerIsNeverRemoved(_ breakage: String) throws {
        try withTemporaryDirectory { dir in
            let pack = try Self.pack(in: dir)
            let venv = pack.appendingPathComponent("venv")
            #expect(try run(["/usr/bin/python3.11", "-m", "venv", "--without-pip", venv.path]).status == 0)
            let note = venv.appendingPathComponent("MY-NOTES.txt")
            try "mine\n".write(to: note, atomically: true, encoding: .utf8)
            let cfg = venv.appendingPathComponent("pyvenv.cfg")
            var extra: [String] = []
            func writeStamp(_ state: VenvStamp.State, toolchain: String = "pip", version: String = VenvManager.embeddedVersion) throws {
                try VenvStamp(state: state, requirementsDigest: "x", interpreter: "/usr/bin/python3.11", interpreterVersion: version, toolchain: toolchain).write(to: venv)
            }
            switch breakage {
            case "another minor version with --runtime embedded":
                let text = try String(contentsOf: cfg, encoding: .utf8)
                try text.replacingOccurrences(of: "version = 3.11", with: "version = 3.12").write(to: cfg, atomically: true, encoding: .utf8)
                extra = ["--runtime", "embedded"]
            case "bin/python missing":
                for name in ["python", "python3", "python3.11"] { try? FileManager.default.removeItem(at: venv.appendingPathComponent("bin/\(name)")) }
            case "an interrupted creation stamp": try writeStamp(.creating)
            case "another toolchain in the stamp": try writeStamp(.complete, toolchain: "uv")
            case "a stamp of another interpreter version":
                try writeStamp(.complete, version: "3.12.1")
                extra = ["--runtime", "embedded"]
            default:
                try "3.12\n".write(to: pack.appendingPathComponent(".python-version"), atomically: true, encoding: .utf8)
            }
            let r = try Self.analyze(pack, extra)
            #expect(try String(contentsOf: note, encoding: .utf8) == "mine\n", "\(breakage): the user's file is gone\n\(r.stderr)")
            #expect(!VenvState.inspect(venv).ownedByPolicyHost, "\(breakage): the venv was replaced by one of ours")
            #expect(!r.stderr.contains("Recreating"), "\(breakage): \(r.stderr)")
            // Refused with the rule's hint, or used and installed into (pip is absent from this venv, so
            // installing fails: that is the user's venv to repair).
            if extra == ["--runtime", "embedded"] || breakage == "bin/python missing" {
                #expect(r.status == 3 && r.stderr.contains("policy-host did not create this venv, so it will not rebuild it"), "\(breakage): \(r.stderr)")
            } else {
                #expect(r.stderr.contains("Installing dependencies into \(venv.path)"), "\(breakage): \(r.stderr)")
            }
            if breakage == "another version requested" {
                #expect(r.stderr.contains("warning: \(venv.path) is Python 3.11"), "\(r.stderr)")
            }
        }
    }

    // MARK: doctor

    /// `doctor` lists every interpreter found, with its version and whether it can be embedded.
    @Test func doctorListsEveryInterpreter() throws {
        let r = try policyHost(["doctor"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("interpreters found:"), "\(r.stdout)")
        #expect(r.stdout.contains("/usr/bin/python3.11  \(VenvManager.embeddedVersion)  embeddable"), "\(r.stdout)")
        for minor in ["3.9", "3.10", "3.12", "3.13"] {
            guard let python = OtherPythons.interpreter(minor), let info = try? InterpreterInfo.query(python) else { continue }
            #expect(r.stdout.contains("  \(info.version)  out of process"), "Python \(minor) missing:\n\(r.stdout)")
        }
    }
}
