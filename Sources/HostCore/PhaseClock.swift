import Foundation

/// Prints the time of each phase to stderr when enabled (`POLICY_HOST_TIMINGS=1`). Safe to mark from
/// several threads (`last` is guarded by a lock).
public final class PhaseClock: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var last: UInt64
    private let start: UInt64

    public init(enabled: Bool) {
        self.enabled = enabled
        start = DispatchTime.now().uptimeNanoseconds
        last = start
    }

    public func mark(_ phase: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = DispatchTime.now().uptimeNanoseconds
        let padded = phase.padding(toLength: 34, withPad: " ", startingAt: 0)
        let line = "timing: \(padded) " + String(format: "%8.1f ms (total %8.1f ms)\n", Double(now - last) / 1e6, Double(now - start) / 1e6)
        FileHandle.standardError.write(Data(line.utf8))
        last = now
    }
}
