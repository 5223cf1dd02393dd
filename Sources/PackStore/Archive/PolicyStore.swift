import Foundation
import HostCore
import PythonEnv
import PolicyPack

/// Installed packs, laid out as the Pulumi CLI installs required packs:
/// `<PULUMI_HOME or ~/.pulumi>/policies/<org>/pulumi-analyzer-<name>-v<version>`.
/// Unlike the CLI, "installed" means verified: PulumiPolicy.yaml present and the venv fresh.
public struct PolicyStore: Sendable {
    public var root: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["PULUMI_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".pulumi")
        root = home.appendingPathComponent("policies")
    }

    public func directory(org: String, name: String, version: String) -> URL {
        root.appendingPathComponent(org).appendingPathComponent("pulumi-analyzer-\(name.replacingOccurrences(of: "/", with: "_"))-v\(version)")
    }

    public enum State: Equatable, Sendable {
        case installed
        case missing
        /// The directory exists but is not usable as is; `reason` says why.
        case broken(String)
    }

    public struct Installed: Sendable {
        public var org: String
        public var name: String
        public var version: String
        public var directory: URL
        public var state: State
    }

    /// The state of an installed pack directory (cheap: no Python is started).
    public func state(of dir: URL) -> State {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else { return .missing }
        guard let manifest = try? PolicyManifest.load(packDirectory: dir) else {
            return .broken("PulumiPolicy.yaml or __main__.py is missing or invalid")
        }
        guard let venv = manifest.virtualenvURL else { return .broken("no virtualenv option") }
        let venvState = VenvState.inspect(venv)
        guard venvState.kind == .venv, venvState.pythonIsFile, let stamp = venvState.stamp else { return .broken("its venv is missing or incomplete") }
        guard stamp.state == .complete else { return .broken("its venv was not finished") }
        guard stamp.requirementsDigest == VenvManager.requirementsDigest(packDirectory: dir) else { return .broken("its venv is stale") }
        return .installed
    }

    /// Every pack directory under the store.
    public func list() -> [Installed] {
        let fm = FileManager.default
        var out: [Installed] = []
        for org in ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).sorted() {
            let orgDir = root.appendingPathComponent(org)
            for entry in ((try? fm.contentsOfDirectory(atPath: orgDir.path)) ?? []).sorted() where entry.hasPrefix("pulumi-analyzer-") {
                let rest = entry.dropFirst("pulumi-analyzer-".count)
                guard let v = rest.range(of: "-v", options: .backwards) else { continue }
                let dir = orgDir.appendingPathComponent(entry)
                out.append(Installed(org: org, name: String(rest[..<v.lowerBound]), version: String(rest[v.upperBound...]),
                                     directory: dir, state: state(of: dir)))
            }
        }
        return out
    }

    /// The file policy-host writes into every pack directory it installs, before the directory gets
    /// its final name: only such a directory is ever removed or repaired by `install`.
    public static let markerName = ".policy-host-installed"

    /// An organization or pack name as a single, harmless path component.
    public static func isValidComponent(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 100, s != ".", s != ".." else { return false }
        return s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        } && !s.hasPrefix(".")
    }

    /// Installs an archive: validated extraction into a temporary directory beside the target (see
    /// `PackArchive.extract`), `virtualenv: venv` set whatever the YAML said, policy-host's marker,
    /// an atomic rename, then the venv. A half-installed pack of ours is repaired; a directory at
    /// the target that policy-host did not install is never removed.
    @discardableResult
    public func install(archive: URL, org: String, name: String?, maxSize: Int, manager: VenvManager) throws(HostError) -> Installed {
        guard Self.isValidComponent(org) else {
            throw HostError(.usage, "invalid organization '\(Self.printable(org))': use letters, digits, '-', '_' and '.' (not first), at most 100")
        }
        let contents = try PackArchive.read(archive, maxSize: maxSize)
        let yamlPath = "\(archive.path):package/PulumiPolicy.yaml"
        // A bad manifest inside an archive is bad input (exit 2), not a pack that failed to load.
        func asInput<T>(_ body: () throws(HostError) -> T) throws(HostError) -> T {
            do { return try body() } catch {
                var e = error
                if e.status == .packLoad { e.status = .usage }
                throw e
            }
        }
        var manifest = try asInput { () throws(HostError) in try PolicyManifest.parse(contents.manifestData, packDirectory: root, path: yamlPath) }
        guard let version = manifest.version, PackArchive.isValidVersion(version), Self.isValidComponent(version) else {
            throw HostError(.usage, "\(archive.path): the pack has no valid version in PulumiPolicy.yaml",
                            hint: "set `version:` (letters, digits, '-', '_' and '.') and package it again")
        }
        let packName: String
        if let name {
            packName = name
        } else {
            let file = archive.lastPathComponent
            let suffix = "-v\(version).tar.gz"
            guard file.hasSuffix(suffix), file.count > suffix.count else {
                throw HostError(.usage, "cannot tell the pack's name from the file name \(Self.printable(file))",
                                hint: "pass --name, or keep the `<name>-v<version>.tar.gz` name that `policy-host pack` gives")
            }
            packName = String(file.dropLast(suffix.count))
        }
        guard PackTemplates.isValidPackName(packName), Self.isValidComponent(packName) else {
            throw HostError(.usage, "'\(Self.printable(packName))' is not a valid policy pack name")
        }
        let forcedYAML = try asInput { () throws(HostError) in try PolicyManifest.forcingVirtualenv(contents.manifestData, path: yamlPath) }
        let target = directory(org: org, name: packName, version: version)
        let orgDir = root.appendingPathComponent(org)
        guard target.standardizedFileURL.deletingLastPathComponent().path == orgDir.standardizedFileURL.path else {
            throw HostError(.usage, "the install path \(target.path) would not lie under \(orgDir.path)")
        }
        let fm = FileManager.default
        do { try fm.createDirectory(at: orgDir, withIntermediateDirectories: true) } catch {
            throw HostError(.environment, "cannot create \(orgDir.path): \(error.localizedDescription)")
        }
        cleanStaleTemporaries(beside: target)

        let ours = fm.fileExists(atPath: target.appendingPathComponent(Self.markerName).path)
        switch state(of: target) {
        case .installed:
            return Installed(org: org, name: packName, version: version, directory: target, state: .installed)
        case .broken where !ours:
            throw HostError(.environment, "\(target.path) exists but was not installed by policy-host; refusing to change it",
                            hint: "remove it yourself if it is not needed, then install again")
        case .broken where (try? PolicyManifest.load(packDirectory: target)) != nil:
            // Files in place, venv not finished: only the venv needs work.
            break
        case .broken:
            do { try fm.removeItem(at: target) } catch {
                throw HostError(.environment, "cannot remove the half-installed pack \(target.path): \(error.localizedDescription)")
            }
            fallthrough
        case .missing:
            let tmp = orgDir.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
            try? fm.removeItem(at: tmp)
            guard mkdir(tmp.path, 0o755) == 0 else {
                throw HostError(.environment, "cannot create \(tmp.path): \(String(cString: strerror(errno)))")
            }
            do {
                try Data().write(to: tmp.appendingPathComponent(Self.markerName))
            } catch {
                try? fm.removeItem(at: tmp)
                throw HostError(.environment, "cannot write into \(tmp.path): \(error.localizedDescription)")
            }
            do throws(HostError) {
                try PackArchive.extract(contents, into: tmp)
                // The YAML was extracted as a regular file of ours (no links are followed): replace it.
                let yaml = tmp.appendingPathComponent(PolicyManifest.fileName)
                guard unlink(yaml.path) == 0, (try? forcedYAML.write(to: yaml)) != nil else {
                    throw HostError(.environment, "cannot write \(yaml.path)")
                }
            } catch {
                try? fm.removeItem(at: tmp)
                throw error
            }
            guard rename(tmp.path, target.path) == 0 else {
                let err = String(cString: strerror(errno))
                try? fm.removeItem(at: tmp)
                throw HostError(.environment, "cannot move the pack into \(target.path): \(err)")
            }
        }
        manifest = try PolicyManifest.load(packDirectory: target)
        guard manifest.virtualenvURL?.path == target.appendingPathComponent("venv").standardizedFileURL.path else {
            throw HostError(.environment, "\(target.path): the installed pack's venv is not at \(target.path)/venv",
                            hint: "remove \(target.path) and install again")
        }
        try manager.ensure(manifest)
        return Installed(org: org, name: packName, version: version, directory: target, state: state(of: target))
    }

    /// `s` with control characters escaped, for messages.
    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined().prefix(120))
    }

    /// Removes temporary extraction directories left by installs that died.
    func cleanStaleTemporaries(beside target: URL) {
        let dir = target.deletingLastPathComponent()
        let prefix = ".\(target.lastPathComponent).tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where entry.hasPrefix(prefix) {
            if let pid = Int32(entry.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) == 0 { continue }
            let tmp = dir.appendingPathComponent(entry)
            // Ours: the marker is written first; an empty one died before that.
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
            guard contents.isEmpty || contents.contains(Self.markerName) else { continue }
            try? FileManager.default.removeItem(at: tmp)
        }
    }
}
