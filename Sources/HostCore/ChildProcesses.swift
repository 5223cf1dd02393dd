import Foundation

/// What this process started and must not leave behind: child process groups (a pack's worker,
/// installers) and scratch directories. A termination signal (SIGINT, SIGTERM, SIGHUP) stops every
/// registered child group, removes the scratch directories and exits with 128 + the signal, so an
/// interrupted `install` or `analyze` never leaves pip or a pack running. `Terminal`'s exit path
/// removes the scratch directories too (`exit()` runs no `defer`).
public enum ChildProcesses {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var groups: Set<pid_t> = []
    nonisolated(unsafe) private static var scratch: [URL] = []
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var interruptionPrefix = "error"

    /// Registers a child that leads its own process group (`kill(-pid)` reaches it and its children).
    public static func register(group pid: pid_t) {
        lock.lock(); groups.insert(pid); lock.unlock()
    }

    public static func unregister(group pid: pid_t) {
        lock.lock(); groups.remove(pid); lock.unlock()
    }

    /// A private (0700) scratch directory, removed at exit or on a termination signal.
    public static func makeScratchDirectory(prefix: String = "policy-host") throws(HostError) -> URL {
        var template = Array("\(FileManager.default.temporaryDirectory.path)/\(prefix)-XXXXXX".utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buf in
            guard let p = mkdtemp(buf.baseAddress!) else { return nil }
            return String(cString: p)
        }
        guard let made else {
            throw HostError(.environment, "cannot create a scratch directory in \(FileManager.default.temporaryDirectory.path): \(String(cString: strerror(errno)))")
        }
        let url = URL(fileURLWithPath: made)
        lock.lock(); scratch.append(url); lock.unlock()
        return url
    }

    /// Removes the scratch directories (called on every exit path).
    public static func removeScratch() {
        lock.lock()
        let dirs = scratch
        scratch = []
        lock.unlock()
        for d in dirs { try? FileManager.default.removeItem(at: d) }
    }

    /// Sends `signal` to every registered child group.
    public static func signalAll(_ sig: Int32) {
        lock.lock()
        let all = groups
        lock.unlock()
        for pid in all {
            kill(-pid, sig)
            kill(pid, sig)
        }
    }

    /// Installs the handlers once per process. Not for `serve`, which shuts down on its own terms.
    /// `messagePrefix` starts the line printed on a termination signal: "error" for a command, a
    /// worker's own prefix where its supervisor reports the end of the run itself.
    public static func installTerminationHandlers(messagePrefix: String = "error") {
        lock.lock()
        defer { lock.unlock() }
        interruptionPrefix = messagePrefix
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { terminate(by: sig) }
            source.resume()
            sources.append(source)
        }
    }

    private static func terminate(by sig: Int32) {
        signalAll(SIGTERM)
        // Give children a moment to stop on their own, then make sure.
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            lock.lock()
            let alive = groups.contains { kill($0, 0) == 0 }
            lock.unlock()
            if !alive { break }
            usleep(20_000)
        }
        signalAll(SIGKILL)
        removeScratch()
        let name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP"
        lock.lock()
        let prefix = interruptionPrefix
        lock.unlock()
        FileHandle.standardError.write(Data("\(prefix): interrupted by \(name); child processes were stopped\n".utf8))
        _exit(128 + sig)
    }
}
