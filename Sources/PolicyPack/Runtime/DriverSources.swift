import PolicyValues
import PythonRuntime

/// The Python that runs inside the embedded interpreter, compiled into the binary by SwiftPM
/// (`.embedInCode` in Package.swift generates `PackageResources`, one `[UInt8]` per file, named by
/// the file's base name).
enum DriverSources {
    /// The driver package's modules, by path under `Sources/PolicyHost/Python`. A module added to
    /// `policy_host_driver/` must be listed here; `DriverSourcesTests` fails until it is.
    static let modules: [(path: String, bytes: [UInt8])] = [
        ("policy_host_driver/__init__.py", PackageResources.__init___py),
        ("policy_host_driver/analysis.py", PackageResources.analysis_py),
        ("policy_host_driver/arguments.py", PackageResources.arguments_py),
        ("policy_host_driver/errors.py", PackageResources.errors_py),
        ("policy_host_driver/execution.py", PackageResources.execution_py),
        ("policy_host_driver/host.py", PackageResources.host_py),
        ("policy_host_driver/loading.py", PackageResources.loading_py),
        ("policy_host_driver/options.py", PackageResources.options_py),
        ("policy_host_driver/ordering.py", PackageResources.ordering_py),
        ("policy_host_driver/proxies.py", PackageResources.proxies_py),
        ("policy_host_driver/rendering.py", PackageResources.rendering_py),
        ("policy_host_driver/runtime_setup.py", PackageResources.runtime_setup_py),
        ("policy_host_driver/sdk_support.py", PackageResources.sdk_support_py),
        ("policy_host_driver/servicer.py", PackageResources.servicer_py),
        ("policy_host_driver/stack.py", PackageResources.stack_py),
        ("policy_host_driver/tracking.py", PackageResources.tracking_py),
    ]

    /// `policy_host_loader.py`: installs the package from `modules` (an import finder over in-memory
    /// sources; tracebacks name `<policy-host>/policy_host_driver/<module>.py`).
    static let loader = (path: "policy_host_loader.py", bytes: PackageResources.policy_host_loader_py)

    /// `sdk_server_hook.py`, written as `sitecustomize.py` for the out-of-process route.
    static let sdkServerHook = PackageResources.sdk_server_hook_py

    /// The modules as the loader's `install` takes them: `{path: source}`. The hook is among them as
    /// `policy_host_driver.sdk_faults`, whose fault records the in-process servicer path shares.
    static var modulesValue: PlainValue {
        .object(PlainObject((modules + [("policy_host_driver/sdk_faults.py", sdkServerHook)]).map {
            ($0.path, .string(String(decoding: $0.bytes, as: UTF8.self)))
        }))
    }

    /// Compiles and runs the loader, which imports the driver package from `modules`; returns the
    /// package's `host` object. GIL required.
    static func installHost(_ gil: borrowing GIL) throws(PythonError) -> PythonObject {
        let loaderModule = try PythonObject.module(named: "policy_host_loader",
                                                   source: String(decoding: loader.bytes, as: UTF8.self),
                                                   filename: "<policy-host>/" + loader.path, gil)
        return try loaderModule.callObject("install", [modulesValue], gil)
    }
}
