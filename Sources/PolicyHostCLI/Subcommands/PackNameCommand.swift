import ArgumentParser
import Foundation
import PolicyValues
import HostCore
import PolicyPack

/// Reads a pack's own name by loading it, in a child process so that the caller's
/// interpreter (if any) is untouched.
enum PackName {
    static func read(python: String, manifest: PolicyManifest) throws(HostError) -> String {
        let r: ProcessResult
        do {
            r = try Subprocess.run([AnalyzeCommand.selfExecutable, "__pack-name", manifest.packDirectory.path, python])
        } catch {
            throw HostError(.internal, "could not start policy-host to read the pack's name: \(error.localizedDescription)")
        }
        let lines = r.output.split(separator: "\n")
        guard r.status == 0, let last = lines.last, last.hasPrefix("name: ") else {
            let err = lines.first { $0.hasPrefix("error: ") }.map { String($0.dropFirst(7)) } ?? "exit status \(r.status)"
            throw HostError(.packLoad, err, detail: r.tail(12))
        }
        return String(last.dropFirst("name: ".count))
    }
}

/// Internal: loads a pack and prints `name: <name>`.
struct PackNameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__pack-name", shouldDisplay: false)

    @Argument var packDirectory: String
    @Argument var python: String

    func run() throws {
        // Booted where publish boots it: in the directory `main` names, if any.
        var manifest = try PolicyManifest.load(packDirectory: URL(fileURLWithPath: packDirectory), requireEntryPoint: false)
        manifest.packDirectory = try manifest.publishDirectory()
        let settings = StackSettings(organization: "", project: "", stack: "", dryRun: nil)
        Terminal.isolateStdout()
        let session = try PackSession.start(python: python, manifest: manifest, settings: settings)
        session.interpreter.flushStandardStreams()
        Terminal.writeReport("name: \(session.info.name)\n")
    }
}
