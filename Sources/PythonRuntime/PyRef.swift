internal import CPython

/// Proof that the current thread holds the GIL. Made only by
/// `PythonInterpreter.withGIL`; it cannot be copied or escape the closure
/// (after PyO3's `Python<'py>`).
public struct GIL: ~Copyable {
    internal init() {}
}

/// An owned (strong) reference to a Python object, released exactly once
/// when the value is destroyed. Needs the GIL for its whole life.
internal struct PyRef: ~Copyable {
    let raw: UnsafeMutablePointer<PyObject>

    /// Adopts a new reference (+1) returned by a C call. NULL means the call
    /// failed with a Python exception, which is fetched and thrown.
    static func adopt(_ raw: UnsafeMutablePointer<PyObject>?, _ gil: borrowing GIL) throws(PythonError) -> PyRef {
        guard let raw else { throw PythonError.fetch(gil) }
        return PyRef(stealing: raw)
    }

    /// Takes over a new reference (+1).
    init(stealing raw: UnsafeMutablePointer<PyObject>) {
        self.raw = raw
    }

    /// Takes a borrowed reference and increments it, so this value owns one.
    init(borrowing raw: UnsafeMutablePointer<PyObject>) {
        cpy_incref(raw)
        self.raw = raw
    }

    /// Gives up ownership without a decref; for C calls that steal a reference.
    consuming func intoRaw() -> UnsafeMutablePointer<PyObject> {
        let r = raw
        discard self
        return r
    }

    deinit {
        // The GIL is held: every PyRef lives inside a withGIL closure.
        cpy_decref(raw)
    }
}

/// A long-lived handle on a Python object, usable across GIL sections
/// (PyO3's `Py<T>`). Not Sendable: keep it on the thread that owns the
/// interpreter, or behind an actor.
public final class PythonObject {
    let raw: UnsafeMutablePointer<PyObject>

    init(_ ref: consuming PyRef) {
        raw = ref.intoRaw()
    }

    deinit {
        guard Py_IsInitialized() != 0 else { return }  // finalised: leak on purpose
        let state = PyGILState_Ensure()
        cpy_decref(raw)
        PyGILState_Release(state)
    }

    /// A new owned reference to the object (GIL required).
    func ref(_ gil: borrowing GIL) -> PyRef {
        PyRef(borrowing: raw)
    }
}
