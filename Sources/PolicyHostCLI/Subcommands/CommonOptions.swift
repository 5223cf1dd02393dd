import ArgumentParser
import Foundation
import PolicyServer
import PolicyValues
import PythonEnv

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// The formats of an analysis report.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, junit, events
}

/// Options that locate and prepare a pack's environment; shared by commands.
struct EnvironmentOptions: ParsableArguments {
    @Option(name: .customLong("python"), help: ArgumentHelp("Interpreter to build venvs with (of the embedded libpython's minor version for --runtime embedded; any version otherwise).", valueName: "PATH"))
    var python: String?

    @Flag(name: .shortAndLong, help: "Print only errors while preparing the venv.")
    var quiet = false

    @Flag(name: .long, help: "Show the installers' full output while preparing the venv.")
    var verbose = false

    func manager(recreate: Bool = false) -> VenvManager {
        VenvManager(verbosity: quiet ? .quiet : (verbose ? .verbose : .normal), recreate: recreate, pythonOverride: python)
    }
}
