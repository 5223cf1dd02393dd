internal import CPython


/// The embedded interpreter: one per process, started once, never restarted.
///
/// After `start`, no thread holds the GIL; every use goes through `withGIL`.
public final class PythonInterpreter: @unchecked Sendable {
    // Safe: the fields are written once in `start` before the instance is shared.
    public let executable: String

    private init(executable: String) {
        self.executable = executable
    }

    /// The version of the linked libpython, e.g. "3.11.2" (no interpreter needed).
    public static var linkedVersion: String {
        let full = String(cString: Py_GetVersion())
        return String(full.prefix { $0 != " " })
    }

    /// `major.minor` of the linked libpython.
    public static var linkedMajorMinor: String {
        "\(PY_MAJOR_VERSION).\(PY_MINOR_VERSION)"
    }

    /// Starts the interpreter isolated from the environment, as if
    /// `executable` (a venv's `bin/python`) had been run with `argv`. `home` names the prefix
    /// whose standard library to load (the embedded libpython's), when the venv's base
    /// interpreter is another build of the same minor version.
    public static func start(executable: String, home: String? = nil, argv: [String], bufferedStdio: Bool = true) throws(PythonError) -> PythonInterpreter {
        guard Py_IsInitialized() == 0 else {
            throw PythonError(typeName: "RuntimeError", message: "the Python interpreter is already initialised")
        }
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        defer { for p in cargs { free(p) } }
        let err: UnsafeMutablePointer<CChar>? = cargs.withUnsafeMutableBufferPointer { buf in
            // Why this is safe: the pointers outlive the call; CPython copies them.
            buf.baseAddress!.withMemoryRebound(to: UnsafeMutablePointer<CChar>?.self, capacity: buf.count) { _ in
                cpy_initialize_isolated(executable, home, Int32(argv.count), unsafeBitCast(buf.baseAddress, to: UnsafePointer<UnsafeMutablePointer<CChar>?>.self), bufferedStdio ? 1 : 0)
            }
        }
        if let err {
            let text = String(cString: err)
            free(err)
            throw PythonError(typeName: "InitializationError", message: text)
        }
        // Release the GIL taken by initialisation; withGIL takes it back.
        _ = PyEval_SaveThread()
        return PythonInterpreter(executable: executable)
    }

    /// Runs `body` with the GIL held by the calling thread. The body is
    /// synchronous, so the GIL is never held across a suspension point.
    public func withGIL<R>(_ body: (borrowing GIL) throws -> R) rethrows -> R {
        let state = PyGILState_Ensure()
        defer { PyGILState_Release(state) }
        let gil = GIL()
        return try body(gil)
    }

    /// Gives the calling thread a Python thread state of its own for as long as the thread lives
    /// (the thread that started the interpreter has one already). Without it every `withGIL` on a
    /// thread that did not start the interpreter makes and destroys a thread state — its frame stack
    /// and its contextvars context with it. No-op when the thread has one. The GIL must not be held.
    public func adoptCurrentThread() {
        guard PyGILState_GetThisThreadState() == nil else { return }
        _ = PyGILState_Ensure()  // never released: the state stays with the thread
        _ = PyEval_SaveThread()
    }

    /// A copy of the calling thread's current contextvars context (`contextvars.copy_context()`).
    public func copyCurrentContext() -> PythonContext {
        withGIL { _ in PythonContext(raw: PyContext_CopyCurrent().map(UnsafeMutableRawPointer.init)) }
    }

    /// Makes `context` the calling thread's current context until `exit(_:)`, across `withGIL`
    /// sections (the thread must have a state of its own: `adoptCurrentThread`). False when it could
    /// not be entered (entered elsewhere already).
    public func enter(_ context: PythonContext) -> Bool {
        guard let raw = context.object else { return false }
        return withGIL { _ in
            if PyContext_Enter(raw) == 0 { return true }
            PyErr_Clear()
            return false
        }
    }

    /// Restores the context that was current before `enter(_:)`.
    public func exit(_ context: PythonContext) {
        guard let raw = context.object else { return }
        withGIL { _ in
            if PyContext_Exit(raw) != 0 { PyErr_Clear() }
        }
    }

    /// Flushes `sys.stdout` and `sys.stderr`; call before the process exits
    /// without finalising (finalisation costs ~40 ms with grpc loaded).
    public func flushStandardStreams() {
        withGIL { _ in
            for name in ["stdout", "stderr"] {
                if let stream = PySys_GetObject(name) {  // borrowed
                    if let r = cpy_call_method_noargs(stream, "flush") { cpy_decref(r) } else { PyErr_Clear() }
                }
            }
        }
    }
}

/// A `contextvars.Context`, kept for the life of the process (never freed).
public final class PythonContext: @unchecked Sendable {
    // Safe: only entered and exited with the GIL held, by one thread at a time (the caller's rule).
    // An untyped pointer, so that no client of this module needs CPython's headers.
    private let raw: UnsafeMutableRawPointer?

    fileprivate init(raw: UnsafeMutableRawPointer?) {
        self.raw = raw
        if raw == nil { PyErr_Clear() }
    }

    fileprivate var object: UnsafeMutablePointer<PyObject>? { raw?.assumingMemoryBound(to: PyObject.self) }
}
