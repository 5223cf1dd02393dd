// C shims over the CPython API for Swift: macros and variadic calls become
// static inline functions with a `cpy_` prefix. Nothing here owns policy;
// ownership and GIL rules live in the PythonRuntime target.
#ifndef POLICY_HOST_CPYTHON_SHIM_H
#define POLICY_HOST_CPYTHON_SHIM_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

static inline void cpy_incref(PyObject *o) { Py_INCREF(o); }
static inline void cpy_decref(PyObject *o) { Py_DECREF(o); }
static inline void cpy_xdecref(PyObject *o) { Py_XDECREF(o); }

static inline PyObject *cpy_none(void) { return Py_None; }
static inline PyObject *cpy_call_method_noargs(PyObject *o, const char *name) { return PyObject_CallMethod(o, name, NULL); }
static inline PyObject *cpy_true(void) { return Py_True; }
static inline PyObject *cpy_false(void) { return Py_False; }

static inline int cpy_is_none(PyObject *o) { return o == Py_None; }
static inline int cpy_is_true(PyObject *o) { return o == Py_True; }
static inline int cpy_is_false(PyObject *o) { return o == Py_False; }
static inline int cpy_unicode_check(PyObject *o) { return PyUnicode_Check(o); }
static inline int cpy_long_check(PyObject *o) { return PyLong_Check(o); }
static inline int cpy_bool_check(PyObject *o) { return PyBool_Check(o); }
static inline int cpy_float_check(PyObject *o) { return PyFloat_Check(o); }
static inline int cpy_dict_check(PyObject *o) { return PyDict_Check(o); }
static inline int cpy_list_check(PyObject *o) { return PyList_Check(o); }
static inline int cpy_tuple_check(PyObject *o) { return PyTuple_Check(o); }
static inline int cpy_bytes_check(PyObject *o) { return PyBytes_Check(o); }

static inline PyObject *cpy_list_get_borrowed(PyObject *o, Py_ssize_t i) { return PyList_GET_ITEM(o, i); }
static inline PyObject *cpy_tuple_get_borrowed(PyObject *o, Py_ssize_t i) { return PyTuple_GET_ITEM(o, i); }
static inline void cpy_list_set_stealing(PyObject *o, Py_ssize_t i, PyObject *v) { PyList_SET_ITEM(o, i, v); }
static inline void cpy_tuple_set_stealing(PyObject *o, Py_ssize_t i, PyObject *v) { PyTuple_SET_ITEM(o, i, v); }

// MARK: policy_host_native, a builtin module of the embedded interpreter

// Version tags (PEP 509): CPython 3.11 gives every dict a tag from a process-wide counter, taken anew
// whenever the dict is created or changed (an item set to another object, deleted, cleared, merged
// into). Two equal tags of one dict mean nothing in it changed. The driver's runtime set-up check
// compares the tags of the dicts whose contents it relies on instead of comparing the contents
// (`runtime_setup.RuntimeSetUp`). A class stands for its namespace dict.
#if PY_VERSION_HEX >= 0x030C0000
#error "policy_host_native reads ma_version_tag, whose meaning changed in CPython 3.12"
#endif

static inline PyObject *cpy_native_dict_of(PyObject *item) {
    if (PyDict_Check(item)) return item;
    if (PyType_Check(item) && ((PyTypeObject *)item)->tp_dict != NULL) return ((PyTypeObject *)item)->tp_dict;
    PyErr_Format(PyExc_TypeError, "expected a dict or a class, found %.100s", Py_TYPE(item)->tp_name);
    return NULL;
}

/// dict_versions(items: tuple) -> bytes: the version tag of each item, packed.
static PyObject *cpy_native_dict_versions(PyObject *module, PyObject *items) {
    (void)module;
    if (!PyTuple_Check(items)) {
        PyErr_SetString(PyExc_TypeError, "dict_versions takes a tuple");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint64_t));
    if (out == NULL) return NULL;
    uint64_t *tags = (uint64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *dict = cpy_native_dict_of(PyTuple_GET_ITEM(items, i));
        if (dict == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        tags[i] = ((PyDictObject *)dict)->ma_version_tag;
    }
    return out;
}

/// same_dict_versions(items: tuple, versions: bytes) -> bool: whether no item changed since
/// `dict_versions(items)` gave `versions`.
static PyObject *cpy_native_same_dict_versions(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2 || !PyTuple_Check(args[0]) || !PyBytes_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "same_dict_versions takes a tuple and bytes");
        return NULL;
    }
    PyObject *items = args[0];
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    if (PyBytes_GET_SIZE(args[1]) != n * (Py_ssize_t)sizeof(uint64_t)) Py_RETURN_FALSE;
    const uint64_t *tags = (const uint64_t *)PyBytes_AS_STRING(args[1]);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *dict = cpy_native_dict_of(PyTuple_GET_ITEM(items, i));
        if (dict == NULL) return NULL;
        if (((PyDictObject *)dict)->ma_version_tag != tags[i]) Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

static PyMethodDef cpy_native_methods[] = {
    {"dict_versions", (PyCFunction)cpy_native_dict_versions, METH_O, "The version tag of each dict (or class) of a tuple, packed."},
    {"same_dict_versions", (PyCFunction)(void (*)(void))cpy_native_same_dict_versions, METH_FASTCALL,
     "Whether no dict (or class) of a tuple changed since dict_versions gave the bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef cpy_native_module = {
    PyModuleDef_HEAD_INIT, "policy_host_native", "Helpers policy-host's driver cannot write in Python.", -1,
    cpy_native_methods, NULL, NULL, NULL, NULL,
};

static inline PyObject *cpy_native_init(void) { return PyModule_Create(&cpy_native_module); }

/// Starts the interpreter from an isolated PyConfig whose `executable` is
/// `executable` (a venv's bin/python): sys.prefix becomes that venv and only
/// its site-packages are on sys.path; PYTHONHOME and friends are ignored.
/// `policy_host_native` is registered as a builtin module first.
/// Returns NULL on success, or a malloc'ed error text the caller frees.
/// `home`, when not NULL, is the prefix whose standard library is loaded (the embedded
/// libpython's own), whatever base interpreter the venv was made with.
static inline char *cpy_initialize_isolated(const char *executable, const char *home, int argc, char *const *argv, int buffered_stdio) {
    PyStatus status;
    PyConfig *config = (PyConfig *)malloc(sizeof(PyConfig));
    if (config == NULL) return strdup("out of memory");
    PyConfig_InitIsolatedConfig(config);
    config->install_signal_handlers = 0;
    config->buffered_stdio = buffered_stdio;
    config->write_bytecode = 0;
    status = PyConfig_SetBytesString(config, &config->executable, executable);
    if (PyStatus_Exception(status)) goto fail;
    status = PyConfig_SetBytesString(config, &config->program_name, executable);
    if (PyStatus_Exception(status)) goto fail;
    if (home != NULL) {
        status = PyConfig_SetBytesString(config, &config->home, home);
        if (PyStatus_Exception(status)) goto fail;
    }
    status = PyConfig_SetBytesArgv(config, argc, argv);
    if (PyStatus_Exception(status)) goto fail;
    config->parse_argv = 0;
    if (PyImport_AppendInittab("policy_host_native", cpy_native_init) != 0) {
        PyConfig_Clear(config);
        free(config);
        return strdup("policy_host_native could not be registered");
    }
    status = Py_InitializeFromConfig(config);
    if (PyStatus_Exception(status)) goto fail;
    PyConfig_Clear(config);
    free(config);
    return NULL;
fail:
    PyConfig_Clear(config);
    free(config);
    {
        const char *func = status.func ? status.func : "";
        const char *msg = status.err_msg ? status.err_msg : "unknown error";
        size_t n = strlen(func) + strlen(msg) + 4;
        char *out = (char *)malloc(n);
        if (out == NULL) return strdup("out of memory");
        if (*func) snprintf(out, n, "%s: %s", func, msg); else snprintf(out, n, "%s", msg);
        return out;
    }
}

#endif
