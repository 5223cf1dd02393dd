import Foundation
import HostCore
import PolicyPack
@testable import PolicyServer
import ServeTransport
import Testing

/// `policy-host serve` speaks gRPC over HTTP/2 itself (AnalyzerServer): what a client that is not
/// the engine — a broken one, a hostile one — gets back, deadlines from `grpc-timeout`, and a policy
/// that never returns. The client is nghttp (Debian's nghttp2-client), which sends any body and
/// headers and prints every frame it receives, trailers included.
@Suite(.serialized) struct ServeProtocolTests {
    /// What one call got back.
    struct Reply {
        var httpStatus: String?
        var grpcStatus: Int?
        var grpcMessage: String?
        var dataFrames: Int
        var seconds: Double
        var output: String
    }

    /// One request with nghttp: `body` (nil: a GET without one) to `path`, with extra headers.
    static func call(_ port: Int, _ path: String, body: Data?, headers: [String] = [],
                     contentType: String = "application/grpc") throws -> Reply {
        let nghttp = try #require(ServeSoakTests.executable("nghttp"),
                                  "nghttp is not on PATH: install Debian's nghttp2-client (scripts/setup.sh does)")
        return try withTemporaryDirectory { dir in
            var argv = [nghttp, "-v", "-t", "20", "-H", "content-type: \(contentType)", "-H", "te: trailers"]
            for h in headers { argv += ["-H", h] }
            if let body {
                let file = dir.appendingPathComponent("body.bin")
                try body.write(to: file)
                argv += ["-d", file.path]
            }
            argv.append("http://127.0.0.1:\(port)\(path)")
            let started = Date()
            let r = try run(argv)
            var reply = Reply(dataFrames: 0, seconds: Date().timeIntervalSince(started), output: r.stdout + r.stderr)
            for line in r.stdout.split(separator: "\n") {
                if line.contains("recv DATA frame") { reply.dataFrames += 1 }
                guard let range = line.range(of: #"recv \(stream_id=\d+\) "#, options: .regularExpression) else { continue }
                let header = line[range.upperBound...]
                guard let colon = header.dropFirst().firstIndex(of: ":") else { continue }
                let name = String(header[..<colon]), value = String(header[header.index(after: colon)...].dropFirst())
                switch name {
                case ":status": reply.httpStatus = value
                case "grpc-status": reply.grpcStatus = Int(value)
                case "grpc-message": reply.grpcMessage = value
                default: break
                }
            }
            return reply
        }
    }

    static func framed(_ message: [UInt8], flag: UInt8 = 0, length: UInt32? = nil) -> Data {
        let n = length ?? UInt32(message.count)
        return Data([flag, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + message)
    }

    /// A server on `pack`, stopped when `body` returns.
    static func withServer(_ pack: URL, _ body: (Process, Int) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            let serve = ServeTests()
            let (server, port) = try serve.start(["serve", "127.0.0.1:1", pack.path], cwd: dir)
            defer {
                kill(server.processIdentifier, SIGKILL)
                _ = serve.waitForExit(server, seconds: 5)
            }
            try body(server, port)
        }
    }

    static let analyzer = "/pulumirpc.Analyzer/"

    @Test func wireErrorsEndTheCallWithAStatusAndTheServerGoesOn() throws {
        try Self.withServer(try preparedPack("aws-basics")) { server, port in
            let empty = Self.framed([])
            func expectStatus(_ r: Reply, _ code: Int, _ message: String? = nil, _ what: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(r.grpcStatus == code, "\(what): \(r.output)", sourceLocation: sourceLocation)
                if let message {
                    #expect(r.grpcMessage?.contains(message) == true, "\(what): \(r.grpcMessage ?? "no message")",
                            sourceLocation: sourceLocation)
                }
                #expect(r.dataFrames == 0, "\(what): an error carries no message", sourceLocation: sourceLocation)
            }
            // The path: grpc-python's words, as the SDK's server says them.
            expectStatus(try Self.call(port, Self.analyzer + "Nope", body: empty), 12, "Method not found!", "unknown method")
            expectStatus(try Self.call(port, "/pulumirpc.ResourceProvider/Analyze", body: empty), 12, "Method not found!",
                         "another service")
            expectStatus(try Self.call(port, "/../" + Self.analyzer + "Handshake", body: empty), 12, nil, "a dotted path")
            // Not gRPC at all.
            let html = try Self.call(port, Self.analyzer + "Handshake", body: empty, contentType: "text/html")
            #expect(html.httpStatus == "415", "\(html.output)")
            let get = try Self.call(port, Self.analyzer + "Handshake", body: nil)
            #expect(get.httpStatus == "405", "\(get.output)")
            // Framing.
            expectStatus(try Self.call(port, Self.analyzer + "Handshake", body: Self.framed([0x0A, 0x00], flag: 1),
                                       headers: ["grpc-encoding: gzip"]), 12, "grpc-encoding gzip", "a compressed message")
            expectStatus(try Self.call(port, Self.analyzer + "Handshake", body: Self.framed([], flag: 7)), 13, "flag 7",
                         "an invalid flag")
            expectStatus(try Self.call(port, Self.analyzer + "AnalyzeStack", body: Self.framed([], length: 0xFFFF_FFFF)), 8,
                         "at most 419430400", "a 4 GiB length prefix (refused from the prefix, nothing buffered)")
            expectStatus(try Self.call(port, Self.analyzer + "Analyze", body: Self.framed([1, 2, 3], length: 10)), 13,
                         "ended inside a message", "a truncated message")
            expectStatus(try Self.call(port, Self.analyzer + "Handshake", body: empty + empty), 13, "more than one message",
                         "two messages on a unary call")
            expectStatus(try Self.call(port, Self.analyzer + "Handshake", body: Data()), 13, "no message", "no message")
            expectStatus(try Self.call(port, Self.analyzer + "Handshake", body: Data([0, 0])), 13, "ended inside a message",
                         "half a frame header")
            // A message that is not the method's request: grpc-python's words.
            for method in ["Analyze", "AnalyzeStack", "Configure", "ConfigureStack", "Remediate", "Handshake"] {
                expectStatus(try Self.call(port, Self.analyzer + method, body: Self.framed([0xFF, 0xFF, 0xFF, 0x0F])), 13,
                             "Exception deserializing request!", "\(method) with bytes that are no protobuf")
            }
            // A `grpc-timeout` that is no timeout sets no deadline; the call is answered.
            for timeout in ["-1S", "1.5S", "99999999H", "S", "123456789S"] {
                let r = try Self.call(port, Self.analyzer + "Handshake", body: empty, headers: ["grpc-timeout: \(timeout)"])
                #expect(r.grpcStatus == 0 && r.dataFrames == 1, "grpc-timeout \(timeout): \(r.output)")
            }
            // After all that, the server is whole.
            let ok = try Self.call(port, Self.analyzer + "GetPluginInfo", body: empty)
            #expect(ok.httpStatus == "200" && ok.grpcStatus == 0 && ok.dataFrames == 1, "\(ok.output)")
            #expect(server.isRunning)
        }
    }

    /// Many streams each sending a large message slowly cannot make the server hold more than its budget
    /// of request bytes: past it a call ends with RESOURCE_EXHAUSTED and lets its bytes go. (An
    /// in-process server with a budget of 4 KiB; Handshake never needs the pack's Python.)
    @Test func requestsTogetherStayWithinTheBudget() throws {
        let manifest = try PolicyManifest.load(packDirectory: Repo.root.appendingPathComponent("Fixtures/packs/aws-basics"))
        let worker = PythonWorker(python: "/nonexistent/bin/python", manifest: manifest,
                                  settings: StackSettings(organization: "", project: "", stack: "", dryRun: nil, config: []))
        let service = AnalyzerService(worker: worker, lifecycle: ServerLifecycle(), budget: RequestBudget(limit: 4096))
        let server = try AnalyzerServer.start(host: "127.0.0.1", port: 0, service: service)
        defer { server.close() }
        let port = try #require(server.port)
        let small = try Self.call(port, Self.analyzer + "Handshake", body: Self.framed([]))
        #expect(small.grpcStatus == 0 && small.dataFrames == 1, "\(small.output)")
        // A field-1 string of 6 000 bytes: a well-formed request, over the budget.
        let large = Self.framed([0x0A, 0xF0, 0x2E] + [UInt8](repeating: 0x61, count: 6000))
        let refused = try Self.call(port, Self.analyzer + "Handshake", body: large)
        #expect(refused.grpcStatus == 8 && refused.grpcMessage?.contains("holding 4096 bytes of requests") == true,
                "\(refused.output)")
        #expect(service.budget.holding == 0, "the refused call still holds \(service.budget.holding) bytes")
        let again = try Self.call(port, Self.analyzer + "Handshake", body: Self.framed([]))
        #expect(again.grpcStatus == 0 && again.dataFrames == 1, "\(again.output)")
        #expect(service.budget.holding == 0)
    }

    /// A request larger than the connection's first window (64 KiB) and a stream's (1 MiB) arrives
    /// whole: the server widens both windows as it reads (no multiplexer does it for it), where a
    /// server that forgot would leave the client waiting for a window that never opens.
    @Test func requestsLargerThanTheFlowControlWindowsArrive() throws {
        let manifest = try PolicyManifest.load(packDirectory: Repo.root.appendingPathComponent("Fixtures/packs/aws-basics"))
        let worker = PythonWorker(python: "/nonexistent/bin/python", manifest: manifest,
                                  settings: StackSettings(organization: "", project: "", stack: "", dryRun: nil, config: []))
        let service = AnalyzerService(worker: worker, lifecycle: ServerLifecycle())
        let server = try AnalyzerServer.start(host: "127.0.0.1", port: 0, service: service)
        defer { server.close() }
        let port = try #require(server.port)
        // Handshake's field 1 (engine_address), a string of 3 MiB: a well-formed request.
        let size = 3 << 20
        var varint: [UInt8] = []
        var n = size
        while n >= 0x80 { varint.append(UInt8(n & 0x7F) | 0x80); n >>= 7 }
        varint.append(UInt8(n))
        let reply = try Self.call(port, Self.analyzer + "Handshake",
                                  body: Self.framed([0x0A] + varint + [UInt8](repeating: 0x61, count: size)))
        #expect(reply.grpcStatus == 0 && reply.dataFrames == 1, "\(reply.output.suffix(2000))")
        #expect(reply.seconds < 15, "took \(reply.seconds) s")
        #expect(service.budget.holding == 0)
        let again = try Self.call(port, Self.analyzer + "Handshake", body: Self.framed([]))
        #expect(again.grpcStatus == 0 && again.dataFrames == 1, "\(again.output)")
    }

    /// A client that sends requests and never reads the answers holds up nobody but itself: the server
    /// holds at most its output limit (plus one turn's reads) of answers for it, other connections are
    /// served meanwhile, and when the client goes, what was held for it goes too. (An in-process server
    /// with a limit of 64 KiB; the client's receive buffer is made small so the kernel takes little. In
    /// practice NIO's HTTP/2 refuses such a client more streams first: its answered streams stay open
    /// while their answers wait, and it may have 100.)
    @Test(.timeLimit(.minutes(2))) func aClientThatNeverReadsHoldsUpNobodyElse() throws {
        let manifest = try PolicyManifest.load(packDirectory: Repo.root.appendingPathComponent("Fixtures/packs/aws-basics"))
        let worker = PythonWorker(python: "/nonexistent/bin/python", manifest: manifest,
                                  settings: StackSettings(organization: "", project: "", stack: "", dryRun: nil, config: []))
        let limit = 64 << 10
        let server = try AnalyzerServer.start(host: "127.0.0.1", port: 0,
                                              service: AnalyzerService(worker: worker, lifecycle: ServerLifecycle()),
                                              outputLimit: limit)
        defer { server.close() }
        let port = try #require(server.port)

        let client = try #require(RawTestConnection(port: port, receiveBuffer: 4096))

        func frame(_ type: UInt8, _ flags: UInt8, _ stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
            let n = payload.count
            return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                    UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
        }
        func literal(_ name: String, _ value: String) -> [UInt8] {
            [0x00, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
        }
        let block: [UInt8] = [0x83, 0x86] + literal(":path", Self.analyzer + "Handshake") + literal(":authority", "127.0.0.1")
            + literal("content-type", "application/grpc") + literal("te", "trailers")
        // Answers may flow freely as far as HTTP/2 goes: the client's windows are as large as they get.
        var pending = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + frame(4, 0, 0, [0, 4, 0x7F, 0xFF, 0xFF, 0xFF])
            + frame(8, 0, 0, [0x7F, 0xFF, 0x00, 0x00])
        var stream: UInt32 = 1
        var requests = 0
        var stalled: Date?
        sending: while requests < 20_000 {
            if pending.isEmpty {
                // A few at a time, paced: NIO's HTTP/2 counts a stream open until the read that brought
                // it is over, and more than 100 streams in one read is a MaxStreamsViolation.
                Thread.sleep(forTimeInterval: 0.002)
                for _ in 0..<20 {
                    pending += frame(1, 0x4, stream, block) + frame(0, 0x1, stream, [0, 0, 0, 0, 0])
                    stream += 2
                }
                requests += 20
            }
            switch client.send(pending) {
            case .bytes(let sent):
                pending.removeFirst(sent)
                stalled = nil
            case .wouldBlock:
                if let since = stalled, Date().timeIntervalSince(since) > 1.5 { break sending }
                stalled = stalled ?? Date()
                Thread.sleep(forTimeInterval: 0.01)
            case .broken:
                Issue.record("the server closed the connection")
                break sending
            }
        }
        // One turn of the connection reads at most 4 × 1 MiB of requests past the limit.
        let held = server.reactor.outputHeld
        #expect(held <= limit + (4 << 20), "the server holds \(held) bytes of answers for a client that reads nothing")
        let other = try Self.call(port, Self.analyzer + "Handshake", body: Self.framed([]))
        #expect(other.grpcStatus == 0 && other.dataFrames == 1, "\(other.output)")
        client.close()
        let deadline = Date().addingTimeInterval(10)
        while server.reactor.outputHeld > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(server.reactor.outputHeld == 0)
    }

    /// The `grpc-message` of an error: percent-encoded outside printable ASCII (gRPC over HTTP/2).
    @Test func statusMessagesArePercentEncoded() {
        #expect(GRPCStatus.percentEncoded("plain text: ok!") == "plain text: ok!")
        #expect(GRPCStatus.percentEncoded("50% é\n\u{7F}") == "50%25 %C3%A9%0A%7F")
    }

    /// A policy that never returns holds the Python thread, not the server: its deadline ends its
    /// call, a call queued behind it ends at its own deadline, Handshake (and Remediate, when no policy
    /// remediates) are answered meanwhile, and Cancel ends the process.
    @Test(.timeLimit(.minutes(3))) func deadlinesAndAPolicyThatNeverReturns() throws {
        try #require(FaultyPackTests.installFailure == nil, "\(FaultyPackTests.installFailure ?? "")")
        let pack = FaultyPackTests.packs.appendingPathComponent("infinite-loop")
        let loops = try Self.securityGroupRequest()
        let empty = Self.framed([])
        try Self.withServer(pack) { server, port in
            // Loads the pack (no deadline).
            let info = try Self.call(port, Self.analyzer + "GetPluginInfo", body: empty)
            #expect(info.grpcStatus == 0, "\(info.output)")
            let stuck = try Self.call(port, Self.analyzer + "Analyze", body: loops, headers: ["grpc-timeout: 500m"])
            #expect(stuck.grpcStatus == 4 && stuck.grpcMessage == "Deadline Exceeded", "\(stuck.output)")
            #expect(stuck.seconds < 10, "answered after \(stuck.seconds) s")
            let handshake = try Self.call(port, Self.analyzer + "Handshake", body: empty)
            #expect(handshake.grpcStatus == 0 && handshake.dataFrames == 1, "a loop is stalled: \(handshake.output)")
            // No policy of the pack remediates, so Remediate runs no policy code: answered (empty, as the
            // SDK answers it) without waiting for the Python thread.
            let remediate = try Self.call(port, Self.analyzer + "Remediate", body: loops)
            #expect(remediate.grpcStatus == 0 && remediate.dataFrames == 1, "\(remediate.output)")
            let queued = try Self.call(port, Self.analyzer + "GetAnalyzerInfo", body: empty, headers: ["grpc-timeout: 300m"])
            #expect(queued.grpcStatus == 4, "\(queued.output)")
            let cancel = try Self.call(port, Self.analyzer + "Cancel", body: empty)
            #expect(cancel.grpcStatus == 0, "\(cancel.output)")
            #expect(ServeTests().waitForExit(server, seconds: 5), "the server outlived Cancel")
        }
    }

    /// An Analyze request for the security group, the resource the infinite-loop pack's policy loops on.
    static func securityGroupRequest() throws -> Data {
        try withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("analyze.bin")
            let script = """
            import struct, sys
            from pulumi.runtime.proto import analyzer_pb2
            req = analyzer_pb2.AnalyzeRequest(type="aws:ec2/securityGroup:SecurityGroup",
                                              urn="urn:pulumi:s::p::aws:ec2/securityGroup:SecurityGroup::sg", name="sg")
            b = req.SerializeToString()
            open(sys.argv[1], "wb").write(b"\\x00" + struct.pack(">I", len(b)) + b)
            """
            let made = try run([FaultyPackTests.packs.appendingPathComponent("venv/bin/python").path, "-c", script, file.path])
            try #require(made.status == 0, "\(made.stderr)")
            return try Data(contentsOf: file)
        }
    }

    /// A signal while a call waits for a policy that never returns: the server gives running calls a
    /// grace period of 5 s (so it is still there a second later) and then ends; a second signal ends it
    /// at once.
    @Test(.timeLimit(.minutes(2)), arguments: [false, true]) func aSignalEndsTheServerWhileAPolicyNeverReturns(secondSignal: Bool) throws {
        try #require(FaultyPackTests.installFailure == nil, "\(FaultyPackTests.installFailure ?? "")")
        let pack = FaultyPackTests.packs.appendingPathComponent("infinite-loop")
        let loops = try Self.securityGroupRequest()
        let empty = Self.framed([])
        try Self.withServer(pack) { server, port in
            let info = try Self.call(port, Self.analyzer + "GetPluginInfo", body: empty)
            #expect(info.grpcStatus == 0, "\(info.output)")
            let nghttp = try #require(ServeSoakTests.executable("nghttp"))
            let body = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-loops-\(getpid()).bin")
            try loops.write(to: body)
            defer { try? FileManager.default.removeItem(at: body) }
            let waiting = Process()
            waiting.executableURL = URL(fileURLWithPath: nghttp)
            waiting.arguments = ["-t", "30", "-H", "content-type: application/grpc", "-d", body.path,
                                 "http://127.0.0.1:\(port)\(Self.analyzer)Analyze"]
            waiting.standardOutput = FileHandle.nullDevice
            waiting.standardError = FileHandle.nullDevice
            try waiting.run()
            defer { waiting.terminate() }
            usleep(500_000)
            kill(server.processIdentifier, SIGTERM)
            #expect(!ServeTests().waitForExit(server, seconds: 1), "the call running was given no grace")
            if secondSignal {
                kill(server.processIdentifier, SIGTERM)
                #expect(ServeTests().waitForExit(server, seconds: 3), "a second signal did not end the server")
            } else {
                #expect(ServeTests().waitForExit(server, seconds: 9), "the grace period did not end the server")
            }
        }
    }
}
