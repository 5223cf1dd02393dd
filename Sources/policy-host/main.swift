import Foundation
import PolicyHostCLI

// Installed as `pulumi-analyzer-policy-python` (or any pulumi-analyzer-* name), the binary is an
// analyzer plugin: every argument belongs to the engine.
Terminal.installCrashHandler()
// Writes to a child that has exited (gzip stopped at a size limit) must fail, not kill us.
signal(SIGPIPE, SIG_IGN)
let invokedAs = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent
if invokedAs.hasPrefix("pulumi-analyzer-") {
    RootCommand.runMain(["serve"] + CommandLine.arguments.dropFirst())
}
RootCommand.runMain()
