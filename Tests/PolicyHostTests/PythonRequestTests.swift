import Foundation
import Testing
@testable import HostCore
@testable import PythonEnv

/// `.python-version` and `requires-python` as pyenv, uv and PEP 440 read them, and the choice of an
/// interpreter among those found.
@Suite struct PythonRequestTests {
    static func spec(_ text: String) throws -> PythonRequest { try PythonRequest.requiresPython(text, file: "pyproject.toml") }

    @Test(arguments: [
        (">=3.10", "3.10.0", true), (">=3.10", "3.9.18", false), (">=3.10,<3.13", "3.12.1", true), (">=3.10,<3.13", "3.13.0", false),
        ("~=3.11", "3.13.0", true), ("~=3.11", "4.0.0", false), ("~=3.11.2", "3.11.7", true), ("~=3.11.2", "3.12.0", false),
        ("~=3.11.2", "3.11.1", false), ("==3.12.*", "3.12.1", true), ("==3.12.*", "3.13.0", false), ("!=3.11.*", "3.11.2", false),
        ("!=3.11.*", "3.12.1", true), ("==3.12", "3.12.0", true), ("==3.12", "3.12.1", false), (">3.11", "3.11.0", false),
        (">3.11", "3.11.2", true), ("<=3.11", "3.11.0", true), ("<=3.11", "3.11.2", false), (" >= 3.9 , != 3.10.* ", "3.10.13", false),
        ("===3.12.1", "3.12.1", true), ("===3.12.1", "3.12.2", false),
    ])
    func specifiers(_ text: String, _ version: String, _ allowed: Bool) throws {
        #expect(try Self.spec(text).allows(version) == allowed, "\(text) vs \(version)")
    }

    @Test(arguments: [
        ("3.12", "3.12.1", true), ("3.12", "3.11.2", false), ("3.12.1", "3.12.1", true), ("3.12.1", "3.12.2", false),
        ("cpython-3.13", "3.13.0", true), ("cpython@3.10", "3.10.13", true), ("3.11.7-linux-x86_64-gnu", "3.11.7", true),
        ("\n# comment\n  3.9  \n3.12\n", "3.9.18", true),
    ])
    func pythonVersionFiles(_ text: String, _ version: String, _ allowed: Bool) throws {
        let r = try #require(try PythonRequest.pythonVersionFile(text, file: ".python-version"))
        #expect(r.allows(version) == allowed)
    }

    @Test(arguments: ["", "\n\n# only comments\n", "system\n"])
    func pythonVersionFilesWithoutAVersion(_ text: String) throws {
        #expect(try PythonRequest.pythonVersionFile(text, file: ".python-version") == nil)
    }

    /// Hostile or foreign values: one clear error, never a trap (huge numbers, odd characters, other
    /// implementations, endless text).
    @Test(arguments: ["pypy3.10", "3.x", "3..12", "2.7", "99999999999999999999.1", "3.12.1.4", "cpython-", "3.1\u{0}2", "３.１２",
                      "<20 000 characters>"])
    func badPythonVersionFiles(_ label: String) {
        let text = label == "<20 000 characters>" ? String(repeating: "3.", count: 10_000) : label
        #expect(throws: HostError.self) { try PythonRequest.pythonVersionFile(text, file: ".python-version") }
    }

    @Test(arguments: ["3.12", ">=3.12.*", "~=3", ">=", ",>=3.9", ">=3.9,", ">=3.12a1", ">=v3.12", ">=1!3.12", "^3.12",
                      ">=99999999999999999999", "<500 clauses>"])
    func badSpecifiers(_ label: String) {
        let text = label == "<500 clauses>" ? String(repeating: ">=3.9,", count: 500) + ">=3.9" : label
        #expect(throws: HostError.self) { try Self.spec(text) }
    }

    @Test func choiceOfInterpreter() throws {
        func info(_ v: String, _ path: String) -> InterpreterInfo {
            InterpreterInfo(executable: path, version: v, majorMinor: VenvPlan.minor(v), prefix: "", basePrefix: "", soabi: "")
        }
        let found = [info("3.11.7", "/pyenv/3.11.7"), info("3.12.1", "/pyenv/3.12.1"), info("3.13.0", "/pyenv/3.13.0"),
                     info("3.13.0", "/usr/local/bin/python3.13"), info("3.9.18", "/pyenv/3.9.18")]
        let embedded = info("3.11.2", "/usr/bin/python3.11")
        // The embedded version's interpreter when allowed: the fast path.
        #expect(PythonInterpreters.best(for: try Self.spec(">=3.9"), among: found, embedded: embedded) == embedded)
        // Else the newest allowed, the first found among equals.
        #expect(PythonInterpreters.best(for: try Self.spec(">=3.12"), among: found, embedded: embedded)?.executable == "/pyenv/3.13.0")
        #expect(PythonInterpreters.best(for: try Self.spec("<3.11"), among: found, embedded: embedded)?.executable == "/pyenv/3.9.18")
        #expect(PythonInterpreters.best(for: try Self.spec(">=3.20"), among: found, embedded: embedded) == nil)
    }
}
