import Foundation
import PolicyValues
import HostCore

/// How a pack loaded in the embedded interpreter is run, as the driver decided it from the SDK in the
/// pack's environment (`policy_host_driver/sdk_support.py`, where the rules live): the fast path where
/// it is proven equal to that release's servicer, else the SDK's own servicer methods, in process.
public struct SDKPath: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Lazy proxies and one deserialisation per resource (`PackSession` itself).
        case fast
        /// The SDK's servicer called with protobuf requests (`SDKServerSession.inProcess`).
        case servicer
    }

    public var kind: Kind
    /// One line: why this path (the release, and what the fast path is proven on or what is missing).
    public var reason: String
    /// The installed pulumi-policy and pulumi releases ("" when unknown).
    public var policyVersion: String
    public var pulumiVersion: String

    public init(kind: Kind, reason: String, policyVersion: String, pulumiVersion: String) {
        self.kind = kind
        self.reason = reason
        self.policyVersion = policyVersion
        self.pulumiVersion = pulumiVersion
    }

    /// From the driver's `sdkPath` entry; an absent entry is the fast path (nothing to decide).
    init(driver v: PlainValue?) {
        kind = v?["path"]?.stringValue.flatMap(Kind.init(rawValue:)) ?? .fast
        reason = v?["reason"]?.stringValue ?? ""
        policyVersion = v?["policyVersion"]?.stringValue ?? ""
        pulumiVersion = v?["pulumiVersion"]?.stringValue ?? ""
    }

    /// What `doctor` and the servicer path's notice say.
    public var description: String {
        let releases = policyVersion.isEmpty ? "pulumi-policy (version unknown)"
            : "pulumi-policy \(policyVersion)" + (pulumiVersion.isEmpty ? "" : " with pulumi \(pulumiVersion)")
        switch kind {
        case .fast: return "\(releases): the fast path (\(reason))"
        case .servicer: return "\(releases): the SDK's own servicer, in process (\(reason))"
        }
    }
}

/// What one call to the SDK's servicer in process came to (`PackSession.servicerCall`).
public enum ServicerOutcome: Sendable {
    /// The response message's bytes.
    case response(Data)
    /// The servicer leaves the method to the generated base class, or the protocol lacks it; with
    /// the status details gRPC's Python server would send.
    case unimplemented(String)
    /// The call raised: a policy failed it (or the SDK around it).
    case fault(PolicyFault)
}

extension PackSession {
    /// One Analyzer RPC to the SDK's servicer: `request` is the request message's bytes.
    public func servicerCall(_ method: String, _ request: Data) throws(HostError) -> ServicerOutcome {
        let value: PlainValue
        do {
            value = try call("servicer_call", [.string(method), .string(request.base64EncodedString())])
        } catch { throw error.hostError }
        if let encoded = value["response"]?.stringValue {
            guard let bytes = Data(base64Encoded: encoded) else {
                throw HostError(.internal, "the driver's \(method) response is not base64")
            }
            return .response(bytes)
        }
        if let details = value["unimplemented"]?.stringValue { return .unimplemented(details) }
        guard let f = value["fault"] else {
            throw HostError(.internal, "the driver's \(method) answer has no response, fault or unimplemented: \(value)")
        }
        return .fault(try PolicyFault(driver: f, path: "servicer_call(\(method)).fault"))
    }
}

extension SDKPath {
    /// What the driver would decide for the SDK installed for `python`, asked without running a pack
    /// (`doctor`): `python -c` with the driver's own rules module. A failure says why no path applies
    /// (no SDK, a release outside the range).
    public static func inspect(python: String) -> Result<SDKPath, HostError> {
        let module = DriverSources.modules.first { $0.path == "policy_host_driver/sdk_support.py" }!
        let script = String(decoding: module.bytes, as: UTF8.self) + "\nimport os, sys\nsys.stdout.write(\"\\n\" + report(os.environ.get(FORCE_VARIABLE, \"\")) + \"\\n\")\n"
        let result: ProcessResult
        do { result = try Subprocess.run([python, "-c", script]) } catch {
            return .failure(HostError(.environment, "cannot run \(python): \(error.localizedDescription)"))
        }
        guard let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let v = try? JSON.parse(String(line)) else {
            return .failure(HostError(.environment, "\(python) could not report its pulumi-policy release: \(result.tail(3))"))
        }
        if let error = v["error"]?.stringValue { return .failure(HostError(.environment, error)) }
        return .success(SDKPath(driver: v))
    }
}
