import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PolicyValues
import SwiftProtobuf
import HostCore
import PolicyPack

/// The SDK's own analyzer, driven as the engine drives it, with the same requests, config and report
/// code as the fast path (`PackAnalysis`): faithful by construction, whatever the SDK release.
///
/// Two endpoints (`AnalyzerEndpoint`): out of process (`--runtime sdk-server`, `start`): the SDK's
/// analyzer (`python -m pulumi.policy`, `SDKServerProcess`) on the pack's own interpreter, whatever
/// its version, over gRPC — Handshake, ConfigureStack, GetPluginInfo, GetAnalyzerInfo, Configure,
/// per resource Remediate then Analyze, AnalyzeStack, Cancel; and in process (`inProcess`): the
/// servicer of a pack loaded in the embedded interpreter, for the pulumi-policy releases the fast path
/// is not proven on (`SDKPath`), with the requests' bytes and no gRPC.
///
/// A call that a policy failed is that resource's call failing (an `errors` entry, exit 5), as on
/// the fast path; the analyzer dying or the connection breaking is the pack failing (exit 4).
/// Remediate is not sent when no resource policy is at REMEDIATE level: the SDK's loop would skip
/// every policy and answer with nothing, as the fast path also skips it.
public final class SDKServerSession: AnalysisSession {
    public let manifest: PolicyManifest
    public let info: AnalyzerInfo
    private let endpoint: any AnalyzerEndpoint
    private var remediates = true
    private var providers: [Pulumirpc_AnalyzerProviderResource] = []
    private var providersConverted = false
    private var stackChunks: [[Pulumirpc_AnalyzerResource]] = []
    private var finished = false

    private init(manifest: PolicyManifest, info: AnalyzerInfo, endpoint: any AnalyzerEndpoint) {
        self.manifest = manifest
        self.info = info
        self.endpoint = endpoint
    }

    /// Starts the analyzer on `python`, connects, and asks it what it is, as the engine does
    /// before the first resource.
    public static func start(python: String, isVenv: Bool, manifest: PolicyManifest,
                             settings: StackSettings) throws(HostError) -> SDKServerSession {
        let process = try SDKServerProcess.start(python: python, isVenv: isVenv, manifest: manifest, settings: settings)
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: process.port),
                                                       transportSecurity: .plaintext)
        } catch {
            process.stop()
            throw HostError(.internal, "could not make a gRPC client for 127.0.0.1:\(process.port): \(error)")
        }
        let client = GRPCClient(transport: transport)
        Task { try? await client.runConnections() }
        let calls = SDKServerCalls(analyzer: Pulumirpc_Analyzer.Client(wrapping: client), process: process,
                                   packDirectory: manifest.packDirectory.path)
        let infoValue: PlainValue
        do {
            infoValue = try blocking { () async throws(HostError) -> PlainValue in
                try await calls.open(settings: settings, packDirectory: manifest.packDirectory.path)
            }
        } catch {
            client.beginGracefulShutdown()
            process.stop()
            throw error
        }
        let info = AnalyzerInfo(infoValue, yamlVersion: manifest.version, yamlDescription: manifest.description)
        return SDKServerSession(manifest: manifest, info: info, endpoint: GRPCEndpoint(calls: calls, client: client, process: process))
    }

    /// The servicer of a pack already loaded in the embedded interpreter (which made its
    /// ConfigureStack, GetPluginInfo and GetAnalyzerInfo calls while loading).
    public static func inProcess(_ pack: PackSession) -> SDKServerSession {
        SDKServerSession(manifest: pack.manifest, info: pack.info, endpoint: ServicerEndpoint(pack: pack))
    }

    /// The session that runs `pack` as its SDK path says: the pack itself (the fast path) or its
    /// servicer in process.
    public static func session(for pack: PackSession) -> any AnalysisSession {
        pack.sdkPath.kind == .fast ? pack : inProcess(pack)
    }

    public func configure(_ config: [PolicyConfiguration]) throws(HostError) {
        // What the SDK's Remediate would do anything for: a resource policy at REMEDIATE level.
        remediates = config.contains { e in
            e.enforcementLevel == .remediate && info.policy(named: e.policyName)?.isStackPolicy != true
        }
        switch try endpoint.configure(SDKServerMessages.configure(config)) {
        case .ok: return
        case .fault(let f):
            throw HostError(.policyError, "Configure failed: \(f.type): \(f.message)",
                            detail: f.traceback.isEmpty ? nil : f.traceback)
        case .unimplemented:
            throw HostError(.packLoad, "the pack's analyzer does not implement Configure")
        }
    }

    private func convertProviders(_ list: [ProviderResource]) {
        // The same list for the whole run (`AnalysisRequests.providers`): converted once.
        guard !providersConverted || providers.count != list.count else { return }
        providers = list.map(SDKServerMessages.provider)
        providersConverted = true
    }

    public func runResources(_ requests: [ResourceRequest], providers list: [ProviderResource], applyRemediations: Bool) throws(HostError) -> [CallResult] {
        convertProviders(list)
        var out: [CallResult] = []
        out.reserveCapacity(requests.count)
        for r in requests {
            out.append(try runResource(r, provider: SDKServerMessages.provider(r.provider, in: providers),
                                       applyRemediations: applyRemediations))
        }
        return out
    }

    /// Remediate then Analyze for one resource, as the engine does per resource step; a failed
    /// call is that call's `errors` entry.
    private func runResource(_ r: ResourceRequest, provider: Pulumirpc_AnalyzerProviderResource?,
                             applyRemediations: Bool) throws(HostError) -> CallResult {
        let urn = r.urn
        let properties = r.properties
        var result = CallResult()
        var analyzed = properties.withoutInternalKeys
        if remediates {
            // Remediate sees the `__` keys; Analyze does not.
            let request = SDKServerMessages.analyzeRequest(r, properties: properties, provider: provider)
            switch try endpoint.remediate(request, urn: urn) {
            case .ok(let response):
                result.remediations = SDKServerMessages.remediations(response)
                result.notApplicable = SDKServerMessages.notApplicable(response.notApplicable)
                // The last remediation that returned properties is what an update would go on with.
                if applyRemediations,
                   let last = response.remediations.last(where: { $0.hasProperties && !$0.properties.fields.isEmpty }) {
                    analyzed = PlainObject(last.properties).withoutInternalKeys
                }
            case .fault(let f):
                result.errors.append(f)
            case .unimplemented:
                break  // the engine ignores it
            }
        }
        let request = SDKServerMessages.analyzeRequest(r, properties: analyzed, provider: provider)
        switch try endpoint.analyze(request, urn: urn) {
        case .ok(let response):
            result.diagnostics = SDKServerMessages.diagnostics(response.diagnostics)
            result.notApplicable += SDKServerMessages.notApplicable(response.notApplicable)
        case .fault(let f):
            result.errors.append(f)
        case .unimplemented:
            result.errors.append(SDKServerCalls.fault(phase: "analyze", urn: urn, type: "NotImplementedError",
                                                      message: "the pack's analyzer does not implement Analyze"))
        }
        return result
    }

    public func stackBegin(providers list: [ProviderResource]) throws(HostError) {
        convertProviders(list)
        stackChunks = []
    }

    public func stackAdd(_ resources: [StackResourceRequest], prepend: Bool) throws(HostError) {
        let chunk = resources.map { SDKServerMessages.stackResource($0, provider: SDKServerMessages.provider($0.provider, in: providers)) }
        if prepend { stackChunks.insert(chunk, at: 0) } else { stackChunks.append(chunk) }
    }

    public func stackRun() throws(HostError) -> CallResult {
        var request = Pulumirpc_AnalyzeStackRequest()
        request.resources = stackChunks.flatMap { $0 }
        stackChunks = []
        var result = CallResult()
        switch try endpoint.analyzeStack(request) {
        case .ok(let r):
            result.diagnostics = SDKServerMessages.diagnostics(r.diagnostics)
            result.notApplicable = SDKServerMessages.notApplicable(r.notApplicable)
        case .fault(let f):
            result.errors = [f]
        case .unimplemented:
            break  // the engine runs no stack checks then
        }
        return result
    }

    /// Cancel (as the engine does on shutdown; the SDK leaves it unimplemented), then whatever the
    /// endpoint started is stopped and the pack's last output let through.
    public func finish() {
        guard !finished else { return }
        finished = true
        endpoint.close()
    }
}

/// What one Analyzer call came to.
enum AnalyzerOutcome<R: Sendable>: Sendable {
    case ok(R)
    /// A policy (or the SDK around it) failed the call.
    case fault(PolicyFault)
    /// With the status details.
    case unimplemented(String)
}

/// The analyzer an `SDKServerSession` drives: one method per RPC it sends after the analyzer is
/// open. A call a policy failed is `.fault`; a thrown error is the analyzer failing as a whole.
protocol AnalyzerEndpoint: AnyObject {
    func configure(_ request: Pulumirpc_ConfigureAnalyzerRequest) throws(HostError) -> AnalyzerOutcome<Google_Protobuf_Empty>
    func remediate(_ request: Pulumirpc_AnalyzeRequest, urn: String) throws(HostError) -> AnalyzerOutcome<Pulumirpc_RemediateResponse>
    func analyze(_ request: Pulumirpc_AnalyzeRequest, urn: String) throws(HostError) -> AnalyzerOutcome<Pulumirpc_AnalyzeResponse>
    func analyzeStack(_ request: Pulumirpc_AnalyzeStackRequest) throws(HostError) -> AnalyzerOutcome<Pulumirpc_AnalyzeResponse>
    func close()
}

/// The SDK's analyzer process over gRPC.
final class GRPCEndpoint: AnalyzerEndpoint {
    private let calls: SDKServerCalls
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let process: SDKServerProcess

    init(calls: SDKServerCalls, client: GRPCClient<HTTP2ClientTransport.Posix>, process: SDKServerProcess) {
        self.calls = calls
        self.client = client
        self.process = process
    }

    func configure(_ request: Pulumirpc_ConfigureAnalyzerRequest) throws(HostError) -> AnalyzerOutcome<Google_Protobuf_Empty> {
        let calls = self.calls
        return try blocking { () async throws(HostError) in
            try await calls.call("configure", urn: "", { a, o in try await a.configure(sorted: request, options: o) })
        }
    }

    func remediate(_ request: Pulumirpc_AnalyzeRequest, urn: String) throws(HostError) -> AnalyzerOutcome<Pulumirpc_RemediateResponse> {
        let calls = self.calls
        return try blocking { () async throws(HostError) in
            try await calls.call("remediate", urn: urn, { a, o in try await a.remediate(sorted: request, options: o) })
        }
    }

    func analyze(_ request: Pulumirpc_AnalyzeRequest, urn: String) throws(HostError) -> AnalyzerOutcome<Pulumirpc_AnalyzeResponse> {
        let calls = self.calls
        return try blocking { () async throws(HostError) in
            try await calls.call("analyze", urn: urn, { a, o in try await a.analyze(sorted: request, options: o) })
        }
    }

    func analyzeStack(_ request: Pulumirpc_AnalyzeStackRequest) throws(HostError) -> AnalyzerOutcome<Pulumirpc_AnalyzeResponse> {
        let calls = self.calls
        return try blocking { () async throws(HostError) in
            try await calls.call("analyzeStack", urn: "", { a, o in try await a.analyzeStack(sorted: request, options: o) })
        }
    }

    func close() {
        let calls = self.calls
        _ = try? blocking { () async throws(HostError) in await calls.cancel() }
        client.beginGracefulShutdown()
        process.stop()
    }
}

/// The servicer of a pack loaded in the embedded interpreter, called with each request's bytes
/// (map entries in key order, as the out-of-process route sends them) and no gRPC.
final class ServicerEndpoint: AnalyzerEndpoint {
    private let pack: PackSession

    init(pack: PackSession) {
        self.pack = pack
    }

    /// One RPC to `pack`'s servicer (also `serve`'s, on the servicer path).
    static func call<R: SwiftProtobuf.Message>(_ pack: PackSession, _ method: String, _ request: some SwiftProtobuf.Message,
                                               as: R.Type) throws(HostError) -> AnalyzerOutcome<R> {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: Data
        do { bytes = try request.serializedData(options: options) } catch {
            throw HostError(.internal, "cannot serialise the \(method) request: \(error)")
        }
        switch try pack.servicerCall(method, bytes) {
        case .unimplemented(let details): return .unimplemented(details)
        case .fault(let f): return .fault(f)
        case .response(let data):
            do { return .ok(try R(serializedBytes: data)) } catch {
                throw HostError(.internal, "the SDK's \(method) response does not parse: \(error)")
            }
        }
    }

    private func call<R: SwiftProtobuf.Message>(_ method: String, _ request: some SwiftProtobuf.Message,
                                                as type: R.Type) throws(HostError) -> AnalyzerOutcome<R> {
        try Self.call(pack, method, request, as: type)
    }

    func configure(_ request: Pulumirpc_ConfigureAnalyzerRequest) throws(HostError) -> AnalyzerOutcome<Google_Protobuf_Empty> {
        try call("Configure", request, as: Google_Protobuf_Empty.self)
    }

    func remediate(_ request: Pulumirpc_AnalyzeRequest, urn: String) throws(HostError) -> AnalyzerOutcome<Pulumirpc_RemediateResponse> {
        try call("Remediate", request, as: Pulumirpc_RemediateResponse.self)
    }

    func analyze(_ request: Pulumirpc_AnalyzeRequest, urn: String) throws(HostError) -> AnalyzerOutcome<Pulumirpc_AnalyzeResponse> {
        try call("Analyze", request, as: Pulumirpc_AnalyzeResponse.self)
    }

    func analyzeStack(_ request: Pulumirpc_AnalyzeStackRequest) throws(HostError) -> AnalyzerOutcome<Pulumirpc_AnalyzeResponse> {
        try call("AnalyzeStack", request, as: Pulumirpc_AnalyzeResponse.self)
    }

    func close() {
        pack.finish()
    }
}

/// The calls themselves, Sendable so that they run in tasks.
struct SDKServerCalls: Sendable {
    typealias Analyzer = Pulumirpc_Analyzer.Client<HTTP2ClientTransport.Posix>

    let analyzer: Analyzer
    let process: SDKServerProcess
    let packDirectory: String
    /// The engine's 400 MiB message limit, both ways.
    let options: CallOptions = {
        var o = CallOptions.defaults
        o.maxRequestMessageBytes = 400 * 1024 * 1024
        o.maxResponseMessageBytes = 400 * 1024 * 1024
        return o
    }()

    /// Handshake (the engine's readiness probe, retried while the port is not yet served),
    /// ConfigureStack, GetPluginInfo, GetAnalyzerInfo; the info in `AnalyzerInfo`'s shape.
    func open(settings: StackSettings, packDirectory: String) async throws(HostError) -> PlainValue {
        var hello = Pulumirpc_AnalyzerHandshakeRequest()
        hello.engineAddress = "127.0.0.1:0"
        hello.rootDirectory = packDirectory
        hello.programDirectory = packDirectory
        let deadline = Date().addingTimeInterval(10)
        while true {
            do {
                _ = try await analyzer.handshake(hello, options: options)
                break
            } catch let e as RPCError where e.code == .unimplemented {
                break  // the SDK leaves it to the proxy; the engine accepts this
            } catch let e as RPCError where e.code == .unavailable && Date() < deadline && !process.hasExited {
                try? await Task.sleep(nanoseconds: 50_000_000)
            } catch {
                throw lost("Handshake", detail: "\(error)")
            }
        }
        let configureStack = SDKServerMessages.configureStack(settings)
        if case .fault(let f) = try await call("configureStack", urn: "", { a, o in try await a.configureStack(sorted: configureStack, options: o) }) {
            throw HostError(.packLoad, "ConfigureStack failed: \(f.type): \(f.message)")
        }
        let empty = Google_Protobuf_Empty()
        let plugin: Pulumirpc_PluginInfo
        switch try await call("getPluginInfo", urn: "", { a, o in try await a.getPluginInfo(empty, options: o) }) {
        case .ok(let p): plugin = p
        case .fault(let f): throw HostError(.packLoad, "GetPluginInfo failed: \(f.message)")
        case .unimplemented: throw HostError(.packLoad, "the pack's analyzer does not implement GetPluginInfo")
        }
        switch try await call("getAnalyzerInfo", urn: "", { a, o in try await a.getAnalyzerInfo(empty, options: o) }) {
        case .ok(let info): return SDKServerMessages.info(info, sdkVersion: plugin.version)
        case .fault(let f): throw HostError(.packLoad, "GetAnalyzerInfo failed: \(f.message)")
        case .unimplemented: throw HostError(.packLoad, "the pack's analyzer does not implement GetAnalyzerInfo")
        }
    }

    func cancel() async {
        var o = options
        o.timeout = .seconds(2)
        _ = try? await analyzer.cancel(Google_Protobuf_Empty(), options: o)
    }

    /// One RPC. A call the pack failed comes back as `.fault` (with what the hook saw, else what the
    /// status says); a call that cannot have reached a verdict — the analyzer died, the connection
    /// broke — is thrown as the pack failing.
    func call<R: Sendable>(_ phase: String, urn: String,
                           _ rpc: @escaping @Sendable (Analyzer, CallOptions) async throws -> R) async throws(HostError) -> AnalyzerOutcome<R> {
        let (analyzer, options) = (self.analyzer, self.options)
        let task = Task { try await rpc(analyzer, options) }
        let faults = process.faults
        faults.setInFlight { task.cancel() }
        let result = await task.result
        faults.setInFlight(nil)
        switch result {
        case .success(let r):
            return .ok(r)
        case .failure(let error):
            if faults.cancelledUnanswered, let f = faults.takeFault(phase: phase, urn: urn, timeout: 5) {
                return .fault(f)  // sys.exit() or KeyboardInterrupt in a policy: gRPC's server never answers
            }
            guard let status = error as? RPCError else { throw lost(phase, urn: urn, detail: "\(error)") }
            switch status.code {
            case .unimplemented:
                return .unimplemented(status.message)
            case .unavailable, .cancelled, .deadlineExceeded:
                throw lost(phase, urn: urn, detail: status.message)
            case .unknown:
                // What gRPC's Python server answers for an exception; the hook wrote its details first.
                if let f = faults.takeFault(phase: phase, urn: urn, timeout: faults.isReady ? 5 : 0) { return .fault(f) }
            default:
                if let f = faults.takeFault(phase: phase, urn: urn, timeout: 0) { return .fault(f) }
            }
            if let how = process.exitDescription(waitingUpTo: 0.1) { throw lost(phase, urn: urn, detail: how) }
            return .fault(Self.fault(status, phase: phase, urn: urn))
        }
    }

    /// A fault from the status alone (the hook saw nothing): gRPC's Python server says
    /// `Exception calling application: <str(e)>`.
    static func fault(_ status: RPCError, phase: String, urn: String) -> PolicyFault {
        let prefix = "Exception calling application: "
        if status.message.hasPrefix(prefix) {
            return fault(phase: phase, urn: urn, type: "Exception", message: String(status.message.dropFirst(prefix.count)))
        }
        return fault(phase: phase, urn: urn, type: "RPCError", message: "\(status.code): \(status.message)")
    }

    static func fault(phase: String, urn: String, type: String, message: String) -> PolicyFault {
        PolicyFault(policyName: "", phase: phase, type: type, message: message, traceback: "")
    }

    private func lost(_ phase: String, urn: String = "", detail: String) -> HostError {
        let how = process.exitDescription(waitingUpTo: 2) ?? "stopped answering (\(detail))"
        let during = urn.isEmpty ? phase : "\(phase) of \(urn)"
        return HostError(.packLoad, "the policy pack \(packDirectory): its analyzer (\(process.python) -m pulumi.policy) \(how) during \(during); no report was produced")
    }
}

/// Runs async work to completion from synchronous code (the analysis drives sessions synchronously;
/// gRPC is async). Never called from a task.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws(HostError) -> T) throws(HostError) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(HostError) {
            box.result = .success(try await work())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    guard let result = box.result else { throw HostError(.internal, "an asynchronous call ended without a result") }
    return try result.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, HostError>?
}
