import Foundation
import Testing
import PythonEnv
import PolicyPack

/// `--runtime`: which route a pack takes, and the environment the SDK's analyzer is started with.
@Suite struct PackRuntimeTests {
    let embeddedMinor = VenvPlan.minor(VenvManager.embeddedVersion)

    func interpreter(_ version: String, venv: Bool = true) -> VenvManager.PreparedInterpreter {
        .init(executable: venv ? "/p/venv/bin/python" : "/opt/py/bin/python3", version: version, isVenv: venv)
    }

    @Test func automaticRouteFollowsTheInterpreterVersion() {
        let same = PackRuntime.auto.resolve(for: interpreter(embeddedMinor + ".99"))
        #expect(same.runtime == .embedded)
        #expect(same.notice == nil)
        let other = PackRuntime.auto.resolve(for: interpreter("3.12.1"))
        #expect(other.runtime == .sdkServer)
        #expect(other.notice == "running out of process: the venv uses Python 3.12; the embedded fast path needs \(embeddedMinor)")
        let ambient = PackRuntime.auto.resolve(for: interpreter("3.13.0", venv: false))
        #expect(ambient.notice == "running out of process: /opt/py/bin/python3 is Python 3.13; the embedded fast path needs \(embeddedMinor)")
    }

    @Test func aChosenRouteIsTakenSilently() {
        #expect(PackRuntime.sdkServer.resolve(for: interpreter(VenvManager.embeddedVersion)).runtime == .sdkServer)
        #expect(PackRuntime.sdkServer.resolve(for: interpreter("3.12.1")).notice == nil)
        #expect(PackRuntime.embedded.resolve(for: interpreter(VenvManager.embeddedVersion)).runtime == .embedded)
        #expect(PackRuntime.embedded.versionRule == .embeddedMinorVersion)
        #expect(PackRuntime.auto.versionRule == .anyVersion)
        #expect(PackRuntime.sdkServer.versionRule == .anyVersion)
    }

    /// What the engine's proxy and the toolchain set, and the hook's variables (which the hook
    /// removes again before the pack runs).
    @Test func analyzerEnvironment() {
        let settings = StackSettings(organization: "acme", project: "shop", stack: "prod", dryRun: true,
                                     config: [("shop:region", "eu")], tags: [("env", "prod")])
        let base = ["PATH": "/usr/bin", "PYTHONHOME": "/x", "PULUMI_PROJECT": "old", "PULUMI_CONFIG": "{}", "HOME": "/root"]
        let env = SDKServerProcess.environment(base: base, python: "/p/venv/bin/python", isVenv: true, settings: settings,
                                               hookDirectory: "/tmp/h", faults: "/tmp/f")
        #expect(env["PATH"] == "/p/venv/bin:/usr/bin")
        #expect(env["VIRTUAL_ENV"] == "/p/venv")
        #expect(env["PYTHONHOME"] == nil)
        #expect(env["HOME"] == "/root")
        #expect(env["PULUMI_ORGANIZATION"] == "acme")
        #expect(env["PULUMI_PROJECT"] == "shop")
        #expect(env["PULUMI_STACK"] == "prod")
        #expect(env["PULUMI_DRY_RUN"] == "true")
        #expect(env["PULUMI_CONFIG"] == #"{"shop:region":"eu"}"#)
        #expect(env["PYTHONPATH"] == "/tmp/h")
        #expect(env["POLICY_HOST_SDK_PYTHONPATH"] == nil)
        #expect(env["POLICY_HOST_SDK_HOOK"] == "/tmp/h")
        #expect(env["POLICY_HOST_SDK_FAULTS"] == "/tmp/f")

        let bare = StackSettings(organization: "", project: "p", stack: "s", dryRun: nil)
        let ambient = SDKServerProcess.environment(base: base.merging(["PYTHONPATH": "/lib"]) { $1 }, python: "/usr/bin/python3.12",
                                                   isVenv: false, settings: bare, hookDirectory: "/tmp/h", faults: "/tmp/f")
        #expect(ambient["PATH"] == "/usr/bin")
        #expect(ambient["VIRTUAL_ENV"] == nil)
        #expect(ambient["PULUMI_ORGANIZATION"] == nil)
        #expect(ambient["PULUMI_DRY_RUN"] == nil)
        #expect(ambient["PULUMI_CONFIG"] == nil)
        #expect(ambient["PYTHONPATH"] == "/tmp/h:/lib")
        #expect(ambient["POLICY_HOST_SDK_PYTHONPATH"] == "/lib")
        #expect(SDKServerProcess.arguments(python: "/v/bin/python", packDirectory: "/pack")
                == ["/v/bin/python", "-u", "-m", "pulumi.policy", "127.0.0.1:0", "/pack"])
    }
}
