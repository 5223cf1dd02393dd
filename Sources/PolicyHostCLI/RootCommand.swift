import ArgumentParser
import Foundation
import HostCore

/// `policy-host`: run Python Pulumi policy packs natively.
public struct RootCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "policy-host",
        abstract: "Run Pulumi policy packs written in Python, in embedded CPython, with managed virtualenvs.",
        version: PolicyHostVersion.string,
        subcommands: [AnalyzeCommand.self, ServeCommand.self, InstallCommand.self, NewCommand.self, PackCommand.self, ListCommand.self, ResolveCommand.self, DoctorCommand.self, PackNameCommand.self]
    )

    public init() {}

    /// Parses and runs; maps every failure to a documented exit code (README "Exit codes").
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Terminal.exit(.ok)
        } catch let e as HostError {
            Terminal.fail(e)
        } catch let e as ExitCode {
            Terminal.flushAndExit(e.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version
                print(fullMessage(for: error))
                Terminal.exit(.ok)
            }
            // One `error:` line, as for every other failure, and where to read the usage.
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
            let command = (arguments ?? Array(CommandLine.arguments.dropFirst())).first { !$0.hasPrefix("-") } ?? ""
            let known = configuration.subcommands.map { $0._commandName }
            let help = known.contains(command) ? "policy-host \(command) --help" : "policy-host --help"
            FileHandle.standardError.write(Data("error: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)\nhint: see `\(help)` for usage\n".utf8))
            Terminal.flushAndExit(ExitStatus.usage.rawValue)
        }
    }
}

public enum PolicyHostVersion {
    public static let string = "0.1.0"
}
