import Foundation
import PolicyHost

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

    /// Writes report text to the original stdout.
    public static func writeReport(_ text: String) {
        var bytes = Array(text.utf8)
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
        flushAndExit(e.status.rawValue)
    }

    public static func exit(_ status: ExitStatus) -> Never {
        flushAndExit(status.rawValue)
    }

    /// Exits without finalising Python (saves ~40 ms; Python's streams are unbuffered here).
    public static func flushAndExit(_ code: Int32) -> Never {
        fflush(nil)

        Foundation.exit(code)
    }
}
