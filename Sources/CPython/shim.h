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

/// Starts the interpreter from an isolated PyConfig whose `executable` is
/// `executable` (a venv's bin/python): sys.prefix becomes that venv and only
/// its site-packages are on sys.path; PYTHONHOME and friends are ignored.
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
