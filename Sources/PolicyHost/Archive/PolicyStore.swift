import Foundation

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

    /// Installs an archive: validated extraction into a temporary directory beside
    /// the target, `virtualenv: venv` forced, an atomic rename, then the venv. A
    /// half-installed pack (an earlier install was interrupted) is repaired.
    @discardableResult
    public func install(archive: URL, org: String, name: String?, maxSize: Int, manager: VenvManager) throws(HostError) -> Installed {
        guard !org.isEmpty, !org.contains("/") else {
            throw HostError(.usage, "invalid organization '\(org)': it must be non-empty and contain no '/'")
        }
        let contents = try PackArchive.read(archive, maxSize: maxSize)
        var manifest = try PolicyManifest.parse(contents.manifestData, packDirectory: root, path: "\(archive.path):package/PulumiPolicy.yaml")
        guard let version = manifest.version, PackArchive.isValidVersion(version) else {
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
                throw HostError(.usage, "cannot tell the pack's name from the file name \(file)",
                                hint: "pass --name, or keep the `<name>-v<version>.tar.gz` name that `policy-host pack` gives")
            }
            packName = String(file.dropLast(suffix.count))
        }
        guard PackTemplates.isValidPackName(packName) else {
            throw HostError(.usage, "'\(packName)' is not a valid policy pack name")
        }
        let target = directory(org: org, name: packName, version: version)
        let fm = FileManager.default
        do { try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
            throw HostError(.environment, "cannot create \(target.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        cleanStaleTemporaries(beside: target)

        switch state(of: target) {
        case .installed:
            return Installed(org: org, name: packName, version: version, directory: target, state: .installed)
        case .broken where (try? PolicyManifest.load(packDirectory: target)) != nil:
            // Files in place, venv not finished: only the venv needs work.
            break
        case .broken:
            do { try fm.removeItem(at: target) } catch {
                throw HostError(.environment, "cannot remove the half-installed pack \(target.path): \(error.localizedDescription)")
            }
            fallthrough
        case .missing:
            let tmp = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
            try? fm.removeItem(at: tmp)
            do { try fm.createDirectory(at: tmp, withIntermediateDirectories: false) } catch {
                throw HostError(.environment, "cannot create \(tmp.path): \(error.localizedDescription)")
            }
            do {
                try PackArchive.extract(contents, into: tmp)
                try Self.forceVirtualenv(in: tmp)
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
        try manager.ensure(manifest)
        return Installed(org: org, name: packName, version: version, directory: target, state: state(of: target))
    }

    /// Removes temporary extraction directories left by installs that died.
    func cleanStaleTemporaries(beside target: URL) {
        let dir = target.deletingLastPathComponent()
        let prefix = ".\(target.lastPathComponent).tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where entry.hasPrefix(prefix) {
            if let pid = Int32(entry.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) == 0 { continue }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(entry))
        }
    }

    /// As the CLI does for Python packs: `virtualenv: venv` when the option is absent.
    static func forceVirtualenv(in dir: URL) throws(HostError) {
        let url = dir.appendingPathComponent(PolicyManifest.fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let m = try PolicyManifest.parse(data, packDirectory: dir, path: url.path)
        guard m.virtualenv == nil else { return }
        var text = String(decoding: data, as: UTF8.self)
        var lines = text.components(separatedBy: "\n")
        if let i = lines.firstIndex(where: { $0.hasPrefix("runtime:") && $0.trimmingCharacters(in: .whitespaces) != "runtime:" }) {
            // `runtime: python` → the object form.
            lines[i] = "runtime:\n  name: \(m.runtime)\n  options:\n    virtualenv: venv"
        } else if let i = lines.firstIndex(where: { $0.hasPrefix("runtime:") }) {
            if let o = lines[(i + 1)...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "options:" }) {
                let indent = String(lines[o].prefix { $0 == " " })
                lines.insert("\(indent)  virtualenv: venv", at: o + 1)
            } else {
                let indent = lines.count > i + 1 ? String(lines[i + 1].prefix { $0 == " " }) : "  "
                lines.insert("\(indent.isEmpty ? "  " : indent)options:\n\(indent.isEmpty ? "  " : indent)  virtualenv: venv", at: i + 1)
            }
        }
        text = lines.joined(separator: "\n")
        let check = try PolicyManifest.parse(Data(text.utf8), packDirectory: dir, path: url.path)
        guard check.virtualenv == "venv" else {
            throw HostError(.usage, "\(url.path): could not add `virtualenv: venv` to the runtime options")
        }
        do { try Data(text.utf8).write(to: url) } catch {
            throw HostError(.environment, "cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
