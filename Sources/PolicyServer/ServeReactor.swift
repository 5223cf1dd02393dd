import CServeEvents
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// `serve`'s sockets and threads: two I/O threads waiting on one epoll set, every socket registered
/// one-shot (an event goes to one thread, and the socket is re-armed when that thread is done with
/// it). A thread that reads a request needing Python runs that Python itself once it has let go of
/// the connection (`PythonWorker.runQueued`) — no hand-off to a Python thread and back — while the
/// other thread stays parked in `epoll_wait` and serves everything else: Cancel, Handshake,
/// deadlines, other connections, however long a policy runs. Only one thread runs Python at a time,
/// so one is always free for I/O.
///
/// HTTP/2 is NIO's (`NIOHTTP2Handler`) over `ServeConnection`, a `Channel` of our own that is not
/// bound to one thread: whichever thread serves the connection holds its lock and is, for NIO, "in
/// its event loop" (`ServeConnectionLoop`).
final class ServeReactor: @unchecked Sendable {
    // Safe: the descriptors are set once in `init`; everything mutable is behind a lock.
    static let threadCount = 2

    let port: Int
    private let epoll: Int32
    private let wake: Int32
    private let listener: Int32
    private let worker: PythonWorker
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
    init(host: String, port: Int, worker: PythonWorker, outputLimit: Int = ServeConnection.defaultOutputLimit,
         initialize: @escaping (ServeConnection) throws -> Void) throws {
        self.worker = worker
        self.initialize = initialize
        self.outputLimit = outputLimit
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw ServeSocketError("not an IPv4 address: \(host)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServeSocketError("socket", errno: errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 256) == 0 else {
            let e = errno
            close(fd)
            throw ServeSocketError("bind \(host):\(port)", errno: e)
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: local.sin_port))
        listener = fd
        epoll = ph_epoll_create()
        wake = ph_eventfd()
        guard epoll >= 0, wake >= 0 else {
            let e = errno
            close(fd)
            throw ServeSocketError("epoll", errno: e)
        }
        arm(listener, token: Token.listener, events: PH_EVENT_IN, add: true)
        arm(wake, token: Token.wake, events: PH_EVENT_IN, add: true)
        for index in 0..<Self.threadCount {
            let thread = ServeThread { [self] in run(index) }
            thread.start(name: "policy-host serve \(index)")
        }
    }

    /// Stops listening, closes every connection, and lets the I/O threads end (a thread inside a
    /// policy that never returns ends when it returns).
    func stop() {
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
        _ = shutdown(listener, Int32(SHUT_RDWR))
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
            if count < 0 {
                // EINTR: wait again. Anything else means the set itself is unusable (never expected):
                // this thread ends rather than spin.
                if errno == EINTR { continue }
                return
            }
            for i in 0..<max(Int(count), 0) {
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
            worker.runQueued()
        }
    }

    /// Handles the wake-up descriptor: posted tasks, a new earliest timer, or the end. False when
    /// this thread is to end.
    private func wakeUp() -> Bool {
        var value: UInt64 = 0
        _ = read(wake, &value, 8)
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
            close(listener)
            close(wake)
            close(epoll)
        } else {
            signal()
        }
        return false
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    private func connection(_ token: UInt64) -> ServeConnection? {
        state.withLockedValue { $0.connections[token] }
    }

    // MARK: Accepting

    private func acceptConnections() {
        for _ in 0..<64 {
            let fd = ph_accept(listener)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
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
                close(fd)
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
    var outputHeld: Int { heldOutput.withLockedValue { $0 } }

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
            // A waiting thread sleeps past this deadline: wake one to wait again with it.
            let sleepsPast = s.waitingUntil.contains { until in until.map { $0 > deadline } ?? false }
            let allBusy = s.waitingUntil.allSatisfy { $0 == nil }
            return (id, sleepsPast && !allBusy)
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

struct ServeSocketError: Error, CustomStringConvertible {
    let description: String

    init(_ what: String, errno code: Int32? = nil) {
        description = code.map { "\(what): \(String(cString: strerror($0)))" } ?? what
    }
}

/// A plain pthread running one closure (the I/O threads must not be pool threads: they may run a
/// policy for as long as it takes).
private final class ServeThread: @unchecked Sendable {
    // Safe: `body` is set in init and read once by the new thread.
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
    }

    func start(name: String) {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(ServeThread { [body] in
            ph_name_thread(name)
            body()
        }).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ServeThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box)
        precondition(created == 0, "could not start a serve thread: \(created)")
        pthread_detach(thread)
    }
}
