import Foundation
import PolicyValues
import HostCore
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

    /// Prepares the venv and serves (`AnalyzerServer`) until Cancel, SIGINT/SIGTERM or the parent's
    /// death, once the calls running then are answered (after a signal or the parent's death, for 5 s at
    /// most; a second signal ends it at once). The caller ends the process (the embedded
    /// interpreter is never finalised).
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
        let worker = PythonWorker(python: python, manifest: manifest,
                                  settings: settingsFromEnvironment(ProcessInfo.processInfo.environment))
        let lifecycle = ServerLifecycle()
        let server: AnalyzerServer
        do {
            server = try AnalyzerServer.start(host: "127.0.0.1", port: 0,
                                              service: AnalyzerService(worker: worker, lifecycle: lifecycle))
        } catch {
            throw HostError(.environment, "the analyzer server could not listen on 127.0.0.1: \(error)")
        }
        guard let port = server.port else {
            throw HostError(.environment, "the analyzer server did not report a port")
        }
        // The engine reads exactly this line first.
        FileHandle.standardOutput.write(Data("\(port)\n".utf8))
        // From here on the pack's output and ours (the engine's plugin log) show no secret of the
        // requests (POLICY_HOST_SHOW_SECRETS=1: as they are).
        if ProcessInfo.processInfo.environment["POLICY_HOST_SHOW_SECRETS"] != "1" {
            OutputRedaction.install(SecretRedactor(), learning: true)
        }
        // A signal or the parent's death lets running calls finish for a few seconds (a policy that never
        // returns would hold the server forever); a second signal ends it at once.
        let grace = 5.0
        let signals = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler {
                if lifecycle.isEnding { lifecycle.endNow() } else { lifecycle.shutdown(grace: grace) }
            }
            source.resume()
            return source
        }
        // A parent that dies must not leave the server running.
        let parent = getppid()
        let watch = DispatchSource.makeTimerSource()
        watch.schedule(deadline: .now() + 0.5, repeating: 0.5, leeway: .milliseconds(100))
        watch.setEventHandler { if getppid() != parent && !lifecycle.isEnding { lifecycle.shutdown(grace: grace) } }
        watch.resume()
        lifecycle.wait()
        watch.cancel()
        signals.forEach { $0.cancel() }
        server.close()
    }
}

/// The serve argument parser, for tests.
public typealias PolicyServerArgs = ServeRunner.Invocation
extension ServeRunner.Invocation {
    public static func parse(_ args: [String]) -> Self { ServeRunner.parse(args) }
}
