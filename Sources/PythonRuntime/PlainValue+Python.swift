import PlainData
internal import CPython

extension PlainValue {
    /// Builds the Python object for this value (+1): None, bool, int, float,
    /// str, list or dict (insertion order kept). GIL required.
    func toPython(_ gil: borrowing GIL) throws(PythonError) -> PyRef {
        switch self {
        case .null: return PyRef(borrowing: cpy_none())
        case .bool(let b): return PyRef(borrowing: b ? cpy_true() : cpy_false())
        case .int(let i): return try .adopt(PyLong_FromLongLong(Int64(i)), gil)
        case .double(let d): return try .adopt(PyFloat_FromDouble(d), gil)
        case .string(let s): return try Self.pyString(s, gil)
        case .array(let items):
            let list = try PyRef.adopt(PyList_New(items.count), gil)
            for (i, item) in items.enumerated() {
                let v = try item.toPython(gil)
                cpy_list_set_stealing(list.raw, i, v.intoRaw())
            }
            return list
        case .object(let obj):
            let dict = try PyRef.adopt(PyDict_New(), gil)
            for (k, v) in obj.entries {
                // Keys are interned, as json.loads shares them: one string object per distinct key.
                let key = try Self.pyKey(k, gil)
                let value = try v.toPython(gil)
                guard PyDict_SetItem(dict.raw, key.raw, value.raw) == 0 else { throw PythonError.fetch(gil) }
            }
            return dict
        }
    }

    static func pyKey(_ s: String, _ gil: borrowing GIL) throws(PythonError) -> PyRef {
        guard !s.utf8.contains(0) else { return try pyString(s, gil) }
        return try .adopt(s.withCString { PyUnicode_InternFromString($0) }, gil)
    }

    static func pyString(_ s: String, _ gil: borrowing GIL) throws(PythonError) -> PyRef {
        var s = s
        let r: UnsafeMutablePointer<PyObject>? = s.withUTF8 { buf in
            PyUnicode_FromStringAndSize(buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, buf.count)
        }
        return try .adopt(r, gil)
    }

    /// Reads a Python value made of None, bool, int, float, str, list, tuple
    /// and dict (string keys). Anything else raises a TypeError. GIL required.
    static func fromPython(_ o: borrowing PyRef, _ gil: borrowing GIL) throws(PythonError) -> PlainValue {
        try fromRaw(o.raw, gil)
    }

    private static func fromRaw(_ p: UnsafeMutablePointer<PyObject>, _ gil: borrowing GIL) throws(PythonError) -> PlainValue {
        if cpy_is_none(p) != 0 { return .null }
        if cpy_bool_check(p) != 0 { return .bool(cpy_is_true(p) != 0) }
        if cpy_unicode_check(p) != 0 {
            var size: Py_ssize_t = 0
            guard let u = PyUnicode_AsUTF8AndSize(p, &size) else { throw PythonError.fetch(gil) }
            return .string(String(decoding: UnsafeRawBufferPointer(start: u, count: size), as: UTF8.self))
        }
        if cpy_float_check(p) != 0 { return .double(PyFloat_AsDouble(p)) }
        if cpy_long_check(p) != 0 {
            var overflow: Int32 = 0
            let v = PyLong_AsLongLongAndOverflow(p, &overflow)
            if overflow != 0 { return .double(PyLong_AsDouble(p)) }
            return .int(Int(v))
        }
        if cpy_list_check(p) != 0 || cpy_tuple_check(p) != 0 {
            let isList = cpy_list_check(p) != 0
            let n = isList ? PyList_Size(p) : PyTuple_Size(p)
            var items: [PlainValue] = []
            items.reserveCapacity(n)
            for i in 0..<n {
                guard let item = isList ? cpy_list_get_borrowed(p, i) : cpy_tuple_get_borrowed(p, i) else { continue }
                items.append(try fromRaw(item, gil))
            }
            return .array(items)
        }
        if cpy_dict_check(p) != 0 {
            var obj = PlainObject()
            obj.reserveCapacity(PyDict_Size(p))
            var pos: Py_ssize_t = 0
            var k: UnsafeMutablePointer<PyObject>?
            var v: UnsafeMutablePointer<PyObject>?
            while PyDict_Next(p, &pos, &k, &v) != 0 {
                guard let k, let v else { continue }  // borrowed
                guard case .string(let key) = try fromRaw(k, gil) else {
                    throw PythonError(typeName: "TypeError", message: "dict keys must be strings to leave Python")
                }
                obj[key] = try fromRaw(v, gil)
            }
            return .object(obj)
        }
        var name = "object"
        if let t = PyObject_Type(p) {
            let tr = PyRef(stealing: t)
            if let n = PyObject_GetAttrString(tr.raw, "__name__") {
                let nr = PyRef(stealing: n)
                if case .string(let s)? = try? fromRaw(nr.raw, gil) { name = s }
            } else {
                PyErr_Clear()
            }
        }
        throw PythonError(typeName: "TypeError", message: "values of type \(name) cannot leave Python as plain data")
    }
}
