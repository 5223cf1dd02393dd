import Foundation
import HostCore
import PythonEnv

/// Pack archives as `pulumi policy publish` makes them: a .tar.gz whose files
/// sit under `package/`; and their safe extraction.
public enum PackArchive {
    public static let versionPattern = "^[a-zA-Z0-9-_.]{1,100}$"

    public static func isValidVersion(_ v: String) -> Bool {
        v.range(of: versionPattern, options: .regularExpression) != nil
    }

    /// One thing `pack` puts into an archive, relative to the pack directory.
    public struct PackedItem: Sendable, Equatable {
        public var path: String
        /// The link's target, for a symbolic link (stored as a link, never followed).
        public var linkTarget: String?
    }

    /// Largest pack `pack` writes (what `install` accepts by default).
    public static let maxPackSize = 256 << 20

    /// Whether `name` looks like a pack archive (`<name>-v<version>.tar.gz`): never packed again.
    static func looksLikePackArchive(_ name: String) -> Bool {
        name.hasSuffix(".tar.gz") && name.contains("-v")
    }

    /// The files and links of a pack, as publish would take them and better: `.gitignore`d files,
    /// `.git`, venvs (any directory with a pyvenv.cfg, and the pack's `virtualenv`), `__pycache__`,
    /// `*.pyc`, policy-host's stamps, pack archives and `exclude` are left out. Links are not
    /// followed: one that stays inside the pack (resolved against the disk) is kept as a link, one
    /// that leaves it is an error — a published pack must not depend on files it does not hold.
    /// Sorted; at most `maxEntries` items and `maxPackSize` bytes.
    /// `directory` is what is walked: the pack directory, or the one its `main` names.
    public static func items(of manifest: PolicyManifest, directory: URL? = nil, excluding exclude: Set<String> = []) throws(HostError) -> [PackedItem] {
        let root = (directory ?? manifest.packDirectory).standardizedFileURL
        let ignore = GitIgnore(loadingFrom: root.deletingLastPathComponent())
        let venv = manifest.virtualenvURL?.standardizedFileURL.path
        let rootFD = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw HostError(.usage, "\(root.path): cannot open the pack directory") }
        defer { close(rootFD) }
        var out: [PackedItem] = []
        var total = 0
        let fm = FileManager.default
        func walk(_ dir: URL, _ rel: String, _ ignore: GitIgnore) throws(HostError) {
            var ignore = ignore
            ignore.add(fileIn: dir)
            guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
            for name in names.sorted() {
                let url = dir.appendingPathComponent(name)
                let relPath = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                guard lstat(url.path, &st) == 0 else { continue }
                let kind = st.st_mode & S_IFMT
                if kind == S_IFDIR {
                    if name == ".git" || name == "__pycache__" || url.standardizedFileURL.path == venv
                        || fm.fileExists(atPath: url.appendingPathComponent("pyvenv.cfg").path)
                        || ignore.isIgnored(url.standardizedFileURL.path, isDirectory: true) { continue }
                    try walk(url, relPath, ignore)
                    continue
                }
                if name.hasSuffix(".pyc") || name == VenvStamp.fileName || name == VenvManager.logName
                    || name == PolicyStore.markerName || looksLikePackArchive(name) || exclude.contains(url.standardizedFileURL.path) { continue }
                if ignore.isIgnored(url.standardizedFileURL.path, isDirectory: false) { continue }
                if kind == S_IFLNK {
                    guard let target = try? fm.destinationOfSymbolicLink(atPath: url.path), !target.hasPrefix("/"),
                          resolvesInside(root: rootFD, path: relPath) else {
                        let shown = (try? fm.destinationOfSymbolicLink(atPath: url.path)) ?? "?"
                        throw HostError(.usage, "\(url.path) is a link that leads outside the pack (to \(shown)); refusing to pack it",
                                        hint: "copy the file into the pack, or add the link to .gitignore")
                    }
                    out.append(PackedItem(path: relPath, linkTarget: target))
                } else if kind == S_IFREG {
                    let (sum, overflow) = total.addingReportingOverflow(Int(st.st_size))
                    guard !overflow, sum <= maxPackSize else {
                        throw HostError(.usage, "\(root.path): the pack holds more than \(maxPackSize >> 20) MiB of files; refusing to pack it",
                                        hint: "add large files to .gitignore")
                    }
                    total = sum
                    out.append(PackedItem(path: relPath, linkTarget: nil))
                } else {
                    continue  // sockets, FIFOs, devices: not part of a pack
                }
                guard out.count <= maxEntries else {
                    throw HostError(.usage, "\(root.path): the pack holds more than \(maxEntries) files; refusing to pack it",
                                    hint: "add generated files to .gitignore")
                }
            }
        }
        try walk(root, "", ignore)
        return out
    }

    /// The paths `items` would pack (files and links).
    public static func files(of manifest: PolicyManifest) throws(HostError) -> [String] {
        try items(of: manifest).map(\.path)
    }

    /// Builds the archive bytes (gzip'ed tar, `package/` prefix, links kept as links, modes
    /// normalised to 0644/0755); `exclude` names paths never packed (the output file).
    ///
    /// With `main`, the archive holds the directory it names, as publish archives it; so that the
    /// archive still installs, the pack's PulumiPolicy.yaml (without `main`) is added at its root when
    /// that directory has none.
    public static func build(_ manifest: PolicyManifest, excluding exclude: Set<String> = []) throws(HostError) -> (data: Data, files: [String]) {
        let directory = try manifest.publishDirectory()
        let items = try items(of: manifest, directory: directory, excluding: exclude)
        var entries: [Tar.Entry] = []
        var files = items.map(\.path)
        if !files.contains(PolicyManifest.fileName) {
            let yaml = manifest.packDirectory.appendingPathComponent(PolicyManifest.fileName)
            guard let original = FileManager.default.contents(atPath: yaml.path) else {
                throw HostError(.usage, "\(yaml.path): cannot read file")
            }
            let data = try PolicyManifest.forcingVirtualenv(original, path: yaml.path, droppingMain: true)
            entries.append(Tar.Entry(path: "package/" + PolicyManifest.fileName, kind: .file, mode: 0o644, data: data))
            files.insert(PolicyManifest.fileName, at: 0)
        }
        for item in items {
            if let target = item.linkTarget {
                entries.append(Tar.Entry(path: "package/" + item.path, kind: .symlink(target), mode: 0o777, data: Data()))
                continue
            }
            let url = directory.appendingPathComponent(item.path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw HostError(.usage, "\(url.path): cannot read file")
            }
            var st = stat()
            let executable = lstat(url.path, &st) == 0 && st.st_mode & 0o111 != 0
            entries.append(Tar.Entry(path: "package/" + item.path, kind: .file, mode: executable ? 0o755 : 0o644, data: data))
        }
        return (try Gzip.compress(Tar.write(entries)), files)
    }

    /// A validated archive: files and links relative to the package root.
    public struct Contents: Sendable {
        public var entries: [Tar.Entry]
        public var manifestData: Data
    }

    /// Reads and validates an archive: every entry under `package/`, no absolute paths or `..`, no
    /// NUL bytes or over-long names, links lexically inside, hard links resolved to copies of earlier
    /// files of the archive, no devices or FIFOs, nothing venv-like (a `pyvenv.cfg` anywhere, a
    /// top-level `venv`, policy-host's own stamps), and at most `maxSize` bytes in all — checked with
    /// overflow-safe arithmetic. Links are checked again against the disk by `extract`.
    public static func read(_ url: URL, maxSize: Int) throws(HostError) -> Contents {
        let file = url.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDir), !isDir.boolValue,
              FileManager.default.isReadableFile(atPath: file) else {
            throw HostError(.usage, "\(file): no such file or not readable")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int, size > maxSize {
            throw HostError(.usage, "\(file): the archive is larger than \(maxSize >> 20) MiB; refusing it", hint: "raise the limit with --max-size")
        }
        let raw = try Gzip.decompress(file: url, maxSize: maxSize)
        var entries: [Tar.Entry] = []
        var fileData: [String: Data] = [:]
        var total = 0
        func refuse(_ what: String) -> HostError { HostError(.usage, "\(file): \(what); refusing the archive") }
        for e in try Tar.read(raw, file: file, maxEntries: maxEntries) {
            let path = try relativePath(e.path, file: file)
            if path.isEmpty {  // package/ itself
                guard e.kind == .directory else { throw refuse("package itself is not a directory") }
                continue
            }
            try checkName(path, file: file)
            let parts = path.split(separator: "/")
            if parts.first == "venv" {
                throw refuse("package/\(path) ships a virtual environment at the pack's venv path")
            }
            if let last = parts.last, last == "pyvenv.cfg" {
                throw refuse("package/\(path) is part of a virtual environment (a pyvenv.cfg)")
            }
            if let last = parts.last, [VenvStamp.fileName, PolicyStore.markerName].contains(String(last)) {
                throw refuse("package/\(path) is a file only policy-host writes")
            }
            var entry = e
            entry.path = path
            switch e.kind {
            case .file:
                fileData[path] = e.data
            case .directory:
                break
            case .symlink(let target):
                guard !target.isEmpty, !target.contains("\0"), target.utf8.count <= 4096 else {
                    throw refuse("the link package/\(path) has an empty or invalid target")
                }
                guard !target.hasPrefix("/"), normalize(parentOf(path) + "/" + target) != nil else {
                    throw refuse("the link package/\(path) points outside the pack (\(target))")
                }
            case .hardlink(let target):
                // Resolved inside the archive: a copy of an earlier regular file.
                guard let t = try? relativePath(target, file: file), let data = fileData[t] else {
                    throw refuse("the hard link package/\(path) does not name an earlier file of the archive (\(target))")
                }
                entry.kind = .file
                entry.data = data
                fileData[path] = data
            case .other(let flag):
                let what = flag == UInt8(ascii: "3") || flag == UInt8(ascii: "4") ? "a device" : flag == UInt8(ascii: "6") ? "a FIFO" : "an unsupported entry type"
                throw refuse("package/\(path) is \(what)")
            }
            let (sum, overflow) = total.addingReportingOverflow(entry.data.count)
            guard !overflow, sum <= maxSize else {
                throw HostError(.usage, "\(file): the archive expands to more than \(maxSize >> 20) MiB; refusing it",
                                hint: "raise the limit with --max-size if the pack really is that large")
            }
            total = sum
            entries.append(entry)
        }
        // Nothing may be written through a link: no entry lies below a link of the archive.
        let linkPaths = Set(entries.compactMap { e -> String? in if case .symlink = e.kind { return e.path }; return nil })
        if !linkPaths.isEmpty {
            for e in entries {
                var prefix = parentOf(e.path)
                while !prefix.isEmpty {
                    if linkPaths.contains(prefix) { throw refuse("package/\(e.path) would be written through the link package/\(prefix)") }
                    prefix = parentOf(prefix)
                }
            }
        }
        guard let yaml = entries.first(where: { $0.path == PolicyManifest.fileName && $0.kind == .file }) else {
            throw HostError(.usage, "\(file): no package/\(PolicyManifest.fileName) file in the archive; is it a policy pack archive?")
        }
        return Contents(entries: entries, manifestData: yaml.data)
    }

    /// Entries accepted in one archive.
    public static let maxEntries = 100_000

    static func parentOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// Each component: no NUL or control character, at most 255 bytes; the path at most 4096.
    static func checkName(_ path: String, file: String) throws(HostError) {
        guard path.utf8.count <= 4096 else {
            throw HostError(.usage, "\(file): an entry's path is longer than 4096 bytes; refusing the archive")
        }
        for c in path.split(separator: "/") {
            guard c.utf8.count <= 255 else {
                throw HostError(.usage, "\(file): package/\(path.prefix(80))…: a name is longer than 255 bytes; refusing the archive")
            }
            guard !c.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                throw HostError(.usage, "\(file): an entry's name holds a NUL or control character; refusing the archive")
            }
        }
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

    /// Writes validated contents under `directory` (which must exist and be empty), relative to an
    /// open handle on it: directories and regular files first, each path walked component by
    /// component with no-follow semantics and files created exclusively, so no write ever goes
    /// through a link; then the links; then every link is resolved against what is physically on
    /// disk (following earlier links, at most 40 hops) and the whole extraction is refused if one
    /// leads outside. The caller removes `directory` on failure.
    public static func extract(_ contents: Contents, into directory: URL) throws(HostError) {
        let root = open(directory.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else {
            throw HostError(.environment, "could not open \(directory.path): \(String(cString: strerror(errno)))")
        }
        defer { close(root) }
        func failure(_ path: String, _ what: String) -> HostError {
            HostError(.usage, "package/\(path): \(what); refusing the archive")
        }
        /// Opens (creating as needed) the directory holding `path`; the caller closes the handle.
        func parent(of path: String) throws(HostError) -> Int32 {
            var fd = dup(root)
            for c in path.split(separator: "/").dropLast() {
                let name = String(c)
                if mkdirat(fd, name, 0o755) != 0 && errno != EEXIST {
                    let err = String(cString: strerror(errno))
                    close(fd)
                    throw failure(path, "cannot create the directory \(name): \(err)")
                }
                let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                close(fd)
                guard next >= 0 else { throw failure(path, "\(name) on its path is not a directory (a conflicting or linked entry)") }
                fd = next
            }
            return fd
        }
        func last(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

        var links: [(path: String, target: String)] = []
        for e in contents.entries {
            switch e.kind {
            case .directory:
                let dir = try parent(of: e.path)
                defer { close(dir) }
                if mkdirat(dir, last(e.path), 0o755) != 0 {
                    var st = stat()
                    guard errno == EEXIST, fstatat(dir, last(e.path), &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                        throw failure(e.path, "a directory entry conflicts with an earlier entry")
                    }
                }
            case .file:
                let dir = try parent(of: e.path)
                defer { close(dir) }
                // Modes normalised: executable files 0755, others 0644.
                let mode: mode_t = e.mode & 0o111 != 0 ? 0o755 : 0o644
                let fd = openat(dir, last(e.path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
                guard fd >= 0 else {
                    throw failure(e.path, errno == EEXIST ? "the archive holds this path twice" : "cannot create it: \(String(cString: strerror(errno)))")
                }
                defer { close(fd) }
                let ok = e.data.withUnsafeBytes { buf -> Bool in
                    var offset = 0
                    while offset < buf.count {
                        let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { return false }
                        offset += n
                    }
                    return true
                }
                guard ok else { throw HostError(.environment, "could not write \(directory.path)/\(e.path): \(String(cString: strerror(errno)))") }
                fchmod(fd, mode)
            case .symlink(let target):
                links.append((e.path, target))
            case .hardlink, .other:
                throw failure(e.path, "an entry of this kind cannot be extracted")
            }
        }
        for link in links {
            let dir = try parent(of: link.path)
            defer { close(dir) }
            guard symlinkat(link.target, dir, last(link.path)) == 0 else {
                throw failure(link.path, errno == EEXIST ? "the archive holds this path twice" : "cannot create the link: \(String(cString: strerror(errno)))")
            }
        }
        for link in links {
            guard resolvesInside(root: root, path: link.path) else {
                throw failure(link.path, "the link leads outside the pack once the archive's links are followed")
            }
        }
    }

    /// Resolves `path` (relative to `root`) as the kernel would, following links found on disk,
    /// and says whether it stays under `root`. A loop or more than 40 links is "outside".
    static func resolvesInside(root: Int32, path: String) -> Bool {
        var current: [String] = []
        var pending = path.split(separator: "/").map(String.init)
        var hops = 0
        var buffer = [CChar](repeating: 0, count: 4097)
        while !pending.isEmpty {
            let c = pending.removeFirst()
            if c.isEmpty || c == "." { continue }
            if c == ".." {
                guard !current.isEmpty else { return false }
                current.removeLast()
                continue
            }
            let candidate = (current + [c]).joined(separator: "/")
            var st = stat()
            if fstatat(root, candidate, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                hops += 1
                guard hops <= 40 else { return false }
                let n = readlinkat(root, candidate, &buffer, 4096)
                guard n > 0 else { return false }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                guard !target.hasPrefix("/") else { return false }
                pending = target.split(separator: "/").map(String.init) + pending
            } else {
                current.append(c)
            }
        }
        return true
    }
}
