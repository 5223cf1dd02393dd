import Foundation
import Testing
import HostCore
import PythonEnv

@Suite struct VenvPlanTests {
    let inputs = VenvInputs(requirementsDigest: "abc", interpreter: "/usr/bin/python3.11", interpreterVersion: "3.11.2", toolchain: "pip")

    func stamp(_ state: VenvStamp.State = .complete, digest: String = "abc", version: String = "3.11.2", toolchain: String = "pip") -> VenvStamp {
        VenvStamp(state: state, requirementsDigest: digest, interpreter: "/usr/bin/python3.11", interpreterVersion: version, toolchain: toolchain)
    }

    func plan(_ s: VenvState, recreate: Bool = false) throws(HostError) -> VenvAction {
        try VenvPlan.make(state: s, inputs: inputs, recreate: recreate, venvPath: "/p/venv")
    }

    func venv(_ version: String? = "3.11.2", python: Bool = true, stamp: VenvStamp?, owned: Bool) -> VenvState {
        VenvState(kind: .venv, pyvenvVersion: version, pythonIsFile: python, stamp: stamp, ownedByPolicyHost: owned)
    }

    @Test func decisionsForVenvsPolicyHostCreated() throws {
        #expect(try plan(VenvState(kind: .missing)) == .create)
        #expect(try plan(VenvState(kind: .emptyDirectory)) == .create)
        #expect(try plan(venv(stamp: stamp(), owned: true)) == .reuse)
        #expect(try plan(venv(stamp: stamp(), owned: true), recreate: true) == .recreate(reason: "--recreate was given"))
        #expect(try plan(venv(stamp: stamp(digest: "old"), owned: true)) == .install(reason: "the requirements changed"))
        #expect(try plan(venv(stamp: stamp(.installing), owned: true)) == .install(reason: "its last install was interrupted"))
        #expect(try plan(venv(stamp: stamp(.creating), owned: true)) == .recreate(reason: "its creation was interrupted"))
        #expect(try plan(venv(nil, python: false, stamp: stamp(.creating), owned: true)) == .recreate(reason: "its creation was interrupted"))
        #expect(try plan(venv("3.12.1", stamp: stamp(), owned: true)) == .recreate(reason: "it was made by Python 3.12.1, but the embedded libpython is 3.11.2"))
        #expect(try plan(venv(python: false, stamp: stamp(), owned: true)) == .recreate(reason: "bin/python is missing"))
        #expect(try plan(venv(stamp: stamp(toolchain: "uv"), owned: true)) == .recreate(reason: "the toolchain changed to pip"))
        // Another patch release of the same minor version shares the ABI: nothing to rebuild.
        #expect(try plan(venv("3.11.7", stamp: stamp(version: "3.11.7"), owned: true)) == .reuse)
    }

    /// The rule users rely on: a venv policy-host did not create is used, installed into or refused —
    /// never recreated unless the user asks.
    @Test func venvsOfTheUserAreNeverRebuiltUnasked() throws {
        #expect(try plan(venv("3.11.7", stamp: nil, owned: false)) == .install(reason: "it was not built by policy-host"))
        #expect(try plan(venv(stamp: nil, owned: false)) == .install(reason: "it was not built by policy-host"))
        #expect(try plan(venv("3.11.7", stamp: stamp(version: "3.11.7"), owned: false)) == .reuse)
        #expect(try plan(venv(stamp: stamp(digest: "old"), owned: false)) == .install(reason: "the requirements changed"))
        #expect(try plan(venv(stamp: stamp(.creating), owned: false)) == .install(reason: "its last install was interrupted"))
        #expect(try plan(venv(stamp: stamp(toolchain: "uv"), owned: false)) == .install(reason: "the toolchain changed to pip"))
        for state in [venv("3.12.1", stamp: nil, owned: false), venv(python: false, stamp: nil, owned: false),
                      venv("3.10.13", stamp: stamp(), owned: false), venv(stamp: stamp(version: "3.13.0"), owned: false)] {
            #expect(throws: HostError.self) { try plan(state) }
            #expect(try plan(state, recreate: true) == .recreate(reason: "--recreate was given"))
        }
    }

    /// For the out-of-process route a venv of another minor version is used with its own
    /// interpreter — whoever made it, it is never rebuilt or removed unasked.
    @Test func anotherVersionIsUsedWhenThePackMayRunOutOfProcess() throws {
        func any(_ s: VenvState, recreate: Bool = false) throws(HostError) -> VenvAction {
            try VenvPlan.make(state: s, inputs: inputs, recreate: recreate, venvPath: "/p/venv", versions: .anyVersion)
        }
        #expect(try any(venv("3.12.1", stamp: nil, owned: false)) == .install(reason: "it was not built by policy-host"))
        #expect(try any(venv("3.13.0", stamp: stamp(version: "3.13.0"), owned: false)) == .reuse)
        #expect(try any(venv("3.10.13", stamp: stamp(version: "3.10.13"), owned: true)) == .reuse)
        #expect(try any(venv("3.12.1", stamp: stamp(digest: "old", version: "3.12.1"), owned: true)) == .install(reason: "the requirements changed"))
        // A stamp of another version than pyvenv.cfg's (the user rebuilt it in place) is no reason either.
        #expect(try any(venv("3.12.1", stamp: stamp(), owned: false)) == .reuse)
        // The same decisions as ever for the embedded version, for broken venvs and when asked.
        #expect(try any(venv(stamp: stamp(), owned: true)) == .reuse)
        #expect(try any(VenvState(kind: .missing)) == .create)
        #expect(try any(venv("3.12.1", python: false, stamp: stamp(), owned: true)) == .recreate(reason: "bin/python is missing"))
        #expect(throws: HostError.self) { try any(venv("3.12.1", python: false, stamp: nil, owned: false)) }
        #expect(try any(venv("3.12.1", stamp: nil, owned: false), recreate: true) == .recreate(reason: "--recreate was given"))
        // With the embedded route the same venvs are refused (not ours) or rebuilt (ours), as before.
        #expect(throws: HostError.self) { try plan(venv("3.12.1", stamp: nil, owned: false)) }
        #expect(try plan(venv("3.10.13", stamp: stamp(version: "3.10.13"), owned: true)) == .recreate(reason: "it was made by Python 3.10.13, but the embedded libpython is 3.11.2"))
    }

    @Test func refusals() {
        #expect(throws: HostError.self) { try plan(VenvState(kind: .notADirectory)) }
        #expect(throws: HostError.self) { try plan(VenvState(kind: .foreignDirectory), recreate: true) }
    }

    @Test func inspectReadsPyvenvCfgAndStamp() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("venv-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(VenvState.inspect(dir).kind == .missing)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        #expect(VenvState.inspect(dir).kind == .foreignDirectory)
        try "home = /usr/bin\nversion = 3.11.2\n".write(to: dir.appendingPathComponent("pyvenv.cfg"), atomically: true, encoding: .utf8)
        try "".write(to: dir.appendingPathComponent("bin/python"), atomically: true, encoding: .utf8)
        try stamp().write(to: dir)
        let s = VenvState.inspect(dir)
        #expect(s == VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp(), ownedByPolicyHost: false))
        try VenvState.markerText.write(to: dir.appendingPathComponent(VenvState.markerName), atomically: true, encoding: .utf8)
        #expect(VenvState.inspect(dir).ownedByPolicyHost)
    }

    @Test func requirementsDigestFollowsIncludesAndIgnoresLocation() throws {
        let a = FileManager.default.temporaryDirectory.appendingPathComponent("req-a-\(UUID().uuidString)")
        let b = FileManager.default.temporaryDirectory.appendingPathComponent("req-b-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        for d in [a, b] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try "-r base.txt\npulumi-policy>=1.20\n".write(to: d.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
            try "pyyaml\n".write(to: d.appendingPathComponent("base.txt"), atomically: true, encoding: .utf8)
        }
        #expect(VenvManager.requirementsDigest(packDirectory: a) == VenvManager.requirementsDigest(packDirectory: b))
        try "pyyaml==6.0\n".write(to: b.appendingPathComponent("base.txt"), atomically: true, encoding: .utf8)
        #expect(VenvManager.requirementsDigest(packDirectory: a) != VenvManager.requirementsDigest(packDirectory: b))
    }
}

@Suite struct EmbeddedResourcesTests {
    @Test func generatedFileIsCurrent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [root.appendingPathComponent("scripts/embed-resources.py").path, "--check"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "run scripts/embed-resources.py")
    }
}
