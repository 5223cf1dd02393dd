import ArgumentParser
import Foundation
import PolicyHost
import PolicyServer
import PolicyValues

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

    @Option(name: .customLong("stack-config"), help: ArgumentHelp("The stack's settings file, Pulumi.<stack>.yaml: its config is the stack config, secure values decrypted with PULUMI_CONFIG_PASSPHRASE(_FILE); --config overrides it.", valueName: "FILE"))
    var stackConfig: String?

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
        if policyPacks.count > 1 || policyGroups != nil {
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

    /// The worker's job: read the inputs, prepare the venv, run the pack, hand the report over.
    func runPack() throws {
        let clock = PhaseClock(enabled: ProcessInfo.processInfo.environment["POLICY_HOST_TIMINGS"] == "1")
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        // Inputs first: bad input fails before any environment work. The parsed file is released
        // once its requests are built.
        let packDir = URL(fileURLWithPath: policyPacks.first ?? ".", relativeTo: cwd).standardizedFileURL
        let packConfig = try policyPackConfigs.first.map { try PolicyPackConfig.load(URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL) }
        let (requests, settings) = try prepareRequests(cwd: cwd, clock: clock)
        let manifest = try PolicyManifest.load(packDirectory: packDir)

        let interpreter = try environment.manager().prepare(manifest, versions: runtime.versionRule)
        clock.mark("venv check")
        let (route, notice) = runtime.resolve(for: interpreter)
        if let notice { FileHandle.standardError.write(Data("\(notice)\n".utf8)) }
        Terminal.isolateStdout()
        let session: any AnalysisSession
        switch route {
        case .sdkServer:
            session = try SDKServerSession.start(python: interpreter.executable, isVenv: interpreter.isVenv,
                                                 manifest: manifest, settings: settings)
            clock.mark("start the SDK's analyzer and load pack")
        case .embedded, .auto:
            session = try PackSession.start(python: interpreter.executable, manifest: manifest, settings: settings)
            clock.mark("start interpreter and load pack")
        }
        let options = PackAnalysis.Options(applyRemediations: applyRemediations, config: packConfig)
        if let emitRequests {
            try RequestDump.write(to: URL(fileURLWithPath: emitRequests, relativeTo: cwd), session: session, settings: settings,
                                  requests: requests, options: options)
        }
        let report = try PackAnalysis.run(session, requests: consume requests, options: options, clock: clock)
        session.finish()
        for w in report.warnings { Terminal.warn(w) }
        // The JSON report goes straight into one byte buffer, never through a String.
        var bytes = format == .json ? JSON.serializeBytes(report.json, pretty: true) : Array(report.text.utf8)
        if format == .json { bytes.append(0x0A) }
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
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let stackURL = URL(fileURLWithPath: stackFile, relativeTo: cwd).standardizedFileURL
        let snapshot = try StackSnapshot.load(stackURL)  // bad input fails once, here
        if snapshot.encryptedSecrets > 0 {
            // A wrong passphrase, too: each pack's process derives the key again for itself.
            var secrets = StackSecrets(snapshot: snapshot, file: stackURL.path, passphrase: .environment())
            try secrets.prepare()
        }
        let stackConfigURL = stackConfig.map { URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL }
        if let stackConfigURL {
            _ = try StackConfigFile.load(stackConfigURL, project: project ?? (snapshot.project.isEmpty ? "project" : snapshot.project),
                                         passphrase: .environment())
        }
        var packs: [(label: String, dir: String, config: String?)] = []
        // With --policy-groups, the current directory is a pack only when named.
        for (i, p) in (policyPacks.isEmpty && policyGroups == nil ? ["."] : policyPacks).enumerated() {
            let dir = URL(fileURLWithPath: p, relativeTo: cwd).standardizedFileURL.path
            let config = i < policyPackConfigs.count ? URL(fileURLWithPath: policyPackConfigs[i], relativeTo: cwd).standardizedFileURL.path : nil
            packs.append((dir, dir, config))
        }
        let scratch = try ChildProcesses.makeScratchDirectory()
        if let policyGroups, let packStore {
            let org = organization ?? snapshot.organization ?? "organization"
            let ref = "\(org)/\(project ?? snapshot.project)/\(stack ?? snapshot.stack)"
            let groups = try PolicyGroups.load(URL(fileURLWithPath: policyGroups, relativeTo: cwd).standardizedFileURL)
            let store = PolicyStore()
            for ref in groups.resolve(stack: ref) {
                let archive = URL(fileURLWithPath: packStore, relativeTo: cwd).standardizedFileURL
                    .appendingPathComponent("\(ref.name)-v\(ref.versionLabel).tar.gz")
                guard FileManager.default.fileExists(atPath: archive.path) else {
                    throw HostError(.usage, "policy group '\(ref.group)' requires \(ref.name)@\(ref.versionLabel), but \(archive.path) does not exist",
                                    hint: "put the archive made by `policy-host pack` into --pack-store")
                }
                let installed = try store.install(archive: archive, org: org, name: ref.name, maxSize: 256 << 20,
                                                manager: environment.manager())
                var configPath: String?
                if !ref.config.isEmpty {
                    let f = scratch.appendingPathComponent("\(ref.name)-config.json")
                    try Data(JSON.serialize(.object(ref.config)).utf8).write(to: f)
                    configPath = f.path
                }
                packs.append(("\(ref.name)@\(ref.versionLabel) (policy group \(ref.group))", installed.directory.path, configPath))
            }
        }
        var shared: [String] = ["--format", "json", environment.verbose ? "--verbose" : "--quiet"]
        if applyRemediations { shared.append("--apply-remediations") }
        if preview { shared.append("--preview") }
        if let stackConfigURL { shared += ["--stack-config", stackConfigURL.path] }
        for c in config { shared += ["--config", c] }
        for t in stackTags { shared += ["--stack-tag", t] }
        if let stack { shared += ["--stack", stack] }
        if let project { shared += ["--project", project] }
        if let organization { shared += ["--organization", organization] }
        if let python = environment.python { shared += ["--python", python] }
        if runtime != .auto { shared += ["--runtime", runtime.rawValue] }
        let jobsList = packs.map { p in
            MultiPackRunner.Job(label: p.label, arguments: ["analyze", stackURL.path, "--policy-pack", p.dir]
                + (p.config.map { ["--policy-pack-config", $0] } ?? []) + shared)
        }
        let runner = MultiPackRunner(executable: Self.selfExecutable, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                                     timeout: timeout)
        let report = runner.run(jobsList)
        for w in report.warnings { Terminal.warn(w) }
        switch format {
        case .json: Terminal.writeReport(Data(JSON.serializeBytes(report.json, pretty: true) + [0x0A]))
        case .text: Terminal.writeReport(report.text)
        }
        Terminal.exit(report.exitStatus)
    }

    /// This binary, for child processes.
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Reads the stack file and builds the engine's requests and the stack settings.
    func prepareRequests(cwd: URL, clock: PhaseClock) throws -> (AnalysisRequests, StackSettings) {
        let stackURL = URL(fileURLWithPath: stackFile, relativeTo: cwd).standardizedFileURL
        let snapshot = try StackSnapshot.load(stackURL)
        let projectName = project ?? (snapshot.project.isEmpty ? "project" : snapshot.project)
        let stackName = stack ?? (snapshot.stack.isEmpty ? "stack" : snapshot.stack)
        let flags = config.map { kv in
            let (k, v) = Self.split(kv)
            return (k.contains(":") ? k : "\(projectName):\(k)", v)
        }
        // Stack config from Pulumi.<stack>.yaml, then --config over it.
        let stackSettingsFile = try stackConfig.map {
            try StackConfigFile.load(URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL, project: projectName,
                                     passphrase: .environment())
        }
        let overridden = Set(flags.map(\.0))
        let settings = StackSettings(
            organization: organization ?? snapshot.organization ?? "organization",
            project: projectName, stack: stackName,
            dryRun: preview || snapshot.format == .preview,
            config: (stackSettingsFile?.config ?? []).filter { !overridden.contains($0.0) } + flags,
            tags: stackTags.map(Self.split))
        clock.mark("read inputs")
        var secrets = StackSecrets(snapshot: snapshot, file: stackURL.path, passphrase: .environment())
        if snapshot.encryptedSecrets > 0 {
            try secrets.prepare()
            clock.mark("derive the secrets key")
        }
        var requests = try AnalysisRequests(snapshot: snapshot, project: projectName, stack: stackName, secrets: secrets)
        requests.warnings += stackSettingsFile?.warnings ?? []
        clock.mark("encode requests")
        return (requests, settings)
    }

    static func split(_ kv: String) -> (String, String) {
        guard let i = kv.firstIndex(of: "=") else { return (kv, "") }  // validate() made sure there is one
        return (String(kv[..<i]), String(kv[kv.index(after: i)...]))
    }
}

/// Writes the engine requests of a run, for the differential test against `python -m pulumi.policy`.
enum RequestDump {
    static func write(to url: URL, session: some AnalysisSession, settings: StackSettings, requests: AnalysisRequests,
                      options: PackAnalysis.Options) throws(HostError) {
        let reconciled = try PackAnalysis.reconciledConfig(info: session.info, options: options)
        let doc: PlainValue = .object(PlainObject([
            ("organization", .string(settings.organization)), ("project", .string(settings.project)),
            ("stack", .string(settings.stack)), ("dryRun", .bool(settings.dryRun ?? false)),
            ("config", .object(PlainObject(settings.config.map { ($0.0, .string($0.1)) }))),
            ("tags", .object(PlainObject(settings.tags.map { ($0.0, .string($0.1)) }))),
            ("policyConfig", PolicyConfiguration.plain(reconciled)),
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

extension PackRuntime: ExpressibleByArgument {}
