import ArgumentParser
import Foundation
import PolicyServer
import PythonEnv

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a policy pack over the Pulumi Analyzer gRPC protocol, as the engine starts analyzers.",
        discussion: """
        Accepts both engine conventions: `serve [flags] <engine-address> <pack-dir>` (the Python language \
        host's) and `serve [flags] <engine-address> . -virtualenv=PATH -toolchain=NAME` with the pack \
        directory as the working directory (the legacy pulumi-analyzer-policy-python). Prints the port \
        and a newline as the first line of stdout and serves on 127.0.0.1 until Cancel, SIGINT or SIGTERM.
        """
    )

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The engine's arguments.", valueName: "ARGS"))
    var arguments: [String] = []

    func run() throws {
        try ServeRunner.run(arguments, manager: VenvManager(verbosity: .normal))
        // Served and shut down: end here, without finalising the embedded interpreter.
        Terminal.exit(.ok)
    }
}
