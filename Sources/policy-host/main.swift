import Foundation
import PolicyHostCLI

// Installed as `pulumi-analyzer-policy-python` (or any pulumi-analyzer-* name), the binary is an
// analyzer plugin: every argument belongs to the engine.
Terminal.installCrashHandler()
let invokedAs = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent
if invokedAs.hasPrefix("pulumi-analyzer-") {
    RootCommand.runMain(["serve"] + CommandLine.arguments.dropFirst())
}
RootCommand.runMain()
