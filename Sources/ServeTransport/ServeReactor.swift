internal import CServeEvents
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// `serve`'s sockets and threads: two I/O threads waiting on one epoll set, every socket registered
/// one-shot (an event goes to one thread, and the socket is re-armed when that thread is done with
/// it). A thread that reads a request needing Python runs that Python itself once it has let go of
/// the connection (`afterEvents`: serve's `PythonWorker.runQueued`) — no hand-off to a Python thread
/// and back — while the other thread stays parked in `epoll_wait` and serves everything else: Cancel,
/// Handshake, deadlines, other connections, however long a policy runs. Only one thread runs Python
/// at a time, so one is always free for I/O.
///
/// HTTP/2 is NIO's (`NIOHTTP2Handler`) over `ServeConnection`, a `Channel` of our own that is not
/// bound to one thread: whichever thread owns the connection for the moment is, for NIO, "in its
/// event loop" (`ServeConnectionLoop`).
public final class ServeReactor: @unchecked Sendable {
    // Safe: the descriptors are set once in `init`; everything mutable is behind a lock.
    static let threadCount = 2

    public let port: Int
    private let epoll: Int32
    private let wake: Int32
    private let listener: Int32
    private let afterEvents: @Sendable () -> Void
    private let initialize: (ServeConnection) throws -> Void
    private let outputLimit: Int
    private let heldOutput = NIOLockedValueBox(0)

    private struct State {
        var connections: [UInt64: ServeConnection] = [:]
        var nextID: UInt64 = Token.firstConnection
        /// Connections with tasks posted from a thread that did not hold them.
        var ready: [ServeConnection] = []
        var timers: [Timer] = []
        var nextTimer: UInt64 = 0
        /// The earliest deadline each waiting thread sleeps until (`.distantFuture`: none).
        var waitingUntil: [NIODeadline?] = Array(repeating: nil, count: ServeReactor.threadCount)
        var listening = true
        var stopped = false
        var threadsLeft = ServeReactor.threadCount
    }

    private struct Timer {
        var deadline: NIODeadline
        var id: UInt64
        var connection: ServeConnection?
        var task: @Sendable () -> Void
    }

    private enum Token {
        static let listener: UInt64 = 0
        static let wake: UInt64 = 1
        static let firstConnection: UInt64 = 2
    }

    private let state = NIOLockedValueBox(State())

    /// Listens on `host:port` (IPv4; port 0: any free port) and starts the I/O threads.
    /// `afterEvents` runs on an I/O thread after each batch of events, with no connection held (serve runs
    /// queued Python jobs there); `initialize` sets up each new connection's pipeline.
    public init(host: String, port: Int, outputLimit: Int = ServeConnection.defaultOutputLimit,
                afterEvents: @escaping @Sendable () -> Void,
                initialize: @escaping (ServeConnection) throws -> Void) throws {
        self.afterEvents = afterEvents
        self.initialize = initialize
        self.outputLimit = outputLimit
        var bound: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let fd = ph_listen_ipv4(host, Int32(clamping: port), 256, &bound, &message, message.count)
        guard fd >= 0 else {
            throw ServeSocketError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.port = Int(bound)
        listener = fd
        epoll = ph_epoll_create()
        wake = ph_eventfd()
        guard epoll >= 0, wake >= 0 else {
            ph_close(fd)
            if epoll >= 0 { ph_close(epoll) }
            if wake >= 0 { ph_close(wake) }
            throw ServeSocketError("epoll or eventfd could not be made")
        }
        arm(listener, token: Token.listener, events: PH_EVENT_IN, add: true)
        arm(wake, token: Token.wake, events: PH_EVENT_IN, add: true)
        for index in 0..<Self.threadCount {
            ServeThread.start(name: "policy-host serve \(index)") { [self] in run(index) }
        }
    }

    /// Stops listening, closes every connection, and lets the I/O threads end (a thread inside a
    /// policy that never returns ends when it returns).
    public func stop() {
        let (open, first) = state.withLockedValue { s -> ([ServeConnection], Bool) in
            guard !s.stopped else { return ([], false) }
            s.stopped = true
            s.listening = false
            return (Array(s.connections.values), true)
        }
        guard first else { return }
        // Closed by the last thread to end: until then no new socket can take its number while a thread
        // may still be accepting on it.
        _ = ph_epoll_forget(epoll, listener)
        ph_shutdown(listener)
        for connection in open {
            connection.loop.run { connection.close(mode: .all, promise: nil) }
        }
        signal()
    }

    // MARK: The I/O threads

    private func run(_ index: Int) {
        let capacity = 64
        let events = UnsafeMutablePointer<ph_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let timeout = state.withLockedValue { s -> Int32 in
                let next = s.timers.first?.deadline
                s.waitingUntil[index] = next ?? .distantFuture
                guard let next else { return -1 }
                let nanoseconds = next.uptimeNanoseconds.subtractingReportingOverflow(NIODeadline.now().uptimeNanoseconds)
                if nanoseconds.overflow || nanoseconds.partialValue == 0 { return 0 }
                return Int32(clamping: (nanoseconds.partialValue + 999_999) / 1_000_000)
            }
            let count = ph_epoll_wait(epoll, events, Int32(capacity), timeout)
            state.withLockedValue { $0.waitingUntil[index] = nil }
            // Below zero: the set itself is unusable (never expected); this thread ends rather than spin.
            if count < 0 { return }
            for i in 0..<Int(count) {
                let event = events[i]
                switch event.token {
                case Token.listener: acceptConnections()
                case Token.wake: if !wakeUp() { return }
                case let token: connection(token)?.serve(event.events)
                }
            }
            runDueTimers()
            // Every event above is handled and its connection re-armed: the other thread can serve
            // them while this one runs Python.
            afterEvents()
        }
    }

    /// Handles the wake-up descriptor: posted tasks, a new earliest timer, or the end. False when
    /// this thread is to end.
    private func wakeUp() -> Bool {
        ph_eventfd_drain(wake)
        let (ready, stopped) = state.withLockedValue { s -> ([ServeConnection], Bool) in
            let ready = s.ready
            s.ready = []
            return (ready, s.stopped)
        }
        for connection in ready { connection.loop.runPosted() }
        arm(wake, token: Token.wake, events: PH_EVENT_IN)
        guard stopped else { return true }
        // Passes the end on to the other thread; the last one closes the shared descriptors.
        let last = state.withLockedValue { s -> Bool in
            s.threadsLeft -= 1
            return s.threadsLeft == 0
        }
        if last {
            ph_close(listener)
            ph_close(wake)
            ph_close(epoll)
        } else {
            signal()
        }
        return false
    }

    private func signal() {
        ph_eventfd_signal(wake)
    }

    private func connection(_ token: UInt64) -> ServeConnection? {
        state.withLockedValue { $0.connections[token] }
    }

    // MARK: Accepting

    private func acceptConnections() {
        for _ in 0..<64 {
            let fd = ph_accept(listener)
            if fd < 0 {
                switch fd {
                case PH_RETRY: continue
                case PH_EXHAUSTED:
                    // Out of descriptors or memory: listen again a little later instead of spinning.
                    scheduleListening(in: .milliseconds(100))
                    return
                default:
                    rearmListener()
                    return
                }
            }
            let (id, stopped) = state.withLockedValue { s -> (UInt64, Bool) in
                defer { s.nextID += 1 }
                return (s.nextID, s.stopped)
            }
            if stopped {
                ph_close(fd)
                return
            }
            let connection = ServeConnection(id: id, fd: fd, reactor: self, outputLimit: outputLimit)
            state.withLockedValue { $0.connections[id] = connection }
            connection.loop.run { [initialize] in
                do {
                    try initialize(connection)
                    connection.activate()
                } catch {
                    connection.close(mode: .all, promise: nil)
                }
            }
        }
        rearmListener()
    }

    private func rearmListener() {
        let listening = state.withLockedValue { $0.listening }
        if listening { arm(listener, token: Token.listener, events: PH_EVENT_IN) }
    }

    private func scheduleListening(in delay: TimeAmount) {
        _ = addTimer(deadline: .now() + delay, connection: nil) { [self] in rearmListener() }
    }

    // MARK: Registration

    /// (Re-)arms `fd` one-shot for `events`.
    func arm(_ fd: Int32, token: UInt64, events: UInt32, add: Bool = false) {
        _ = ph_epoll_arm(epoll, fd, token, events, add ? 1 : 0)
    }

    func forget(_ connection: ServeConnection) {
        _ = ph_epoll_forget(epoll, connection.fd)
        state.withLockedValue { _ = $0.connections.removeValue(forKey: connection.id) }
    }

    /// Runs `connection`'s posted tasks on an I/O thread soon.
    func post(_ connection: ServeConnection) {
        state.withLockedValue { $0.ready.append(connection) }
        signal()
    }

    /// Answer bytes all connections hold because their clients do not read them yet.
    public var outputHeld: Int { heldOutput.withLockedValue { $0 } }

    func outputHeld(changedBy delta: Int) {
        if delta != 0 { heldOutput.withLockedValue { $0 += delta } }
    }

    // MARK: Timers

    func addTimer(deadline: NIODeadline, connection: ServeConnection?, _ task: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, earliest) = state.withLockedValue { s -> (UInt64, Bool) in
            let id = s.nextTimer
            s.nextTimer += 1
            let index = s.timers.firstIndex { $0.deadline > deadline } ?? s.timers.endIndex
            s.timers.insert(Timer(deadline: deadline, id: id, connection: connection, task: task), at: index)
            // A waiting thread sleeps past this deadline: wake one to wait again with it (a busy thread
            // works out its wait when it next waits).
            return (id, s.waitingUntil.contains { until in until.map { $0 > deadline } ?? false })
        }
        if earliest { signal() }
        return id
    }

    func cancelTimer(_ id: UInt64) {
        state.withLockedValue { s in s.timers.removeAll { $0.id == id } }
    }

    private func runDueTimers() {
        let now = NIODeadline.now()
        let due = state.withLockedValue { s -> [Timer] in
            guard let split = s.timers.firstIndex(where: { $0.deadline > now }) else {
                defer { s.timers = [] }
                return s.timers
            }
            defer { s.timers.removeFirst(split) }
            return Array(s.timers[..<split])
        }
        for timer in due {
            if let connection = timer.connection {
                connection.loop.run(timer.task)
            } else {
                timer.task()
            }
        }
    }
}

public struct ServeSocketError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A thread of its own running one closure (the I/O threads must not be pool threads: they may run a
/// policy for as long as it takes).
private enum ServeThread {
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            ph_name_thread(name)
            body()
        }
        thread.stackSize = 8 << 20  // Python's recursion wants a main-thread-sized stack
        thread.start()
    }
}

/// For tests of `serve`: a raw client connection to 127.0.0.1, with a chosen receive buffer, made
/// non-blocking once connected (a test module sees CPython's headers too, so it cannot use libc's
/// socket calls itself; see serve_events.h).
public final class RawTestConnection {
    public enum Sent: Equatable {
        case bytes(Int)
        case wouldBlock
        case broken
    }

    private var fd: Int32

    public init?(port: Int, receiveBuffer: Int) {
        fd = ph_connect_ipv4(Int32(clamping: port), Int32(clamping: receiveBuffer))
        if fd < 0 { return nil }
    }

    public func send(_ bytes: [UInt8]) -> Sent {
        guard fd >= 0 else { return .broken }
        let n = bytes.withUnsafeBytes { ph_send(fd, $0.baseAddress, $0.count) }
        if n >= 0 { return .bytes(n) }
        return n == PH_WOULD_BLOCK ? .wouldBlock : .broken
    }

    /// What has arrived, up to `capacity` bytes: some bytes, none yet (empty), or nil once the
    /// connection is closed or broken.
    public func receive(capacity: Int = 64 << 10) -> [UInt8]? {
        guard fd >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: capacity)
        let n = buffer.withUnsafeMutableBytes { ph_recv(fd, $0.baseAddress, $0.count) }
        if n == PH_WOULD_BLOCK { return [] }
        guard n > 0 else { return nil }
        return Array(buffer.prefix(n))
    }

    public func close() {
        if fd >= 0 { ph_close(fd) }
        fd = -1
    }

    deinit {
        close()
    }
}
