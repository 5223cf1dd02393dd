import PlainData
internal import CPython

/// Python code the host runs: a module made from source text, and calls into it.
extension PythonObject {
    /// Compiles `source` as a new module named `name` and executes it; the
    /// module is registered in `sys.modules`. GIL required.
    public static func module(named name: String, source: String, filename: String, _ gil: borrowing GIL) throws(PythonError) -> PythonObject {
        let code = try PyRef.adopt(Py_CompileString(source, filename, Py_file_input), gil)
        let module = try PyRef.adopt(PyImport_ExecCodeModuleEx(name, code.raw, filename), gil)
        return PythonObject(module)
    }

    /// Imports a module by its dotted name. GIL required.
    public static func importModule(_ name: String, _ gil: borrowing GIL) throws(PythonError) -> PythonObject {
        PythonObject(try PyRef.adopt(PyImport_ImportModule(name), gil))
    }

    /// Calls `self.<method>(*args)` with plain values and converts the result back. GIL required.
    public func call(_ method: String, _ args: [PlainValue], _ gil: borrowing GIL) throws(PythonError) -> PlainValue {
        let result = try callRaw(method, args, gil)
        return try withoutCycleCollection { () throws(PythonError) in try PlainValue.fromPython(result, gil) }
    }

    /// Calls `self.<method>(*args)` and keeps the result as a Python object. GIL required.
    public func callObject(_ method: String, _ args: [PlainValue], _ gil: borrowing GIL) throws(PythonError) -> PythonObject {
        PythonObject(try callRaw(method, args, gil))
    }

    private func callRaw(_ method: String, _ args: [PlainValue], _ gil: borrowing GIL) throws(PythonError) -> PyRef {
        let fn = try PyRef.adopt(PyObject_GetAttrString(raw, method), gil)
        let tuple = try PyRef.adopt(PyTuple_New(args.count), gil)
        try withoutCycleCollection { () throws(PythonError) in
            for (i, a) in args.enumerated() {
                let v = try a.toPython(gil)
                cpy_tuple_set_stealing(tuple.raw, i, v.intoRaw())
            }
        }
        return try PyRef.adopt(PyObject_Call(fn.raw, tuple.raw, nil), gil)
    }
}

/// Runs `body` with Python's cyclic garbage collector paused. Converting a large value creates
/// millions of containers; with the collector running, each full collection rescans all that
/// was built before, and the conversion grows faster than its input. Plain data has no cycles,
/// so nothing collectable is missed; the previous state is restored. GIL required.
func withoutCycleCollection<T>(_ body: () throws(PythonError) -> T) throws(PythonError) -> T {
    let wasEnabled = PyGC_Disable()
    defer { if wasEnabled != 0 { _ = PyGC_Enable() } }
    return try body()
}
