import Foundation
import Testing
#if canImport(Glibc)
import Glibc
import HostCore
#endif

// Adversarial `install --archive` tests, written against the install contract (README "Installed packs",
// Tests/Adversarial/README.md): a hostile or malformed archive or argument exits with 2, prints nothing on
// stdout and one `error:` line on stderr, and changes nothing outside the install target — checked with an
// lstat snapshot of the whole scratch directory, victims included. Archives are crafted at test time by
// Tests/Adversarial/make_archives.py. The process helpers below are shared with KillAndRaceTests.swift.

// MARK: - processes with a deadline

/// How a guarded process ended.
struct GuardedResult: Sendable {
    /// The exit status, or the signal number when `signal` is set.
    var status: Int32
    /// The signal that ended the process, if one did.
    var signal: Int32?
    /// The deadline passed and the process (and its descendants) were killed.
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var seconds: Double

    var errorLines: [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") } }
    var summary: String {
        let how = timedOut ? "timed out" : signal.map { "killed by signal \($0)" } ?? "exit \(status)"
        return "\(how) after \(String(format: "%.2f", seconds)) s\n--- stdout:\n\(stdout.suffix(3000))\n--- stderr:\n\(stderr.suffix(3000))"
    }
}

/// A started process whose stdout and stderr go to files, never pipes: an orphaned grandchild that keeps a
/// pipe open cannot hang a test.
final class GuardedProcess: @unchecked Sendable {
    let argv: [String]
    let process = Process()
    private let logDir: URL
    let started = Date()

    init(_ argv: [String], cwd: URL? = nil, env: [String: String]? = nil) throws {
        self.argv = argv
        logDir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-adv-log-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: logDir, withIntermediateDirectories: true)
        let out = logDir.appendingPathComponent("stdout"), err = logDir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let cwd { process.currentDirectoryURL = cwd }
        if let env { process.environment = env }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    deinit { try? FileManager.default.removeItem(at: logDir) }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var elapsed: Double { Date().timeIntervalSince(started) }

    func send(_ signal: Int32) { if process.isRunning { kill(pid, signal) } }

    /// Waits up to `timeout` seconds for the process to end. Past the deadline it and all its descendants
    /// are killed and, unless `recordTimeout` is false, the test fails: a hang is a failure, not a stuck CI.
    /// The clock runs on a thread of its own: tests that block the cooperative pool cannot stretch it.
    func wait(timeout: Double, recordTimeout: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) async -> GuardedResult {
        let timedOut = await onOwnThread { [self] in
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning {
                if Date() >= deadline {
                    Procs.killTree(pid)
                    let grace = Date().addingTimeInterval(10)
                    while process.isRunning && Date() < grace { usleep(10_000) }
                    return true
                }
                usleep(10_000)
            }
            return false
        }
        let seconds = elapsed
        let out = String(decoding: FileManager.default.contents(atPath: logDir.appendingPathComponent("stdout").path) ?? Data(), as: UTF8.self)
        let err = String(decoding: FileManager.default.contents(atPath: logDir.appendingPathComponent("stderr").path) ?? Data(), as: UTF8.self)
        var result = GuardedResult(status: -1, signal: nil, timedOut: timedOut, stdout: out, stderr: err, seconds: seconds)
        if !process.isRunning {
            result.status = process.terminationStatus
            if process.terminationReason == .uncaughtSignal { result.signal = process.terminationStatus }
        }
        if timedOut && recordTimeout {
            Issue.record("timed out after \(Int(timeout)) s and killed: \(argv.joined(separator: " "))\n\(result.summary)", sourceLocation: sourceLocation)
        }
        return result
    }
}

/// Runs `body` on a thread of its own and returns its result. Timing loops (watch for a moment, then send a
/// signal) run here: on 2 cores, tests that block the cooperative pool with synchronous waits can starve an
/// async loop for tens of seconds, and a kill meant for one phase of an install lands after it ended.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
        let thread = Thread { done.resume(returning: body()) }
        thread.start()
    }
}

/// Runs a command to completion with a deadline; past it the process tree is killed and the test fails.
func runWithTimeout(_ argv: [String], cwd: URL? = nil, env: [String: String]? = nil, timeout: Double,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws -> GuardedResult {
    let p = try GuardedProcess(argv, cwd: cwd, env: env)
    return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
}

/// Processes seen through /proc.
enum Procs {
    /// (pid, parent pid) of every process.
    static func table() -> [(pid: Int32, ppid: Int32)] {
        var out: [(Int32, Int32)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name),
                  let stat = FileManager.default.contents(atPath: "/proc/\(name)/stat").map({ String(decoding: $0, as: UTF8.self) }),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { out.append((pid, ppid)) }
        }
        return out
    }

    static func descendants(of root: Int32) -> [Int32] {
        let table = table()
        var found: [Int32] = []
        var frontier = [root]
        while let p = frontier.popLast() {
            for (pid, ppid) in table where ppid == p && !found.contains(pid) {
                found.append(pid)
                frontier.append(pid)
            }
        }
        return found
    }

    /// SIGKILLs `pid` and everything below it (twice, for children forked meanwhile).
    static func killTree(_ pid: Int32) {
        for _ in 0..<2 {
            let all = descendants(of: pid)
            kill(pid, SIGKILL)
            for p in all { kill(p, SIGKILL) }
        }
    }

    /// Live processes (not this one, not zombies) whose command line mentions `text`.
    static func mentioning(_ text: String) -> [(pid: Int32, cmdline: String)] {
        var out: [(Int32, String)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), pid != getpid(),
                  let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"), !raw.isEmpty else { continue }
            let cmd = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if cmd.contains(text) { out.append((pid, cmd)) }
        }
        return out
    }

    /// Waits up to `seconds` for every process mentioning `text` to go; returns those left (after killing them,
    /// so that a failing test does not leave work running).
    static func leftovers(mentioning text: String, within seconds: Double) async -> [(pid: Int32, cmdline: String)] {
        await onOwnThread {
            let deadline = Date().addingTimeInterval(seconds)
            var left = mentioning(text)
            while !left.isEmpty && Date() < deadline {
                usleep(50_000)
                left = mentioning(text)
            }
            for (pid, _) in left { kill(pid, SIGKILL) }
            return left
        }
    }
}

// MARK: - tree snapshots

/// One filesystem entry as lstat sees it (links are never followed).
struct TreeEntry: Equatable, Sendable, CustomStringConvertible {
    var kind: String
    var mode: UInt32
    var size: Int64
    var digest: UInt64
    var link: String

    var description: String {
        switch kind {
        case "file": "file mode \(String(mode, radix: 8)) size \(size) fnv \(String(digest, radix: 16))"
        case "link": "symlink -> \(link)"
        default: "\(kind) mode \(String(mode, radix: 8))"
        }
    }
}

enum Tree {
    static func fnv(_ data: Data) -> UInt64 {
        data.withUnsafeBytes { raw in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return h
        }
    }

    /// A directory, not a link to one.
    static func isRealDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && UInt32(st.st_mode) & 0o170000 == 0o040000
    }

    static func lstatEntry(_ path: String) -> TreeEntry? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        let fmt = UInt32(st.st_mode) & 0o170000
        let mode = UInt32(st.st_mode) & 0o7777
        switch fmt {
        case 0o040000: return TreeEntry(kind: "dir", mode: mode, size: 0, digest: 0, link: "")
        case 0o100000:
            let data = FileManager.default.contents(atPath: path) ?? Data()
            return TreeEntry(kind: "file", mode: mode, size: Int64(st.st_size), digest: fnv(data), link: "")
        case 0o120000:
            return TreeEntry(kind: "link", mode: 0, size: 0, digest: 0, link: (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
        case 0o010000: return TreeEntry(kind: "fifo", mode: mode, size: 0, digest: 0, link: "")
        case 0o020000: return TreeEntry(kind: "char-device", mode: mode, size: 0, digest: 0, link: "")
        case 0o060000: return TreeEntry(kind: "block-device", mode: mode, size: 0, digest: 0, link: "")
        case 0o140000: return TreeEntry(kind: "socket", mode: mode, size: 0, digest: 0, link: "")
        default: return TreeEntry(kind: "other \(String(fmt, radix: 8))", mode: mode, size: 0, digest: 0, link: "")
        }
    }

    /// Every entry under `root` by path relative to it ("" is the root), without following links;
    /// `skipping` (relative paths) are recorded but not descended into.
    static func snapshot(_ root: URL, skipping: Set<String> = []) -> [String: TreeEntry] {
        var out: [String: TreeEntry] = [:]
        func walk(_ rel: String) {
            let path = rel.isEmpty ? root.path : root.path + "/" + rel
            guard let e = lstatEntry(path) else { return }
            out[rel] = e
            guard e.kind == "dir", !skipping.contains(rel) else { return }
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                walk(rel.isEmpty ? name : rel + "/" + name)
            }
        }
        walk("")
        return out
    }

    /// What changed; new empty directories in `allowedNewDirectories` and anything under `ignoring` are not changes.
    static func differences(_ before: [String: TreeEntry], _ after: [String: TreeEntry],
                            allowedNewDirectories: Set<String> = [], ignoring: String? = nil) -> [String] {
        func ignored(_ p: String) -> Bool {
            guard let i = ignoring else { return false }
            return p == i || p.hasPrefix(i + "/")
        }
        var out: [String] = []
        for (p, b) in before.sorted(by: { $0.key < $1.key }) where !ignored(p) {
            if let a = after[p] {
                if a != b { out.append("changed: \(p): \(b) => \(a)") }
            } else {
                out.append("removed: \(p) (was \(b))")
            }
        }
        for (p, a) in after.sorted(by: { $0.key < $1.key }) where before[p] == nil && !ignored(p) {
            if a.kind == "dir" && allowedNewDirectories.contains(p) { continue }
            out.append("created: \(p) (\(a))")
        }
        return out
    }
}

// MARK: - the cases

/// One adversarial install: which archive (a make_archives.py case), which arguments, what must happen.
struct ArchiveCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable { case refused, accepted, either }
    var archive: String
    var label: String
    var outcome: Outcome
    var file = "evil-v1.0.0.tar.gz"
    var org = "acme"
    var name: String? = "evil"
    var extra: [String] = []
    /// Runs on the installed pack directory when the install succeeded.
    var check: (@Sendable (URL) throws -> Void)? = nil

    var testDescription: String { label }

    static func refused(_ archive: String, _ label: String? = nil, extra: [String] = []) -> ArchiveCase {
        ArchiveCase(archive: archive, label: label ?? archive, outcome: .refused, extra: extra)
    }
    static func accepted(_ archive: String, check: (@Sendable (URL) throws -> Void)? = nil) -> ArchiveCase {
        ArchiveCase(archive: archive, label: archive + " (accepted)", outcome: .accepted, check: check)
    }
    static func either(_ archive: String, check: (@Sendable (URL) throws -> Void)? = nil) -> ArchiveCase {
        ArchiveCase(archive: archive, label: archive + " (refused or accepted)", outcome: .either, check: check)
    }
    static func argument(_ label: String, org: String = "acme", name: String? = "evil", file: String = "evil-v1.0.0.tar.gz", extra: [String] = []) -> ArchiveCase {
        ArchiveCase(archive: "good", label: label, outcome: .refused, file: file, org: org, name: name, extra: extra)
    }
}

/// The installed file `rel` holds exactly `text`.
func expectInstalledFile(_ target: URL, _ rel: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let data = FileManager.default.contents(atPath: target.appendingPathComponent(rel).path)
    #expect(data.map { String(decoding: $0, as: UTF8.self) } == text, "\(rel) in \(target.path)", sourceLocation: sourceLocation)
}

enum AdversarialCases {
    static let good: [ArchiveCase] = [
        .accepted("good") { t in
            expectInstalledFile(t, "lib/helper.py", "VALUE = 42\n")
            expectInstalledFile(t, "requirements.txt", "")
            #expect(FileManager.default.isExecutableFile(atPath: t.appendingPathComponent("run.sh").path))
        },
    ]

    static let traversal: [ArchiveCase] = [
        .refused("dotdot-shallow", "package/../x"),
        .refused("dotdot-after-subdir", "package/a/../../x"),
        .refused("dot-slash-package-dotdot", "./package/../../x"),
        .refused("double-slash-dotdot", "package//../x"),
        .refused("dotdot-deep-to-victim", "package/../../../../victim/secret.txt"),
        .refused("dot-components-then-dotdot", "package/./sub/./../ then four .."),
        .refused("dotdot-directory-entry", "directory entry package/.."),
        .refused("absolute-into-scratch", "absolute path into the victim directory"),
        .refused("absolute-outside-scratch", "absolute path next to the scratch directory"),
        .refused("pax-path-absolute", "PAX path holding an absolute path"),
        .refused("pax-path-traversal", "PAX path holding .."),
        .refused("gnu-longname-traversal", "GNU long name (L) holding .."),
        .refused("ustar-prefix-traversal", "ustar prefix field holding .."),
        .either("backslash-top-level"),
        .either("backslash-inside-package"),
        .refused("outside-package-dir", "entry other/file not under package/"),
        .refused("package-prefix-lookalike", "entry packagex/evil"),
        .refused("top-level-file", "top-level entry evil.txt"),
        .refused("nul-in-pax-path", "NUL byte in a PAX path"),
        .either("nul-in-gnu-longname"),
        .either("nul-then-garbage-in-ustar-name"),
        .refused("name-5000-bytes-one-component", "PAX name of 5000 bytes, one component"),
        .refused("name-5000-bytes-hiding-traversal", "PAX name of 5000 bytes hiding .."),
        .either("pax-global-header-path"),
        .either("pax-and-gnu-name-disagree-gnu-hostile"),
        .either("pax-and-gnu-name-disagree-pax-hostile"),
    ]

    static let symlinks: [ArchiveCase] = [
        .refused("symlink-absolute-then-file", "absolute symlink, then a file through it"),
        .refused("symlink-absolute-only", "absolute symlink to /etc"),
        .refused("symlink-climbing-then-file", "symlink ../../../../victim, then a file through it"),
        .refused("symlink-then-file-same-path", "symlink to the victim file, then a file entry of the same path"),
        .refused("symlink-to-outside-dir-then-file-under", "symlink to a directory outside, then a file under it"),
        .refused("symlink-then-dir-then-file-same-path", "symlink, a directory entry of the same path, a file under it"),
        .refused("symlink-pax-linkpath-absolute", "absolute link target in a PAX linkpath"),
        .refused("symlink-chain-literal", "a/b/c/l1 -> ../.., a/l1b -> b/c/l1/../.. (physically outside)"),
        .refused("symlink-chain-to-victim", "chain of links each lexically inside, physically reaching the victim"),
        .either("symlink-target-one-char-self"),
        .either("symlink-target-dot"),
        .either("symlink-target-trailing-slash-inside"),
        .refused("symlink-target-trailing-slash-outside", "link target ../../../../victim/ then a file through it"),
        .either("symlink-target-empty"),
        .refused("symlink-named-venv-climbing", "venv -> ../../../../decoy"),
        .refused("symlink-named-venv-absolute", "venv -> absolute decoy directory"),
        .either("symlink-named-venv-inside"),
        .refused("manifest-symlink-climbing", "PulumiPolicy.yaml -> ../../../../victim/PulumiPolicy.yaml"),
        .refused("manifest-symlink-absolute", "PulumiPolicy.yaml -> absolute victim file"),
        .either("manifest-symlink-inside"),
        .either("symlink-loop"),
        .either("symlink-loop-then-file"),
    ]

    static let hardLinks: [ArchiveCase] = [
        .accepted("hardlink-to-earlier-file") { t in
            expectInstalledFile(t, "data.txt", "hello\n")
            expectInstalledFile(t, "copy.txt", "hello\n")
        },
        .refused("hardlink-to-later-entry", "hard link to an entry that comes later"),
        .refused("hardlink-to-missing-entry", "hard link to an entry that does not exist"),
        .refused("hardlink-to-etc-passwd", "hard link to ../../etc/passwd"),
        .refused("hardlink-traversal-to-victim", "hard link to package/../../../../victim/secret.txt"),
        .refused("hardlink-absolute-then-overwrite", "hard link to the absolute victim path, then a file entry of the same path"),
        .refused("hardlink-to-symlink-entry", "hard link to a symlink entry"),
        .refused("hardlink-to-directory", "hard link to a directory entry"),
        .refused("hardlink-to-itself", "hard link to itself"),
    ]

    static let specialFiles: [ArchiveCase] = [
        .refused("char-device", "character device (typeflag 3)"),
        .refused("block-device", "block device (typeflag 4)"),
        .refused("fifo", "FIFO (typeflag 6)"),
        .refused("unknown-typeflag", "unknown typeflag Z"),
        .accepted("contiguous-file") { t in expectInstalledFile(t, "contig.txt", "contiguous\n") },
    ]

    static let bombsAndSizes: [ArchiveCase] = [
        .refused("gzip-bomb-5mib", "5 MiB of zeros with --max-size 1", extra: ["--max-size", "1"]),
        .refused("gzip-bomb-300mib", "300 MiB of zeros with the default --max-size"),
        .refused("size-octal-max-without-data", "size field 077777777777 and no data"),
        .refused("size-base256-int-max", "base-256 size Int.max"),
        .refused("size-base256-int-max-minus-100", "base-256 size Int.max - 100"),
        .refused("size-base256-all-ones", "base-256 size 0x80 followed by 0xFF"),
        .refused("size-base256-negative", "base-256 size -1"),
        .refused("size-base256-large-negative", "base-256 size, large negative"),
        .refused("entries-200000", "200 000 tiny entries"),
        .argument("--max-size 9223372036854775807", extra: ["--max-size", "9223372036854775807"]),
        .argument("--max-size -1", extra: ["--max-size", "-1"]),
        .argument("--max-size=-1", extra: ["--max-size=-1"]),
        .argument("--max-size 0", extra: ["--max-size", "0"]),
        .refused("truncated-gzip", "gzip stream cut in half"),
        .refused("truncated-tar", "tar cut inside a file's data"),
        .refused("garbage", "4 KiB of random bytes"),
        .refused("gzip-magic-then-garbage", "gzip header then random bytes"),
        .refused("empty-file", "empty file"),
        .refused("directory-as-file", "a directory given as FILE"),
        .refused("bad-header-checksum", "header with a wrong checksum"),
        .refused("gzip-of-plain-text", "gzip of text that is no tar"),
    ]

    static let venvSmuggling: [ArchiveCase] = [
        .refused("smuggled-venv-with-pyvenv-cfg", "package/venv/pyvenv.cfg with a bin/python that writes to the victim"),
        .refused("pyvenv-cfg-in-subdirectory", "package/sub/pyvenv.cfg"),
        .refused("forged-stamp-complete-venv", "a complete venv with a forged policy-host stamp"),
        .refused("forged-stamp-only", "a forged stamp in package/venv/"),
        .either("venv-dir-with-foreign-files"),
        .accepted("virtualenv-absolute-existing-dir"),
        .accepted("virtualenv-relative-existing-dir"),
        .accepted("virtualenv-relative-new-dir"),
    ]

    static let hostileYAML: [ArchiveCase] = [
        .refused("yaml-nested-10000", "[[[[ nested 10 000 deep"),
        .refused("yaml-billion-laughs", "billion laughs alias bomb"),
        .refused("yaml-non-utf8", "non-UTF-8 bytes"),
        .refused("yaml-runtime-null", "runtime: ~"),
        .refused("yaml-version-traversal", "version: ../../x"),
        .refused("yaml-version-slash", "version: a/b"),
        .refused("yaml-version-newline", "version with a newline"),
        .refused("yaml-version-control-char", "version with \\x01"),
        .refused("yaml-version-too-long", "version of 101 characters"),
        .refused("yaml-missing-version", "no version"),
        .refused("yaml-5mb", "5 MB of YAML"),
    ]

    static let hostileNames: [ArchiveCase] = [
        .argument("--org ..", org: ".."),
        .argument("--org .", org: "."),
        .argument("--org a/b", org: "a/b"),
        .argument("--org ''", org: ""),
        .argument("--org with a newline", org: "acme\nevil"),
        .argument("--org with \\u{1}", org: "acme\u{1}"),
        .argument("--org of 300 characters", org: String(repeating: "o", count: 300)),
        .argument("--name ../x", name: "../x"),
        .argument("--name a/b", name: "a/b"),
        .argument("--name ..", name: ".."),
        .argument("archive file named ..-v1.0.0.tar.gz", name: nil, file: "..-v1.0.0.tar.gz"),
        .argument("archive file named .-v1.0.0.tar.gz", name: nil, file: ".-v1.0.0.tar.gz"),
    ]

    static let duplicates: [ArchiveCase] = [
        .refused("dir-then-file-same-path", "directory entry then file entry of the same path"),
        .refused("file-then-dir-same-path", "file entry then directory entry of the same path"),
        .either("same-file-twice") { t in expectInstalledFile(t, "dup.txt", "second\n") },
        .either("manifest-twice-second-moves-venv"),
        .refused("file-then-symlink-same-path", "__main__.py, then a symlink of the same name to the victim"),
        .refused("overlong-component-300", "path component of 300 characters"),
        .refused("package-is-a-file", "entry package is a file"),
        .refused("package-is-a-symlink", "entry package is a symlink to the victim"),
        .refused("manifest-is-a-directory", "PulumiPolicy.yaml is a directory"),
    ]

    static var all: [ArchiveCase] { good + traversal + symlinks + hardLinks + specialFiles + bombsAndSizes + venvSmuggling + hostileYAML + hostileNames + duplicates }

    static let script = Repo.root.appendingPathComponent("Tests/Adversarial/make_archives.py")
}

// MARK: - running one case

/// The scratch layout every case runs in, victims included.
struct AdversarialScratch {
    let root: URL
    var home: URL { root.appendingPathComponent("home") }
    var outside: URL { URL(fileURLWithPath: root.path + "-outside") }

    init() throws {
        // Short, so that absolute entry names fit the 100-byte ustar field.
        root = URL(fileURLWithPath: "/tmp/policy-host-adv-\(UUID().uuidString.prefix(8).lowercased())")
        let fm = FileManager.default
        for d in ["victim/sub", "decoy/venvdir", "decoy/rel", "in", "home/policies/acme/pulumi-analyzer-other-v1.0.0"] {
            try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        let files: [(String, String)] = [
            ("victim/secret.txt", "the secret\n"),
            ("victim/PulumiPolicy.yaml", "runtime: python\nversion: 9.9.9\n"),
            ("victim/sub/deeper.txt", "deeper\n"),
            ("decoy/keep.txt", "decoy\n"),
            ("decoy/venvdir/keep.txt", "not a venv\n"),
            ("decoy/rel/keep.txt", "not a venv either\n"),
            ("home/victim.txt", "above the store\n"),
            ("home/policies/victim.txt", "beside the orgs\n"),
            ("home/policies/acme/pulumi-analyzer-other-v1.0.0/keep.txt", "another installed pack\n"),
            ("home/policies/acme/pulumi-analyzer-other-v1.0.0/PulumiPolicy.yaml", "runtime: python\nversion: 1.0.0\n"),
        ]
        for (rel, text) in files {
            try Data(text.utf8).write(to: root.appendingPathComponent(rel))
        }
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("victim/link-to-secret").path, withDestinationPath: "secret.txt")
    }

    func remove() {
        for (pid, _) in Procs.mentioning(root.path) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: root)
        try? FileManager.default.removeItem(at: outside)
    }
}

/// Paths (relative to the scratch root) of the directories an install may leave behind empty:
/// `home/policies/<org>` and its parents, when the org names a directory strictly inside `policies`.
func allowedStoreDirectories(org: String) -> Set<String> {
    var out: Set<String> = ["home", "home/policies"]
    let parts = org.split(separator: "/", omittingEmptySubsequences: false)
    guard !org.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return out }
    var path = "home/policies"
    for p in parts {
        path += "/" + p
        out.insert(path)
    }
    return out
}

func exercise(_ c: ArchiveCase, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let scratch = try AdversarialScratch()
    defer { scratch.remove() }
    let archive = scratch.root.appendingPathComponent("in").appendingPathComponent(c.file)
    let made = try await runWithTimeout(["/usr/bin/python3", AdversarialCases.script.path, c.archive, archive.path,
                                         "--scratch", scratch.root.path, "--outside", scratch.outside.path], timeout: 120)
    try #require(made.status == 0 && !made.timedOut, "make_archives.py \(c.archive): \(made.summary)")

    let version = "1.0.0"
    let packName = c.name ?? String(c.file.dropLast("-v\(version).tar.gz".count))
    let orgDir = scratch.home.appendingPathComponent("policies").appendingPathComponent(c.org)
    let target = orgDir.appendingPathComponent("pulumi-analyzer-\(packName)-v\(version)").standardizedFileURL
    let targetRel = target.path.hasPrefix(scratch.root.path + "/") ? String(target.path.dropFirst(scratch.root.path.count + 1)) : nil
    let simpleOrg = !c.org.isEmpty && !c.org.contains("/") && c.org != "." && c.org != ".."
    let orgBefore = simpleOrg ? Set((try? FileManager.default.contentsOfDirectory(atPath: orgDir.path)) ?? []) : []

    let before = Tree.snapshot(scratch.root)
    var env = ProcessInfo.processInfo.environment
    env["PULUMI_HOME"] = scratch.home.path
    var args = [Repo.binary, "install", "--archive", archive.path, "--org", c.org]
    if let name = c.name { args += ["--name", name] }
    args += c.extra
    // A refusal takes a second; an install builds a venv, which can take minutes on a loaded machine.
    let timeout: Double = c.outcome == .refused ? 120 : 420
    let install = { () async throws -> GuardedResult in
        let p = try GuardedProcess(args, cwd: scratch.root, env: env)
        return await p.wait(timeout: timeout, recordTimeout: false)
    }
    // Installs that may build a venv take a place in the gate KillAndRaceTests uses too.
    let r = c.outcome == .refused ? try await install() : try await BuildGate.with(install)
    let what = "[\(c.label)] \(r.summary)"
    if r.timedOut {
        let accepted = Tree.lstatEntry(target.path) != nil
        Issue.record(accepted && c.outcome == .refused
                     ? "not refused: after \(Int(timeout)) s the archive was installed and its venv still being built; it must be refused with exit 2 \(what)"
                     : "hung: killed after \(Int(timeout)) s \(what)", sourceLocation: sourceLocation)
        return
    }
    #expect(r.signal == nil, "ended by a signal: \(what)", sourceLocation: sourceLocation)
    #expect(!r.stderr.contains("Fatal error"), "\(what)", sourceLocation: sourceLocation)

    let installed = r.status == 0 && c.outcome != .refused
    switch c.outcome {
    case .refused: #expect(r.status == 2, "must be refused with exit 2: \(what)", sourceLocation: sourceLocation)
    case .accepted: #expect(r.status == 0, "must install: \(what)", sourceLocation: sourceLocation)
    case .either: #expect(r.status == 0 || r.status == 2, "must install or be refused with 2: \(what)", sourceLocation: sourceLocation)
    }

    if !installed {
        #expect(r.stdout.isEmpty, "stdout must be empty: \(what)", sourceLocation: sourceLocation)
        #expect(r.errorLines.count == 1, "exactly one error: line: \(what)", sourceLocation: sourceLocation)
        var st = stat()
        #expect(lstat(target.path, &st) != 0, "the target \(target.path) must not exist: \(what)", sourceLocation: sourceLocation)
    } else {
        try expectSoundInstall(target, what: what, sourceLocation: sourceLocation)
        try c.check?(target)
    }

    // Nothing outside the target changed. (A target that must not exist was reported above; its venv is not
    // walked again.)
    let skipTarget = r.status == 0 && targetRel != nil
    let after = Tree.snapshot(scratch.root, skipping: skipTarget ? [targetRel!] : [])
    let diff = Tree.differences(before, after, allowedNewDirectories: allowedStoreDirectories(org: c.org),
                                ignoring: skipTarget ? targetRel : nil)
    #expect(diff.isEmpty, "changes outside the install target:\n\(diff.prefix(40).joined(separator: "\n"))\n\(what)", sourceLocation: sourceLocation)
    if simpleOrg {
        let orgAfter = Set((try? FileManager.default.contentsOfDirectory(atPath: orgDir.path)) ?? [])
        let expected = installed ? orgBefore.union([target.lastPathComponent]) : orgBefore
        #expect(orgAfter == expected, "left in \(orgDir.path): \(orgAfter.subtracting(expected).sorted()) \(what)", sourceLocation: sourceLocation)
    }
    var st = stat()
    #expect(lstat(scratch.outside.path, &st) != 0, "\(scratch.outside.path) was created: \(what)", sourceLocation: sourceLocation)
}

/// An accepted install: a real directory with the manifest, `virtualenv` resolving to `<target>/venv`, a venv
/// there, and no link inside the pack (outside its venv) that leads out of it.
func expectSoundInstall(_ target: URL, what: String, sourceLocation: SourceLocation) throws {
    let fm = FileManager.default
    #expect(Tree.lstatEntry(target.path)?.kind == "dir", "target is not a directory: \(what)", sourceLocation: sourceLocation)
    #expect(Tree.lstatEntry(target.appendingPathComponent("PulumiPolicy.yaml").path)?.kind == "file", "\(what)", sourceLocation: sourceLocation)
    let manifest = try PolicyManifest.load(packDirectory: target)
    #expect(manifest.virtualenvURL?.standardizedFileURL.path == target.appendingPathComponent("venv").standardizedFileURL.path,
            "virtualenv resolves to \(manifest.virtualenvURL?.path ?? "nothing"), not <target>/venv: \(what)", sourceLocation: sourceLocation)
    let venv = target.appendingPathComponent("venv")
    #expect(Tree.lstatEntry(venv.path)?.kind == "dir", "<target>/venv is not a real directory: \(what)", sourceLocation: sourceLocation)
    #expect(Tree.lstatEntry(venv.appendingPathComponent("pyvenv.cfg").path)?.kind == "file", "\(what)", sourceLocation: sourceLocation)
    #expect(fm.isExecutableFile(atPath: venv.appendingPathComponent("bin/python").path), "\(what)", sourceLocation: sourceLocation)

    // realpath(3), not Foundation's resolution: it fails cleanly (ELOOP) on link loops.
    func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
    let root = realPath(target.path) ?? target.path
    for (rel, e) in Tree.snapshot(target, skipping: ["venv"]) where e.kind == "link" {
        let link = target.appendingPathComponent(rel)
        let dir = URL(fileURLWithPath: realPath(link.deletingLastPathComponent().path) ?? link.deletingLastPathComponent().path)
        let lexical = (e.link.hasPrefix("/") ? URL(fileURLWithPath: e.link) : dir.appendingPathComponent(e.link)).standardizedFileURL.path
        // A dangling or looping link has no physical target; its lexical one is still checked.
        for p in [lexical] + [realPath(link.path)].compactMap({ $0 }) {
            #expect(p == root || p.hasPrefix(root + "/"), "installed link \(rel) -> \(e.link) leads to \(p), outside the pack: \(what)",
                    sourceLocation: sourceLocation)
        }
    }
}

// MARK: - the suite

@Suite(.timeLimit(.minutes(10)))
struct AdversarialArchiveTests {
    @Test(arguments: AdversarialCases.good) func goodArchive(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.traversal) func traversal(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.symlinks) func symlinks(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.hardLinks) func hardLinks(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.specialFiles) func devicesFIFOsAndTypeflags(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.bombsAndSizes) func bombsAndSizes(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.venvSmuggling) func venvSmuggling(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.hostileYAML) func hostileYAML(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.hostileNames) func hostileNamesAndOrgs(_ c: ArchiveCase) async throws { try await exercise(c) }
    @Test(arguments: AdversarialCases.duplicates) func duplicatesAndOddStructure(_ c: ArchiveCase) async throws { try await exercise(c) }

    /// Every archive make_archives.py can craft is exercised, and every case names one it can.
    @Test func everyCraftedArchiveIsExercised() async throws {
        let r = try await runWithTimeout(["/usr/bin/python3", AdversarialCases.script.path, "--list"], timeout: 60)
        #expect(r.status == 0, "\(r.summary)")
        let crafted = Set(r.stdout.split(separator: "\n").map(String.init))
        let used = Set(AdversarialCases.all.map(\.archive))
        #expect(crafted.subtracting(used).sorted() == [], "crafted but never installed")
        #expect(used.subtracting(crafted).sorted() == [], "installed but not crafted")
        let labels = AdversarialCases.all.map(\.label)
        #expect(Set(labels).count == labels.count, "case labels must be unique")
    }
}
