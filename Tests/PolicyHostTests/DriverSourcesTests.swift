import Foundation
import Testing
@testable import PolicyPack

/// The Python compiled into the binary is the Python in the source tree, module for module.
@Suite struct DriverSourcesTests {
    static let pythonDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/PolicyPack/Python")

    @Test func everyModuleOfThePackageIsEmbeddedAsIs() throws {
        let package = Self.pythonDirectory.appendingPathComponent("policy_host_driver")
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: package.path)
            .filter { $0.hasSuffix(".py") }.sorted().map { "policy_host_driver/" + $0 }
        #expect(DriverSources.modules.map(\.path).sorted() == onDisk, "list every module in DriverSources.modules")
        for (path, bytes) in DriverSources.modules {
            let data = try Data(contentsOf: Self.pythonDirectory.appendingPathComponent(path))
            #expect([UInt8](data) == bytes, "\(path) differs from its embedded copy")
        }
    }

    @Test func loaderAndHookAreEmbeddedAsIs() throws {
        let loader = try Data(contentsOf: Self.pythonDirectory.appendingPathComponent(DriverSources.loader.path))
        #expect([UInt8](loader) == DriverSources.loader.bytes)
        let hook = try Data(contentsOf: Self.pythonDirectory.appendingPathComponent("sdk_server_hook.py"))
        #expect([UInt8](hook) == DriverSources.sdkServerHook)
    }
}
