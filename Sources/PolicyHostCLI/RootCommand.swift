import ArgumentParser
import Foundation
import HostCore

/// `policy-host`: run Python Pulumi policy packs natively.
public struct RootCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "policy-host",
        abstract: "Run Pulumi policy packs written in Python, in embedded CPython, with managed virtualenvs.",
        version: PolicyHostVersion.string,
        subcommands: [AnalyzeCommand.self, TestCommand.self, ServeCommand.self, InstallCommand.self, NewCommand.self, PackCommand.self, ListCommand.self, ResolveCommand.self, DoctorCommand.self, PackNameCommand.self]
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
            let message = Self.withoutFarSuggestion(self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line")
            let command = (arguments ?? Array(CommandLine.arguments.dropFirst())).first { !$0.hasPrefix("-") } ?? ""
            let known = configuration.subcommands.map { $0._commandName }
            let help = known.contains(command) ? "policy-host \(command) --help" : "policy-host --help"
            FileHandle.standardError.write(Data("error: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)\nhint: see `\(help)` for usage\n".utf8))
            Terminal.flushAndExit(ExitStatus.usage.rawValue)
        }
    }
}

extension RootCommand {
    /// argument-parser's "Did you mean '--x'?" is kept only when the suggestion is close to what
    /// was typed (at most one edit per three characters): `--formt` → `--format`, but `--bogus`
    /// gets no `--jobs`.
    static func withoutFarSuggestion(_ message: String) -> String {
        guard let range = message.range(of: #"Unknown option '([^']*)'\. Did you mean '([^']*)'\?"#, options: .regularExpression) else {
            return message
        }
        let parts = message[range].split(separator: "'", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return message }
        let typed = String(parts[1].drop { $0 == "-" }), suggested = String(parts[3].drop { $0 == "-" })
        if Spelling.isClose(typed, suggested) { return message }
        return message.replacingOccurrences(of: " Did you mean '\(parts[3])'?", with: "")
    }
}

public enum PolicyHostVersion {
    public static let string = "0.1.0"
}
