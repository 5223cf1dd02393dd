import Dispatch
import Foundation
import GRPCCore

/// A server transport that enforces each RPC's `grpc-timeout` itself and hands the RPC on to the
/// server without that header, so that grpc-swift's own deadline code never runs.
///
/// Why: grpc-swift-2's `ServerRPCExecutor` enforces a deadline with `Task.sleep` in a child task and
/// cancels that task when the RPC ends. A cancelled `Task.sleep` ends at once, but the Swift runtime
/// keeps its wake-up job (about 1.5 KB) queued until the original deadline
/// (swiftlang/swift#60441). A client that sets deadlines (grpcio's `timeout=`, a Go context with a
/// deadline) therefore made the server hold about 1.5 KB per RPC for as long as the deadline: with
/// 60 s deadlines at 300 RPC/s, 27 MB, and it grows with the rate and the deadline. A cancelled
/// `DispatchSourceTimer` is freed when it is cancelled.
///
/// The deadline behaves as grpc-swift's did: it starts when the request's metadata is read, and when
/// it passes the RPC's cancellation handle is cancelled; it is dropped when the RPC ends.
struct DeadlineEnforcingTransport<Base: ServerTransport>: ServerTransport {
    typealias Bytes = Base.Bytes

    let base: Base

    func configure(context: GRPCServerContext) {
        base.configure(context: context)
    }

    func listen(
        streamHandler: @escaping @Sendable (_ stream: RPCStream<Inbound, Outbound>, _ context: ServerContext) async -> Void
    ) async throws {
        try await base.listen { stream, context in
            let deadline = RPCDeadline(cancellation: context.cancellation)
            defer { deadline.finish() }
            let inbound = stream.inbound.map { part in deadline.takeTimeout(from: part) }
            await streamHandler(
                RPCStream(descriptor: stream.descriptor, inbound: RPCAsyncSequence(wrapping: inbound), outbound: stream.outbound),
                context)
        }
    }

    func beginGracefulShutdown() {
        base.beginGracefulShutdown()
    }
}

/// One RPC's deadline: armed from the `grpc-timeout` of its metadata, disarmed when the RPC ends.
final class RPCDeadline: @unchecked Sendable {
    // Safe: `state` is only touched with `lock` held.
    private enum State {
        case waiting
        case armed(DispatchSourceTimer)
        case finished
    }

    private static let queue = DispatchQueue(label: "policy-host.rpc-deadlines")

    private let cancellation: ServerContext.RPCCancellationHandle
    private let lock = NSLock()
    private var state = State.waiting

    init(cancellation: ServerContext.RPCCancellationHandle) {
        self.cancellation = cancellation
    }

    /// Returns `part` without `grpc-timeout`; when `part` is the request's metadata and carries a valid
    /// timeout, starts the deadline. An invalid value is dropped and sets no deadline, as grpc-swift
    /// does with most; a negative one (`-1S`) made grpc-swift trap, which took the server down.
    func takeTimeout<Bytes>(from part: RPCRequestPart<Bytes>) -> RPCRequestPart<Bytes> {
        guard case .metadata(var metadata) = part else { return part }
        // grpc-swift reads the first string value, as here.
        guard let value = metadata[stringValues: GRPCTimeout.key].first(where: { _ in true }) else { return part }
        metadata.removeAllValues(forKey: GRPCTimeout.key)
        if let timeout = GRPCTimeout(value) { arm(after: timeout) }
        return .metadata(metadata)
    }

    private func arm(after timeout: GRPCTimeout) {
        // A deadline past what DispatchTime can count (about 292 years) never fires.
        guard let nanoseconds = timeout.nanoseconds, nanoseconds <= UInt64(Int.max) else { return }
        lock.lock()
        defer { lock.unlock() }
        // Only the first metadata of an RPC that has not ended starts a deadline.
        guard case .waiting = state else { return }
        let timer = DispatchSource.makeTimerSource(queue: Self.queue)
        timer.schedule(deadline: .now() + .nanoseconds(Int(nanoseconds)), leeway: .nanoseconds(0))
        let cancellation = cancellation
        timer.setEventHandler { cancellation.cancel() }
        // Activated before anyone can cancel it: libdispatch must not see an inactive source released.
        timer.activate()
        state = .armed(timer)
    }

    /// Ends the deadline: the RPC is over, whether or not the deadline passed.
    func finish() {
        lock.lock()
        let old = state
        state = .finished
        lock.unlock()
        if case .armed(let timer) = old { timer.cancel() }
    }
}

/// A `grpc-timeout` header value: 1 to 8 ASCII digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`),
/// as the gRPC over HTTP/2 specification defines it (grpc-swift accepted 7 digits at most, and a sign).
struct GRPCTimeout: Equatable {
    static let key = "grpc-timeout"

    var amount: UInt64
    var unitNanoseconds: UInt64

    init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard (2...9).contains(utf8.count), let unit = utf8.last else { return nil }
        switch unit {
        case UInt8(ascii: "H"): unitNanoseconds = 3_600_000_000_000
        case UInt8(ascii: "M"): unitNanoseconds = 60_000_000_000
        case UInt8(ascii: "S"): unitNanoseconds = 1_000_000_000
        case UInt8(ascii: "m"): unitNanoseconds = 1_000_000
        case UInt8(ascii: "u"): unitNanoseconds = 1_000
        case UInt8(ascii: "n"): unitNanoseconds = 1
        default: return nil
        }
        var amount: UInt64 = 0
        for digit in utf8.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            amount = amount * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        self.amount = amount
    }

    /// The timeout in nanoseconds, or nil when that does not fit in 64 bits (over 584 years).
    var nanoseconds: UInt64? {
        let (product, overflow) = amount.multipliedReportingOverflow(by: unitNanoseconds)
        return overflow ? nil : product
    }
}
