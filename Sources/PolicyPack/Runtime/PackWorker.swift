import Foundation
import PolicyValues
import HostCore

/// A pack runs in a worker process: this binary again, `analyze … --worker-outcome DIR`, in a process
/// group of its own, supervised by the process the user started. The worker writes its report and
/// then its status into `DIR` (the status last, by an atomic rename): that is the completion
/// handshake. The supervisor prints a report only when the status says one was completed; any other
/// end — an exit of any status without a status file, a signal, a timeout — is a pack failure (exit 4),
/// never a pass. The worker's fd 1 is the supervisor's stderr, so nothing a pack or a process it forks
/// prints reaches the report on stdout; after the worker ends, its whole process group is killed, so
/// forked children cannot outlive the run or keep it waiting.
public enum PackWorker {
    /// How the worker's run ended.
    public enum Outcome: Sendable {
        /// A complete report (`bytes`, in the requested format) and the exit status it implies.
        case report(status: Int32, bytes: Data)
        /// The worker stopped on a documented error and printed it itself (`error: …` on its stderr).
        case failed(status: Int32)
        /// The worker ended without the handshake: `message` says how.
        case abnormal(message: String)
    }

    public enum Stderr: Sendable {
        /// The worker shares this process's stderr (live progress and warnings).
        case inherit
        /// The worker's stderr (and fd 1) go to this file.
        case file(URL)
    }

    // MARK: supervisor side

    /// Runs `executable arguments… --worker-outcome DIR` and waits for it (at most `timeout` seconds).
    public static func run(executable: String, arguments: [String], stderr: Stderr, timeout: Double?) -> Outcome {
        let dir: URL
        do { dir = try ChildProcesses.makeScratchDirectory(prefix: "policy-host-worker") } catch {
            return .abnormal(message: error.message)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let argv = [executable] + arguments + ["--worker-outcome", dir.path]
        let pid: pid_t
        do { pid = try spawn(argv, stderr: stderr) } catch {
            return .abnormal(message: error.message)
        }
        ChildProcesses.register(group: pid)
        defer { ChildProcesses.unregister(group: pid) }

        let exited = DispatchSemaphore(value: 0)
        let status = StatusBox()
        Thread.detachNewThread {
            var st: Int32 = 0
            while waitpid(pid, &st, 0) == -1 && errno == EINTR {}
            status.value = st
            exited.signal()
        }
        var timedOut = false
        if let timeout {
            let nanos = timeout * 1e9
            let wait: DispatchTime = nanos < 1e17 ? .now() + .nanoseconds(Int(nanos)) : .distantFuture
            if exited.wait(timeout: wait) == .timedOut {
                timedOut = true
                // SIGTERM first: the worker stops the installers it started (process groups of their
                // own), then SIGKILL for whatever is left.
                kill(-pid, SIGTERM)
                if exited.wait(timeout: .now() + 3) == .timedOut {
                    kill(-pid, SIGKILL)
                    exited.wait()
                }
            }
        } else {
            exited.wait()
        }
        // Whatever the pack forked goes with it.
        kill(-pid, SIGKILL)

        if timedOut {
            return .abnormal(message: "timed out after \(JSON.formatNumber(timeout ?? 0)) s and was killed")
        }
        if let done = readStatus(dir) {
            if done.report {
                guard let bytes = FileManager.default.contents(atPath: dir.appendingPathComponent("report").path) else {
                    return .abnormal(message: "its report could not be read")
                }
                return .report(status: done.status, bytes: bytes)
            }
            return .failed(status: done.status)
        }
        let st = status.value
        let sig = st & 0x7f
        if sig != 0 {
            let name = [SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV, a segmentation fault", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS",
                        SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGTERM: "SIGTERM"][sig] ?? "signal \(sig)"
            return .abnormal(message: "was killed by \(name) before its report was complete")
        }
        let code = (st >> 8) & 0xff
        return .abnormal(message: "exited with status \(code) before its report was complete (did the pack call sys.exit or os._exit?)")
    }

    final class StatusBox: @unchecked Sendable {
        var value: Int32 = 0
    }

    private static func readStatus(_ dir: URL) -> (status: Int32, report: Bool)? {
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("status").path),
              let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let status = Int32(parts[0]), ["report", "error"].contains(parts[1]) else { return nil }
        return (status, parts[1] == "report")
    }

    /// posix_spawn into a new process group, stdin from /dev/null, fd 1 and 2 as `stderr` says,
    /// signal dispositions reset.
    private static func spawn(_ argv: [String], stderr: Stderr) throws(HostError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch stderr {
        case .inherit:
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        case .file(let url):
            posix_spawn_file_actions_addopen(&actions, 2, url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cargs, environ)
        guard rc == 0 else {
            throw HostError(.internal, "could not start the pack's worker process \(argv[0]): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    // MARK: worker side

    nonisolated(unsafe) private static var outcomeDirectory: URL?
    nonisolated(unsafe) private static var workerPID: pid_t = 0

    /// Called first thing in a worker: remembers where the handshake goes and who the worker is,
    /// and ends the worker when its supervisor dies.
    public static func becomeWorker(outcome: String) {
        outcomeDirectory = URL(fileURLWithPath: outcome)
        workerPID = getpid()
        // The supervisor reports the end of the run itself; the worker's line says whose it is.
        ChildProcesses.installTerminationHandlers(messagePrefix: "policy-host worker")
        let parent = getppid()
        Thread.detachNewThread {
            while true {
                usleep(200_000)
                if getppid() != parent {
                    // Everything the worker started (the SDK's analyzer with `--runtime sdk-server`,
                    // what the pack forked) goes with it, as when the supervisor ends the group.
                    if getpgrp() == getpid() { kill(0, SIGKILL) }
                    _exit(ExitStatus.packLoad.rawValue)
                }
            }
        }
    }

    /// Whether this process is a worker (its report goes into the handshake, not to stdout).
    public static var isWorker: Bool { outcomeDirectory != nil }

    /// Writes the completed report and then the status. In a process forked by the pack, which is
    /// not the worker, it writes nothing and ends that process.
    public static func complete(report: Data, status: Int32) {
        guard let dir = outcomeDirectory else { return }
        guard getpid() == workerPID else { _exit(0) }
        let reportURL = dir.appendingPathComponent("report")
        guard (try? report.write(to: reportURL)) != nil else { return }
        writeStatus("\(status) report", in: dir)
    }

    /// Records that the worker stops on a documented error it has printed.
    public static func failed(status: Int32) {
        guard let dir = outcomeDirectory else { return }
        guard getpid() == workerPID else { _exit(0) }
        writeStatus("\(status) error", in: dir)
    }

    private static func writeStatus(_ text: String, in dir: URL) {
        let tmp = dir.appendingPathComponent("status.tmp")
        guard (try? Data(text.utf8).write(to: tmp)) != nil else { return }
        rename(tmp.path, dir.appendingPathComponent("status").path)
    }
}
