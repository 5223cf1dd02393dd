import Foundation
import NIOCore
import PolicyValues
import SwiftProtobuf
import HostCore
import PolicyPack

/// The methods of `pulumirpc.Analyzer`, by the name in their path.
enum AnalyzerMethod: String, Sendable {
    case handshake = "Handshake"
    case configureStack = "ConfigureStack"
    case getPluginInfo = "GetPluginInfo"
    case getAnalyzerInfo = "GetAnalyzerInfo"
    case configure = "Configure"
    case analyze = "Analyze"
    case analyzeStack = "AnalyzeStack"
    case remediate = "Remediate"
    case cancel = "Cancel"

    static let service = "pulumirpc.Analyzer"

    /// `/pulumirpc.Analyzer/Analyze` → `.analyze`.
    init?(path: String) {
        let prefix = "/\(Self.service)/"
        guard path.hasPrefix(prefix) else { return nil }
        self.init(rawValue: String(path.dropFirst(prefix.count)))
    }
}

/// `pulumirpc.Analyzer`, answered from the pack loaded in embedded CPython with the SDK servicer's
/// semantics. `Handshake`, `ConfigureStack` and `Cancel` are answered even where the Python SDK
/// leaves them unimplemented. Requests are decoded where they arrive (the connection's loop); whatever
/// touches Python is one job for `PythonWorker`, which also encodes the answer.
struct AnalyzerService: Sendable {
    let worker: PythonWorker
    let lifecycle: ServerLifecycle
    /// The request bytes all calls may hold at once: room for the largest request twice.
    var budget = RequestBudget(limit: 2 * AnalyzerServer.maxRequestBytes)

    typealias Answer = Result<ByteBuffer, GRPCStatus>

    enum Dispatch {
        /// Answered at once, on the connection's loop.
        case answer(Answer)
        /// Answered at once; the server shuts down once the answer is written (Cancel).
        case answerThenShutDown(Answer)
        /// A job for `PythonWorker`.
        case python(@Sendable (PythonWorker) -> Answer)
    }

    func dispatch(_ method: AnalyzerMethod, _ message: ByteBuffer) -> Dispatch {
        do {
            return try route(method, message)
        } catch {
            return .answer(.failure(error))
        }
    }

    private func route(_ method: AnalyzerMethod, _ message: ByteBuffer) throws(GRPCStatus) -> Dispatch {
        switch method {
        case .handshake:
            _ = try Self.decode(Pulumirpc_AnalyzerHandshakeRequest.self, message)
            return .answer(Self.encode(Pulumirpc_AnalyzerHandshakeResponse()))
        case .cancel:
            _ = try Self.decode(Google_Protobuf_Empty.self, message)
            return .answerThenShutDown(Self.encode(Google_Protobuf_Empty()))
        case .configureStack:
            let request = try Self.decode(Pulumirpc_AnalyzerStackConfigureRequest.self, message)
            let settings = StackSettings(
                organization: request.organization, project: request.project, stack: request.stack, dryRun: request.dryRun,
                config: request.config.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                tags: request.tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            // The stack's secret config values are secrets of the log too.
            OutputRedaction.add(secretsIn: .array(request.configSecretKeys.compactMap { request.config[$0] }
                .map { EngineEncoding.wrapSecret(.string($0)) }))
            return .python { w in
                Self.answer { () throws(GRPCStatus) in
                    try Self.guarded { try w.configureStack(settings) }
                    return Pulumirpc_AnalyzerStackConfigureResponse()
                }
            }
        case .getPluginInfo:
            _ = try Self.decode(Google_Protobuf_Empty.self, message)
            return onPack { s in
                var info = Pulumirpc_PluginInfo()
                info.version = try s.call("plugin_version", []).stringValue ?? ""
                return info
            }
        case .getAnalyzerInfo:
            _ = try Self.decode(Google_Protobuf_Empty.self, message)
            return onPack { s in
                let encoded = try s.call("analyzer_info_bytes", []).stringValue ?? ""
                guard let bytes = Data(base64Encoded: encoded) else { throw GRPCStatus(.internalError, "bad analyzer info") }
                return try Pulumirpc_AnalyzerInfo(serializedBytes: bytes)
            }
        case .configure:
            let request = try Self.decode(Pulumirpc_ConfigureAnalyzerRequest.self, message)
            let arg = PolicyConfiguration.plain(AnalyzerMessages.config(request))
            let worker = worker
            return onPack(servicer: method, message) { s in
                _ = try s.call("configure", [arg])
                worker.refreshRemediation(s)
                return Google_Protobuf_Empty()
            }
        case .analyze:
            let r = try Self.resource(message).plain
            OutputRedaction.add(secretsIn: r)
            return onPack(servicer: method, message, framed: { s in
                Self.analyzeResponse(try CallResult(driver: s.call("rpc_analyze", [r]), path: "rpc_analyze"), pack: s)
            })
        case .analyzeStack:
            let request = try Self.decode(Pulumirpc_AnalyzeStackRequest.self, message)
            let resources = PlainValue.array(request.resources.map { AnalyzerMessages.stackResource($0).plain })
            OutputRedaction.add(secretsIn: resources)
            return onPack(servicer: method, message, framed: { s in
                Self.analyzeResponse(try CallResult(driver: s.call("rpc_analyze_stack", [resources]), path: "rpc_analyze_stack"),
                                     pack: s)
            })
        case .remediate:
            let resource = try Self.resource(message)
            if worker.remediatesNothing {
                // Decoded all the same (a request the SDK's server could not parse fails as there), but
                // no policy sees it: nothing of it can reach an output, nothing to learn.
                return .answer(Self.encode(Pulumirpc_RemediateResponse()))
            }
            let r = resource.plain
            OutputRedaction.add(secretsIn: r)
            return onPack(servicer: method, message) { s in
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
    }

    /// A job on the loaded pack. With `servicer`, on the servicer path (`SDKPath`) the request goes
    /// to the SDK's servicer as it arrived (its bytes) and its answer comes back as gRPC-python would
    /// give it; the fast path runs `body`.
    private func onPack(servicer method: AnalyzerMethod? = nil, _ message: ByteBuffer? = nil,
                        _ body: @escaping @Sendable (PackSession) throws -> some SwiftProtobuf.Message) -> Dispatch {
        onPack(servicer: method, message, framed: { s in try Self.encode(try body(s)).get() })
    }

    /// `onPack` for a body that answers with its message already framed (`AnalyzeResponseWriter`).
    private func onPack(servicer method: AnalyzerMethod? = nil, _ message: ByteBuffer? = nil,
                        framed body: @escaping @Sendable (PackSession) throws -> ByteBuffer) -> Dispatch {
        .python { w in
            do throws(GRPCStatus) {
                let s = try Self.guarded { try w.loaded() }
                if let method, let message, s.sdkPath.kind == .servicer {
                    // The request's bytes are copied for the servicer only when it is the one to run.
                    return try Self.viaServicer(s, method, Data(message.readableBytesView))
                }
                return .success(try Self.guarded { try body(s) })
            } catch {
                return .failure(error)
            }
        }
    }

    private static func viaServicer(_ s: PackSession, _ method: AnalyzerMethod, _ request: Data) throws(GRPCStatus) -> Answer {
        switch try guarded({ try s.servicerCall(method.rawValue, request) }) {
        case .response(let data): return .success(GRPCFrame.encode(bytes: data))
        case .unimplemented(let details): return .failure(GRPCStatus(.unimplemented, details))
        case .fault(let f): return .failure(GRPCStatus(.unknown, "Exception calling application: \(f.message)"))
        }
    }

    /// Runs `body`; a failure inside a policy maps to what grpc-python returns for an exception in a
    /// servicer, a pack that cannot load to FAILED_PRECONDITION (and the error on the log).
    private static func guarded<T>(_ body: () throws -> T) throws(GRPCStatus) -> T {
        do {
            return try body()
        } catch let e as GRPCStatus {
            throw e
        } catch let e as PackCallError {
            throw GRPCStatus(.unknown, "Exception calling application: \(e.python.message)")
        } catch let e as HostError {
            FileHandle.standardError.write(Data(e.rendered.utf8))
            throw GRPCStatus(.failedPrecondition, e.message)
        } catch {
            throw GRPCStatus(.internalError, "\(error)")
        }
    }

    private static func answer(_ body: () throws(GRPCStatus) -> some SwiftProtobuf.Message) -> Answer {
        do { return encode(try body()) } catch { return .failure(error) }
    }

    /// An Analyze or Remediate request as the driver takes it: by `AnalyzeRequestDecoder` when the
    /// request has the engine's plain shape, else by SwiftProtobuf (which has the last word on
    /// anything unusual, errors included).
    static func resource(_ message: ByteBuffer) throws(GRPCStatus) -> ResourceRequest {
        if let fast = message.withUnsafeReadableBytes({ AnalyzeRequestDecoder.resource($0) }) { return fast }
        return AnalyzerMessages.resource(try decode(Pulumirpc_AnalyzeRequest.self, message))
    }

    static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ message: ByteBuffer) throws(GRPCStatus) -> M {
        do {
            // Straight from the received bytes: no copy of the request (an AnalyzeStack may be hundreds of MiB).
            return try message.withUnsafeReadableBytes { try M(contiguousBytes: $0) }
        } catch {
            // grpc-python's words, as the SDK's server answers a request it cannot parse.
            throw GRPCStatus(.internalError, "Exception deserializing request!")
        }
    }

    static func encode(_ message: some SwiftProtobuf.Message) -> Answer {
        do { return .success(try GRPCFrame.encode(message)) } catch {
            return .failure(GRPCStatus(.internalError, "Exception serializing response!"))
        }
    }

    private static func analyzeResponse(_ result: CallResult, pack s: PackSession) -> ByteBuffer {
        AnalyzeResponseWriter.frame(diagnostics: result.diagnostics, notApplicable: result.notApplicable,
                                    pack: s.info.name, version: s.info.sdkReportedVersion)
    }
}
