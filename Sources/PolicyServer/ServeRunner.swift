import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PolicyValues
import HostCore
import NIOCore
import NIOPosix
import PythonEnv
import PolicyPack

/// `policy-host serve`: the Analyzer protocol for the Pulumi engine.
public enum ServeRunner {
    /// What the engine passed, in either convention:
    /// the language host's `[flags] <engineAddr> <packDir>` or the legacy
    /// `pulumi-analyzer-policy-<runtime>` form `[flags] <engineAddr> . -key=value…` (cwd = pack dir).
    public struct Invocation: Equatable, Sendable {
        public var engineAddress: String?
        public var packDirectory: String?
        public var runtimeOptions: [String: String] = [:]

        public init(engineAddress: String? = nil, packDirectory: String? = nil, runtimeOptions: [String: String] = [:]) {
            self.engineAddress = engineAddress
            self.packDirectory = packDirectory
            self.runtimeOptions = runtimeOptions
        }
    }

    /// Parses the engine's argument forms; unknown flags are ignored, as `pulumi.policy` does.
    public static func parse(_ args: [String]) -> Invocation {
        var inv = Invocation()
        var positional: [String] = []
        var i = 0
        let valued: Set<String> = ["--tracing", "-tracing", "--root", "-root"]
        let runtimeKeys: Set<String> = ["virtualenv", "toolchain", "typechecker"]
        while i < args.count {
            let a = args[i]
            i += 1
            if a.hasPrefix("-") && a.count > 1 {
                let body = a.drop { $0 == "-" }
                if let eq = body.firstIndex(of: "=") {
                    let key = String(body[..<eq])
                    if runtimeKeys.contains(key) { inv.runtimeOptions[key] = String(body[body.index(after: eq)...]) }
                } else if runtimeKeys.contains(String(body)) && a.hasPrefix("-") && !a.hasPrefix("--") && i < args.count {
                    // The Windows shim's `-virtualenv <v>` form.
                    inv.runtimeOptions[String(body)] = args[i]
                    i += 1
                } else if valued.contains(a) && i < args.count {
                    i += 1
                }
                continue
            }
            positional.append(a)
        }
        inv.engineAddress = positional.first
        if positional.count > 1, positional[1] != "." { inv.packDirectory = positional[1] }
        return inv
    }

    /// Stack settings from the legacy route's environment (`PULUMI_CONFIG` and friends).
    static func settingsFromEnvironment(_ env: [String: String]) -> StackSettings {
        var config: [(String, String)] = []
        if let text = env["PULUMI_CONFIG"], let obj = (try? JSON.parse(text))?.objectValue {
            config = obj.entries.compactMap { e in e.value.stringValue.map { (e.key, $0) } }
        }
        let dry: Bool? = env["PULUMI_DRY_RUN"].map { $0 == "true" }
        return StackSettings(organization: env["PULUMI_ORGANIZATION"] ?? "", project: env["PULUMI_PROJECT"] ?? "",
                             stack: env["PULUMI_STACK"] ?? "", dryRun: dry, config: config)
    }

    /// Prepares the venv and serves until Cancel, SIGINT/SIGTERM or the parent's death. The caller
    /// ends the process (the embedded interpreter is never finalised).
    public static func run(_ args: [String], manager: VenvManager) throws(HostError) {
        let inv = parse(args)
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let dir = URL(fileURLWithPath: inv.packDirectory ?? ".", relativeTo: cwd).standardizedFileURL
        var manifest = try PolicyManifest.load(packDirectory: dir)
        if let v = inv.runtimeOptions["virtualenv"], !v.isEmpty { manifest.virtualenv = v }
        if let t = inv.runtimeOptions["toolchain"], !t.isEmpty {
            guard let tc = PolicyManifest.Toolchain(rawValue: t) else {
                throw HostError(.packLoad, "unsupported toolchain option: \(t)", hint: "toolchain must be one of pip, uv, poetry")
            }
            manifest.toolchain = tc
        }
        let python = try manager.ensure(manifest)
        runConcurrencyOnTheEventLoop()
        let worker = PythonWorker(python: python, manifest: manifest,
                                  settings: settingsFromEnvironment(ProcessInfo.processInfo.environment))
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do {
                try await serve(worker: worker)
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let e = failure.error {
            throw HostError(.environment, "the analyzer server failed: \(e)")
        }
    }

    /// The sockets' threads run every task: NIO's singleton event loop group (one loop per core, the
    /// transport's own) becomes Swift concurrency's global executor, and a task enqueued from a loop
    /// stays on it, so an RPC is read, handled and answered on its connection's loop without a hand-off
    /// to the cooperative pool and back (each a futex wake-up, and the pool's workers spinning before
    /// they park). Python runs on `PythonWorker`'s own thread, so a long policy never stalls a loop:
    /// Cancel, deadlines and the sockets stay served. Called once, before serve's first task.
    static func runConcurrencyOnTheEventLoop() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    static func serve(worker: PythonWorker) async throws {
        let shutdown = ShutdownBox()
        let service = AnalyzerService(worker: worker, onCancel: { shutdown.trigger() })
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: .plaintext,
            config: .defaults { $0.rpc.maxRequestPayloadSize = 400 * 1024 * 1024 })
        // grpc-swift's own deadline handling keeps memory for every RPC until its deadline passes;
        // the wrapper enforces deadlines without that (see DeadlineEnforcingTransport).
        let server = GRPCServer(transport: DeadlineEnforcingTransport(base: transport), services: [service])
        shutdown.onTrigger { server.beginGracefulShutdown() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            guard let port = try await transport.listeningAddress.ipv4?.port else {
                server.beginGracefulShutdown()
                throw HostError(.environment, "the gRPC server did not report a port")
            }
            // The engine reads exactly this line first.
            FileHandle.standardOutput.write(Data("\(port)\n".utf8))
            // From here on the pack's output and ours (the engine's plugin log) show no secret of the
            // requests (POLICY_HOST_SHOW_SECRETS=1: as they are).
            if ProcessInfo.processInfo.environment["POLICY_HOST_SHOW_SECRETS"] != "1" {
                OutputRedaction.install(SecretRedactor(), learning: true)
            }
            let signals = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
                signal(sig, SIG_IGN)
                let src = DispatchSource.makeSignalSource(signal: sig)
                src.setEventHandler { shutdown.trigger() }
                src.resume()
                return src
            }
            // A parent that dies must not leave the server running.
            let parent = getppid()
            group.addTask {
                while !shutdown.isTriggered {
                    try? await Task.sleep(nanoseconds: 500_000_000)
                    if getppid() != parent { shutdown.trigger() }
                }
                _ = signals
            }
        }
    }
}

final class ShutdownBox: @unchecked Sendable {
    private let lock = NSLock()
    private var triggered = false
    private var action: (@Sendable () -> Void)?

    func onTrigger(_ a: @escaping @Sendable () -> Void) {
        lock.lock(); action = a; lock.unlock()
    }

    func trigger() {
        lock.lock()
        let first = !triggered
        triggered = true
        let a = action
        lock.unlock()
        if first { a?() }
    }

    var isTriggered: Bool { lock.lock(); defer { lock.unlock() }; return triggered }
}

final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func set(_ e: Error) { lock.lock(); error = e; lock.unlock() }
}

/// The serve argument parser, for tests.
public typealias PolicyServerArgs = ServeRunner.Invocation
extension ServeRunner.Invocation {
    public static func parse(_ args: [String]) -> Self { ServeRunner.parse(args) }
}
