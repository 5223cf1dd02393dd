import Foundation

/// What the venv manager decided to do, computed without side effects.
public enum VenvAction: Sendable, Equatable {
    /// The venv matches its inputs: nothing to do.
    case reuse
    /// No venv yet (missing or empty directory): create it and install.
    case create
    /// A venv of ours (or an interrupted one) must be rebuilt from scratch.
    case recreate(reason: String)
    /// The venv is sound but its packages do not match the inputs: install again.
    case install(reason: String)
}

/// The observed state of a venv directory, gathered by `VenvState.inspect`.
public struct VenvState: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case missing
        case notADirectory
        case emptyDirectory
        /// A directory with content but no pyvenv.cfg: not a venv; never touched.
        case foreignDirectory
        case venv
    }
    public var kind: Kind
    /// `version` (or `version_info`) from pyvenv.cfg.
    public var pyvenvVersion: String?
    public var pythonIsFile: Bool = false
    public var stamp: VenvStamp?

    public init(kind: Kind, pyvenvVersion: String? = nil, pythonIsFile: Bool = false, stamp: VenvStamp? = nil) {
        self.kind = kind
        self.pyvenvVersion = pyvenvVersion
        self.pythonIsFile = pythonIsFile
        self.stamp = stamp
    }

    public static func inspect(_ venv: URL) -> VenvState {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: venv.path, isDirectory: &isDir) else { return VenvState(kind: .missing) }
        guard isDir.boolValue else { return VenvState(kind: .notADirectory) }
        let contents = (try? fm.contentsOfDirectory(atPath: venv.path)) ?? []
        let stamp = VenvStamp.read(from: venv)
        if contents.isEmpty { return VenvState(kind: .emptyDirectory) }
        let cfgURL = venv.appendingPathComponent("pyvenv.cfg")
        guard let cfg = try? String(contentsOf: cfgURL, encoding: .utf8) else {
            // Our own half-made venv (killed inside `-m venv`) still has our stamp.
            if let stamp, contents.allSatisfy({ $0 == VenvStamp.fileName || $0 == "bin" || $0 == "lib" || $0 == "include" || $0 == "lib64" }) {
                return VenvState(kind: .venv, pyvenvVersion: nil, pythonIsFile: false, stamp: stamp)
            }
            return VenvState(kind: .foreignDirectory)
        }
        var version: String?
        for line in cfg.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "version" || parts[0] == "version_info" { version = version ?? parts[1] }
        }
        var pyIsDir: ObjCBool = false
        let py = venv.appendingPathComponent("bin/python")
        let pyExists = fm.fileExists(atPath: py.path, isDirectory: &pyIsDir) && !pyIsDir.boolValue
        return VenvState(kind: .venv, pyvenvVersion: version, pythonIsFile: pyExists, stamp: stamp)
    }
}

/// The inputs a venv is built from; their digest is the freshness key.
public struct VenvInputs: Sendable, Equatable {
    public var requirementsDigest: String
    public var interpreter: String
    public var interpreterVersion: String
    public var toolchain: String

    public init(requirementsDigest: String, interpreter: String, interpreterVersion: String, toolchain: String) {
        self.requirementsDigest = requirementsDigest
        self.interpreter = interpreter
        self.interpreterVersion = interpreterVersion
        self.toolchain = toolchain
    }
}

public enum VenvPlan {
    /// Decides what to do with `state` so that the venv matches `inputs`. Pure.
    public static func make(state: VenvState, inputs: VenvInputs, recreate: Bool, venvPath: String) throws(HostError) -> VenvAction {
        switch state.kind {
        case .missing, .emptyDirectory:
            return .create
        case .notADirectory:
            throw HostError(.environment, "the 'virtualenv' option in PulumiPolicy.yaml is set to \"\(venvPath)\" but it is not a directory",
                            hint: "remove or rename that file, or point `virtualenv` elsewhere")
        case .foreignDirectory:
            throw HostError(.environment, "\(venvPath) exists but is not a virtual environment (no pyvenv.cfg); refusing to touch it",
                            hint: "move it away or point `virtualenv` in PulumiPolicy.yaml at another directory")
        case .venv:
            break
        }
        if recreate { return .recreate(reason: "--recreate was given") }
        guard state.pythonIsFile else { return .recreate(reason: "bin/python is missing") }
        if let v = state.pyvenvVersion, v != inputs.interpreterVersion {
            return .recreate(reason: "it was made by Python \(v), but the embedded libpython is \(inputs.interpreterVersion)")
        }
        guard let stamp = state.stamp else { return .install(reason: "it was not built by policy-host") }
        if stamp.state == .creating { return .recreate(reason: "its creation was interrupted") }
        if stamp.state == .installing { return .install(reason: "its last install was interrupted") }
        if stamp.interpreterVersion != inputs.interpreterVersion || stamp.interpreter != inputs.interpreter {
            return .recreate(reason: "the interpreter changed")
        }
        if stamp.toolchain != inputs.toolchain { return .recreate(reason: "the toolchain changed to \(inputs.toolchain)") }
        if stamp.requirementsDigest != inputs.requirementsDigest { return .install(reason: "the requirements changed") }
        return .reuse
    }
}

/// The record policy-host keeps inside each venv it builds.
public struct VenvStamp: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case creating, installing, complete }
    public var format: Int = 1
    public var state: State
    public var requirementsDigest: String
    public var interpreter: String
    public var interpreterVersion: String
    public var toolchain: String

    public init(state: State, requirementsDigest: String, interpreter: String, interpreterVersion: String, toolchain: String) {
        self.state = state
        self.requirementsDigest = requirementsDigest
        self.interpreter = interpreter
        self.interpreterVersion = interpreterVersion
        self.toolchain = toolchain
    }

    public static let fileName = ".policy-host-stamp.json"

    public static func read(from venv: URL) -> VenvStamp? {
        guard let d = FileManager.default.contents(atPath: venv.appendingPathComponent(fileName).path) else { return nil }
        return try? JSONDecoder().decode(VenvStamp.self, from: d)
    }

    /// Writes the stamp atomically (temp file + rename).
    public func write(to venv: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try enc.encode(self).write(to: venv.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
