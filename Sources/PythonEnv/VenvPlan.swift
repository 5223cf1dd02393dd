import Foundation
import HostCore

/// What the venv manager decided to do, computed without side effects.
public enum VenvAction: Sendable, Equatable {
    /// The venv matches its inputs: nothing to do.
    case reuse
    /// No venv yet (missing or empty directory): create it and install.
    case create
    /// A venv of ours (or one the user asked to rebuild with `--recreate`) must be rebuilt from scratch.
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
    /// policy-host created this directory (its marker, `CACHEDIR.TAG` naming policy-host, is
    /// written before the directory gets its name). Only such a venv is ever removed unasked.
    public var ownedByPolicyHost: Bool = false

    public init(kind: Kind, pyvenvVersion: String? = nil, pythonIsFile: Bool = false, stamp: VenvStamp? = nil,
                ownedByPolicyHost: Bool = false) {
        self.kind = kind
        self.pyvenvVersion = pyvenvVersion
        self.pythonIsFile = pythonIsFile
        self.stamp = stamp
        self.ownedByPolicyHost = ownedByPolicyHost
    }

    /// The marker file and the text that makes it ours.
    public static let markerName = "CACHEDIR.TAG"
    public static let markerText = "Signature: 8a477f597d28d172789f06886806bc55\n# This venv was created by policy-host.\n"

    static func isOwned(_ venv: URL) -> Bool {
        guard let d = FileManager.default.contents(atPath: venv.appendingPathComponent(markerName).path) else { return false }
        return String(decoding: d, as: UTF8.self).contains("created by policy-host")
    }

    public static func inspect(_ venv: URL) -> VenvState {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: venv.path, isDirectory: &isDir) else { return VenvState(kind: .missing) }
        guard isDir.boolValue else { return VenvState(kind: .notADirectory) }
        let contents = (try? fm.contentsOfDirectory(atPath: venv.path)) ?? []
        let stamp = VenvStamp.read(from: venv)
        if contents.isEmpty { return VenvState(kind: .emptyDirectory) }
        let owned = isOwned(venv)
        let cfgURL = venv.appendingPathComponent("pyvenv.cfg")
        guard let cfg = try? String(contentsOf: cfgURL, encoding: .utf8) else {
            // Our own half-made venv (killed inside `-m venv`) still has our marker.
            if owned {
                return VenvState(kind: .venv, pyvenvVersion: nil, pythonIsFile: false, stamp: stamp, ownedByPolicyHost: true)
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
        return VenvState(kind: .venv, pyvenvVersion: version, pythonIsFile: pyExists, stamp: stamp, ownedByPolicyHost: owned)
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

/// Which Python versions a pack's venv may have, by where the pack is going to run.
public enum VenvVersionRule: Sendable, Equatable {
    /// In the embedded interpreter: the venv must be of the embedded libpython's minor version
    /// (any patch release shares its ABI).
    case embeddedMinorVersion
    /// Possibly out of process (`--runtime sdk-server` or automatic): a venv of any version is
    /// used with its own interpreter; only a missing venv is created, with the embedded version.
    case anyVersion
}

public enum VenvPlan {
    /// "3.11.7" → "3.11": patch releases of one minor version share the ABI.
    public static func minor(_ version: String) -> String {
        version.split(separator: ".").prefix(2).joined(separator: ".")
    }

    /// Decides what to do with `state` so that the venv matches `inputs`. Pure.
    ///
    /// The rule users rely on: a venv that policy-host did not create (no marker) is used as it is,
    /// installed into when its requirements changed, or refused with a hint — never removed or
    /// rebuilt unless the user asked with `--recreate`. Any patch release of the embedded minor
    /// version is compatible; with `.anyVersion`, so is any other version (the pack then runs out
    /// of process, on the venv's own interpreter), whoever made the venv.
    public static func make(state: VenvState, inputs: VenvInputs, recreate: Bool, venvPath: String,
                            versions: VenvVersionRule = .embeddedMinorVersion) throws(HostError) -> VenvAction {
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
        let owned = state.ownedByPolicyHost
        func notOurs(_ problem: String) -> HostError {
            HostError(.environment, "\(venvPath): \(problem); policy-host did not create this venv, so it will not rebuild it",
                      hint: "repair it yourself, or run `policy-host install --recreate` to let policy-host delete and rebuild it")
        }
        guard state.pythonIsFile else {
            if owned { return .recreate(reason: state.pyvenvVersion == nil ? "its creation was interrupted" : "bin/python is missing") }
            throw notOurs("it has no bin/python")
        }
        let embedded = minor(inputs.interpreterVersion)
        let checkVersion = versions == .embeddedMinorVersion
        if checkVersion, let v = state.pyvenvVersion, minor(v) != embedded {
            if owned { return .recreate(reason: "it was made by Python \(v), but the embedded libpython is \(inputs.interpreterVersion)") }
            throw notOurs("it was made by Python \(v), and the embedded runtime is Python \(embedded)")
        }
        guard let stamp = state.stamp else { return .install(reason: "it was not built by policy-host") }
        if stamp.state == .creating {
            if owned { return .recreate(reason: "its creation was interrupted") }
            return .install(reason: "its last install was interrupted")
        }
        if stamp.state == .installing { return .install(reason: "its last install was interrupted") }
        if checkVersion && minor(stamp.interpreterVersion) != embedded {
            if owned { return .recreate(reason: "the interpreter changed") }
            throw notOurs("it was made by Python \(stamp.interpreterVersion), and the embedded runtime is Python \(embedded)")
        }
        if stamp.toolchain != inputs.toolchain {
            if owned { return .recreate(reason: "the toolchain changed to \(inputs.toolchain)") }
            return .install(reason: "the toolchain changed to \(inputs.toolchain)")
        }
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
