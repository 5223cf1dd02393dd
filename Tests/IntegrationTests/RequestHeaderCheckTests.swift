import Foundation
import HostCore
import NIOCore
import NIOHPACK
import PolicyPack
@testable import PolicyServer
import ServeTransport
import Testing
import TestSupport

/// `RequestHeaderCheck` (RFC 9113's rules for the header blocks a server receives, which serve makes
/// itself instead of NIO): each rule on its own, then on the wire — a malformed request's stream is
/// reset with PROTOCOL_ERROR and the connection serves the next call.
@Suite struct RequestHeaderCheckTests {
    static let valid: [(String, String)] = [
        (":method", "POST"), (":scheme", "http"), (":path", "/pulumirpc.Analyzer/Handshake"), (":authority", "127.0.0.1"),
        ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", "5S"), ("user-agent", "grpc-go/1.0 ünïcödé"),
    ]

    static func block(_ fields: [(String, String)]) -> HPACKHeaders { HPACKHeaders(fields) }

    static func replacing(_ name: String, with value: String?) -> [(String, String)] {
        valid.compactMap { $0.0 == name ? value.map { (name, $0) } : $0 }
    }

    /// (what, the block): each malformed.
    static let malformedRequests: [(String, [(String, String)])] = [
        ("an uppercase name", valid + [("X-Custom", "1")]),
        ("a name with a space", valid + [("x custom", "1")]),
        ("a colon alone", valid + [(":", "1")]),
        ("a pseudo-header after a regular field", [("content-type", "application/grpc")] + valid.filter { $0.0 != "content-type" }),
        ("an unknown pseudo-header", valid.prefix(4) + [(":foo", "bar")] + valid.dropFirst(4)),
        ("the extended CONNECT pseudo-header", valid.prefix(4) + [(":protocol", "websocket")] + valid.dropFirst(4)),
        ("a duplicate pseudo-header", valid.prefix(4) + [(":path", "/other")] + valid.dropFirst(4)),
        (":status in a request", valid.prefix(4) + [(":status", "200")] + valid.dropFirst(4)),
        ("no :scheme", replacing(":scheme", with: nil)),
        ("no :path", replacing(":path", with: nil)),
        ("no :method", replacing(":method", with: nil)),
        ("an empty :path", replacing(":path", with: "")),
        ("a space in :path", replacing(":path", with: "/pulumirpc.Analyzer/Hand shake")),
        ("a control character in :authority", replacing(":authority", with: "127.0.0.1\u{1}")),
        ("DEL in :method", replacing(":method", with: "PO\u{7F}ST")),
        ("connection", valid + [("connection", "keep-alive")]),
        ("keep-alive", valid + [("keep-alive", "5")]),
        ("proxy-connection", valid + [("proxy-connection", "close")]),
        ("transfer-encoding", valid + [("transfer-encoding", "chunked")]),
        ("upgrade", valid + [("upgrade", "h2c")]),
        ("te other than trailers", replacing("te", with: "gzip")),
        ("CR in a value", valid + [("x-custom", "a\rb")]),
        ("LF in a value", valid + [("x-custom", "a\nb")]),
        ("NUL in a value", valid + [("x-custom", "a\u{0}b")]),
        ("CONNECT with :path", replacing(":method", with: "CONNECT")),
        ("CONNECT without :authority", [(":method", "CONNECT")]),
    ]

    @Test func anEmptyNameIsRefusedToo() {
        #expect(RequestHeaderCheck.request(Self.block(Self.valid + [("", "1")])) != nil)
    }

    @Test func wellFormedRequestsPass() {
        #expect(RequestHeaderCheck.request(Self.block(Self.valid)) == nil)
        #expect(RequestHeaderCheck.request(Self.block(Self.replacing(":authority", with: nil))) == nil)
        #expect(RequestHeaderCheck.request(Self.block([(":method", "CONNECT"), (":authority", "example:443")])) == nil)
        // Values may hold spaces, tabs and UTF-8 (RFC 9110 § 5.5); `te: trailers` is the one TE allowed.
        #expect(RequestHeaderCheck.request(Self.block(Self.valid + [("x-custom", " a\tb é ")])) == nil)
    }

    @Test(arguments: RequestHeaderCheckTests.malformedRequests.indices)
    func malformedRequestsAreRefused(_ index: Int) {
        let (what, fields) = Self.malformedRequests[index]
        #expect(RequestHeaderCheck.request(Self.block(fields)) != nil, "\(what) passed")
    }

    @Test func trailers() {
        #expect(RequestHeaderCheck.trailers(Self.block([("x-checksum", "1"), ("te", "gzip")])) == nil)
        #expect(RequestHeaderCheck.trailers(Self.block([])) == nil)
        #expect(RequestHeaderCheck.trailers(Self.block([(":path", "/x")])) != nil)
        #expect(RequestHeaderCheck.trailers(Self.block([("connection", "close")])) != nil)
        #expect(RequestHeaderCheck.trailers(Self.block([("X-Checksum", "1")])) != nil)
    }

    @Test func contentLength() {
        func length(_ values: [String]) -> Result<Int?, RequestHeaderCheck.ContentLengthError> {
            RequestHeaderCheck.contentLength(Self.block(Self.valid + values.map { ("content-length", $0) }))
        }
        #expect(length([]) == .success(nil))
        #expect(length(["5"]) == .success(5))
        #expect(length(["0"]) == .success(0))
        #expect(length(["5", "5"]) == .success(5))
        #expect(length(["5, 5"]) == .success(5))
        // An empty value has no canonical values at all: as if there were none (as in NIO).
        #expect(length([""]) == .success(nil))
        for bad in [["5", "6"], ["5, 6"], ["abc"], ["-1"], ["5x"], ["99999999999999999999999"]] {
            if case .success = length(bad) { Issue.record("content-length \(bad) passed") }
        }
    }

    // MARK: On the wire

    /// HTTP/2 frames for a raw client.
    static func frame(_ type: UInt8, _ flags: UInt8, _ stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// A header block of literal fields (never indexed: no table state between requests).
    static func literals(_ fields: [(String, String)]) -> [UInt8] {
        fields.flatMap { name, value -> [UInt8] in
            let n = Array(name.utf8), v = Array(value.utf8)
            precondition(n.count < 127 && v.count < 127)
            return [0x10, UInt8(n.count)] + n + [UInt8(v.count)] + v
        }
    }

    /// How each stream ended, as the raw client read it: "reset <code>" or "answered <:status>".
    static func outcomes(port: Int, requests: [(stream: UInt32, bytes: [UInt8])]) throws -> [UInt32: String] {
        let client = try #require(RawTestConnection(port: port, receiveBuffer: 0))
        defer { client.close() }
        var out = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + frame(4, 0, 0, [])
        for r in requests { out += r.bytes }
        var pending = out[...]
        var input: [UInt8] = []
        var ended: [UInt32: String] = [:]
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        let deadline = Date().addingTimeInterval(20)
        while ended.count < requests.count && Date() < deadline {
            if !pending.isEmpty, case .bytes(let n) = client.send(Array(pending)) { pending = pending.dropFirst(n) }
            guard let got = client.receive() else { break }
            if got.isEmpty { Thread.sleep(forTimeInterval: 0.005); continue }
            input += got
            while input.count >= 9 {
                let length = Int(input[0]) << 16 | Int(input[1]) << 8 | Int(input[2])
                guard input.count >= 9 + length else { break }
                let type = input[3], flags = input[4]
                let stream = UInt32(input[5] & 0x7F) << 24 | UInt32(input[6]) << 16 | UInt32(input[7]) << 8 | UInt32(input[8])
                let payload = Array(input[9..<(9 + length)])
                input.removeFirst(9 + length)
                switch type {
                case 3 where ended[stream] == nil:  // RST_STREAM
                    ended[stream] = "reset \(UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3]))"
                case 1 where ended[stream] == nil:  // HEADERS: the first one carries :status
                    var buffer = ByteBufferAllocator().buffer(bytes: payload)
                    let headers = try decoder.decodeHeaders(from: &buffer)
                    if let status = headers.first(name: ":status") { ended[stream] = "answered \(status)" }
                case 4 where flags & 1 == 0:  // SETTINGS: acknowledged
                    pending += frame(4, 1, 0, [])
                case 7:  // GOAWAY: nothing more will come on this connection
                    for r in requests where ended[r.stream] == nil { ended[r.stream] = "goaway" }
                    return ended
                default:
                    break
                }
            }
        }
        return ended
    }

    @Test(.timeLimit(.minutes(2))) func malformedRequestsAreResetAndTheConnectionGoesOn() throws {
        let manifest = try PolicyManifest.load(packDirectory: Repo.root.appendingPathComponent("Fixtures/packs/aws-basics"))
        let worker = PythonWorker(python: "/nonexistent/bin/python", manifest: manifest,
                                  settings: StackSettings(organization: "", project: "", stack: "", dryRun: nil, config: []))
        let server = try AnalyzerServer.start(host: "127.0.0.1", port: 0,
                                              service: AnalyzerService(worker: worker, lifecycle: ServerLifecycle()))
        defer { server.close() }
        let port = try #require(server.port)

        let emptyMessage: [UInt8] = [0, 0, 0, 0, 0]  // a Handshake request: an empty message, framed
        var requests: [(stream: UInt32, bytes: [UInt8])] = []
        var expected: [UInt32: String] = [:]
        var stream: UInt32 = 1
        func add(_ fields: [(String, String)], body: [UInt8] = emptyMessage, trailers: [(String, String)]? = nil, _ outcome: String) {
            var bytes = Self.frame(1, 0x4, stream, Self.literals(fields))
            bytes += Self.frame(0, trailers == nil ? 0x1 : 0, stream, body)
            if let trailers { bytes += Self.frame(1, 0x5, stream, Self.literals(trailers)) }
            requests.append((stream, bytes))
            expected[stream] = outcome
            stream += 2
        }
        add(Self.valid, "answered 200")
        for (_, fields) in Self.malformedRequests { add(fields, "reset 1") }
        let emptyName = stream
        add(Self.valid + [("", "1")], "goaway")  // NIO's HPACK decoder ends the connection (COMPRESSION_ERROR)
        add(Self.valid + [("content-length", "5")], "answered 200")
        add(Self.valid + [("content-length", "9")], "reset 1")  // the body ends short
        add(Self.valid + [("content-length", "2")], "reset 1")  // more body than declared
        add(Self.valid + [("content-length", "5"), ("content-length", "6")], "reset 1")
        add(Self.valid + [("content-length", "five")], "reset 1")
        add(Self.valid, trailers: [("x-checksum", "1")], "answered 200")
        add(Self.valid, trailers: [(":path", "/x")], "reset 1")
        add([(":method", "CONNECT"), (":authority", "127.0.0.1")], body: [], "answered 405")  // well-formed, not gRPC
        add(Self.valid, "answered 200")  // and the connection still serves

        // Each on a connection of its own, then all on one (a reset stream leaves the connection serving).
        var outcomes: [UInt32: String] = [:]
        for request in requests {
            outcomes.merge(try Self.outcomes(port: port, requests: [request])) { $1 }
        }
        let together = try Self.outcomes(port: port, requests: requests.filter { $0.stream != emptyName })
        #expect(together == outcomes.filter { $0.key != emptyName })
        for (id, outcome) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(outcomes[id] == outcome, "stream \(id): expected \(outcome), got \(outcomes[id] ?? "nothing")")
        }
    }
}
