import Foundation
import PolicyValues

/// What `sdk_server_hook.py` reports from inside the SDK's analyzer, one JSON line per event on a
/// FIFO: `ready` once it observes the servicer, then one `fault` per call a policy failed —
/// `{phase, urn, policyName, type, message, traceback, answered}`.
///
/// A fault is written before the exception leaves the servicer, so it is in the FIFO before the
/// client sees the call fail. An exception that is not an `Exception` (`sys.exit()`,
/// `KeyboardInterrupt`) leaves gRPC's call open forever (its server catches only `Exception`):
/// such a fault (`answered: false`) cancels the call in flight, so that it fails as the embedded
/// runtime fails it instead of hanging the run.
public final class SDKFaultChannel: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    private var faults: [PlainValue] = []
    private var ready = false
    private var closed = false
    private var unanswered = false
    private var cancelInFlight: (@Sendable () -> Void)?
    private var reader: Thread?

    init(fd: Int32) {
        self.fd = fd
        let t = Thread { [self] in readLoop() }
        reader = t
        t.start()
    }

    private func readLoop() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending += buffer[0..<n]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                guard let event = try? JSON.parse(Data(line)) else { continue }
                if event["event"]?.stringValue == "quit" { return }
                receive(event)
            }
        }
    }

    private func receive(_ event: PlainValue) {
        var cancel: (@Sendable () -> Void)?
        condition.lock()
        switch event["event"]?.stringValue {
        case "ready":
            ready = true
        case "fault":
            faults.append(event)
            if event["answered"]?.boolValue == false {
                unanswered = true
                cancel = cancelInFlight
                cancelInFlight = nil
            }
        default:
            break
        }
        condition.broadcast()
        condition.unlock()
        cancel?()
    }

    /// Whether the hook is in place, waiting for it up to `timeout` seconds.
    @discardableResult
    public func awaitReady(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !ready && !closed {
            if !condition.wait(until: deadline) { break }
        }
        return ready
    }

    public var isReady: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ready
    }

    /// Registers how to cancel the call now in flight (`nil` once it is over). If a fault that
    /// leaves its call unanswered has already arrived, `cancel` runs at once.
    public func setInFlight(_ cancel: (@Sendable () -> Void)?) {
        condition.lock()
        let now = cancel != nil && unanswered
        cancelInFlight = now ? nil : cancel
        condition.unlock()
        if now { cancel?() }
    }

    /// Whether the call in flight was cancelled because its fault said it would never be answered.
    public var cancelledUnanswered: Bool {
        condition.lock()
        defer { condition.unlock() }
        return unanswered
    }

    /// The fault of the call that just failed (`phase` on `urn`), waiting for it up to `timeout`
    /// seconds; faults of other calls before it are dropped.
    /// A fault the hook wrote in a shape this version does not read is dropped: the call's status
    /// text is then its error (as with an SDK the hook does not recognise).
    public func takeFault(phase: String, urn: String, timeout: Double) -> PolicyFault? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer {
            // Whatever was taken or dropped, only a fault still waiting can cancel a later call.
            unanswered = faults.contains { $0["answered"]?.boolValue == false }
            condition.unlock()
        }
        while true {
            while let f = faults.first {
                faults.removeFirst()
                if f["phase"]?.stringValue == phase && f["urn"]?.stringValue == urn {
                    return try? PolicyFault(driver: f, path: "fault")
                }
            }
            if closed || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Stops the reader and closes the FIFO.
    public func close() {
        condition.lock()
        let first = !closed
        closed = true
        condition.broadcast()
        condition.unlock()
        guard first else { return }
        // The reader holds the only other reference to the FIFO's read side: tell it to stop.
        // (A line of its own, whatever a killed analyzer left half-written.)
        let quit = Array("\n{\"event\":\"quit\"}\n".utf8)
        _ = quit.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        for _ in 0..<1000 where reader?.isFinished == false { usleep(1_000) }
        Glibc.close(fd)
    }
}
