/* policy_host_native as an extension module, for the driver's tests: the binary registers the same
 * module (Sources/CPython/shim.h) as a builtin of its embedded interpreter. Built by
 * scripts/test-driver.sh. */
#include "shim.h"

PyMODINIT_FUNC PyInit_policy_host_native(void) { return cpy_native_init(); }
