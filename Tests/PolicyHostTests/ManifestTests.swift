import Foundation
import Testing
import HostCore

@Suite struct ManifestTests {
    let dir = URL(fileURLWithPath: "/packs/guard")

    func parse(_ yaml: String) throws(HostError) -> PolicyManifest {
        try PolicyManifest.parse(Data(yaml.utf8), packDirectory: dir, path: "/packs/guard/PulumiPolicy.yaml")
    }

    @Test func stringRuntime() throws {
        let m = try parse("runtime: python\nversion: 0.0.1\ndescription: d\nunknownKey: [1, 2]\n")
        #expect(m.runtime == "python")
        #expect(m.version == "0.0.1")
        #expect(m.description == "d")
        #expect(m.virtualenv == nil)
        #expect(m.virtualenvURL == nil)
    }

    @Test func objectRuntimeWithOptions() throws {
        let m = try parse("runtime:\n  name: python\n  options:\n    virtualenv: ../envs/guard\n    toolchain: uv\n    typechecker: mypy\n    other: 1\nmain: src/\n")
        #expect(m.toolchain == .uv)
        #expect(m.typechecker == "mypy")
        #expect(m.main == "src/")
        // Relative to the pack directory, not to `main`.
        #expect(m.virtualenvURL?.path == "/packs/envs/guard")
    }

    @Test func absoluteVirtualenvIsKept() throws {
        #expect(try parse("runtime:\n  name: python\n  options:\n    virtualenv: /opt/venvs/x\n").virtualenvURL?.path == "/opt/venvs/x")
    }

    @Test func quotedNumberIsAString() throws {
        #expect(try parse("runtime:\n  name: python\n  options:\n    virtualenv: \"3\"\n").virtualenv == "3")
    }

    @Test func byteOrderMarkIsIgnored() throws {
        #expect(try parse("\u{FEFF}runtime: python\n").runtime == "python")
    }

    @Test func errorsNameTheFile() {
        #expect(throws: HostError.self) { try parse("runtime:\n  name: python\n  options: [1]\n") }
        do {
            _ = try parse("description: x\n")
        } catch {
            #expect(error.message == "/packs/guard/PulumiPolicy.yaml: project is missing a 'runtime' attribute")
            #expect(error.status == .packLoad)
            #expect(!error.hints.isEmpty)
        }
    }
}
