import Foundation
import GRPCCore
import PolicyValues
import SwiftProtobuf
import HostCore
import PolicyPack

/// `pulumirpc.Analyzer`, answered from the pack loaded in embedded CPython with
/// the SDK servicer's semantics. `Handshake`, `ConfigureStack` and `Cancel` are
/// answered even where the Python SDK leaves them unimplemented.
struct AnalyzerService: Pulumirpc_Analyzer.SimpleServiceProtocol {
    let worker: PythonWorker
    let onCancel: @Sendable () -> Void

    /// Runs `body` on the Python queue with the pack loaded.
    private func call<T: Sendable>(_ body: @escaping @Sendable (PackSession) throws -> T) async throws -> T {
        try await onWorker { w in try body(try w.loaded()) }
    }

    /// Runs `body` on the Python queue; a failure inside a policy maps to what grpc-python returns
    /// for an exception in a servicer, a pack that cannot load to FAILED_PRECONDITION.
    private func onWorker<T: Sendable>(_ body: @escaping @Sendable (PythonWorker) throws -> T) async throws -> T {
        do {
            return try await worker.run(body)
        } catch let e as PackCallError {
            throw RPCError(code: .unknown, message: "Exception calling application: \(e.python.message)")
        } catch let e as HostError {
            FileHandle.standardError.write(Data(e.rendered.utf8))
            throw RPCError(code: .failedPrecondition, message: e.message)
        }
    }

    func handshake(request: Pulumirpc_AnalyzerHandshakeRequest, context: ServerContext) async throws -> Pulumirpc_AnalyzerHandshakeResponse {
        Pulumirpc_AnalyzerHandshakeResponse()
    }

    func configureStack(request: Pulumirpc_AnalyzerStackConfigureRequest, context: ServerContext) async throws -> Pulumirpc_AnalyzerStackConfigureResponse {
        let settings = StackSettings(
            organization: request.organization, project: request.project, stack: request.stack, dryRun: request.dryRun,
            config: request.config.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            tags: request.tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        // The stack's secret config values are secrets of the log too.
        OutputRedaction.add(secretsIn: .array(request.configSecretKeys.compactMap { request.config[$0] }.map { EngineEncoding.wrapSecret(.string($0)) }))
        try await onWorker { w in try w.configureStack(settings) }
        return Pulumirpc_AnalyzerStackConfigureResponse()
    }

    func getPluginInfo(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Pulumirpc_PluginInfo {
        var info = Pulumirpc_PluginInfo()
        info.version = try await call { s in try s.call("plugin_version", []).stringValue ?? "" }
        return info
    }

    func getAnalyzerInfo(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Pulumirpc_AnalyzerInfo {
        let encoded = try await call { s in try s.call("analyzer_info_bytes", []).stringValue ?? "" }
        guard let bytes = Data(base64Encoded: encoded) else { throw RPCError(code: .internalError, message: "bad analyzer info") }
        return try Pulumirpc_AnalyzerInfo(serializedBytes: bytes)
    }

    /// On the servicer path (`SDKPath`) an RPC goes to the SDK's servicer as it arrived, and its answer
    /// comes back as gRPC-python would give it; `nil` on the fast path (queue only).
    private static func viaServicer<R: SwiftProtobuf.Message>(_ s: PackSession, _ method: String, _ request: some SwiftProtobuf.Message,
                                                              as type: R.Type) throws -> R? {
        guard s.sdkPath.kind == .servicer else { return nil }
        switch try ServicerEndpoint.call(s, method, request, as: type) {
        case .ok(let response): return response
        case .unimplemented(let details): throw RPCError(code: .unimplemented, message: details)
        case .fault(let f): throw RPCError(code: .unknown, message: "Exception calling application: \(f.message)")
        }
    }

    func configure(request: Pulumirpc_ConfigureAnalyzerRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        let arg = PolicyConfiguration.plain(AnalyzerMessages.config(request))
        return try await call { s in
            if let r = try Self.viaServicer(s, "Configure", request, as: Google_Protobuf_Empty.self) { return r }
            _ = try s.call("configure", [arg])
            return Google_Protobuf_Empty()
        }
    }

    func analyze(request: Pulumirpc_AnalyzeRequest, context: ServerContext) async throws -> Pulumirpc_AnalyzeResponse {
        let r = AnalyzerMessages.resource(request).plain
        OutputRedaction.add(secretsIn: r)
        return try await call { s in
            if let sdk = try Self.viaServicer(s, "Analyze", request, as: Pulumirpc_AnalyzeResponse.self) { return sdk }
            return response(try CallResult(driver: s.call("rpc_analyze", [r]), path: "rpc_analyze"), version: s.info.sdkReportedVersion)
        }
    }

    func analyzeStack(request: Pulumirpc_AnalyzeStackRequest, context: ServerContext) async throws -> Pulumirpc_AnalyzeResponse {
        let resources = PlainValue.array(request.resources.map { AnalyzerMessages.stackResource($0).plain })
        OutputRedaction.add(secretsIn: resources)
        return try await call { s in
            if let sdk = try Self.viaServicer(s, "AnalyzeStack", request, as: Pulumirpc_AnalyzeResponse.self) { return sdk }
            return response(try CallResult(driver: s.call("rpc_analyze_stack", [resources]), path: "rpc_analyze_stack"),
                            version: s.info.sdkReportedVersion)
        }
    }

    func remediate(request: Pulumirpc_AnalyzeRequest, context: ServerContext) async throws -> Pulumirpc_RemediateResponse {
        let r = AnalyzerMessages.resource(request).plain
        OutputRedaction.add(secretsIn: r)
        return try await call { s in
            if let sdk = try Self.viaServicer(s, "Remediate", request, as: Pulumirpc_RemediateResponse.self) { return sdk }
            let result = try CallResult(driver: s.call("rpc_remediate", [r]), path: "rpc_remediate")
            var out = Pulumirpc_RemediateResponse()
            out.remediations = result.remediations.map { x in
                var rem = Pulumirpc_Remediation()
                rem.policyName = x.policyName
                rem.policyPackName = s.info.name
                rem.policyPackVersion = s.info.sdkReportedVersion
                rem.description_p = x.description
                if let props = x.properties.objectValue { rem.properties = props.protobufStruct }
                rem.diagnostic = x.diagnostic
                return rem
            }
            out.notApplicable = AnalyzerMessages.notApplicable(result.notApplicable)
            return out
        }
    }

    func cancel(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        onCancel()
        return Google_Protobuf_Empty()
    }

    private func response(_ result: CallResult, version: String) -> Pulumirpc_AnalyzeResponse {
        var out = Pulumirpc_AnalyzeResponse()
        let pack = worker.packName
        out.diagnostics = AnalyzerMessages.diagnostics(result.diagnostics, pack: pack, version: version)
        out.notApplicable = AnalyzerMessages.notApplicable(result.notApplicable)
        return out
    }
}
