import ArgumentParser
import Foundation
import PolicyServer
import PolicyValues
import HostCore
import PolicyPack
import PackStore

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse a stack file (pulumi stack export, or pulumi preview --json) with a Python policy pack.",
        discussion: """
        Exit codes: 0 no mandatory violation; 1 mandatory violations; 2 usage or input error; \
        3 environment failure (interpreter, venv, install); 4 the pack failed to load; 5 a policy raised.
        """
    )

    @Argument(help: ArgumentHelp("The stack file: `pulumi stack export` output (deployment v1–v4 or a checkpoint) or `pulumi preview --json` output.", valueName: "STACK_FILE"))
    var stackFileArgument: String?

    @Option(name: .customLong("file"), help: ArgumentHelp("The stack file, as `pulumi policy analyze --file` names it (instead of STACK_FILE).", valueName: "FILE"))
    var stackFileOption: String?

    /// The stack file, positional or `--file` (`validate` made sure there is exactly one).
    var stackFile: String { stackFileOption ?? stackFileArgument ?? "" }

    @Option(name: .customLong("policy-pack"), help: ArgumentHelp("A policy pack directory (default: the current directory).", valueName: "DIR"))
    var policyPacks: [String] = []

    @Option(name: .customLong("policy-pack-config"), help: ArgumentHelp("A JSON config file for the policy pack at the same position.", valueName: "FILE"))
    var policyPackConfigs: [String] = []

    @Option(name: .customLong("format"), help: "Output format: text, json, sarif (SARIF 2.1.0, for code scanning), junit (JUnit XML, for CI test reports) or events (the event stream of `pulumi policy analyze --json`).")
    var formatOption: ReportFormat?

    @Flag(name: [.customShort("j"), .customLong("json")], help: "Same as --format events, as `pulumi policy analyze --json`.")
    var eventsFlag = false

    /// The report format (`validate` made sure --json and --format agree).
    var format: ReportFormat { eventsFlag ? .events : (formatOption ?? .text) }

    @Option(name: .long, help: ArgumentHelp("Write the --format report to FILE (replaced whole, never half-written) and the text report to stdout.", valueName: "FILE"))
    var output: String?

    @Flag(name: .customLong("apply-remediations"), help: "Apply each remediation before Analyze, as an update does (default: report them only).")
    var applyRemediations = false

    @Flag(name: .long, help: "Run as a preview (dry run); implied for `pulumi preview --json` files.")
    var preview = false

    @Option(name: .customLong("config"), help: ArgumentHelp("Stack config KEY=VALUE (a key without ':' gets the project's namespace).", valueName: "KEY=VALUE"))
    var config: [String] = []

    @Option(name: .customLong("stack-config"), help: ArgumentHelp("The stack's settings file, Pulumi.<stack>.yaml: its config is the stack config, secure values decrypted with PULUMI_CONFIG_PASSPHRASE(_FILE); --config overrides it.", valueName: "FILE"))
    var stackConfig: String?

    @Flag(name: .customLong("show-secrets"), help: "Show the plaintext of secrets in reports and output (by default every secret of the stack, its config and the pack's remediations is [secret]).")
    var showSecrets = false

    @Option(name: .customLong("stack-tag"), help: ArgumentHelp("Stack tag KEY=VALUE.", valueName: "KEY=VALUE"))
    var stackTags: [String] = []

    @Option(name: .long, help: "Stack name (default: from the file's URNs).")
    var stack: String?

    @Option(name: .long, help: "Project name (default: from the file's URNs).")
    var project: String?

    @Option(name: .long, help: "Organization name (default: from the file, else \"organization\").")
    var organization: String?

    @Option(name: .customLong("policy-groups"), help: ArgumentHelp("A policy-groups file: also run the packs its groups require for this stack.", valueName: "FILE"))
    var policyGroups: String?

    @Option(name: .customLong("pack-store"), help: ArgumentHelp("Directory of pack archives (<name>-v<version>.tar.gz) for --policy-groups.", valueName: "DIR"))
    var packStore: String?

    @Option(name: .long, help: "Packs run at once when there are several (default: the number of cores).")
    var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("Seconds after which a pack still running is killed and reported as failed.", valueName: "SECONDS"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Where the pack runs: embedded (in this process; the venv must be of the embedded Python's minor version), sdk-server (the SDK's own analyzer, `python -m pulumi.policy`, on the venv's interpreter, over gRPC), or auto: embedded when the versions match, else sdk-server.", valueName: "auto|embedded|sdk-server"))
    var runtime: PackRuntime = .auto

    @OptionGroup var environment: EnvironmentOptions

    @Option(name: .customLong("emit-requests"), help: .hidden)
    var emitRequests: String?

    /// Set by the supervising process: this process is the pack's worker (see `PackWorker`).
    @Option(name: .customLong("worker-outcome"), help: .hidden)
    var workerOutcome: String?

    func validate() throws {
        if eventsFlag, let formatOption, formatOption != .events {
            throw ValidationError("--json is --format events; it cannot be combined with --format \(formatOption.rawValue)")
        }
        switch (stackFileArgument, stackFileOption) {
        case (nil, nil): throw ValidationError("Missing expected argument '<STACK_FILE>' (or --file FILE)")
        case (.some, .some): throw ValidationError("give the stack file once: as STACK_FILE or as --file, not both")
        default: break
        }
        if !policyPackConfigs.isEmpty {
            if policyPacks.isEmpty && policyPackConfigs.count > 1 {
                throw ValidationError(#""--policy-pack-config" must be specified with "--policy-pack""#)
            }
            if !policyPacks.isEmpty && policyPackConfigs.count != policyPacks.count {
                throw ValidationError(#"the number of "--policy-pack-config" paths must match the number of "--policy-pack" paths"#)
            }
        }
        if (policyGroups == nil) != (packStore == nil) {
            throw ValidationError("--policy-groups and --pack-store go together")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a positive number of seconds") }
        for kv in config + stackTags where !kv.contains("=") || kv.hasPrefix("=") || kv.hasPrefix(":") {
            throw ValidationError("'\(kv)' is not of the form KEY=VALUE with a non-empty KEY")
        }
    }

    func run() throws {
        if let workerOutcome {
            PackWorker.becomeWorker(outcome: workerOutcome)
            return try runPack()
        }
        ChildProcesses.installTerminationHandlers()
        Terminal.exportStdoutTTY()
        if inputs.runsSeveralPacks {
            return try runSeveral()
        }
        // One pack: in a supervised worker all the same, so that no way of ending the pack's process
        // can pass for a run (see `PackWorker`).
        switch PackWorker.run(executable: Self.selfExecutable, arguments: Array(CommandLine.arguments.dropFirst()),
                              stderr: .inherit, timeout: timeout) {
        case .report(let status, let bytes):
            Terminal.writeReport(bytes)
            Terminal.flushAndExit(status)
        case .failed(let status):
            Terminal.flushAndExit(status)
        case .abnormal(let message):
            let dir = URL(fileURLWithPath: policyPacks.first ?? ".").standardizedFileURL.path
            Terminal.fail(HostError(.packLoad, "the policy pack \(dir) \(message); no report was produced"))
        }
    }

    /// The inputs as the frontend takes them, paths resolved against the current directory.
    var inputs: AnalyzeInputs {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        func url(_ p: String) -> URL { URL(fileURLWithPath: p, relativeTo: cwd).standardizedFileURL }
        var i = AnalyzeInputs(stackFile: url(stackFile))
        i.packs = policyPacks.map(url)
        i.packConfigs = policyPackConfigs.map(url)
        i.applyRemediations = applyRemediations
        i.preview = preview
        i.config = config.map(Self.split)
        i.stackConfig = stackConfig.map(url)
        i.showSecrets = showSecrets
        i.stackTags = stackTags.map(Self.split)
        i.stack = stack
        i.project = project
        i.organization = organization
        i.policyGroups = policyGroups.map(url)
        i.packStore = packStore.map(url)
        if let jobs { i.jobs = jobs }
        i.timeout = timeout
        i.runtime = runtime
        i.python = environment.python
        i.verbose = environment.verbose
        return i
    }

    /// The worker's job: run the one pack and hand the report over.
    func runPack() throws {
        let clock = PhaseClock(enabled: ProcessInfo.processInfo.environment["POLICY_HOST_TIMINGS"] == "1")
        let emit = emitRequests.map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) }
        let report = try AnalyzeFrontend.runPack(inputs, manager: environment.manager(), clock: clock, emitRequests: emit,
                                                 notice: { FileHandle.standardError.write(Data("\($0)\n".utf8)) },
                                                 beforeRunning: Terminal.isolateStdout, redactOutput: { OutputRedaction.install($0) })
        for w in report.warnings { Terminal.warn(w) }
        let bytes = try output(report)
        clock.mark("report")
        if PackWorker.isWorker {
            PackWorker.complete(report: Data(bytes), status: report.exitStatus.rawValue)
        } else {
            Terminal.writeReport(Data(bytes))
        }
        Terminal.exit(report.exitStatus)
    }

    /// Several packs: each in a child `policy-host analyze` of its own, in parallel, reports merged.
    func runSeveral() throws {
        let report = try AnalyzeFrontend.runSeveral(inputs, manager: environment.manager(), executable: Self.selfExecutable)
        for w in report.warnings { Terminal.warn(w) }
        Terminal.writeReport(Data(try output(report)))
        Terminal.exit(report.exitStatus)
    }

    /// The report for stdout; with `--output`, the `--format` report goes to that file first and
    /// stdout gets the text report.
    func output(_ report: AnalysisReport) throws(HostError) -> [UInt8] {
        guard let output else { return try render(report, as: format) }
        let file = URL(fileURLWithPath: output, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        do {
            try Data(render(report, as: format)).write(to: file, options: .atomic)
        } catch let e as HostError {
            throw e
        } catch {
            throw HostError(.usage, "cannot write \(file.path): \(error.localizedDescription)", hint: "--output names the file the \(format.rawValue) report is written to")
        }
        return try render(report, as: .text)
    }

    /// The report in `format`. JSON goes straight into one byte buffer, never through a String.
    func render(_ report: AnalysisReport, as format: ReportFormat) throws(HostError) -> [UInt8] {
        switch format {
        case .events:
            let snapshot = try StackSnapshot.load(inputs.stackFile)
            let stream = EventStream(report: report, resources: snapshot.live.map { ($0.urn, $0.inputs) })
            return Array(stream.lines.map { $0 + "\n" }.joined().utf8)
        case .text: return Array(report.text(color: Terminal.reportInColor).utf8)
        case .json: return JSON.serializeBytes(report.json, pretty: true) + [0x0A]
        case .junit: return Array(JUnitReport(report: report).document.utf8)
        case .sarif:
            let stack = inputs.stackFile
            // Lines of URNs only for a plain (not gzip'ed) file; a SARIF without regions still points at the file.
            var bytes = (try? Data(contentsOf: stack, options: .mappedIfSafe)).map { [UInt8]($0) }
            if let b = bytes, b.count >= 2, b[0] == 0x1F, b[1] == 0x8B { bytes = nil }
            let sarif = SARIFReport(report: report, location: .of(stackFile: stack, bytes: bytes), toolVersion: PolicyHostVersion.string)
            return JSON.serializeBytes(sarif.document, pretty: true) + [0x0A]
        }
    }

    /// This binary, for child processes.
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func split(_ kv: String) -> (String, String) {
        guard let i = kv.firstIndex(of: "=") else { return (kv, "") }  // validate() made sure there is one
        return (String(kv[..<i]), String(kv[kv.index(after: i)...]))
    }
}

extension PackRuntime: ExpressibleByArgument {}
