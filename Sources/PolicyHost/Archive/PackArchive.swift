import Foundation

/// Pack archives as `pulumi policy publish` makes them: a .tar.gz whose files
/// sit under `package/`; and their safe extraction.
public enum PackArchive {
    public static let versionPattern = "^[a-zA-Z0-9-_.]{1,100}$"

    public static func isValidVersion(_ v: String) -> Bool {
        v.range(of: versionPattern, options: .regularExpression) != nil
    }

    /// The files of a pack, as publish would take them and better: `.gitignore`d
    /// files, `.git`, venvs (any directory with a pyvenv.cfg, and the pack's
    /// `virtualenv`), `__pycache__`, `*.pyc` and policy-host's stamps are left out.
    /// Paths are relative to the pack directory, sorted.
    public static func files(of manifest: PolicyManifest) -> [String] {
        let root = manifest.packDirectory.standardizedFileURL
        let ignore = GitIgnore(loadingFrom: root.deletingLastPathComponent())
        let venv = manifest.virtualenvURL?.standardizedFileURL.path
        var out: [String] = []
        var visited = Set<String>()
        let fm = FileManager.default
        func walk(_ dir: URL, _ rel: String, _ ignore: GitIgnore) {
            let real = dir.resolvingSymlinksInPath().path
            guard visited.insert(real).inserted else { return }
            var ignore = ignore
            ignore.add(fileIn: dir)
            guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
            for name in names.sorted() {
                let url = dir.appendingPathComponent(name)
                let relPath = rel.isEmpty ? name : rel + "/" + name
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }  // dangling symlink
                if isDir.boolValue {
                    if name == ".git" || name == "__pycache__" || url.standardizedFileURL.path == venv
                        || fm.fileExists(atPath: url.appendingPathComponent("pyvenv.cfg").path)
                        || ignore.isIgnored(url.standardizedFileURL.path, isDirectory: true) { continue }
                    walk(url, relPath, ignore)
                } else {
                    if name.hasSuffix(".pyc") || name == VenvStamp.fileName || name == VenvManager.logName { continue }
                    if ignore.isIgnored(url.standardizedFileURL.path, isDirectory: false) { continue }
                    out.append(relPath)
                }
            }
        }
        walk(root, "", ignore)
        return out
    }

    /// Builds the archive bytes (gzip'ed tar, `package/` prefix, symlinks followed).
    public static func build(_ manifest: PolicyManifest) throws(HostError) -> (data: Data, files: [String]) {
        let files = files(of: manifest)
        var entries: [Tar.Entry] = []
        for rel in files {
            let url = manifest.packDirectory.appendingPathComponent(rel)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw HostError(.usage, "\(url.path): cannot read file")
            }
            let mode = ((try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions]) as? Int) ?? 0o644
            entries.append(Tar.Entry(path: "package/" + rel, kind: .file, mode: mode, data: data))
        }
        return (try Gzip.compress(Tar.write(entries)), files)
    }

    /// A validated archive: files and links relative to the package root.
    public struct Contents: Sendable {
        public var entries: [Tar.Entry]
        public var manifestData: Data
    }

    /// Reads and validates an archive: every entry under `package/`, no absolute
    /// paths or `..`, links staying inside, no devices or FIFOs, bounded size.
    public static func read(_ url: URL, maxSize: Int) throws(HostError) -> Contents {
        let file = url.path
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw HostError(.usage, "\(file): no such file or not readable")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int, size > maxSize {
            throw HostError(.usage, "\(file): the archive is larger than \(maxSize >> 20) MiB; refusing it", hint: "raise the limit with --max-size")
        }
        let raw = try Gzip.decompress(file: url, maxSize: maxSize)
        var entries: [Tar.Entry] = []
        var files = Set<String>()
        for e in try Tar.read(raw, file: file) {
            let path = try relativePath(e.path, file: file)
            if path.isEmpty { continue }  // package/ itself
            switch e.kind {
            case .file:
                files.insert(path)
            case .directory:
                break
            case .symlink(let target):
                guard !target.hasPrefix("/"), let resolved = normalize((path as NSString).deletingLastPathComponent + "/" + target), !resolved.isEmpty else {
                    throw HostError(.usage, "\(file): the link package/\(path) points outside the pack (\(target)); refusing the archive")
                }
            case .hardlink(let target):
                guard let t = try? relativePath(target, file: file), files.contains(t) else {
                    throw HostError(.usage, "\(file): the hard link package/\(path) points outside the pack (\(target)); refusing the archive")
                }
            case .other(let flag):
                let what = flag == UInt8(ascii: "3") || flag == UInt8(ascii: "4") ? "a device" : flag == UInt8(ascii: "6") ? "a FIFO" : "an unsupported entry type"
                throw HostError(.usage, "\(file): package/\(path) is \(what); refusing the archive")
            }
            var entry = e
            entry.path = path
            entries.append(entry)
            if entries.count > 100_000 { throw HostError(.usage, "\(file): more than 100000 entries; refusing the archive") }
        }
        guard let yaml = entries.first(where: { $0.path == PolicyManifest.fileName && $0.kind == .file }) else {
            throw HostError(.usage, "\(file): no package/\(PolicyManifest.fileName) in the archive; is it a policy pack archive?")
        }
        return Contents(entries: entries, manifestData: yaml.data)
    }

    /// `package/a/b` → `a/b`; refuses anything else that could land outside the package.
    static func relativePath(_ path: String, file: String) throws(HostError) -> String {
        if path.hasPrefix("/") { throw HostError(.usage, "\(file): the entry \(path) has an absolute path; refusing the archive") }
        var p = path
        if p.hasPrefix("./") { p.removeFirst(2) }
        guard p == "package" || p == "package/" || p.hasPrefix("package/") else {
            throw HostError(.usage, "\(file): the entry \(path) is not under package/; refusing the archive",
                            hint: "pack archives hold their files under package/ (as `policy-host pack` and `pulumi policy publish` make them)")
        }
        let rest = String(p.dropFirst("package".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let n = normalize(rest), !rest.split(separator: "/").contains("..") else {
            throw HostError(.usage, "\(file): the entry \(path) escapes the package directory; refusing the archive")
        }
        return n
    }

    /// Lexical normalisation; `nil` when the path climbs above its root.
    static func normalize(_ path: String) -> String? {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(c)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Writes validated contents under `directory` (which must exist and be empty).
    public static func extract(_ contents: Contents, into directory: URL) throws(HostError) {
        let fm = FileManager.default
        do {
            for e in contents.entries {
                let url = directory.appendingPathComponent(e.path)
                switch e.kind {
                case .directory:
                    try fm.createDirectory(at: url, withIntermediateDirectories: true)
                case .file:
                    try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try e.data.write(to: url)
                    try? fm.setAttributes([.posixPermissions: e.mode & 0o755 | 0o600], ofItemAtPath: url.path)
                case .symlink(let target):
                    try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try fm.createSymbolicLink(atPath: url.path, withDestinationPath: target)
                case .hardlink(let target):
                    try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try fm.copyItem(at: directory.appendingPathComponent(target), to: url)
                case .other:
                    break
                }
            }
        } catch {
            throw HostError(.environment, "could not extract into \(directory.path): \(error.localizedDescription)")
        }
    }
}
