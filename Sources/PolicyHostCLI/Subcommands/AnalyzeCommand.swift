import ArgumentParser
import Foundation
import PolicyHost
import PythonRuntime

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Options that locate and prepare a pack's environment; shared by commands.
struct EnvironmentOptions: ParsableArguments {
    @Option(name: .customLong("python"), help: ArgumentHelp("Interpreter to build venvs with (must match the embedded libpython).", valueName: "PATH"))
    var python: String?

    @Flag(name: .shortAndLong, help: "Print only errors while preparing the venv.")
    var quiet = false

    @Flag(name: .long, help: "Show the installers' full output while preparing the venv.")
    var verbose = false

    func manager(recreate: Bool = false) -> VenvManager {
        VenvManager(verbosity: quiet ? .quiet : (verbose ? .verbose : .normal), recreate: recreate, pythonOverride: python)
    }
}

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse a stack file (pulumi stack export, or pulumi preview --json) with a Python policy pack.",
        discussion: """
        Exit codes: 0 no mandatory violation; 1 mandatory violations; 2 usage or input error; \
        3 environment failure (interpreter, venv, install); 4 the pack failed to load; 5 a policy raised.
        """
    )

    @Argument(help: ArgumentHelp("The stack file: `pulumi stack export` output (v1–v3 or a checkpoint) or `pulumi preview --json` output.", valueName: "STACK_FILE"))
    var stackFile: String

    @Option(name: .customLong("policy-pack"), help: ArgumentHelp("A policy pack directory (default: the current directory).", valueName: "DIR"))
    var policyPacks: [String] = []

    @Option(name: .customLong("policy-pack-config"), help: ArgumentHelp("A JSON config file for the policy pack at the same position.", valueName: "FILE"))
    var policyPackConfigs: [String] = []

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    @Flag(name: .customLong("apply-remediations"), help: "Apply each remediation before Analyze, as an update does (default: report them only).")
    var applyRemediations = false

    @Flag(name: .long, help: "Run as a preview (dry run); implied for `pulumi preview --json` files.")
    var preview = false

    @Option(name: .customLong("config"), help: ArgumentHelp("Stack config KEY=VALUE (a key without ':' gets the project's namespace).", valueName: "KEY=VALUE"))
    var config: [String] = []

    @Option(name: .customLong("stack-tag"), help: ArgumentHelp("Stack tag KEY=VALUE.", valueName: "KEY=VALUE"))
    var stackTags: [String] = []

    @Option(name: .long, help: "Stack name (default: from the file's URNs).")
    var stack: String?

    @Option(name: .long, help: "Project name (default: from the file's URNs).")
    var project: String?

    @Option(name: .long, help: "Organization name (default: from the file, else \"organization\").")
    var organization: String?

    @OptionGroup var environment: EnvironmentOptions

    @Option(name: .customLong("emit-requests"), help: .hidden)
    var emitRequests: String?

    func validate() throws {
        if policyPackConfigs.count > max(policyPacks.count, 1) {
            throw ValidationError("the number of --policy-pack-config flags (\(policyPackConfigs.count)) must not exceed the number of --policy-pack flags (\(max(policyPacks.count, 1)))")
        }
        if policyPacks.count > 1 {
            throw ValidationError("several --policy-pack flags are not supported yet; run one pack per invocation")
        }
        for kv in config + stackTags where !kv.contains("=") {
            throw ValidationError("'\(kv)' is not of the form KEY=VALUE")
        }
    }

    func run() throws {
        let clock = PhaseClock(enabled: ProcessInfo.processInfo.environment["POLICY_HOST_TIMINGS"] == "1")
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        // Inputs first: bad input fails before any environment work.
        let snapshot = try StackSnapshot.load(URL(fileURLWithPath: stackFile, relativeTo: cwd).standardizedFileURL)
        let packDir = URL(fileURLWithPath: policyPacks.first ?? ".", relativeTo: cwd).standardizedFileURL
        let packConfig = try policyPackConfigs.first.map { try PolicyPackConfig.load(URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL) }
        let manifest = try PolicyManifest.load(packDirectory: packDir)

        let projectName = project ?? (snapshot.project.isEmpty ? "project" : snapshot.project)
        let stackName = stack ?? (snapshot.stack.isEmpty ? "stack" : snapshot.stack)
        let settings = StackSettings(
            organization: organization ?? snapshot.organization ?? "organization",
            project: projectName, stack: stackName,
            dryRun: preview || snapshot.format == .preview,
            config: config.map { kv in
                let (k, v) = Self.split(kv)
                return (k.contains(":") ? k : "\(projectName):\(k)", v)
            },
            tags: stackTags.map(Self.split))
        clock.mark("read inputs")
        let requests = AnalysisRequests(snapshot: snapshot, project: projectName, stack: stackName)
        clock.mark("encode requests")

        let python = try environment.manager().ensure(manifest)
        clock.mark("venv check")
        Terminal.isolateStdout()
        let session = try PackSession.start(python: python, manifest: manifest, settings: settings)
        clock.mark("start interpreter and load pack")
        let options = PackAnalysis.Options(applyRemediations: applyRemediations, config: packConfig)
        if let emitRequests {
            try RequestDump.write(to: URL(fileURLWithPath: emitRequests, relativeTo: cwd), session: session, settings: settings,
                                  requests: requests, options: options)
        }
        let report = try PackAnalysis.run(session, requests: requests, options: options, clock: clock)
        session.interpreter.flushStandardStreams()
        for w in report.warnings { Terminal.warn(w) }
        switch format {
        case .json: Terminal.writeReport(JSON.serialize(report.json, pretty: true) + "\n")
        case .text: Terminal.writeReport(report.text)
        }
        clock.mark("report")
        Terminal.exit(report.exitStatus)
    }

    static func split(_ kv: String) -> (String, String) {
        let i = kv.firstIndex(of: "=")!
        return (String(kv[..<i]), String(kv[kv.index(after: i)...]))
    }
}

/// Writes the engine requests of a run, for the differential test against `python -m pulumi.policy`.
enum RequestDump {
    static func write(to url: URL, session: PackSession, settings: StackSettings, requests: AnalysisRequests,
                      options: PackAnalysis.Options) throws(HostError) {
        let reconciled = try PackAnalysis.reconciledConfig(info: session.info, options: options)
        let doc: PlainValue = .object(PlainObject([
            ("organization", .string(settings.organization)), ("project", .string(settings.project)),
            ("stack", .string(settings.stack)), ("dryRun", .bool(settings.dryRun ?? false)),
            ("config", .object(PlainObject(settings.config.map { ($0.0, .string($0.1)) }))),
            ("tags", .object(PlainObject(settings.tags.map { ($0.0, .string($0.1)) }))),
            ("policyConfig", .object(PlainObject(reconciled.map { name, level, props in
                (name, .object(PlainObject([("enforcementLevel", .int(level.rawValue)), ("properties", .object(props))])))
            }))),
            ("applyRemediations", .bool(options.applyRemediations)),
            ("yamlVersion", .string(session.manifest.version ?? "")),
            ("rootStackURN", .string(requests.rootStackURN)),
            ("resources", .array(requests.engineForm.resources)),
            ("stackResources", .array(requests.engineForm.stackResources)),
        ]))
        do {
            try Data(JSON.serialize(doc).utf8).write(to: url)
        } catch {
            throw HostError(.usage, "could not write \(url.path): \(error.localizedDescription)")
        }
    }
}
