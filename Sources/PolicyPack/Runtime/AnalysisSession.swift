import Foundation
import PolicyValues
import HostCore
import PythonEnv

/// Where a loaded pack runs, as `PackAnalysis` drives it: in the embedded interpreter
/// (`PackSession`) or in the SDK's own analyzer process, over gRPC (`SDKServerSession` in
/// PolicyServer). The report is built from what these calls return, by the same code for both.
///
/// Results are `CallResult`s, whichever side made them (AnalyzeStack's has no remediations).
/// A call a policy failed is an `errors` entry, never a thrown error: a session throws only when
/// the pack as a whole cannot go on.
public protocol AnalysisSession: AnyObject {
    var manifest: PolicyManifest { get }
    /// GetAnalyzerInfo, with the YAML's version applied.
    var info: AnalyzerInfo { get }
    /// Sends `Configure` with an entry for every policy.
    func configure(_ config: [PolicyConfiguration]) throws(HostError)
    /// Remediate and Analyze for each resource (the requests of `AnalysisRequests.resources`); one
    /// result per resource, in order.
    func runResources(_ requests: [ResourceRequest], providers: [ProviderResource], applyRemediations: Bool) throws(HostError) -> [CallResult]
    /// AnalyzeStack over resources handed over in chunks: `stackBegin`, `stackAdd`…, `stackRun`.
    func stackBegin(providers: [ProviderResource]) throws(HostError)
    func stackAdd(_ resources: [StackResourceRequest], prepend: Bool) throws(HostError)
    func stackRun() throws(HostError) -> CallResult
    /// Called once the analysis is over: flushes what the pack printed and stops whatever the
    /// session started.
    func finish()
}

extension PackSession: AnalysisSession {
    public func finish() {
        interpreter.flushStandardStreams()
    }
}

/// Where `policy-host analyze` runs a pack (`--runtime`).
public enum PackRuntime: String, Sendable, CaseIterable {
    /// The embedded interpreter when the pack's interpreter is of its minor version, else sdk-server.
    case auto
    /// In the embedded libpython (the fast path; needs a venv of the embedded minor version).
    case embedded
    /// Out of process: the SDK's own analyzer (`python -m pulumi.policy`) on the pack's own
    /// interpreter, driven over gRPC as the engine drives it.
    case sdkServer = "sdk-server"

    /// The venv versions acceptable for this choice.
    public var versionRule: VenvVersionRule { self == .embedded ? .embeddedMinorVersion : .anyVersion }

    /// The route taken for `interpreter` (never `.auto`), and for an automatic choice of the
    /// out-of-process route the one line that says why.
    public func resolve(for interpreter: VenvManager.PreparedInterpreter) -> (runtime: PackRuntime, notice: String?) {
        switch self {
        case .embedded, .sdkServer:
            return (self, nil)
        case .auto:
            if interpreter.matchesEmbedded { return (.embedded, nil) }
            let what = interpreter.isVenv ? "the venv uses" : "\(interpreter.executable) is"
            return (.sdkServer, "running out of process: \(what) Python \(VenvPlan.minor(interpreter.version)); "
                        + "the embedded fast path needs \(VenvPlan.minor(VenvManager.embeddedVersion))")
        }
    }
}
