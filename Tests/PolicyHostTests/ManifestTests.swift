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

    // MARK: decoding as the CLI decodes (yaml.v3 into PolicyPackProject, then the language host's options)

    @Test func stringRuntime_warnsOfTheKeysTheCLIIgnores() throws {
        let m = try parse("runtime: python\nversion: 0.0.1\nunknownKey: [1, 2]\nversiom: 2\nauthor: me\nlicense: MIT\nwebsite: x\n")
        #expect(m.warnings == [
            "/packs/guard/PulumiPolicy.yaml: 'unknownKey' is not a PulumiPolicy.yaml key; the Pulumi CLI ignores it",
            "/packs/guard/PulumiPolicy.yaml: 'versiom' is not a PulumiPolicy.yaml key; the Pulumi CLI ignores it (did you mean 'version'?)",
        ])
    }

    @Test func nullOptionsWithAMisIndentedOptionRunsWithoutAVenvAndSaysWhy() throws {
        let m = try parse("runtime:\n  name: python\n  options:\n  virtualenv: venv\n")
        #expect(m.runtime == "python" && m.virtualenv == nil)
        #expect(m.warnings.count == 1)
        #expect(m.warnings[0].contains("'runtime.virtualenv' is ignored") && m.warnings[0].contains("indent it below `options:`"))
    }

    @Test func unknownOptionsAreWarnedWithTheClosestName() throws {
        let m = try parse("runtime:\n  name: python\n  options:\n    virtualEnv: venv\n    other: 1\n")
        #expect(m.virtualenv == nil)
        #expect(m.warnings.count == 2)
        #expect(m.warnings[0].hasSuffix("(did you mean 'virtualenv'?)"))
        #expect(!m.warnings[1].contains("did you mean"))
    }

    @Test func aCleanManifestHasNoWarnings() throws {
        #expect(try parse("runtime:\n  name: python\n  options:\n    virtualenv: venv\n    toolchain: pip\nversion: 1\ndescription: d\nmain: .\n").warnings.isEmpty)
    }

    @Test func scalarsDecodeAsTheirTextInStringFields() throws {
        let m = try parse("runtime: python\nversion: 1.10\ndescription: true\nmain: ~\n")
        #expect(m.version == "1.10" && m.description == "true" && m.main == nil)
    }

    @Test func emptyDocumentsAreAProjectWithoutARuntime() {
        for text in ["", "# only a comment\n", "~\n", "---\n"] {
            #expect(throws: HostError.self) { try parse(text) }
            do { _ = try parse(text) } catch {
                #expect(error.message.hasSuffix("project is missing a 'runtime' attribute"), "\(text.debugDescription): \(error.message)")
            }
        }
    }

    @Test(arguments: [
        ("runtime: python\nruntime: nodejs\n", "line 2: mapping key \"runtime\" already defined at line 1"),
        ("runtime:\n  name: python\n  options: {virtualenv: a, virtualenv: b}\n", "mapping key \"virtualenv\" already defined"),
        ("runtime: python\nx: [{a: 1, a: 2}]\n", "mapping key \"a\" already defined"),
        ("runtime:\n  name: [python]\n", "runtime section must be a string or an object with name and options attributes"),
        ("runtime:\n  name: python\n  options: venv\n", "runtime section must be a string or an object with name and options attributes"),
        ("runtime: [python]\n", "runtime section must be a string or an object with name and options attributes"),
        ("runtime: python\nauthor: {a: 1}\n", "'author' must be a string"),
        ("runtime:\n  name: python\n  options:\n    virtualenv: 3\n", "virtualenv option must be a string"),
        ("runtime:\n  name: python\n  options:\n    virtualenv: ~\n", "virtualenv option must be a string"),
        ("runtime:\n  name: python\n  options:\n    toolchain: true\n", "toolchain option must be a string"),
        ("runtime:\n  name: python\n  options:\n    typechecker: 1\n", "typechecker option must be a string"),
        ("runtime:\n  name: python\n  options:\n    toolchain: npm\n", "unsupported toolchain option: npm"),
        ("- runtime: python\n", "expected a mapping at the top level"),
    ])
    func refusedAsTheCLIRefuses(_ text: String, _ message: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text.debugDescription)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.status == .packLoad)
        }
    }
}
