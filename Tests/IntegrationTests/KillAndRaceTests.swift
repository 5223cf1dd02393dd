import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

// Kill and race tests for `policy-host install PACK_DIR` and `install --archive` (Tests/Adversarial/README.md):
// a run SIGKILLed at any moment is repaired by the next one, which leaves a working venv, the user's files
// byte-identical, no `*.tmp-*` directories and no installer processes; concurrent installs of one pack
// through two paths both succeed; SIGTERM stops the installer too. Process helpers: AdversarialArchiveTests.swift.

struct KillRound: Sendable, CustomTestStringConvertible {
    enum Mode: String, Sendable { case packDirectory = "install PACK_DIR", archive = "install --archive" }
    var mode: Mode
    var band: Int
    var delay: Double
    var seed: UInt64
    var testDescription: String { "\(mode.rawValue), SIGKILL after \(String(format: "%.3f", delay)) s (band \(band), seed \(seed))" }

    static let seed: UInt64 = ProcessInfo.processInfo.environment["POLICY_HOST_KILL_SEED"].flatMap { UInt64($0) } ?? 20_261_204
    static let bands = 10

    /// One delay in each of `bands` log-spaced bands from 0.05 s to 4 s, so that every phase (argument
    /// parsing, extraction, the lock, `python -m venv`, ensurepip, the pip upgrade) gets hit; the two commands
    /// take the bands in turn, so each of them is killed across the whole range.
    static let all: [KillRound] = {
        // Deterministic kill delays, so a failing one can be replayed (POLICY_HOST_KILL_SEED picks another sequence).
        var rng = SplitMix64(seed: seed)
        let lo = 0.05, hi = 4.0, n = Double(bands)
        return (0..<bands).map { i in
            let a = lo * pow(hi / lo, Double(i) / n), b = lo * pow(hi / lo, Double(i + 1) / n)
            return KillRound(mode: i % 2 == 0 ? .packDirectory : .archive, band: i, delay: a + rng.unit() * (b - a), seed: seed)
        }
    }()
}

/// Bounds how many venv builds run at once (each is a few CPU-seconds of ensurepip and pip).
actor BuildGate {
    static let shared = BuildGate(width: max(4, min(8, ProcessInfo.processInfo.activeProcessorCount * 3)))
    private let width: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    init(width: Int) { self.width = width }

    func acquire() async {
        if running < width { running += 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }

    static func with<T>(_ body: () async throws -> T) async throws -> T {
        await shared.acquire()
        do {
            let v = try await body()
            await shared.release()
            return v
        } catch {
            await shared.release()
            throw error
        }
    }
}

/// A scratch directory with a pack of our own (no `virtualenv` option: install uses `<pack>/venv`).
struct KillScratch {
    let root: URL
    var pack: URL { root.appendingPathComponent("pack") }
    var home: URL { root.appendingPathComponent("home") }
    var venv: URL { pack.appendingPathComponent("venv") }
    var userFiles: [String: Data]

    init(requirements: String = "") throws {
        root = URL(fileURLWithPath: "/tmp/policy-host-kill-\(UUID().uuidString.prefix(8).lowercased())")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("pack"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("home"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("in"), withIntermediateDirectories: true)
        userFiles = [
            "PulumiPolicy.yaml": Data("runtime: python\nversion: 1.0.0\ndescription: killed and raced\n".utf8),
            "__main__.py": Data("# installed, never run\n".utf8),
            "requirements.txt": Data(requirements.utf8),
            "notes.txt": Data("my notes\nkeep them\n".utf8),
        ]
        for (name, data) in userFiles { try data.write(to: root.appendingPathComponent("pack").appendingPathComponent(name)) }
    }

    var env: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PULUMI_HOME"] = home.path
        return env
    }

    func remove() {
        for (pid, _) in Procs.mentioning(root.path) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: root)
    }

    /// `*.tmp-*` entries under `dir`, not descending into venvs.
    static func temporaries(under dir: URL) -> [String] {
        var found: [String] = []
        func walk(_ path: String) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                let child = path + "/" + name
                if name.contains(".tmp-") { found.append(child) }
                if name != "venv", Tree.isRealDirectory(child) { walk(child) }
            }
        }
        walk(dir.path)
        return found.sorted()
    }
}

/// The venv's interpreter starts.
func expectWorkingVenv(_ venv: URL, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) async {
    let python = venv.appendingPathComponent("bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        Issue.record("no working \(python): \(what)", sourceLocation: sourceLocation)
        return
    }
    do {
        let py = try await runWithTimeout([python, "-c", "import sys"], timeout: 60, sourceLocation: sourceLocation)
        #expect(py.status == 0 && py.signal == nil, "venv python does not start: \(what)\n\(py.summary)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("could not start \(python): \(error) \(what)", sourceLocation: sourceLocation)
    }
}

/// No process of this scratch directory is left after a second or two.
func expectNoLeftoverProcesses(_ scratch: URL, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) async {
    let left = await Procs.leftovers(mentioning: scratch.path, within: 2.5)
    #expect(left.isEmpty, "processes left running: \(left.map { "\($0.pid) \($0.cmdline)" }) \(what)", sourceLocation: sourceLocation)
}

let venvWorkWords = ["Creating virtual environment", "Recreating virtual environment", "Installing dependencies"]

@Suite(.timeLimit(.minutes(10)))
struct KillAndRaceTests {
    @Test(arguments: KillRound.all)
    func killedInstallIsRepairedByTheNextOne(_ round: KillRound) async throws {
        let scratch = try KillScratch()
        defer { scratch.remove() }
        let what = "[\(round.testDescription)]"
        let argv: [String]
        let venv: URL
        let org = scratch.home.appendingPathComponent("policies/acme")
        let target = org.appendingPathComponent("pulumi-analyzer-kill-v1.0.0")
        let archive = scratch.root.appendingPathComponent("in/kill-v1.0.0.tar.gz")
        switch round.mode {
        case .packDirectory:
            argv = [Repo.binary, "install", scratch.pack.path]
            venv = scratch.venv
        case .archive:
            let made = try await runWithTimeout(["/usr/bin/python3", AdversarialCases.script.path, "good", archive.path,
                                                 "--scratch", scratch.root.path], timeout: 60)
            try #require(made.status == 0, "\(made.summary)")
            argv = [Repo.binary, "install", "--archive", archive.path, "--org", "acme"]
            venv = target.appendingPathComponent("venv")
        }
        let archiveBytes = FileManager.default.contents(atPath: archive.path)

        try await BuildGate.with {
            let victim = try GuardedProcess(argv, cwd: scratch.root, env: scratch.env)
            let finishedEarly = await onOwnThread {
                usleep(UInt32(round.delay * 1e6))
                let ended = !victim.isRunning
                victim.send(SIGKILL)
                return ended
            }
            let killed = await victim.wait(timeout: 15)
            if finishedEarly {
                // Not a failure, but then this round did not test a kill; say so.
                print("note: \(what) the run had already ended (\(killed.summary.prefix(40))) before the kill")
            }

            let again = try await runWithTimeout(argv, cwd: scratch.root, env: scratch.env, timeout: 420)
            #expect(again.status == 0 && again.signal == nil, "the next install must repair: \(what)\n\(again.summary)")
            #expect(!again.stderr.contains("not a virtual environment"), "\(what)\n\(again.summary)")
            await expectWorkingVenv(venv, what)

            // And a third one has nothing left to do.
            let third = try await runWithTimeout(argv, cwd: scratch.root, env: scratch.env, timeout: 120)
            #expect(third.status == 0, "\(what)\n\(third.summary)")
            for w in venvWorkWords { #expect(!third.stderr.contains(w), "a third install still had work to do: \(what)\n\(third.summary)") }
        }

        for (name, data) in scratch.userFiles {
            #expect(FileManager.default.contents(atPath: scratch.pack.appendingPathComponent(name).path) == data, "\(name) changed: \(what)")
        }
        #expect(FileManager.default.contents(atPath: archive.path) == archiveBytes, "the archive changed: \(what)")
        #expect(KillScratch.temporaries(under: scratch.root) == [], "leftover temporaries: \(what)")
        if round.mode == .archive {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: org.path)) ?? []
            #expect(entries == [target.lastPathComponent], "\(org.path) holds \(entries): \(what)")
        }
        await expectNoLeftoverProcesses(scratch.root, what)
    }

    /// Killed right after `<pack>/venv` appears: the next run must not refuse the half-made venv as "not a
    /// virtual environment" (it is ours), and must repair it.
    @Test(arguments: [0.0, 0.005, 0.03, 0.12])
    func killJustAfterTheVenvDirectoryAppears(_ extra: Double) async throws {
        let scratch = try KillScratch()
        defer { scratch.remove() }
        let what = "[SIGKILL \(extra) s after \(scratch.venv.path) appeared]"
        let argv = [Repo.binary, "install", scratch.pack.path]
        try await BuildGate.with {
            let victim = try GuardedProcess(argv, cwd: scratch.root, env: scratch.env)
            let venvPath = scratch.venv.path
            let stillRunning = await onOwnThread {
                let deadline = Date().addingTimeInterval(60)
                var st = stat()
                while lstat(venvPath, &st) != 0 && victim.isRunning && Date() < deadline { usleep(200) }
                if extra > 0 { usleep(UInt32(extra * 1e6)) }
                let running = victim.isRunning
                victim.send(SIGKILL)
                return running
            }
            let killed = await victim.wait(timeout: 15)
            #expect(stillRunning, "the install ended before it could be killed: \(what)\n\(killed.summary)")
            let contents = ((try? FileManager.default.contentsOfDirectory(atPath: scratch.venv.path)) ?? []).sorted()

            let again = try await runWithTimeout(argv, cwd: scratch.root, env: scratch.env, timeout: 420)
            #expect(again.status == 0, "the next install must repair (venv held \(contents)): \(what)\n\(again.summary)")
            #expect(!again.stderr.contains("not a virtual environment"), "refused its own half-made venv (it held \(contents)): \(what)")
            await expectWorkingVenv(scratch.venv, what)
        }
        for (name, data) in scratch.userFiles {
            #expect(FileManager.default.contents(atPath: scratch.pack.appendingPathComponent(name).path) == data, "\(name) changed: \(what)")
        }
        await expectNoLeftoverProcesses(scratch.root, what)
    }

    /// `install P` and `install L` (L -> P) at the same moment: first with no venv, then with changed
    /// requirements. Both must succeed, the venv must work, and a third install must have nothing to do.
    /// The rounds vary which path starts first and how many links lie between L and P.
    @Test(arguments: ["P with L, P first", "P with L2 -> L -> P, L2 first"])
    func concurrentInstallsThroughASymlinkedPath(_ variant: String) async throws {
        let scratch = try KillScratch()
        defer { scratch.remove() }
        let link = scratch.root.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: scratch.pack.path)
        var other = link
        if variant.contains("L2") {
            other = scratch.root.appendingPathComponent("link2")
            try FileManager.default.createSymbolicLink(atPath: other.path, withDestinationPath: "link")
        }
        let paths = variant.hasSuffix("P first") ? [scratch.pack, other] : [other, scratch.pack]
        let phases: [(String, () throws -> Void)] = [
            ("no venv yet", {}),
            ("requirements changed", {
                try Data("# changed\n".utf8).write(to: scratch.pack.appendingPathComponent("requirements.txt"))
            }),
        ]
        for (label, prepare) in phases {
            let what = "[\(variant): \(label)]"
            try prepare()
            try await BuildGate.with {
                let a = try GuardedProcess([Repo.binary, "install", paths[0].path], cwd: scratch.root, env: scratch.env)
                let b = try GuardedProcess([Repo.binary, "install", paths[1].path], cwd: scratch.root, env: scratch.env)
                let ra = await a.wait(timeout: 420)
                let rb = await b.wait(timeout: 420)
                #expect(ra.status == 0 && ra.signal == nil, "install \(paths[0].lastPathComponent): \(what)\n\(ra.summary)")
                #expect(rb.status == 0 && rb.signal == nil, "install \(paths[1].lastPathComponent): \(what)\n\(rb.summary)")
                await expectWorkingVenv(scratch.venv, what)
                let third = try await runWithTimeout([Repo.binary, "install", scratch.pack.path], cwd: scratch.root, env: scratch.env, timeout: 60)
                #expect(third.status == 0, "\(what)\n\(third.summary)")
                for w in venvWorkWords { #expect(!third.stderr.contains(w), "a third install still had work to do: \(what)\n\(third.summary)") }
            }
        }
        #expect(KillScratch.temporaries(under: scratch.root) == [])
        await expectNoLeftoverProcesses(scratch.root, "[\(variant)]")
    }

    /// SIGTERM while pip runs: policy-host ends, non-zero, within seconds, and takes its installer with it.
    @Test func sigtermWhilePipRunsStopsTheInstaller() async throws {
        let scratch = try KillScratch(requirements: "six\n")
        defer { scratch.remove() }
        try await BuildGate.with {
            let p = try GuardedProcess([Repo.binary, "install", scratch.pack.path], cwd: scratch.root, env: scratch.env)
            let root = scratch.root.path
            let sawPip = await onOwnThread {
                let deadline = Date().addingTimeInterval(240)
                while p.isRunning && Date() < deadline {
                    let pip = Procs.mentioning(root).filter { $0.cmdline.contains(" -m pip ") || $0.cmdline.contains("/pip ") }
                    if !pip.isEmpty {
                        usleep(300_000)
                        p.send(SIGTERM)
                        return true
                    }
                    usleep(20_000)
                }
                return false
            }
            try #require(sawPip, "pip never ran for \(scratch.pack.path) (install ended: \(!p.isRunning))")
            let r = await p.wait(timeout: 8)
            #expect(!r.timedOut, "policy-host did not end within 8 s of SIGTERM")
            #expect(r.signal != nil || r.status != 0, "policy-host must end non-zero after SIGTERM: \(r.summary)")
            let left = await Procs.leftovers(mentioning: scratch.root.path, within: 3)
            #expect(left.isEmpty, "installer processes outlived policy-host: \(left.map { "\($0.pid) \($0.cmdline)" })")
        }
    }
}
