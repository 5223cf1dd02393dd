import Foundation
import Testing

/// `policy-host serve` under many RPCs over many connections: its memory must stay flat.
///
/// The RPCs carry a deadline (`grpc-timeout`) longer than the test, as grpcio's `timeout=` and Go
/// contexts do: grpc-swift's own deadline handling used to keep about 1.5 KB per RPC until the
/// deadline passed, so that is what this guards against. The client is h2load (Debian's
/// `nghttp2-client`, installed by scripts/setup.sh); it sends gRPC-framed bodies over HTTP/2 to
/// 127.0.0.1 only.
@Suite struct ServeSoakTests {
    /// RPCs after warm-up, if the time allows.
    static let targetRPCs = 100_000
    /// The measured phase stops starting rounds after this long.
    static let budget: TimeInterval = 60
    /// Fewer RPCs than this after warm-up would prove too little (the leak this guards against
    /// grew 16 MB in as many).
    static let minimumRPCs = 12_000
    /// Allowed RSS growth after warm-up.
    static let allowedGrowth = 5 * 1024 * 1024
    /// New connections per h2load run; each round makes two runs.
    static let connectionsPerRun = 10
    /// RPCs in one round: 3 000 of Handshake, GetAnalyzerInfo and GetPluginInfo in turn, then 1 000 Analyze.
    static let emptyBodyRPCsPerRound = 3_000
    static let emptyBodyMethods = ["Handshake", "GetAnalyzerInfo", "GetPluginInfo"]
    static let analyzeRPCsPerRound = 1_000

    @Test(.timeLimit(.minutes(4))) func memoryStaysFlatOverManyRPCsAndConnections() throws {
        try Self.withServer(connections: Self.connectionsPerRun) { server, client, bodies in

            // Warm-up: loads the pack and settles the allocator. Each kind alone first, to learn the
            // size of its response: every RPC must answer with a message (an error has none).
            var bytesPerResponse: [String: Int] = [:]
            for method in Self.emptyBodyMethods {
                let r = try client.run([method], body: bodies.empty, requests: 400)
                bytesPerResponse[method] = try r.bytesPerResponse(requests: 400, method: method)
            }
            let analyzeBytes = try client.run(["Analyze"], body: bodies.analyze, requests: 400)
                .bytesPerResponse(requests: 400, method: "Analyze")
            let emptyRoundBytes = Self.emptyBodyMethods.map { bytesPerResponse[$0]! }.reduce(0, +) * Self.emptyBodyRPCsPerRound / 3
            try round(client, bodies, emptyRoundBytes: emptyRoundBytes, analyzeBytes: analyzeBytes)
            usleep(500_000)
            let baseline = try Self.rss(server.processIdentifier)

            // Measured: whole rounds until the target or the time budget.
            let started = Date()
            var sent = 0, connections = 0
            var trail: [String] = []
            while sent < Self.targetRPCs && Date().timeIntervalSince(started) < Self.budget {
                try round(client, bodies, emptyRoundBytes: emptyRoundBytes, analyzeBytes: analyzeBytes)
                sent += Self.emptyBodyRPCsPerRound + Self.analyzeRPCsPerRound
                connections += 2 * Self.connectionsPerRun
                trail.append("\(sent): \(try Self.rss(server.processIdentifier) / 1024) KiB")
            }
            let elapsed = Date().timeIntervalSince(started)
            usleep(500_000)
            let growth = try Self.rss(server.processIdentifier) - baseline
            let summary = "\(sent) RPCs over \(connections) connections in \(Int(elapsed)) s after warm-up; "
                + "RSS \(baseline / 1024) KiB, then \(growth / 1024) KiB more (allowed \(Self.allowedGrowth / 1024)); "
                + trail.joined(separator: ", ")
            print("serve soak: \(summary)")
            #expect(sent >= Self.minimumRPCs, "too few RPCs in \(Int(Self.budget)) s to judge: \(summary)")
            #expect(growth <= Self.allowedGrowth, "serve's memory grew: \(summary)")
            #expect(server.isRunning, "the server stopped")
        }
    }

    /// An idle server uses no CPU, and a burst of calls leaves no thread busy afterwards (no worker
    /// spinning before it parks, no timer left running): over 3 s of quiet, before and after 2 000
    /// calls, the process's CPU time (all threads, in clock ticks of 10 ms) grows by at most 2 ticks.
    @Test(.timeLimit(.minutes(2))) func anIdleServerUsesNoCPU() throws {
        try Self.withServer(connections: 2) { server, client, bodies in
            let pid = server.processIdentifier
            func quiet(_ label: String) throws {
                usleep(300_000)  // let the last responses leave
                let before = try Self.cpuTicks(pid)
                usleep(3_000_000)
                let used = try Self.cpuTicks(pid) - before
                let busy = used <= 2 ? [] : (try? Self.busyThreads(pid)) ?? []
                #expect(used <= 2, "\(label): \(used) ticks (10 ms each) of CPU in 3 s idle; busy threads: \(busy)")
            }
            try quiet("after start-up")
            _ = try client.run(["Analyze"], body: bodies.analyze, requests: 1_000)  // loads the pack
            _ = try client.run(Self.emptyBodyMethods, body: bodies.empty, requests: 1_000)
            try quiet("after a burst of 2 000 calls")
            #expect(server.isRunning)
        }
    }

    /// `policy-host serve` on the aws-basics fixture, an h2load client for it and the request bodies;
    /// the server is stopped when `body` returns.
    static func withServer(connections: Int, _ body: (Process, H2Load, Bodies) throws -> Void) throws {
        let h2load = try #require(
            executable("h2load"),
            "h2load is not on PATH: install Debian's nghttp2-client (scripts/setup.sh does) to run the serve soak tests")
        let pack = try preparedPack("aws-basics")
        try withTemporaryDirectory { dir in
            let bodies = try writeBodies(into: dir, python: pack.appendingPathComponent("venv/bin/python").path)
            let serve = ServeTests()
            let (server, port) = try serve.start(["serve", "127.0.0.1:1", pack.path], cwd: dir)
            defer {
                kill(server.processIdentifier, SIGTERM)
                if !serve.waitForExit(server, seconds: 5) { kill(server.processIdentifier, SIGKILL) }
            }
            try body(server, H2Load(path: h2load, base: "http://127.0.0.1:\(port)/pulumirpc.Analyzer/", connections: connections), bodies)
        }
    }

    /// user + system CPU time of the whole process, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        try ticks(String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))
    }

    static func ticks(_ stat: String) throws -> Int {
        // Fields after the command name in parentheses: state is the first, utime the 12th, stime the 13th.
        let rest = try #require(stat.range(of: ")", options: .backwards)).upperBound
        let fields = stat[rest...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// Threads that used CPU over 200 ms, for the failure message.
    static func busyThreads(_ pid: Int32) throws -> [String] {
        let dir = "/proc/\(pid)/task"
        let tids = try FileManager.default.contentsOfDirectory(atPath: dir)
        func sample() -> [String: Int] {
            Dictionary(uniqueKeysWithValues: tids.compactMap { tid in
                (try? String(contentsOfFile: "\(dir)/\(tid)/stat", encoding: .utf8)).flatMap { try? ticks($0) }.map { (tid, $0) }
            })
        }
        let a = sample()
        usleep(200_000)
        let b = sample()
        return b.compactMap { tid, t in
            let name = (try? String(contentsOfFile: "\(dir)/\(tid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            return t > (a[tid] ?? t) ? "\(tid) \(name) +\(t - a[tid]!)" : nil
        }
    }

    /// One round: the three RPCs with an empty request in turn, then Analyze, each over new connections.
    func round(_ client: H2Load, _ bodies: Bodies, emptyRoundBytes: Int, analyzeBytes: Int) throws {
        let a = try client.run(Self.emptyBodyMethods, body: bodies.empty,
                               requests: Self.emptyBodyRPCsPerRound)
        try a.expectAllAnswered(requests: Self.emptyBodyRPCsPerRound, dataBytes: emptyRoundBytes)
        let b = try client.run(["Analyze"], body: bodies.analyze, requests: Self.analyzeRPCsPerRound)
        try b.expectAllAnswered(requests: Self.analyzeRPCsPerRound, dataBytes: analyzeBytes * Self.analyzeRPCsPerRound)
    }

    struct Bodies {
        var empty: String
        var analyze: String
    }

    /// gRPC-framed request bodies (flag byte, big-endian length, message), serialised by the SDK's stubs.
    static func writeBodies(into dir: URL, python: String) throws -> Bodies {
        let bodies = Bodies(empty: dir.appendingPathComponent("empty.bin").path,
                            analyze: dir.appendingPathComponent("analyze.bin").path)
        let script = """
        import struct, sys
        from google.protobuf import empty_pb2
        from pulumi.runtime.proto import analyzer_pb2
        def framed(m):
            b = m.SerializeToString()
            return b"\\x00" + struct.pack(">I", len(b)) + b
        req = analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket", urn="urn:pulumi:s::p::aws:s3/bucket:Bucket::b", name="b")
        req.properties.update({"acl": "public-read", "versioning": {"enabled": True}})
        open(sys.argv[1], "wb").write(framed(empty_pb2.Empty()))
        open(sys.argv[2], "wb").write(framed(req))
        """
        let r = try run([python, "-c", script, bodies.empty, bodies.analyze])
        try #require(r.status == 0, "writing the request bodies failed: \(r.stderr)")
        return bodies
    }

    static func rss(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""))
        return kib * 1024
    }

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// h2load sending unary gRPC calls with a five-minute deadline, four at a time on each connection.
struct H2Load {
    var path: String
    var base: String
    var connections: Int

    struct Result {
        var output: String

        func field(_ label: String, after prefix: String) -> Int? {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
            // "requests: 600 total, 600 started, 600 done, 600 succeeded, …", "traffic: …, 3000 (3000) data"
            let words = line.replacingOccurrences(of: ",", with: "").split(separator: " ")
            guard let i = words.firstIndex(where: { $0 == label }), i > words.startIndex else { return nil }
            return Int(words[words.index(before: i)].trimmingCharacters(in: CharacterSet(charactersIn: "()")))
        }

        var succeeded: Int? { field("succeeded", after: "requests:") }
        var dataBytes: Int? { field("data", after: "traffic:") }

        func expectAllAnswered(requests: Int, dataBytes expected: Int) throws {
            try #require(succeeded == requests, "h2load: not every request succeeded:\n\(output)")
            // A gRPC error is a response without a message, so any error changes the byte count.
            try #require(dataBytes == expected, "h2load: \(expected) bytes of responses expected:\n\(output)")
        }

        func bytesPerResponse(requests: Int, method: String) throws -> Int {
            try #require(succeeded == requests, "h2load: not every \(method) succeeded:\n\(output)")
            let data = try #require(dataBytes, "h2load printed no traffic line:\n\(output)")
            try #require(data % requests == 0 && data / requests >= 5, "\(method): not every response carried a message:\n\(output)")
            return data / requests
        }
    }

    /// Runs `requests` calls spread over `connections` new connections, cycling through `methods`;
    /// h2load gives up on a connection idle for 20 s and is killed after 120 s.
    func run(_ methods: [String], body: String, requests: Int) throws -> Result {
        let argv = [path, "-n", "\(requests)", "-c", "\(connections)", "-m", "4", "-t", "1", "-N", "20s",
                    "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", "grpc-timeout: 300S",
                    "-d", body] + methods.map { base + $0 }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = Array(argv.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        let result = Result(output: String(decoding: data, as: UTF8.self))
        try #require(p.terminationStatus == 0, "h2load exited with \(p.terminationStatus):\n\(result.output)")
        return result
    }
}
