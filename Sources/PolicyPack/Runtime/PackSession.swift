import Foundation
import PolicyValues
import PythonRuntime
import HostCore
import PythonEnv

/// Stack settings the engine gives a pack before it starts (ConfigureStack).
public struct StackSettings: Sendable, Equatable {
    public var organization: String
    public var project: String
    public var stack: String
    /// `nil` when unknown (the engine gave no ConfigureStack and no PULUMI_DRY_RUN).
    public var dryRun: Bool?
    /// `"<namespace>:<key>"` → plaintext value.
    public var config: [(String, String)]
    public var tags: [(String, String)]

    public init(organization: String, project: String, stack: String, dryRun: Bool?, config: [(String, String)] = [], tags: [(String, String)] = []) {
        self.organization = organization
        self.project = project
        self.stack = stack
        self.dryRun = dryRun
        self.config = config
        self.tags = tags
    }

    public static func == (l: StackSettings, r: StackSettings) -> Bool {
        l.organization == r.organization && l.project == r.project && l.stack == r.stack && l.dryRun == r.dryRun
            && l.config.map(\.0) == r.config.map(\.0) && l.config.map(\.1) == r.config.map(\.1)
            && l.tags.map(\.0) == r.tags.map(\.0) && l.tags.map(\.1) == r.tags.map(\.1)
    }

    /// The settings as the driver takes them.
    public var plainValue: PlainValue { plain }

    var plain: PlainValue {
        .object(PlainObject([
            ("organization", .string(organization)), ("project", .string(project)), ("stack", .string(stack)),
            ("dry_run", dryRun.map { .bool($0) } ?? .null),
            ("config", .object(PlainObject(config.map { ($0.0, .string($0.1)) }))),
            ("tags", .object(PlainObject(tags.map { ($0.0, .string($0.1)) }))),
        ]))
    }
}

/// A policy pack loaded in the embedded interpreter. One per process: the
/// interpreter cannot be restarted. Not Sendable: use it from one thread.
public final class PackSession {
    public let interpreter: PythonInterpreter
    private let host: PythonObject
    public let manifest: PolicyManifest
    public private(set) var info: AnalyzerInfo
    /// Fast path or the SDK's servicer (`SDKPath`): PackSession's own analysis methods are the fast
    /// path; on the servicer path the session is driven through `servicerCall` instead.
    public let sdkPath: SDKPath

    /// Starts the interpreter as `python` (a venv's bin/python), prepares the
    /// engine's environment, and runs the pack's `__main__.py` up to `PolicyPack(...)`.
    public static func start(python: String, manifest: PolicyManifest, settings: StackSettings) throws(HostError) -> PackSession {
        let interp: PythonInterpreter
        do {
            // The embedded libpython loads its own standard library, whichever patch release of its
            // minor version made the venv (pyenv's 3.11.7 venv, Debian's 3.11.2 libpython).
            interp = try PythonInterpreter.start(executable: python, home: VenvManager.embeddedHome, argv: [python, "127.0.0.1:0", manifest.packDirectory.path], bufferedStdio: false)
        } catch {
            throw HostError(.environment, "could not start the embedded Python as \(python): \(error.message)",
                            hint: "run `policy-host install --recreate` to rebuild the pack's virtualenv")
        }
        let result: Result<(PythonObject, PlainValue), PythonError> = interp.withGIL { gil in
            do throws(PythonError) {
                let host = try DriverSources.installHost(gil)
                _ = try host.call("prepare_environment", [settings.plain], gil)
                let info = try host.call("load", [.string(manifest.packDirectory.path)], gil)
                return .success((host, info))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let (host, info)):
            return PackSession(interpreter: interp, host: host, manifest: manifest,
                               info: AnalyzerInfo(info, yamlVersion: manifest.version, yamlDescription: manifest.description),
                               sdkPath: SDKPath(driver: info["sdkPath"]))
        case .failure(let e):
            interp.flushStandardStreams()
            throw Self.loadError(e, manifest: manifest)
        }
    }

    private init(interpreter: PythonInterpreter, host: PythonObject, manifest: PolicyManifest, info: AnalyzerInfo, sdkPath: SDKPath) {
        self.interpreter = interpreter
        self.host = host
        self.manifest = manifest
        self.info = info
        self.sdkPath = sdkPath
    }

    static func loadError(_ e: PythonError, manifest: PolicyManifest) -> HostError {
        let main = manifest.packDirectory.appendingPathComponent("__main__.py").path
        if e.typeName == "PackLoadError" {
            let hint: String? = switch e.attributes["step"] {
            case "import": "add pulumi-policy to the pack's requirements.txt (or its pyproject.toml dependencies) and run `policy-host install`"
            case "sdk-version": "require pulumi-policy>=1.3.0,<2.0.0 in the pack's requirements.txt and run `policy-host install`"
            default: nil
            }
            return HostError(.packLoad, "\(main): \(e.message)", hint: hint)
        }
        var hint: String?
        if let release = e.attributes["policy_host_sdk_release"] {
            // Set by the driver on an ImportError or AttributeError naming a part of pulumi_policy.
            hint = "the pack uses a part of the SDK that pulumi-policy \(release) in its environment does not have: "
                + "require a newer pulumi-policy in requirements.txt and run `policy-host install`"
        } else if e.typeName == "ModuleNotFoundError" || e.typeName == "ImportError" {
            hint = "add the missing package to requirements.txt; policy-host reinstalls when it changes"
        }
        return HostError(.packLoad, "\(main): the policy pack failed to load: \(e.description)", hint: hint,
                         detail: e.tracebackText)
    }

    /// Calls a method of the driver's host object with plain values (GIL taken inside).
    public func call(_ method: String, _ args: [PlainValue]) throws(PackCallError) -> PlainValue {
        let r: Result<PlainValue, PythonError> = interpreter.withGIL { gil in
            do throws(PythonError) { return .success(try host.call(method, args, gil)) } catch { return .failure(error) }
        }
        switch r {
        case .success(let v): return v
        case .failure(let e):
            throw PackCallError(method: method, python: e)
        }
    }

    // MARK: Calls from more than one thread (`serve`)

    private var sharedContext: PythonContext?

    /// From now on, `enterSharedContext` runs calls in one contextvars context, a copy of the calling
    /// thread's current one (for `serve`, whose calls run on whichever I/O thread read the request).
    public func shareCurrentContext() {
        sharedContext = interpreter.copyCurrentContext()
    }

    /// Before a call: gives the calling thread a Python thread state for its life and enters the shared
    /// context. False when there is none or it could not be entered (then `exitSharedContext` must not
    /// be called). Calls must not overlap.
    public func enterSharedContext() -> Bool {
        guard let sharedContext else { return false }
        interpreter.adoptCurrentThread()
        return interpreter.enter(sharedContext)
    }

    /// After a call that `enterSharedContext` entered.
    public func exitSharedContext() {
        if let sharedContext { interpreter.exit(sharedContext) }
    }

    /// Sends `Configure` with an entry for every policy.
    public func configure(_ config: [PolicyConfiguration]) throws(HostError) {
        do { _ = try call("configure", [PolicyConfiguration.plain(config)]) } catch { throw error.hostError }
    }

    /// Remediate and Analyze for each resource (wire-form requests); one result per resource.
    public func runResources(_ requests: [ResourceRequest], providers: [ProviderResource], applyRemediations: Bool) throws(HostError) -> [CallResult] {
        let value: PlainValue
        do {
            value = try call("run_resources", [.array(requests.map(\.plain)), .array(providers.map(\.plain)), .bool(applyRemediations)])
        } catch { throw error.hostError }
        guard case .array(let list) = value, list.count == requests.count else {
            throw PlainReader.error("run_resources", "expected \(requests.count) results, found \(value.arrayValue.map { "\($0.count)" } ?? GoDecoder.describe(value))")
        }
        var out: [CallResult] = []
        out.reserveCapacity(list.count)
        for (i, r) in list.enumerated() { out.append(try CallResult(driver: r, path: "run_resources[\(i)]")) }
        return out
    }

    /// AnalyzeStack over resources handed over in chunks: `stackBegin`, `stackAdd`…, `stackRun`.
    public func stackBegin(providers: [ProviderResource]) throws(HostError) {
        do { _ = try call("stack_begin", [.array(providers.map(\.plain))]) } catch { throw error.hostError }
    }

    public func stackAdd(_ resources: [StackResourceRequest], prepend: Bool) throws(HostError) {
        do { _ = try call("stack_add", [.array(resources.map(\.plain)), .bool(prepend)]) } catch { throw error.hostError }
    }

    public func stackRun() throws(HostError) -> CallResult {
        let value: PlainValue
        do { value = try call("stack_run", []) } catch { throw error.hostError }
        return try CallResult(driver: value, path: "stack_run")
    }

}

/// A call into the pack's Python code raised: a policy crashed, or the SDK rejected its input.
public struct PackCallError: Error, Sendable {
    public var method: String
    public var python: PythonError

    public var hostError: HostError {
        HostError(.policyError, "\(method) failed: \(python.description)", detail: python.tracebackText)
    }
}
