import Foundation
import HostCore
import PolicyPack

/// Process-level output: reports go to the original stdout; once Python runs,
/// fd 1 is pointed at stderr so a pack's prints never mix into a report.
public enum Terminal {
    nonisolated(unsafe) private static var reportFD: Int32 = 1

    /// Keeps the original stdout for reports and sends everything else written to fd 1 to stderr.
    public static func isolateStdout() {
        guard reportFD == 1 else { return }
        fflush(nil)
        let saved = dup(1)
        guard saved >= 0 else { return }
        _ = fcntl(saved, F_SETFD, FD_CLOEXEC)
        reportFD = saved
        dup2(2, 1)
    }

    /// Whether the text report may use colour: the original stdout is a terminal (or, in a pack's
    /// worker, the supervisor's is: `POLICY_HOST_STDOUT_TTY`), `NO_COLOR` is unset or empty
    /// (no-color.org) and `TERM` is not `dumb`.
    public static var reportInColor: Bool {
        let env = ProcessInfo.processInfo.environment
        if let noColor = env["NO_COLOR"], !noColor.isEmpty { return false }
        if env["TERM"] == "dumb" { return false }
        if let tty = env[stdoutTTYVariable] { return tty == "1" }
        return isatty(reportFD) != 0
    }

    /// Set by a supervising process for its worker: whether the supervisor's stdout is a terminal.
    public static let stdoutTTYVariable = "POLICY_HOST_STDOUT_TTY"

    /// Tells worker processes whether this process's stdout is a terminal.
    public static func exportStdoutTTY() {
        if ProcessInfo.processInfo.environment[stdoutTTYVariable] == nil {
            setenv(stdoutTTYVariable, isatty(reportFD) != 0 ? "1" : "0", 1)
        }
    }

    /// Writes report text to the original stdout.
    public static func writeReport(_ text: String) {
        writeReport(Data(text.utf8))
    }

    public static func writeReport(_ data: Data) {
        var bytes = [UInt8](data)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(reportFD, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }

    public static func warn(_ text: String) {
        FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
    }

    public static func fail(_ e: HostError) -> Never {
        FileHandle.standardError.write(Data(e.rendered.utf8))
        PackWorker.failed(status: e.status.rawValue)
        flushAndExit(e.status.rawValue)
    }

    public static func exit(_ status: ExitStatus) -> Never {
        flushAndExit(status.rawValue)
    }

    /// Exits without finalising Python (saves ~40 ms; Python's streams are unbuffered here).
    public static func flushAndExit(_ code: Int32) -> Never {
        fflush(nil)
        OutputRedaction.finish()
        ChildProcesses.removeScratch()
        Foundation.exit(code)
    }
}

extension Terminal {
    /// Replaces the Swift runtime's crash report for fatal signals (which would come from a pack's
    /// native code, not from bad input) with one line; the signal is then re-raised so that the exit
    /// status still says what happened. Python's faulthandler, enabled by the driver, prints the
    /// Python traceback first.
    public static func installCrashHandler() {
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                let text: StaticString = "fatal: policy-host crashed in native code (a C extension of the pack?); see the Python traceback above\n"
                _ = text.withUTF8Buffer { write(OutputRedaction.crashFD, $0.baseAddress, $0.count) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(sig, &action, nil)
        }
    }
}
