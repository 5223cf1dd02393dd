import Crypto
import Foundation
import HostCore

/// The Python version a pack asks for: `.python-version` in the pack directory (as pyenv and uv read
/// it: the first line that is not a comment), else `requires-python` in the `[project]` table of its
/// `pyproject.toml` (PEP 621, a PEP 440 specifier set), the order uv follows.
public struct PythonRequest: Sendable, Equatable, CustomStringConvertible {
    public enum Source: String, Sendable, Equatable {
        case pythonVersionFile = ".python-version"
        case requiresPython = "pyproject.toml requires-python"
    }

    public var source: Source
    /// The request as written ("3.12", ">=3.10,<3.13").
    public var text: String
    var clauses: [Clause]

    struct Clause: Sendable, Equatable {
        enum Op: String, Sendable { case compatible = "~=", equal = "==", notEqual = "!=", lessEqual = "<=", greaterEqual = ">=", less = "<", greater = ">", arbitrary = "===" }
        var op: Op
        var version: [Int]
        var wildcard: Bool
        var raw: String
    }

    public var description: String {
        switch source {
        case .pythonVersionFile: "Python \(text) (.python-version)"
        case .requiresPython: "Python \(text) (requires-python in pyproject.toml)"
        }
    }

    /// Whether an interpreter of `version` ("3.12.1") satisfies the request.
    public func allows(_ version: String) -> Bool {
        let v = Self.numbers(version)
        return clauses.allSatisfy { $0.allows(v, raw: version) }
    }

    /// "3.12.1" → [3, 12, 1] (a part's leading digits; "3.13.0rc1" → [3, 13, 0]).
    static func numbers(_ version: String) -> [Int] {
        version.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
    }

    /// Parses `.python-version` content. `nil` when it names no version (empty, comments, `system`).
    public static func pythonVersionFile(_ text: String, file: String) throws(HostError) -> PythonRequest? {
        guard let line = text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else { return nil }
        if line == "system" { return nil }
        var v = Substring(line)
        for prefix in ["cpython-", "cpython@", "cpython", "python"] where v.lowercased().hasPrefix(prefix) {
            v = v.dropFirst(prefix.count)
            break
        }
        // "3.12.1-linux-x86_64-gnu" (uv's full key) → the version part.
        if let dash = v.firstIndex(of: "-") { v = v[..<dash] }
        let parts = v.split(separator: ".", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { $0.count <= 4 && $0.allSatisfy(\.isNumber) ? Int($0) : nil }
        guard (1...3).contains(parts.count), numbers.count == parts.count, numbers.first == 3 else {
            throw HostError(.packLoad, "\(file): cannot read the Python version \(line.debugDescription)",
                            hint: "write a CPython version such as 3.12 or 3.12.1 on the first line")
        }
        let clause = Clause(op: .equal, version: numbers, wildcard: numbers.count < 3, raw: line)
        return PythonRequest(source: .pythonVersionFile, text: v.description, clauses: [clause])
    }

    /// Parses a PEP 440 specifier set such as `>=3.10,<3.13` or `~=3.11`.
    public static func requiresPython(_ text: String, file: String) throws(HostError) -> PythonRequest {
        var clauses: [Clause] = []
        func bad(_ why: String) -> HostError {
            HostError(.packLoad, "\(file): requires-python \(text.debugDescription): \(why)",
                      hint: "write a PEP 440 specifier set such as \">=3.10,<3.14\"")
        }
        guard text.utf8.count <= 1000 else { throw bad("too long") }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let spec = part.trimmingCharacters(in: .whitespaces)
            guard !spec.isEmpty else { throw bad("an empty clause") }
            guard let op = [Clause.Op.arbitrary, .compatible, .equal, .notEqual, .lessEqual, .greaterEqual, .less, .greater]
                .first(where: { spec.hasPrefix($0.rawValue) }) else { throw bad("\(spec.debugDescription) has no comparison operator") }
            var rest = spec.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
            if op == .arbitrary {
                clauses.append(Clause(op: op, version: [], wildcard: false, raw: rest))
                continue
            }
            var wildcard = false
            if rest.hasSuffix(".*") {
                guard op == .equal || op == .notEqual else { throw bad("a wildcard is allowed only with == and !=") }
                wildcard = true
                rest = String(rest.dropLast(2))
            }
            // Leading "v", epochs, pre/post/dev parts: not a Python version anyone requires; refused clearly.
            let pieces = rest.split(separator: ".", omittingEmptySubsequences: false)
            guard !pieces.isEmpty, pieces.count <= 4, pieces.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isNumber) }) else {
                throw bad("\(rest.debugDescription) is not a release version")
            }
            let numbers = pieces.compactMap { Int($0) }
            if op == .compatible && numbers.count < 2 { throw bad("~= needs at least two version parts") }
            clauses.append(Clause(op: op, version: numbers, wildcard: wildcard, raw: spec))
        }
        return PythonRequest(source: .requiresPython, text: text.trimmingCharacters(in: .whitespaces), clauses: clauses)
    }

    /// The pack's request, if it makes one. `pyproject` is the file as read by `PyProject.read`.
    public static func of(packDirectory: URL, pyproject: PyProject?) throws(HostError) -> PythonRequest? {
        let file = packDirectory.appendingPathComponent(".python-version")
        if let data = try PyProject.smallFile(file.path) {
            if let r = try pythonVersionFile(String(decoding: data, as: UTF8.self), file: file.path) { return r }
        }
        if let spec = pyproject?.requiresPython {
            return try requiresPython(spec, file: packDirectory.appendingPathComponent("pyproject.toml").path)
        }
        return nil
    }
}

extension PythonRequest.Clause {
    static func compare(_ a: [Int], _ b: [Int]) -> Int {
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0, y = i < b.count ? b[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    func allows(_ v: [Int], raw: String) -> Bool {
        func equal() -> Bool {
            if wildcard { return Array(v.prefix(version.count)) == version || (v.count < version.count && Self.compare(v, version) == 0) }
            return Self.compare(v, version) == 0
        }
        switch op {
        case .arbitrary: return raw == self.raw
        case .equal: return equal()
        case .notEqual: return !equal()
        case .lessEqual: return Self.compare(v, version) <= 0
        case .greaterEqual: return Self.compare(v, version) >= 0
        case .less: return Self.compare(v, version) < 0
        case .greater: return Self.compare(v, version) > 0
        case .compatible:
            let prefix = Array(version.dropLast())
            return Self.compare(v, version) >= 0 && Array(v.prefix(prefix.count)) == prefix
        }
    }
}

/// What policy-host reads from a pack's `pyproject.toml`, parsed by Python's own `tomllib` (run on
/// the embedded version's interpreter, which has it from 3.11 on).
public struct PyProject: Sendable, Equatable, Codable {
    /// `[project]` is present (PEP 621): `uv sync` can work from it.
    public var hasProject: Bool
    /// `[project].dependencies`.
    public var dependencies: [String]
    /// `[project].requires-python`.
    public var requiresPython: String?
    /// `[tool.poetry]` is present.
    public var hasPoetry: Bool

    public init(hasProject: Bool, dependencies: [String] = [], requiresPython: String? = nil, hasPoetry: Bool = false) {
        self.hasProject = hasProject
        self.dependencies = dependencies
        self.requiresPython = requiresPython
        self.hasPoetry = hasPoetry
    }

    /// The largest pyproject.toml / .python-version read.
    public static let maxSize = 1 << 20

    static let script = """
    import json, sys, tomllib
    try:
        with open(sys.argv[1], "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        print(json.dumps({"error": str(e)})); sys.exit(0)
    except RecursionError:
        print(json.dumps({"error": "nested too deeply"})); sys.exit(0)
    def err(m):
        print(json.dumps({"error": m})); sys.exit(0)
    project = doc.get("project")
    if project is not None and not isinstance(project, dict): err("[project] must be a table")
    project = project or {}
    deps = project.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps): err("project.dependencies must be an array of strings")
    rp = project.get("requires-python")
    if rp is not None and not isinstance(rp, str): err("project.requires-python must be a string")
    tool = doc.get("tool")
    poetry = isinstance(tool, dict) and isinstance(tool.get("poetry"), dict)
    print(json.dumps({"hasProject": "project" in doc, "dependencies": deps, "requiresPython": rp, "hasPoetry": poetry}))
    """

    /// A regular file's content, at most `maxSize` bytes (nil when absent); links are followed as
    /// Python would follow them.
    static func smallFile(_ path: String) throws(HostError) -> Data? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        guard UInt32(st.st_mode) & 0o170000 == 0o100000 else { throw HostError(.packLoad, "\(path): not a regular file") }
        guard st.st_size <= maxSize else { throw HostError(.packLoad, "\(path): larger than \(maxSize >> 20) MiB; refusing to read it") }
        guard let data = FileManager.default.contents(atPath: path) else { throw HostError(.packLoad, "\(path): cannot be read") }
        return data
    }

    /// Reads `<pack>/pyproject.toml`, or nil when there is none. What tomllib made of a file is kept
    /// in `<cache>/policy-host/pyproject/<sha256 of its bytes>.json`, so a run whose venv is fresh
    /// does not start Python for it.
    public static func read(packDirectory: URL, python: String) throws(HostError) -> PyProject? {
        let file = packDirectory.appendingPathComponent("pyproject.toml").path
        guard let data = try smallFile(file) else { return nil }
        let key = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let cache = URL(fileURLWithPath: ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache"))
            .appendingPathComponent("policy-host/pyproject/\(key).json")
        if let cached = FileManager.default.contents(atPath: cache.path), let p = try? JSONDecoder().decode(PyProject.self, from: cached) {
            return p
        }
        let p = try parse(file, python: python)
        try? FileManager.default.createDirectory(at: cache.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let encoded = try? JSONEncoder().encode(p) { try? encoded.write(to: cache, options: .atomic) }
        return p
    }

    /// Runs tomllib on `file`.
    private static func parse(_ file: String, python: String) throws(HostError) -> PyProject {
        let result: ProcessResult
        do { result = try Subprocess.run([python, "-I", "-c", script, file]) } catch {
            throw HostError(.environment, "could not run \(python) to read \(file): \(error.localizedDescription)")
        }
        let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }).map(String.init) ?? ""
        if let e = try? JSONDecoder().decode([String: String].self, from: Data(line.utf8)), let message = e["error"] {
            throw HostError(.packLoad, "\(file): \(message)")
        }
        guard result.status == 0, let p = try? JSONDecoder().decode(PyProject.self, from: Data(line.utf8)) else {
            throw HostError(.environment, "could not read \(file) with \(python) (exit status \(result.status))", detail: result.tail(10))
        }
        return p
    }
}

/// The CPython interpreters on this machine, as `doctor` lists them and as a pack's version request
/// is matched: `PULUMI_PYTHON_CMD`; `python3.N`, `python3` and `python` on PATH; Debian's and
/// /usr/local's `python3.N`; pyenv's versions (`PYENV_ROOT`, else `~/.pyenv`); uv's managed
/// Pythons (`UV_PYTHON_INSTALL_DIR`, else `~/.local/share/uv/python`). Deduplicated by resolved path.
public enum PythonInterpreters {
    public static func candidates(environment: [String: String]) -> [String] {
        var out: [String] = []
        let home = environment["HOME"] ?? NSHomeDirectory()
        if let cmd = environment["PULUMI_PYTHON_CMD"], !cmd.isEmpty, let p = Subprocess.which(cmd, path: environment["PATH"]) { out.append(p) }
        let minors = (8...14).map { "python3.\($0)" }
        for name in minors + ["python3", "python"] {
            if let p = Subprocess.which(name, path: environment["PATH"]) { out.append(p) }
        }
        for dir in ["/usr/bin", "/usr/local/bin"] { out += minors.map { "\(dir)/\($0)" } }
        let managed = [
            (environment["PYENV_ROOT"] ?? home + "/.pyenv") + "/versions",
            environment["UV_PYTHON_INSTALL_DIR"] ?? ((environment["XDG_DATA_HOME"] ?? home + "/.local/share") + "/uv/python"),
        ]
        for root in managed {
            for entry in ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted() where !entry.hasPrefix(".") {
                out.append("\(root)/\(entry)/bin/python3")
            }
        }
        return out
    }

    /// Every candidate that runs and is CPython 3, once per resolved executable, in discovery order.
    public static func discover(environment: [String: String]) -> [InterpreterInfo] {
        var seen = Set<String>()
        var out: [InterpreterInfo] = []
        for c in candidates(environment: environment) where FileManager.default.isExecutableFile(atPath: c) {
            let resolved = URL(fileURLWithPath: c).resolvingSymlinksInPath().path
            guard !seen.contains(resolved), let info = try? InterpreterInfo.query(c), info.version.hasPrefix("3.") else { continue }
            seen.insert(resolved)
            let real = URL(fileURLWithPath: info.executable).resolvingSymlinksInPath().path
            if real != resolved {
                guard !seen.contains(real) else { continue }
                seen.insert(real)
            }
            out.append(info)
        }
        return out
    }

    /// The interpreter for a new venv under `request`: the embedded version's own when it is allowed
    /// (the fast path), else the newest allowed version found (the first found among equals).
    public static func best(for request: PythonRequest, among found: [InterpreterInfo], embedded: InterpreterInfo?) -> InterpreterInfo? {
        if let embedded, request.allows(embedded.version) { return embedded }
        return found.filter { request.allows($0.version) }.enumerated()
            .max { a, b in
                let c = PythonRequest.Clause.compare(a.element.versionNumbers, b.element.versionNumbers)
                return c != 0 ? c < 0 : a.offset > b.offset
            }?.element
    }
}

extension InterpreterInfo {
    var versionNumbers: [Int] { PythonRequest.numbers(version) }
}
