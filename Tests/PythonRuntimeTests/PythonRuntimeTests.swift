import Foundation
import PolicyValues
import PythonRuntime
import Testing

/// One interpreter per process: started once, from Debian's python3.11 (no venv).
enum SharedInterpreter {
    static let instance: PythonInterpreter = {
        do {
            return try PythonInterpreter.start(executable: "/usr/bin/python\(PythonInterpreter.linkedMajorMinor)", argv: ["python"])
        } catch {
            fatalError("cannot start the test interpreter: \(error)")
        }
    }()
}

@Suite(.serialized) struct PythonRuntimeTests {
    let py = SharedInterpreter.instance

    func module(_ source: String) throws -> PythonObject {
        try py.withGIL { gil in try PythonObject.module(named: "t_\(UUID().uuidString.prefix(8))", source: source, filename: "<test>", gil) }
    }

    @Test func linkedVersionMatchesDebiansInterpreter() throws {
        #expect(PythonInterpreter.linkedVersion.hasPrefix(PythonInterpreter.linkedMajorMinor + "."))
        let sysm = try module("import sys\ndef prefix():\n    return sys.prefix\ndef version():\n    return '%d.%d.%d' % sys.version_info[:3]\n")
        let v = try py.withGIL { gil in try sysm.call("version", [], gil) }
        #expect(v == .string(PythonInterpreter.linkedVersion))
    }

    @Test func plainValuesRoundTrip() throws {
        let m = try module("def echo(x):\n    return x\ndef types(x):\n    return {k: type(v).__name__ for k, v in x.items()}\n")
        let value: PlainValue = ["s": "héllo ✓ \u{1F600}", "n": 80.0, "i": 7, "b": true, "z": nil, "l": [1.5, "x", ["nested": false]],
                                 "o": ["b": 2, "a": 1]]
        let back = try py.withGIL { gil in try m.call("echo", [value], gil) }
        #expect(back == value)
        // Key order survives the trip.
        #expect(back["o"]?.objectValue?.keys == ["b", "a"])
        let types = try py.withGIL { gil in try m.call("types", [value], gil) }
        #expect(types == ["s": "str", "n": "float", "i": "int", "b": "bool", "z": "NoneType", "l": "list", "o": "dict"])
    }

    @Test func exceptionsCarryTypeMessageAndTraceback() throws {
        let m = try module("def inner():\n    raise KeyError('egress')\ndef outer():\n    inner()\n")
        let error = py.withGIL { gil -> PythonError? in
            do throws(PythonError) { _ = try m.call("outer", [], gil); return nil } catch { return error }
        }
        let e = try #require(error)
        #expect(e.typeName == "KeyError")
        #expect(e.message == "'egress'")
        #expect(e.traceback.first == "Traceback (most recent call last):\n")
        #expect(e.tracebackText.contains("in inner"))
        #expect(e.traceback.last == "KeyError: 'egress'\n")
    }

    @Test func unconvertibleResultIsATypeError() throws {
        let m = try module("def obj():\n    return object()\n")
        let error = py.withGIL { gil -> PythonError? in
            do throws(PythonError) { _ = try m.call("obj", [], gil); return nil } catch { return error }
        }
        #expect(error?.typeName == "TypeError")
        #expect(error?.message.contains("object") == true)
    }

    @Test func conversionsDoNotLeakReferences() throws {
        let m = try module("import sys\nX = {'k': ['v', 1.0]}\ndef get():\n    return X\ndef count():\n    return sys.getrefcount(X)\n")
        let before = try py.withGIL { gil in try m.call("count", [], gil) }
        for _ in 0..<10_000 { _ = try py.withGIL { gil in try m.call("get", [], gil) } }
        let after = try py.withGIL { gil in try m.call("count", [], gil) }
        #expect(before == after)
    }

    @Test func gilCanBeTakenFromAnotherThread() async throws {
        let m = try module("def add(a, b):\n    return a + b\n")
        nonisolated(unsafe) let mm = m
        let interp = py
        let result = await Task.detached { () -> PlainValue? in
            try? interp.withGIL { gil in try mm.call("add", [2, 3], gil) }
        }.value
        #expect(result == 5)
    }

    /// `serve` runs Python on whichever of its I/O threads reads a request. A thread that adopts keeps
    /// one thread state, so what code sets in a context variable in one GIL section is there in the
    /// next (without it, each section of a thread that did not start the interpreter gets a new state
    /// and an empty context); and a context entered on one thread, then on another, carries its values
    /// across — what a policy sets is seen by the next call whichever thread runs it.
    @Test func adoptedThreadsKeepTheirStateAndShareAnEnteredContext() throws {
        let m = try module("""
            import contextvars
            counter = contextvars.ContextVar('counter', default=0)
            def bump():
                counter.set(counter.get() + 1)
                return counter.get()
            """)
        nonisolated(unsafe) let mm = m
        let interp = py
        let shared = interp.copyCurrentContext()
        @Sendable func bump() -> PlainValue? { try? interp.withGIL { gil in try mm.call("bump", [], gil) } }
        func onNewThread(_ body: @escaping @Sendable () -> [PlainValue?]) -> [PlainValue?] {
            nonisolated(unsafe) var out: [PlainValue?] = []
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                out = body()
                done.signal()
            }
            thread.start()
            done.wait()
            return out
        }
        // A thread of its own: two sections, one context.
        let own = onNewThread {
            interp.adoptCurrentThread()
            interp.adoptCurrentThread()  // a second adoption changes nothing
            return [bump(), bump()]
        }
        #expect(own == [1, 2])
        // The shared context, on one thread and then on another.
        let first = onNewThread {
            interp.adoptCurrentThread()
            guard interp.enter(shared) else { return [] }
            defer { interp.exit(shared) }
            return [bump(), bump()]
        }
        #expect(first == [1, 2])
        let second = onNewThread {
            interp.adoptCurrentThread()
            guard interp.enter(shared) else { return [] }
            let inside = bump()
            interp.exit(shared)
            // Outside it, the thread's own context again.
            return [inside, bump()]
        }
        #expect(second == [3, 1])
    }
}
