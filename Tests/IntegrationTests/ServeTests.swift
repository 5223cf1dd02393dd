import Foundation
import NIOCore
@testable import PolicyServer
import Testing

/// The engine-facing behaviour of `policy-host serve`: argument forms, the port line, shutdown.
@Suite struct ServeTests {
    /// Starts a server and returns it with the port it printed as its first stdout line.
    func start(_ args: [String], cwd: URL, env: [String: String]? = nil) throws -> (Process, Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.binary)
        p.arguments = args
        p.currentDirectoryURL = cwd
        if let env { p.environment = env }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = Data()
        while true {
            let b = out.fileHandleForReading.readData(ofLength: 1)
            if b.isEmpty || b == Data([0x0A]) { break }
            line.append(b)
        }
        let port = try #require(Int(String(decoding: line, as: UTF8.self)), "first line: \(String(decoding: line, as: UTF8.self))")
        return (p, port)
    }

    /// Calls GetAnalyzerInfo and one Analyze with the SDK's stubs; returns the pack name and the first message.
    func probe(_ port: Int, pack: URL) throws -> Run {
        let script = """
        import grpc, sys
        from google.protobuf import empty_pb2
        from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
        s = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel("127.0.0.1:\(port)"))
        info = s.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        req = analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket", urn="urn:pulumi:s::p::aws:s3/bucket:Bucket::b", name="b")
        req.properties.update({"acl": "public-read", "versioning": {"enabled": True}})
        d = s.Analyze(req, timeout=30).diagnostics
        print(info.name, d[0].policyName, d[0].policyPackVersion)
        """
        return try run([pack.appendingPathComponent("venv/bin/python").path, "-c", script])
    }

    func waitForExit(_ p: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        return !p.isRunning
    }

    @Test func languageHostConventionWithPackDirLast() throws {
        let pack = try preparedPack("aws-basics")
        let (p, port) = try start(["serve", "--logtostderr", "-v=9", "--tracing", "file:///tmp/t", "127.0.0.1:1", pack.path],
                                  cwd: FileManager.default.temporaryDirectory)
        defer { p.terminate() }
        let r = try probe(port, pack: pack)
        #expect(r.stdout == "aws-basics s3-no-public-read 0.0.1\n", "\(r.stderr)")
        kill(p.processIdentifier, SIGTERM)
        #expect(waitForExit(p, seconds: 5))
        #expect(p.terminationStatus == 0)
    }

    @Test func legacyConventionWithOptionsAndEnvironment() throws {
        let pack = try preparedPack("aws-basics")
        var env = ProcessInfo.processInfo.environment
        env["PULUMI_CONFIG"] = #"{"webshop:team":"blue"}"#
        env["PULUMI_PROJECT"] = "webshop"
        env["PULUMI_STACK"] = "dev"
        env["PULUMI_DRY_RUN"] = "true"
        let (p, port) = try start(["serve", "127.0.0.1:1", ".", "-virtualenv=venv", "-toolchain=pip"], cwd: pack, env: env)
        defer { p.terminate() }
        let r = try probe(port, pack: pack)
        #expect(r.stdout == "aws-basics s3-no-public-read 0.0.1\n", "\(r.stderr)")
        kill(p.processIdentifier, SIGINT)
        #expect(waitForExit(p, seconds: 5))
    }

    @Test func installedAsTheLegacyPluginName() throws {
        let pack = try preparedPack("aws-basics")
        try withTemporaryDirectory { dir in
            let link = dir.appendingPathComponent("pulumi-analyzer-policy-python")
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: Repo.binary)
            let p = Process()
            p.executableURL = link
            p.arguments = ["127.0.0.1:1", ".", "-virtualenv=venv"]
            p.currentDirectoryURL = pack
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            defer { p.terminate() }
            let first = out.fileHandleForReading.readData(ofLength: 6)
            let text = String(decoding: first, as: UTF8.self)
            let port = try #require(Int(text.split(separator: "\n").first.map(String.init) ?? ""), "got \(text)")
            #expect(try probe(port, pack: pack).status == 0)
        }
    }

    @Test func exitsWhenItsParentDies() throws {
        let pack = try preparedPack("aws-basics")
        try withTemporaryDirectory { dir in
            let pidFile = dir.appendingPathComponent("pid")
            // The shell starts the server, records its pid, and exits after a moment.
            let sh = try run(["/bin/sh", "-c", "'\(Repo.binary)' serve 127.0.0.1:1 '\(pack.path)' >/dev/null 2>&1 & echo $! > '\(pidFile.path)'; sleep 2"])
            #expect(sh.status == 0)
            let pid = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            let deadline = Date().addingTimeInterval(5)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(100_000) }
            #expect(kill(pid, 0) != 0, "the server outlived its parent")
        }
    }

    /// `grpc-timeout` as the specification spells it (the server's deadline timers: ServeProtocolTests).
    @Test func grpcTimeoutValues() {
        #expect(GRPCTimeout("20m")?.nanoseconds == 20_000_000)
        #expect(GRPCTimeout("20m")?.timeAmount == .milliseconds(20))
        #expect(GRPCTimeout("99999999S")?.nanoseconds == 99_999_999_000_000_000)
        #expect(GRPCTimeout("2562047H")?.timeAmount == .hours(2_562_047))
        // Past what an event loop can schedule (about 292 years): no deadline.
        #expect(GRPCTimeout("2562048H")?.nanoseconds != nil && GRPCTimeout("2562048H")?.timeAmount == nil)
        #expect(GRPCTimeout("99999999H") != nil && GRPCTimeout("99999999H")?.nanoseconds == nil)
        for bad in ["", "S", "5", "5s", "-1S", "+1S", " 1S", "123456789S", "1.5S"] { #expect(GRPCTimeout(bad) == nil, "\(bad)") }
    }

    @Test func argumentForms() {
        typealias Inv = PolicyServerArgs
        #expect(Inv.parse(["--logtostderr", "-v=3", "--tracing", "x", "127.0.0.1:5", "/packs/a"]) == .init(engineAddress: "127.0.0.1:5", packDirectory: "/packs/a"))
        #expect(Inv.parse(["127.0.0.1:5", ".", "-virtualenv=venv", "-toolchain=uv"]) == .init(engineAddress: "127.0.0.1:5", packDirectory: nil, runtimeOptions: ["virtualenv": "venv", "toolchain": "uv"]))
        #expect(Inv.parse(["127.0.0.1:5", ".", "-virtualenv", "env dir"]) == .init(engineAddress: "127.0.0.1:5", packDirectory: nil, runtimeOptions: ["virtualenv": "env dir"]))
        #expect(Inv.parse(["127.0.0.1:5"]) == .init(engineAddress: "127.0.0.1:5", packDirectory: nil))
    }
}
