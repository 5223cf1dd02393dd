import Foundation
import PolicyValues

/// Keeps secrets out of everything written to this process's stdout and stderr once a pack may
/// run: fd 1 and fd 2 become a pipe, and a thread relays it to the original stderr line by line
/// (`\n` or `\r`) through a `SecretRedactor`. What a pack prints or raises, what its child
/// processes write, tracebacks and policy-host's own warnings all pass through it. Reports go to
/// the original stdout (`Terminal.writeReport`) and are redacted as data before that. `serve`
/// learns its secrets request by request (`add(secretsIn:)`).
public enum OutputRedaction {
    private final class Relay: @unchecked Sendable {
        let readFD: Int32
        let outFD: Int32
        private let lock = NSLock()
        private var redactor: SecretRedactor
        let done = DispatchSemaphore(value: 0)

        init(readFD: Int32, outFD: Int32, redactor: SecretRedactor) {
            self.readFD = readFD
            self.outFD = outFD
            self.redactor = redactor
        }

        func add(secretsIn value: PlainValue) {
            guard SecretRedactor.holdsSecret(value) else { return }  // most requests: no lock, no copy
            lock.withLock { redactor.add(secretsIn: value) }
        }

        /// Lines longer than this are relayed in pieces (a secret cut across two pieces can show).
        static let maxPending = 1 << 16

        func run() {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 14)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending.append(contentsOf: chunk[0..<n])
                if let end = pending.lastIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                    emit(Array(pending[...end]))
                    pending.removeFirst(end + 1)
                } else if pending.count > Self.maxPending {
                    emit(pending)
                    pending.removeAll()
                }
            }
            if !pending.isEmpty { emit(pending) }
            close(readFD)
            done.signal()
        }

        func emit(_ bytes: [UInt8]) {
            let current = lock.withLock { redactor }
            let out = current.redact(bytes) ?? bytes
            var offset = 0
            while offset < out.count {
                let n = out.withUnsafeBytes { write(outFD, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    nonisolated(unsafe) private static var relay: Relay?
    /// Where a crash handler writes: stderr, or the original stderr while the relay runs (it would
    /// die with the crashing process).
    nonisolated(unsafe) public static var crashFD: Int32 = 2

    /// Starts redacting fd 1 and 2 (once). Nothing to do for a redactor that matches nothing,
    /// unless more secrets are to come (`learning`, for `serve`).
    public static func install(_ redactor: SecretRedactor, learning: Bool = false) {
        guard relay == nil, learning || !redactor.isEmpty else { return }
        fflush(nil)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        let out = dup(2)
        guard out >= 0 else {
            close(fds[0]); close(fds[1])
            return
        }
        for fd in [out, fds[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let r = Relay(readFD: fds[0], outFD: out, redactor: redactor)
        relay = r
        crashFD = out
        let thread = Thread { r.run() }
        thread.start()
        dup2(fds[1], 2)
        dup2(fds[1], 1)
        close(fds[1])
        atexit { OutputRedaction.finish() }
    }

    /// Adds the secrets signed inside `value` (a request's properties), if the relay runs.
    public static func add(secretsIn value: PlainValue) {
        relay?.add(secretsIn: value)
    }

    /// Closes the pipe and waits (up to two seconds, for child processes that still hold it) until
    /// everything written has been relayed.
    public static func finish() {
        guard let r = relay else { return }
        relay = nil
        fflush(nil)
        dup2(r.outFD, 2)
        dup2(r.outFD, 1)
        _ = r.done.wait(timeout: .now() + 2)
    }
}
