import Foundation
import PolicyHost
import Testing

@Suite struct VenvPlanTests {
    let inputs = VenvInputs(requirementsDigest: "abc", interpreter: "/usr/bin/python3.11", interpreterVersion: "3.11.2", toolchain: "pip")

    func stamp(_ state: VenvStamp.State = .complete, digest: String = "abc", version: String = "3.11.2", toolchain: String = "pip") -> VenvStamp {
        VenvStamp(state: state, requirementsDigest: digest, interpreter: "/usr/bin/python3.11", interpreterVersion: version, toolchain: toolchain)
    }

    func plan(_ s: VenvState, recreate: Bool = false) throws(HostError) -> VenvAction {
        try VenvPlan.make(state: s, inputs: inputs, recreate: recreate, venvPath: "/p/venv")
    }

    @Test func decisions() throws {
        #expect(try plan(VenvState(kind: .missing)) == .create)
        #expect(try plan(VenvState(kind: .emptyDirectory)) == .create)
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp())) == .reuse)
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp()), recreate: true) == .recreate(reason: "--recreate was given"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp(digest: "old"))) == .install(reason: "the requirements changed"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp(.installing))) == .install(reason: "its last install was interrupted"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp(.creating))) == .recreate(reason: "its creation was interrupted"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.7", pythonIsFile: true, stamp: nil)) == .recreate(reason: "it was made by Python 3.11.7, but the embedded libpython is 3.11.2"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: false, stamp: stamp())) == .recreate(reason: "bin/python is missing"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: nil)) == .install(reason: "it was not built by policy-host"))
        #expect(try plan(VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp(toolchain: "uv"))) == .recreate(reason: "the toolchain changed to pip"))
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
        #expect(s == VenvState(kind: .venv, pyvenvVersion: "3.11.2", pythonIsFile: true, stamp: stamp()))
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
