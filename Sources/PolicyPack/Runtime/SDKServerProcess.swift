import Foundation
import PolicyValues
import HostCore

/// The SDK's own analyzer, `<python> -u -m pulumi.policy 127.0.0.1:0 <pack>`, started as the
/// Python language host starts it behind the engine's proxy: cwd = the pack directory, the venv
/// activated, `PULUMI_ORGANIZATION`/`PROJECT`/`STACK`/`DRY_RUN`/`CONFIG` set as the proxy sets
/// them. It prints its port as the first line of stdout; everything else it prints goes to stderr,
/// never into a report.
///
/// The process stays in this process's group, so whatever ends the worker (its supervisor's kill
/// of the group, a timeout, a termination signal) ends it too; `stop()` kills it when the
/// analysis is over.
///
/// `sdk_server_hook.py` goes first on its PYTHONPATH as `sitecustomize`: it reports, on a FIFO
/// (`faults`), which policy made a call fail and with what, because the failed RPC's status does
/// not say; it changes nothing the analyzer or the pack can observe (see the file).
public final class SDKServerProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The port it serves on, once it printed it.
    public private(set) var port = 0
    public let python: String
    public let faults: SDKFaultChannel
    private let scratch: URL
    private let lock = NSLock()
    private var waitStatus: Int32?
    private let forwarded = DispatchGroup()

    private init(pid: pid_t, python: String, faults: SDKFaultChannel, scratch: URL) {
        self.pid = pid
        self.python = python
        self.faults = faults
        self.scratch = scratch
    }

    /// The child's environment: this process's, with the venv activated (as the toolchain does:
    /// `PATH` prefix, `VIRTUAL_ENV`, no `PYTHONHOME`), the stack settings as the engine's proxy
    /// sets them (each only when non-empty, as the embedded driver does), and the hook's variables.
    public static func environment(base: [String: String], python: String, isVenv: Bool, settings: StackSettings,
                                   hookDirectory: String, faults: String) -> [String: String] {
        var env = base
        if isVenv {
            let bin = URL(fileURLWithPath: python).deletingLastPathComponent()
            env["PATH"] = bin.path + (env["PATH"].map { ":" + $0 } ?? "")
            env["VIRTUAL_ENV"] = bin.deletingLastPathComponent().path
            env.removeValue(forKey: "PYTHONHOME")
        }
        for (name, value) in [("PULUMI_ORGANIZATION", settings.organization), ("PULUMI_PROJECT", settings.project),
                              ("PULUMI_STACK", settings.stack)] {
            if value.isEmpty { env.removeValue(forKey: name) } else { env[name] = value }
        }
        if let dry = settings.dryRun { env["PULUMI_DRY_RUN"] = dry ? "true" : "false" }
        if settings.config.isEmpty {
            env.removeValue(forKey: "PULUMI_CONFIG")
        } else {
            env["PULUMI_CONFIG"] = JSON.serialize(.object(PlainObject(settings.config.map { ($0.0, .string($0.1)) })))
        }
        // The hook restores PYTHONPATH (or its absence) before anything else runs.
        if let original = env["PYTHONPATH"] { env["POLICY_HOST_SDK_PYTHONPATH"] = original }
        env["PYTHONPATH"] = hookDirectory + (env["PYTHONPATH"].map { $0.isEmpty ? "" : ":" + $0 } ?? "")
        env["POLICY_HOST_SDK_HOOK"] = hookDirectory
        env["POLICY_HOST_SDK_FAULTS"] = faults
        return env
    }

    /// The command line, as the Python language host runs an analyzer.
    public static func arguments(python: String, packDirectory: String) -> [String] {
        [python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", packDirectory]
    }

    /// Starts the analyzer and waits for its port; a pack that fails to load (its `__main__.py`
    /// raised, `pulumi` is not installed, it exited) is a pack failure, its output already shown.
    public static func start(python: String, isVenv: Bool, manifest: PolicyManifest, settings: StackSettings,
                             environment base: [String: String] = ProcessInfo.processInfo.environment) throws(HostError) -> SDKServerProcess {
        let scratch = try ChildProcesses.makeScratchDirectory(prefix: "policy-host-sdk")
        let hook = scratch.appendingPathComponent("hook")
        let fifo = scratch.appendingPathComponent("faults")
        do {
            try FileManager.default.createDirectory(at: hook, withIntermediateDirectories: false)
            try Data(DriverSources.sdkServerHook)
                .write(to: hook.appendingPathComponent("sitecustomize.py"))
        } catch {
            throw HostError(.environment, "could not prepare \(hook.path): \(error.localizedDescription)")
        }
        guard mkfifo(fifo.path, 0o600) == 0 else {
            throw HostError(.environment, "could not create the FIFO \(fifo.path): \(String(cString: strerror(errno)))")
        }
        // Read and write: the FIFO never reports end-of-file, and the analyzer's side never blocks on open.
        let channelFD = open(fifo.path, O_RDWR | O_CLOEXEC)
        guard channelFD >= 0 else {
            throw HostError(.environment, "could not open the FIFO \(fifo.path): \(String(cString: strerror(errno)))")
        }
        let faults = SDKFaultChannel(fd: channelFD)
        let env = environment(base: base, python: python, isVenv: isVenv, settings: settings, hookDirectory: hook.path, faults: fifo.path)
        let argv = arguments(python: python, packDirectory: manifest.packDirectory.path)

        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw HostError(.environment, "could not create pipes: \(String(cString: strerror(errno)))")
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do {
            pid = try spawn(argv, environment: env, cwd: manifest.packDirectory.path, stdout: out[1], stderr: err[1])
        } catch {
            for fd in out + err { close(fd) }
            faults.close()
            throw error
        }
        close(out[1])
        close(err[1])
        let process = SDKServerProcess(pid: pid, python: python, faults: faults, scratch: scratch)
        let tail = OutputTail()
        process.forward(err[0], tail: tail)
        // The first line that is a port (the engine reads exactly one line; a pack that prints
        // before PolicyPack(...) has its lines shown, as with the embedded runtime).
        var line: [UInt8] = []
        var port: Int?
        while port == nil {
            var p = pollfd(fd: out[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 200)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                if process.hasExited { break }
                continue
            }
            var byte: UInt8 = 0
            let n = read(out[0], &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            guard byte == UInt8(ascii: "\n") else {
                line.append(byte)
                continue
            }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let n = Int(text), (1...65535).contains(n) {
                port = n
            } else {
                line.append(byte)
                writeAll(2, line)
            }
            line = []
        }
        guard let port else {
            if !line.isEmpty { writeAll(2, line) }
            close(out[0])
            let how = process.exitDescription(waitingUpTo: 5) ?? "closed its output"
            process.stop()
            throw loadFailure(how: how, output: tail.text, python: python, manifest: manifest)
        }
        process.port = port
        process.forward(out[0], tail: nil)
        // The hook said it is in place before the port was printed (the pack imports the SDK first).
        _ = faults.awaitReady(timeout: 0.5)
        return process
    }

    private static func loadFailure(how: String, output: String, python: String, manifest: PolicyManifest) -> HostError {
        let main = manifest.packDirectory.appendingPathComponent("__main__.py").path
        let command = "\(python) -m pulumi.policy"
        if output.contains("No module named pulumi") || output.contains("No module named 'pulumi") {
            return HostError(.packLoad, "\(main): the pack's Python cannot run the SDK's analyzer (\(command) \(how)): the pulumi SDK is not installed",
                             hint: "add pulumi-policy to the pack's requirements.txt (or its pyproject.toml dependencies) and run `policy-host install`")
        }
        return HostError(.packLoad, "\(main): the policy pack failed to load: the SDK's analyzer (\(command)) \(how) before it was ready; its output is above")
    }

    /// Copies `fd` to stderr until end-of-file, keeping a tail when asked.
    private func forward(_ fd: Int32, tail: OutputTail?) {
        forwarded.enter()
        let group = forwarded
        let t = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                let chunk = Array(buffer[0..<n])
                tail?.append(chunk)
                SDKServerProcess.writeAll(2, chunk)
            }
            close(fd)
            group.leave()
        }
        t.start()
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Whether the process has ended (reaps it).
    public var hasExited: Bool { exitDescription(waitingUpTo: 0) != nil }

    /// How the process ended ("exited with status 1", "was killed by SIGSEGV"), waiting for it up to
    /// `seconds`; `nil` while it runs.
    public func exitDescription(waitingUpTo seconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            lock.lock()
            if waitStatus == nil {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                if r == pid { waitStatus = st }
            }
            let status = waitStatus
            lock.unlock()
            if let st = status { return Self.describe(st) }
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
    }

    static func describe(_ st: Int32) -> String {
        let sig = st & 0x7f
        if sig != 0 {
            let name = [SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV, a segmentation fault", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS",
                        SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGTERM: "SIGTERM", SIGINT: "SIGINT"][sig] ?? "signal \(sig)"
            return "was killed by \(name)"
        }
        return "exited with status \((st >> 8) & 0xff)"
    }

    /// Kills the analyzer, lets its last output through (briefly: processes the pack forked may
    /// hold the pipes open), and removes its scratch directory.
    public func stop() {
        if exitDescription(waitingUpTo: 0) == nil {
            kill(pid, SIGKILL)
            _ = exitDescription(waitingUpTo: 5)
        }
        _ = forwarded.wait(timeout: .now() + 0.5)
        faults.close()
        try? FileManager.default.removeItem(at: scratch)
    }

    /// posix_spawn in this process group, stdin from /dev/null, the signal dispositions and mask
    /// reset (policy-host ignores SIGPIPE), in `cwd`, no other descriptor inherited.
    private static func spawn(_ argv: [String], environment: [String: String], cwd: String,
                              stdout: Int32, stderr: Int32) throws(HostError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var argv = argv
        if let addchdir = SpawnExtensions.addchdir {
            _ = addchdir(&actions, cwd)
        } else {
            // glibc before 2.29: a shell changes directory and execs the same command line.
            argv = ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", cwd] + argv
        }
        if let closefrom = SpawnExtensions.addclosefrom { _ = closefrom(&actions, 3) }
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
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var cenv: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cargs, &cenv)
        guard rc == 0 else {
            throw HostError(.environment, "could not start the SDK's analyzer \(argv[0]): \(String(cString: strerror(rc)))",
                            hint: "run `policy-host install --recreate` to rebuild the pack's virtualenv")
        }
        return pid
    }
}

/// glibc's posix_spawn extensions, which the Glibc module does not import.
enum SpawnExtensions {
    typealias FileAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    static let addchdir: FileAction? = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: FileAction.self) }
    static let addclosefrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: CloseFrom.self) }
}

/// The last 64 KiB of what a process wrote.
final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private let limit = 65536

    func append(_ chunk: [UInt8]) {
        lock.lock()
        bytes += chunk
        if bytes.count > limit { bytes.removeFirst(bytes.count - limit) }
        lock.unlock()
    }

    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: bytes, as: UTF8.self) }
}
