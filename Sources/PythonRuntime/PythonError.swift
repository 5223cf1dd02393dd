internal import CPython

/// A Python exception, captured while the GIL was held. It holds no live
/// Python objects, so it may cross threads.
public struct PythonError: Error, Sendable, CustomStringConvertible {
    /// The exception's qualified type name, e.g. `ModuleNotFoundError`.
    public var typeName: String
    /// `str(exception)`.
    public var message: String
    /// The formatted traceback lines (`traceback.format_exception`), empty when none.
    public var traceback: [String]
    /// The exception instance's own string-valued attributes (its `__dict__`), e.g. a `step` an
    /// exception type of the caller's sets; nothing here knows which.
    public var attributes: [String: String]

    public init(typeName: String, message: String, traceback: [String] = [], attributes: [String: String] = [:]) {
        self.typeName = typeName
        self.message = message
        self.traceback = traceback
        self.attributes = attributes
    }

    public var description: String { message.isEmpty ? typeName : "\(typeName): \(message)" }

    /// The traceback as one text.
    public var tracebackText: String { traceback.joined() }

    /// Takes the pending exception after a C call reported failure. A failure
    /// with no exception set is an internal error and is reported as such.
    static func fetch(_ gil: borrowing GIL) -> PythonError {
        take(gil) ?? PythonError(typeName: "SystemError", message: "a Python C API call failed without setting an exception")
    }

    /// Takes the pending exception, if any, and clears it.
    static func take(_ gil: borrowing GIL) -> PythonError? {
        var type: UnsafeMutablePointer<PyObject>?
        var value: UnsafeMutablePointer<PyObject>?
        var tb: UnsafeMutablePointer<PyObject>?
        PyErr_Fetch(&type, &value, &tb)  // +1 each, any may be NULL
        guard type != nil else { return nil }
        PyErr_NormalizeException(&type, &value, &tb)
        defer {
            cpy_xdecref(type)
            cpy_xdecref(tb)
        }
        guard let value else { return PythonError(typeName: "Exception", message: "") }
        if let tb { PyException_SetTraceback(value, tb) }
        let e = PyRef(stealing: value)
        return describe(e, gil)
    }

    static func describe(_ e: borrowing PyRef, _ gil: borrowing GIL) -> PythonError {
        var typeName = "Exception"
        if let t = PyObject_Type(e.raw) {
            let tr = PyRef(stealing: t)
            if let qn = PyObject_GetAttrString(tr.raw, "__qualname__") {
                let q = PyRef(stealing: qn)
                typeName = stringOf(q, gil) ?? typeName
            }
        }
        var message = ""
        if let s = PyObject_Str(e.raw) {
            let sr = PyRef(stealing: s)
            message = stringOf(sr, gil) ?? ""
        }
        var lines: [String] = []
        var attrs: [String: String] = [:]
        if let tbmod = PyImport_ImportModule("traceback") {
            let m = PyRef(stealing: tbmod)
            if let fn = PyObject_GetAttrString(m.raw, "format_exception") {
                let f = PyRef(stealing: fn)
                if let list = PyObject_CallOneArg(f.raw, e.raw) {
                    let l = PyRef(stealing: list)
                    for i in 0..<PyList_Size(l.raw) {
                        if let item = cpy_list_get_borrowed(l.raw, i) {
                            let ir = PyRef(borrowing: item)
                            lines.append(stringOf(ir, gil) ?? "")
                        }
                    }
                }
            }
        }
        // The instance's own attributes that are strings (exceptions without a `__dict__` have none).
        if let d = PyObject_GetAttrString(e.raw, "__dict__") {
            let dr = PyRef(stealing: d)
            if cpy_dict_check(dr.raw) != 0 {
                var pos: Py_ssize_t = 0
                var k: UnsafeMutablePointer<PyObject>?
                var v: UnsafeMutablePointer<PyObject>?
                while PyDict_Next(dr.raw, &pos, &k, &v) != 0 {
                    guard let k, let v else { continue }
                    let kr = PyRef(borrowing: k)
                    let vr = PyRef(borrowing: v)
                    if let ks = stringOf(kr, gil), let vs = stringOf(vr, gil) { attrs[ks] = vs }
                }
            }
        }
        PyErr_Clear()
        return PythonError(typeName: typeName, message: message, traceback: lines, attributes: attrs)
    }

    private static func stringOf(_ o: borrowing PyRef, _ gil: borrowing GIL) -> String? {
        guard cpy_unicode_check(o.raw) != 0 else { return nil }
        var size: Py_ssize_t = 0
        guard let p = PyUnicode_AsUTF8AndSize(o.raw, &size) else {
            PyErr_Clear()
            return nil
        }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: size), as: UTF8.self)
    }
}
