import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServeTransport

/// The Analyzer service on HTTP/2, on `ServeTransport`'s I/O threads with no per-call task or thread
/// hop of its own: an RPC's frames are read, its message decoded and — for Handshake, Cancel, and
/// Remediate while no policy remediates — answered by the thread that read it; a call that needs Python
/// is one job for `PythonWorker`, which the same thread runs once it has let go of the connection, and
/// whose answer it writes. So a call costs one wake-up; a long policy holds one I/O thread, and the
/// other serves Cancel, deadlines and other connections.
///
/// gRPC over HTTP/2 as the specification has it, unary calls only (the Analyzer has no other):
/// `POST /pulumirpc.Analyzer/<Method>` with `content-type: application/grpc…`, one framed message,
/// answered with headers, one message and `grpc-status` trailers, or trailers only for an error.
/// Deadlines come from `grpc-timeout` and are timers of the connection's loop, dropped when the call ends.
final class AnalyzerServer: Sendable {
    /// The largest request message accepted (the engine sends a whole stack in AnalyzeStack).
    static let maxRequestBytes = 400 * 1024 * 1024

    let reactor: ServeReactor
    let lifecycle: ServerLifecycle

    private init(reactor: ServeReactor, lifecycle: ServerLifecycle) {
        self.reactor = reactor
        self.lifecycle = lifecycle
    }

    var port: Int? { reactor.port }

    /// Listens on `host` (port 0: any free port) and serves `service` until `lifecycle` ends.
    /// `outputLimit`: the answer bytes a connection may hold for a client that does not read them
    /// before the server stops reading that connection's requests.
    static func start(host: String, port: Int, service: AnalyzerService,
                      outputLimit: Int = ServeConnection.defaultOutputLimit) throws -> AnalyzerServer {
        let worker = service.worker
        let reactor = try ServeReactor(host: host, port: port, outputLimit: outputLimit,
                                       afterEvents: { worker.runQueued() }) { connection in
            try configure(connection, service: service)
        }
        return AnalyzerServer(reactor: reactor, lifecycle: service.lifecycle)
    }

    private static func configure(_ channel: any Channel, service: AnalyzerService) throws {
        // Windows of 1 MiB: a large AnalyzeStack arrives in few round trips; the server reads every
        // frame as it comes, so no connection holds more than its window unread.
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .initialWindowSize, value: AnalyzerConnectionHandler.window),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        // The header blocks and content-length of what arrives are checked by `RequestHeaderCheck`
        // (the same rules); NIO's checks would also re-check every answer's constant headers.
        connection.headerBlockValidation = .disabled
        connection.contentLengthValidation = .disabled
        // No stream multiplexer: frames of every stream come to one handler that keeps each call's
        // state, instead of a child channel (with its pipeline, handler and pending-write queues)
        // built and torn down for every call.
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: connection))
        try sync.addHandler(AnalyzerConnectionHandler(service: service))
    }

    /// Stops listening and closes every connection.
    func close() {
        reactor.stop()
    }
}

/// When the server ends: after Cancel, a signal or the parent's death, once no call is running.
final class ServerLifecycle: Sendable {
    private struct State {
        var inFlight = 0
        var ending = false
        var ended = false

        /// True the first time only: the server ends once.
        mutating func markEnded() -> Bool {
            guard !ended else { return false }
            ended = true
            return true
        }
    }

    private let state = NIOLockedValueBox(State())
    private let done = DispatchSemaphore(value: 0)

    /// A call starts; false once the server is ending (the call is refused).
    func begin() -> Bool {
        state.withLockedValue { s in
            guard !s.ending else { return false }
            s.inFlight += 1
            return true
        }
    }

    /// A call has been answered (or abandoned by its client).
    func end() {
        let finished = state.withLockedValue { s -> Bool in
            s.inFlight -= 1
            return s.ending && s.inFlight == 0 && s.markEnded()
        }
        if finished { done.signal() }
    }

    /// No new calls; the server ends when the running ones have been answered.
    func shutdown() {
        let finished = state.withLockedValue { s -> Bool in
            s.ending = true
            return s.inFlight == 0 && s.markEnded()
        }
        if finished { done.signal() }
    }

    var isEnding: Bool { state.withLockedValue { $0.ending } }

    /// Ends the server now, whatever still runs (a policy that never returns holds its call forever).
    func endNow() {
        let finished = state.withLockedValue { s -> Bool in
            s.ending = true
            return s.markEnded()
        }
        if finished { done.signal() }
    }

    /// Shuts down, and ends the server at the latest after `grace` seconds.
    func shutdown(grace: Double) {
        shutdown()
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [self] in endNow() }
    }

    func wait() { done.wait() }
}

/// The request bytes all calls together may hold at once. Each call is bounded by
/// `maxRequestBytes`, but a client that opens many streams and sends each a large message slowly
/// would otherwise make the server hold them all; past the budget a call ends with
/// RESOURCE_EXHAUSTED and its bytes are let go.
final class RequestBudget: Sendable {
    let limit: Int
    private let held = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when that would exceed it.
    func take(_ bytes: Int) -> Bool {
        held.withLockedValue { held in
            guard bytes <= limit - held else { return false }
            held += bytes
            return true
        }
    }

    func give(_ bytes: Int) {
        held.withLockedValue { $0 -= bytes }
    }

    var holding: Int { held.withLockedValue { $0 } }
}

/// Whether a call is still wanted: cleared when its deadline passes or its client resets the
/// stream, so a job nobody waits for is skipped.
final class CallLiveness: Sendable {
    private let live = NIOLockedValueBox(true)
    var isLive: Bool { live.withLockedValue { $0 } }
    func end() { live.withLockedValue { $0 = false } }
}

/// One HTTP/2 connection: its streams' unary calls, each kept as an `AnalyzerCall` from its request
/// headers until the stream closes; answers are written as frames of their stream. Flow control is
/// kept here too (no multiplexer does it): the connection's and each stream's receive window are
/// topped up to `window` once half of it is used, as NIO's multiplexer would.
final class AnalyzerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    static let window = 1 << 20

    private let service: AnalyzerService
    private var calls: [HTTP2StreamID: AnalyzerCall] = [:]
    private var context: ChannelHandlerContext?
    /// Inside a read: written frames are flushed once, when the read completes.
    private var reading = false
    private var unflushed = false

    init(service: AnalyzerService) {
        self.service = service
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandonAll()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The connection went: nobody waits for an answer.
        abandonAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        reading = true
        switch frame.payload {
        case .headers(let headers):
            if let call = calls[frame.streamID] {
                if RequestHeaderCheck.trailers(headers.headers) != nil { return malformed(frame.streamID) }
                call.received(headers)
            } else {
                // A stream NIO let open; a block that is not a well-formed request resets it.
                if RequestHeaderCheck.request(headers.headers) != nil { return malformed(frame.streamID) }
                let call = AnalyzerCall(stream: frame.streamID, connection: self, eventLoop: context.eventLoop, service: service)
                calls[frame.streamID] = call
                call.received(headers)
            }
        case .data(let data):
            calls[frame.streamID]?.received(data)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closed = event as? StreamClosedEvent {
            // Answered and ended by both sides, or reset by the client: the call is over.
            calls.removeValue(forKey: closed.streamID)?.abandon()
        } else if let window = event as? NIOHTTP2WindowUpdatedEvent, let size = window.inboundWindowSize,
                  let increment = Self.windowIncrement(size) {
            write(HTTP2Frame(streamID: window.streamID, payload: .windowUpdate(windowSizeIncrement: increment)))
            flushIfNeeded()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIOHTTP2Handler has already reset the stream (a stream error) or closed the connection
        // (a connection error); the other streams go on.
    }

    /// How much to widen a receive window of `size` bytes: back to `window` once half is used.
    static func windowIncrement(_ size: Int) -> Int? {
        if size < 0 { return min(window - size, Int(Int32.max)) }
        return size <= window / 2 ? window - size : nil
    }

    /// Writes `frame`; it leaves with the next flush (at once outside a read).
    func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(frame), promise: promise)
        unflushed = true
    }

    /// Sends what was written, unless a read is under way (its end flushes once for all).
    func flushIfNeeded() {
        guard !reading, unflushed, let context else { return }
        unflushed = false
        context.flush()
    }

    /// A malformed request (RFC 9113 § 8.1.1): its stream is reset with PROTOCOL_ERROR, as NIO's own
    /// checks would, and its call (if it had begun) ends.
    func malformed(_ stream: HTTP2StreamID) {
        calls.removeValue(forKey: stream)?.abandon()
        write(HTTP2Frame(streamID: stream, payload: .rstStream(.protocolError)))
        flushIfNeeded()
    }

    private func abandonAll() {
        let abandoned = calls.values
        calls = [:]
        for call in abandoned { call.abandon() }
    }
}

/// One stream's unary call, from its request headers to its trailers.
final class AnalyzerCall {
    private enum State {
        case idle
        case receiving(AnalyzerMethod, GRPCMessageReader)
        case running
        case done
    }

    private let stream: HTTP2StreamID
    private weak var connection: AnalyzerConnectionHandler?
    private let eventLoop: any EventLoop
    private let service: AnalyzerService
    private var state = State.idle
    private var counted = false
    /// Request bytes this call holds of `service.budget`.
    private var budgeted = 0
    private var requestEnded = false
    /// Request bytes still due by the request's `content-length`; nil without one.
    private var contentLeft: Int?
    private var deadline: Scheduled<Void>?
    private let liveness = CallLiveness()

    init(stream: HTTP2StreamID, connection: AnalyzerConnectionHandler, eventLoop: any EventLoop, service: AnalyzerService) {
        self.stream = stream
        self.connection = connection
        self.eventLoop = eventLoop
        self.service = service
    }

    func received(_ headers: HTTP2Frame.FramePayload.Headers) {
        if case .idle = state {
            switch RequestHeaderCheck.contentLength(headers.headers) {
            case .success(let length): contentLeft = length
            case .failure: return malformed()
            }
            begin(headers.headers)
        }
        if headers.endStream { endOfRequest() }
    }

    func received(_ frame: HTTP2Frame.FramePayload.Data) {
        if let left = contentLeft, case .byteBuffer(let bytes) = frame.data {
            guard bytes.readableBytes <= left else { return malformed() }  // more than its content-length
            contentLeft = left - bytes.readableBytes
        }
        if case .receiving(let method, var reader) = state, case .byteBuffer(let bytes) = frame.data {
            guard service.budget.take(bytes.readableBytes) else {
                return fail(GRPCStatus(.resourceExhausted, "the server is holding \(service.budget.limit) bytes of "
                                       + "requests, its most; try again when calls have ended"))
            }
            budgeted += bytes.readableBytes
            state = .running  // (no copy of the reader while it grows)
            do {
                try reader.append(bytes)
                state = .receiving(method, reader)
            } catch {
                state = .receiving(method, reader)
                fail(error)
            }
        }
        if frame.endStream { endOfRequest() }
    }

    /// The request broke its own `content-length`: its stream is reset (RST_STREAM PROTOCOL_ERROR).
    private func malformed() {
        connection?.malformed(stream)
        if !isDone { end() }
    }

    private func begin(_ headers: HPACKHeaders) {
        guard headers.first(name: ":method") == "POST" else {
            return finishHTTP(status: "405", GRPCStatus(.internalError, "gRPC requires POST"))
        }
        let contentType = headers.first(name: "content-type") ?? ""
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
                || contentType.hasPrefix("application/grpc;") else {
            return finishHTTP(status: "415", GRPCStatus(.internalError, "invalid gRPC request content-type \"\(contentType)\""))
        }
        guard service.lifecycle.begin() else {
            return finish(GRPCStatus(.unavailable, "the server is shutting down"))
        }
        counted = true
        guard let method = AnalyzerMethod(path: headers.first(name: ":path") ?? "") else {
            // grpc-python's words, as the SDK's server answers.
            return finish(GRPCStatus(.unimplemented, "Method not found!"))
        }
        if let text = headers.first(name: GRPCTimeout.key), let amount = GRPCTimeout(text)?.timeAmount {
            deadline = eventLoop.assumeIsolated().scheduleTask(in: amount) { [weak self] in
                self?.deadlinePassed()
            }
        }
        let encoding = headers.first(name: "grpc-encoding").flatMap { $0 == "identity" ? nil : $0 }
        state = .receiving(method, GRPCMessageReader(limit: AnalyzerServer.maxRequestBytes, encoding: encoding))
    }

    private func endOfRequest() {
        if let left = contentLeft, left != 0 { return malformed() }  // ended short of its content-length
        requestEnded = true
        guard case .receiving(let method, let reader) = state else { return }
        let message: ByteBuffer
        do { message = try reader.finish() } catch {
            return fail(error)
        }
        state = .running
        switch service.dispatch(method, message) {
        case .answer(let result):
            respond(result)
        case .answerThenShutDown(let result):
            let lifecycle = service.lifecycle
            respond(result) { lifecycle.shutdown() }
        case .python(let job):
            let liveness = liveness
            let loop = eventLoop
            let bound = NIOLoopBound(self, eventLoop: loop)
            service.worker.submit { worker in
                guard liveness.isLive else { return }
                let result = job(worker)
                // Written by the thread that ran the job (`ServeReactor`'s), not handed back — unless
                // more jobs wait: then Python goes on and the other I/O thread writes the answer.
                if let served = loop as? ServeConnectionLoop, !worker.hasQueuedJobs {
                    served.run { bound.value.completed(result) }
                } else {
                    loop.execute { bound.value.completed(result) }
                }
            }
        }
    }

    private func completed(_ result: Result<ByteBuffer, GRPCStatus>) {
        guard case .running = state else { return }
        respond(result)
    }

    private func deadlinePassed() {
        deadline = nil
        switch state {
        case .receiving, .running:
            // grpc-python's words.
            finish(GRPCStatus(.deadlineExceeded, "Deadline Exceeded"))
        case .idle, .done:
            break
        }
    }

    private func fail(_ error: any Error) {
        finish(error as? GRPCStatus ?? GRPCStatus(.internalError, "\(error)"))
    }

    private static let responseHeaders = HPACKHeaders([(":status", "200"), ("content-type", "application/grpc")])
    private static let okTrailers = HPACKHeaders([("grpc-status", "0")])

    private func respond(_ result: Result<ByteBuffer, GRPCStatus>, then after: (@Sendable () -> Void)? = nil) {
        switch result {
        case .failure(let status):
            finish(status)
            after?()
        case .success(let message):
            end()
            guard let connection else {
                after?()
                return
            }
            connection.write(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: Self.responseHeaders))))
            connection.write(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(message)))))
            let promise: EventLoopPromise<Void>? = after == nil ? nil : eventLoop.makePromise()
            if let after { promise!.futureResult.whenComplete { _ in after() } }
            connection.write(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: Self.okTrailers, endStream: true))),
                             promise: promise)
            resetIfUnread(connection)
            connection.flushIfNeeded()
        }
    }

    /// A trailers-only response: the call ends with `status`.
    private func finish(_ status: GRPCStatus) {
        finishHTTP(status: "200", status)
    }

    private func finishHTTP(status http: String, _ status: GRPCStatus) {
        guard !isDone else { return }
        end()
        guard let connection else { return }
        var headers = HPACKHeaders([(":status", http), ("content-type", "application/grpc"),
                                    ("grpc-status", String(status.code.rawValue))])
        if !status.message.isEmpty { headers.add(name: "grpc-message", value: GRPCStatus.percentEncoded(status.message)) }
        connection.write(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: true))))
        resetIfUnread(connection)
        connection.flushIfNeeded()
    }

    /// Answered before the client finished sending (an oversized or malformed request, a deadline):
    /// the stream is reset, so the client stops sending what nobody reads.
    private func resetIfUnread(_ connection: AnalyzerConnectionHandler) {
        if !requestEnded { connection.write(HTTP2Frame(streamID: stream, payload: .rstStream(.cancel))) }
    }

    private var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// The call is over: no more answers, its deadline and its count go.
    private func end() {
        state = .done
        liveness.end()
        deadline?.cancel()
        deadline = nil
        if counted {
            counted = false
            service.lifecycle.end()
        }
        if budgeted > 0 {
            service.budget.give(budgeted)
            budgeted = 0
        }
    }

    /// The stream closed or the connection went (the client gave up, or the call was answered).
    func abandon() {
        if !isDone { end() }
    }
}
