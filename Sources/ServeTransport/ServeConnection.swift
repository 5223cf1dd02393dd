internal import CServeEvents
import Dispatch
import NIOConcurrencyHelpers
import NIOCore

/// The connection (its loop) the calling thread is serving, if any: NIO's "in the event loop". A C
/// thread-local holding the loop unretained (the thread serving it holds a reference meanwhile).
private enum ServedLoop {
    static var current: UnsafeRawPointer? { ph_served_loop() }

    static func set(_ loop: ServeConnectionLoop?) {
        ph_set_served_loop(loop.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    }

    static func isServing(_ loop: ServeConnectionLoop) -> Bool {
        current == UnsafeRawPointer(Unmanaged.passUnretained(loop).toOpaque())
    }
}

/// One accepted socket as a NIO `Channel` served by `ServeReactor`'s threads. Whichever thread
/// serves it owns it for as long as it reads, runs the pipeline and writes; NIO's handlers see that
/// thread as the channel's event loop (`ServeConnectionLoop`). What is flushed is sent when the
/// owner's turn ends (small buffers together in one `send`); what the socket cannot take yet waits for
/// `EPOLLOUT`. While more than `outputLimit` bytes wait, the connection reads nothing more (a client
/// that sends requests but never reads the answers is not buffered for without bound).
public final class ServeConnection: Channel, ChannelCore, @unchecked Sendable {
    // Safe: every mutable field is touched only by the thread that owns the connection (its loop's
    // `run`), one thread at a time; ownership passes through the loop's lock.
    public static let defaultOutputLimit = 16 << 20

    let id: UInt64
    let fd: Int32
    unowned let reactor: ServeReactor
    let loop: ServeConnectionLoop
    private var _pipeline: ChannelPipeline!
    private let closePromise: EventLoopPromise<Void>

    private var open = true
    private var registered = false
    /// The events the socket is armed for; nil once an event disarmed it (one-shot).
    private var armed: UInt32?
    private var unflushed: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var output = CircularBuffer<Chunk>()
    private let outputLimit: Int
    /// Flushed bytes not yet taken by the socket (the reactor keeps the total, for tests).
    private var outputBytes = 0 {
        didSet { reactor.outputHeld(changedBy: outputBytes - oldValue) }
    }
    private var readSize = 16 << 10

    private struct Chunk {
        var bytes: ByteBuffer
        var promises: [EventLoopPromise<Void>]
        var started = false
        /// `bytes` is a buffer of the connection's own that later small buffers are appended to.
        var gathering = false
    }

    init(id: UInt64, fd: Int32, reactor: ServeReactor, outputLimit: Int) {
        self.id = id
        self.fd = fd
        self.reactor = reactor
        self.outputLimit = outputLimit
        loop = ServeConnectionLoop(reactor: reactor)
        closePromise = loop.makePromiseUnchecked()
        loop.connection = self
        _pipeline = ChannelPipeline(channel: self)
    }

    // MARK: Channel

    public var allocator: ByteBufferAllocator { ByteBufferAllocator() }
    public var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }
    public var pipeline: ChannelPipeline { _pipeline }
    public var localAddress: SocketAddress? { nil }
    public var remoteAddress: SocketAddress? { nil }
    public var parent: (any Channel)? { nil }
    public var isWritable: Bool { true }
    public var isActive: Bool { open }
    public var _channelCore: any ChannelCore { self }
    public var eventLoop: any EventLoop { loop }

    public func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> EventLoopFuture<Void> {
        loop.makeSucceededVoidFuture()
    }

    public func getOption<Option: ChannelOption>(_ option: Option) -> EventLoopFuture<Option.Value> {
        if option is ChannelOptions.Types.AutoReadOption, let yes = true as? Option.Value {
            return loop.makeSucceededFuture(yes)
        }
        if option is ChannelOptions.Types.AllowRemoteHalfClosureOption, let no = false as? Option.Value {
            return loop.makeSucceededFuture(no)
        }
        return loop.makeFailedFuture(ChannelError.operationUnsupported)
    }

    // MARK: ChannelCore

    public func localAddress0() throws -> SocketAddress { throw ChannelError.operationUnsupported }
    public func remoteAddress0() throws -> SocketAddress { throw ChannelError.operationUnsupported }
    public func register0(promise: EventLoopPromise<Void>?) { promise?.succeed(()) }
    public func registerAlreadyConfigured0(promise: EventLoopPromise<Void>?) { promise?.succeed(()) }
    public func bind0(to: SocketAddress, promise: EventLoopPromise<Void>?) { promise?.fail(ChannelError.operationUnsupported) }
    public func connect0(to: SocketAddress, promise: EventLoopPromise<Void>?) { promise?.fail(ChannelError.operationUnsupported) }
    public func read0() {}
    public func triggerUserOutboundEvent0(_ event: Any, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }
    public func channelRead0(_ data: NIOAny) {}
    public func errorCaught0(error: any Error) {}

    public func write0(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard open else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapData(data, as: IOData.self) {
        case .byteBuffer(let bytes):
            unflushed.append((bytes, promise))
        case .fileRegion:
            promise?.fail(ChannelError.operationUnsupported)
        }
    }

    public func flush0() {
        guard open else { return }
        for (bytes, promise) in unflushed {
            outputBytes += bytes.readableBytes
            // Small buffers go out together: one send for an answer's frames. They are gathered in a
            // buffer of the connection's own, taken out of `output` while it grows (so that it is never
            // shared, and never copied to be written to).
            if let last = output.last, !last.started, last.bytes.readableBytes + bytes.readableBytes <= 64 << 10 {
                var chunk = output.removeLast()
                if !chunk.gathering {
                    var gathered = ByteBufferAllocator().buffer(capacity: max(4 << 10, chunk.bytes.readableBytes + bytes.readableBytes))
                    gathered.writeBuffer(&chunk.bytes)
                    chunk.bytes = gathered
                    chunk.gathering = true
                }
                var more = bytes
                chunk.bytes.writeBuffer(&more)
                if let promise { chunk.promises.append(promise) }
                output.append(chunk)
            } else {
                output.append(Chunk(bytes: bytes, promises: promise.map { [$0] } ?? []))
            }
        }
        unflushed.removeAll(keepingCapacity: true)
        // Sent when the owner's turn ends (`finishTurn`): the answers of one turn leave in one send.
    }

    public func close0(error: any Error, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard open else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        open = false
        // What is flushed gets one last chance to leave (a GOAWAY before the close).
        sendOutput()
        reactor.forget(self)
        ph_close(fd)
        let failed = unflushed.compactMap(\.1) + output.flatMap(\.promises)
        unflushed = []
        output = []
        outputBytes = 0
        for promise in failed { promise.fail(ChannelError.ioOnClosedChannel) }
        promise?.succeed(())
        pipeline.syncOperations.fireChannelInactive()
        pipeline.syncOperations.fireChannelUnregistered()
        loop.execute { [self] in
            // Later: the handlers may still be walking the pipeline now.
            removeHandlers(pipeline: pipeline)
            closePromise.succeed(())
        }
    }

    // MARK: Serving (the owning thread)

    /// The pipeline is set up: the connection starts (NIO's HTTP/2 handler sends its settings).
    func activate() {
        pipeline.syncOperations.fireChannelRegistered()
        pipeline.syncOperations.fireChannelActive()
    }

    /// Handles an epoll event for the socket: on the thread that received it, or by the thread
    /// owning the connection now.
    func serve(_ events: UInt32) {
        loop.run { [self] in
            armed = nil
            guard open else { return }
            if events & PH_EVENT_OUT != 0 { sendOutput() }
            if open, events & (PH_EVENT_IN | PH_EVENT_HUP | PH_EVENT_ERR) != 0 { readInput() }
        }
    }

    /// Reads what the socket holds (a few reads at most; the socket stays armed for the rest).
    private func readInput() {
        var reads = 0
        var ended = false
        while open && reads < 4 && outputBytes <= outputLimit {
            reads += 1
            var buffer = allocator.buffer(capacity: readSize)
            var result = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: readSize) { space in
                result = ph_recv(fd, space.baseAddress, space.count)
                return max(result, 0)
            }
            if result > 0 {
                let filled = result == readSize
                if filled { readSize = min(readSize * 4, 1 << 20) }
                pipeline.syncOperations.fireChannelRead(NIOAny(buffer))
                if !filled { break }
            } else {
                // The end of the stream, or a broken connection; PH_WOULD_BLOCK: nothing more for now.
                ended = result != PH_WOULD_BLOCK
                break
            }
        }
        if reads > 0 && open { pipeline.syncOperations.fireChannelReadComplete() }
        if ended && open { close(mode: .all, promise: nil) }
    }

    /// Sends what is flushed until the socket takes no more.
    private func sendOutput() {
        while var chunk = output.first {
            let result = chunk.bytes.withUnsafeReadableBytes { bytes in ph_send(fd, bytes.baseAddress, bytes.count) }
            if result == PH_WOULD_BLOCK { return }
            if result < 0 {
                // The peer went: nothing more can be sent.
                if open { close(mode: .all, promise: nil) }
                return
            }
            outputBytes -= result
            if result < chunk.bytes.readableBytes {
                chunk.bytes.moveReaderIndex(forwardBy: result)
                chunk.started = true
                output[output.startIndex] = chunk
                return
            }
            output.removeFirst()
            for promise in chunk.promises { promise.succeed(()) }
        }
    }

    /// The end of an owner's turn: sends what was flushed, then arms the socket for what it waits for
    /// now (when that differs from how it is armed).
    fileprivate func finishTurn() {
        sendOutput()
        guard open else { return }
        var events: UInt32 = output.isEmpty ? 0 : PH_EVENT_OUT
        if outputBytes <= outputLimit { events |= PH_EVENT_IN | PH_EVENT_RDHUP }
        if !registered {
            registered = true
            armed = events
            reactor.arm(fd, token: id, events: events, add: true)
            return
        }
        guard armed != events else { return }
        armed = events
        reactor.arm(fd, token: id, events: events)
    }
}

/// A `ServeConnection`'s event loop: the thread that owns the connection is "in" it. Work for the
/// connection — an epoll event, an answer from Python, a timer, a task from NIO — is queued; a thread
/// that finds the connection unowned takes it and runs the queue until it is empty, a thread that
/// finds it owned leaves its work to the owner. No thread ever waits for a connection.
public final class ServeConnectionLoop: EventLoop, @unchecked Sendable {
    // Safe: `connection` is set once, right after init, before the loop is shared.
    unowned let reactor: ServeReactor
    fileprivate(set) weak var connection: ServeConnection?

    private struct Work {
        var queued: [() -> Void] = []
        var owned = false
        /// An I/O thread has been asked to run the queue (`ServeReactor.post`).
        var posted = false
    }
    private let work = NIOLockedValueBox(Work())

    init(reactor: ServeReactor) {
        self.reactor = reactor
    }

    /// A promise made before the loop is anyone's (the channel's close promise, in its init).
    fileprivate func makePromiseUnchecked() -> EventLoopPromise<Void> {
        ServedLoop.set(self)
        defer { ServedLoop.set(nil) }
        return makePromise()
    }

    public var inEventLoop: Bool { ServedLoop.isServing(self) }

    /// Runs `body` as the connection's loop: now, on this thread, when nobody owns the connection —
    /// then the work queued meanwhile, and the socket re-armed for what it waits for —, otherwise by
    /// the owner, after what it is doing. From a thread that owns no connection (an I/O thread
    /// between events, or running Python).
    public func run(_ body: @escaping () -> Void) {
        precondition(ServedLoop.current == nil, "a serve thread took a second connection")
        let owner = work.withLockedValue { w -> Bool in
            w.queued.append(body)
            guard !w.owned else { return false }
            w.owned = true
            return true
        }
        if owner { drain() }
    }

    private func drain() {
        guard let connection else {
            work.withLockedValue { $0 = Work() }
            return
        }
        ServedLoop.set(self)
        defer { ServedLoop.set(nil) }
        while true {
            let batch = work.withLockedValue { w -> [() -> Void] in
                defer { w.queued = [] }
                return w.queued
            }
            for item in batch { item() }
            if !batch.isEmpty { continue }
            connection.finishTurn()
            let done = work.withLockedValue { w -> Bool in
                guard w.queued.isEmpty else { return false }
                w.owned = false
                w.posted = false
                return true
            }
            if done { return }
        }
    }

    public func execute(_ task: @escaping @Sendable () -> Void) {
        // From the loop: runs before the owner lets go. From elsewhere: an I/O thread runs it soon
        // (never this caller, which may be inside another connection's loop).
        let post = work.withLockedValue { w -> Bool in
            w.queued.append(task)
            guard !w.owned, !w.posted else { return false }
            w.posted = true
            return true
        }
        if post, let connection { reactor.post(connection) }
    }

    /// Runs the queued work if nobody owns the connection (an I/O thread answering `post`).
    func runPosted() {
        run {}
    }

    @discardableResult
    public func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        let promise: EventLoopPromise<T> = makePromise()
        // The promise is completed on the loop only (the timer runs as the connection's work).
        let result = UncheckedPromise(promise: promise)
        let id = reactor.addTimer(deadline: deadline, connection: connection) {
            do { result.promise.assumeIsolated().succeed(try task()) } catch { result.promise.fail(error) }
        }
        return Scheduled(promise: promise) { [reactor] in
            reactor.cancelTimer(id)
            result.promise.fail(EventLoopError.cancelled)
        }
    }

    @discardableResult
    public func scheduleTask<T>(in delay: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        scheduleTask(deadline: .now() + delay, task)
    }

    public func preconditionInEventLoop(file: StaticString, line: UInt) {
        precondition(inEventLoop, "not on the connection's serving thread", file: file, line: line)
    }

    public func preconditionNotInEventLoop(file: StaticString, line: UInt) {
        precondition(!inEventLoop, "on the connection's serving thread", file: file, line: line)
    }

    public func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        queue.async { callback(nil) }
    }

    public func next() -> any EventLoop { self }
    public func any() -> any EventLoop { self }
    public func makeIterator() -> EventLoopIterator { EventLoopIterator([self]) }
}

/// A promise of a value that is not `Sendable`, handed to a timer that completes it on its loop.
private struct UncheckedPromise<T>: @unchecked Sendable {
    let promise: EventLoopPromise<T>
}
