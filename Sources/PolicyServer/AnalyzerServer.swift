import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// The Analyzer service on HTTP/2, on NIO's event loops with no per-call task or thread hop of its
/// own: an RPC's frames are read, its message decoded and — for Handshake, Cancel, and Remediate
/// while no policy remediates — answered on its connection's loop; a call that needs Python is one job on the Python thread
/// (`PythonWorker`), whose answer is written back on the loop. So a Handshake costs one wake-up of
/// the loop, an Analyze two hand-offs (loop → Python → loop); a long policy never stalls a loop:
/// Cancel, deadlines and other connections stay served.
///
/// gRPC over HTTP/2 as the specification has it, unary calls only (the Analyzer has no other):
/// `POST /pulumirpc.Analyzer/<Method>` with `content-type: application/grpc…`, one framed message,
/// answered with headers, one message and `grpc-status` trailers, or trailers only for an error.
/// Deadlines come from `grpc-timeout` and are timers of the loop, dropped when the call ends.
final class AnalyzerServer: Sendable {
    /// The largest request message accepted (the engine sends a whole stack in AnalyzeStack).
    static let maxRequestBytes = 400 * 1024 * 1024

    let channel: any Channel
    let lifecycle: ServerLifecycle

    private init(channel: any Channel, lifecycle: ServerLifecycle) {
        self.channel = channel
        self.lifecycle = lifecycle
    }

    var port: Int? { channel.localAddress?.port }

    /// Listens on `host` (port 0: any free port) and serves `service` until `lifecycle` ends.
    static func start(host: String, port: Int, service: AnalyzerService) throws -> AnalyzerServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try configure(channel, service: service)
                }
            }
        let channel = try bootstrap.bind(host: host, port: port).wait()
        return AnalyzerServer(channel: channel, lifecycle: service.lifecycle)
    }

    private static func configure(_ channel: any Channel, service: AnalyzerService) throws {
        // Windows of 1 MiB: a large AnalyzeStack arrives in few round trips; the server reads every
        // frame as it comes, so no connection holds more than its window unread.
        let window = 1 << 20
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .initialWindowSize, value: window),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = window
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                try streamChannel.pipeline.syncOperations.addHandler(AnalyzerStreamHandler(service: service))
            }
        }
    }

    /// Stops listening (the process ends after this).
    func close() {
        try? channel.close().wait()
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
/// stream, so the Python thread skips a job nobody waits for.
final class CallLiveness: Sendable {
    private let live = NIOLockedValueBox(true)
    var isLive: Bool { live.withLockedValue { $0 } }
    func end() { live.withLockedValue { $0 = false } }
}

/// One HTTP/2 stream: one unary call, from its request headers to its trailers.
final class AnalyzerStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case idle
        case receiving(AnalyzerMethod, GRPCMessageReader)
        case running
        case done
    }

    private let service: AnalyzerService
    private var state = State.idle
    private var counted = false
    /// Request bytes this call holds of `service.budget`.
    private var budgeted = 0
    private var requestEnded = false
    private var deadline: Scheduled<Void>?
    private let liveness = CallLiveness()
    private var context: ChannelHandlerContext?

    init(service: AnalyzerService) {
        self.service = service
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client reset the stream or the connection went: nobody waits for an answer.
        abandon()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if case .idle = state {
                begin(headers.headers, context: context)
            }
            if headers.endStream { requestEnded(context: context) }
        case .data(let frame):
            if case .receiving(let method, var reader) = state, case .byteBuffer(let bytes) = frame.data {
                guard service.budget.take(bytes.readableBytes) else {
                    return fail(GRPCStatus(.resourceExhausted, "the server is holding \(service.budget.limit) bytes of "
                                           + "requests, its most; try again when calls have ended"), context: context)
                }
                budgeted += bytes.readableBytes
                state = .running  // (no copy of the reader while it grows)
                do {
                    try reader.append(bytes)
                    state = .receiving(method, reader)
                } catch {
                    state = .receiving(method, reader)
                    fail(error, context: context)
                }
            }
            if frame.endStream { requestEnded(context: context) }
        default:
            break
        }
    }

    private func begin(_ headers: HPACKHeaders, context: ChannelHandlerContext) {
        guard headers.first(name: ":method") == "POST" else {
            return finishHTTP(status: "405", GRPCStatus(.internalError, "gRPC requires POST"), context: context)
        }
        let contentType = headers.first(name: "content-type") ?? ""
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
                || contentType.hasPrefix("application/grpc;") else {
            return finishHTTP(status: "415", GRPCStatus(.internalError, "invalid gRPC request content-type \"\(contentType)\""),
                              context: context)
        }
        guard service.lifecycle.begin() else {
            return finish(GRPCStatus(.unavailable, "the server is shutting down"), context: context)
        }
        counted = true
        guard let method = AnalyzerMethod(path: headers.first(name: ":path") ?? "") else {
            // grpc-python's words, as the SDK's server answers.
            return finish(GRPCStatus(.unimplemented, "Method not found!"), context: context)
        }
        if let text = headers.first(name: GRPCTimeout.key), let amount = GRPCTimeout(text)?.timeAmount {
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: amount) { [weak self] in
                self?.deadlinePassed()
            }
        }
        let encoding = headers.first(name: "grpc-encoding").flatMap { $0 == "identity" ? nil : $0 }
        state = .receiving(method, GRPCMessageReader(limit: AnalyzerServer.maxRequestBytes, encoding: encoding))
    }

    private func requestEnded(context: ChannelHandlerContext) {
        requestEnded = true
        guard case .receiving(let method, let reader) = state else { return }
        let message: ByteBuffer
        do { message = try reader.finish() } catch {
            return fail(error, context: context)
        }
        state = .running
        switch service.dispatch(method, message) {
        case .answer(let result):
            respond(result, context: context)
        case .answerThenShutDown(let result):
            let lifecycle = service.lifecycle
            respond(result, context: context) { lifecycle.shutdown() }
        case .python(let job):
            let liveness = liveness
            let loop = context.eventLoop
            let bound = NIOLoopBound(self, eventLoop: loop)
            service.worker.submit { worker in
                guard liveness.isLive else { return }
                let result = job(worker)
                loop.execute { bound.value.completed(result) }
            }
        }
    }

    private func completed(_ result: Result<ByteBuffer, GRPCStatus>) {
        guard case .running = state, let context else { return }
        respond(result, context: context)
    }

    private func deadlinePassed() {
        deadline = nil
        guard let context else { return }
        switch state {
        case .receiving, .running:
            // grpc-python's words.
            finish(GRPCStatus(.deadlineExceeded, "Deadline Exceeded"), context: context)
        case .idle, .done:
            break
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        finish(error as? GRPCStatus ?? GRPCStatus(.internalError, "\(error)"), context: context)
    }

    private static let responseHeaders = HPACKHeaders([(":status", "200"), ("content-type", "application/grpc")])
    private static let okTrailers = HPACKHeaders([("grpc-status", "0")])

    private func respond(_ result: Result<ByteBuffer, GRPCStatus>, context: ChannelHandlerContext,
                         then after: (@Sendable () -> Void)? = nil) {
        switch result {
        case .failure(let status):
            finish(status, context: context)
            after?()
        case .success(let message):
            end()
            context.write(wrapOutboundOut(.headers(.init(headers: Self.responseHeaders))), promise: nil)
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(message)))), promise: nil)
            let promise: EventLoopPromise<Void>? = after == nil ? nil : context.eventLoop.makePromise()
            if let after { promise!.futureResult.whenComplete { _ in after() } }
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: Self.okTrailers, endStream: true))), promise: promise)
            closeIfUnread(context)
        }
    }

    /// A trailers-only response: the call ends with `status`.
    private func finish(_ status: GRPCStatus, context: ChannelHandlerContext) {
        finishHTTP(status: "200", status, context: context)
    }

    private func finishHTTP(status http: String, _ status: GRPCStatus, context: ChannelHandlerContext) {
        guard !isDone else { return }
        end()
        var headers = HPACKHeaders([(":status", http), ("content-type", "application/grpc"),
                                    ("grpc-status", String(status.code.rawValue))])
        if !status.message.isEmpty { headers.add(name: "grpc-message", value: GRPCStatus.percentEncoded(status.message)) }
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
        closeIfUnread(context)
    }

    /// Answered before the client finished sending (an oversized or malformed request, a deadline):
    /// the stream is reset, so the client stops sending what nobody reads.
    private func closeIfUnread(_ context: ChannelHandlerContext) {
        if !requestEnded { context.close(promise: nil) }
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

    private func abandon() {
        if !isDone { end() }
    }
}
