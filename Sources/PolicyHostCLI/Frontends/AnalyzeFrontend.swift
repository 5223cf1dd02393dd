import Foundation
import HostCore
import PackStore
import PolicyPack
import PolicyServer
import PolicyValues
import PythonEnv

/// What `analyze` was asked to do, without the command line: the command builds it from its
/// options, tests and other frontends build it directly.
public struct AnalyzeInputs: Sendable {
    public var stackFile: URL
    /// Pack directories (empty: the current directory, unless policy groups name the packs).
    public var packs: [URL] = []
    /// The config file of the pack at the same position (or of the only pack).
    public var packConfigs: [URL] = []
    public var applyRemediations = false
    /// Show secrets in reports and output (`--show-secrets`); otherwise they are `[secret]`.
    public var showSecrets = false
    public var preview = false
    /// Stack config `KEY=VALUE` pairs as given; a key without `:` gets the project's namespace.
    public var config: [(String, String)] = []
    /// The stack's settings file (`Pulumi.<stack>.yaml`): its config is the stack config, secure
    /// values decrypted; `config` overrides it.
    public var stackConfig: URL?
    public var stackTags: [(String, String)] = []
    public var stack: String?
    public var project: String?
    public var organization: String?
    /// A policy-groups file and the directory of archives its packs come from (both or neither).
    public var policyGroups: URL?
    public var packStore: URL?
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var timeout: Double?
    public var runtime: PackRuntime = .auto
    /// Environment options, passed on to worker processes.
    public var python: String?
    public var verbose = false

    public init(stackFile: URL) {
        self.stackFile = stackFile
    }

    /// Several packs (or groups) run each in a worker process of their own; one pack runs here.
    public var runsSeveralPacks: Bool { packs.count > 1 || policyGroups != nil }
}

/// The `analyze` pipelines, as library calls that return reports: nothing here prints a report or
/// ends the process (the command does both).
public enum AnalyzeFrontend {
    /// One pack, in this process: read the inputs, prepare the venv, run the pack on the route the
    /// runtime option picks. Inputs fail before any environment work.
    public static func runPack(_ inputs: AnalyzeInputs, manager: VenvManager, clock: PhaseClock = PhaseClock(enabled: false),
                               emitRequests: URL? = nil, notice: (String) -> Void = { _ in },
                               beforeRunning: () -> Void = {},
                               redactOutput: (SecretRedactor) -> Void = { _ in }) throws(HostError) -> AnalysisReport {
        let packDir = inputs.packs.first ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let packConfig = try inputs.packConfigs.first.map { url throws(HostError) in try PolicyPackConfig.load(url) }
        let (requests, settings) = try prepareRequests(inputs, clock: clock)
        // From here on, what is shown has its secrets replaced, unless asked for (`--show-secrets`).
        var redactor = SecretRedactor()
        if !inputs.showSecrets {
            for value in requests.secretValues { redactor.add(value) }
            redactor.exempt(requests.resources.map(\.name) + requests.stackResources.map(\.name))
        }
        do {
            // Consumed: the pack's run releases each part of a large stack as soon as Python has it.
            let report = try runPack(inputs, packDir: packDir, packConfig: packConfig, requests: consume requests, settings: settings,
                                     manager: manager, clock: clock, emitRequests: emitRequests, notice: notice,
                                     beforeRunning: { beforeRunning(); redactOutput(redactor) })
            clock.mark("finish the session")
            guard !inputs.showSecrets else { return report }
            let redacted = report.redacted(by: redactor)
            clock.mark("redact report")
            return redacted
        } catch {
            throw inputs.showSecrets ? error : error.redacted(by: redactor)
        }
    }

    private static func runPack(_ inputs: AnalyzeInputs, packDir: URL, packConfig: PolicyPackConfig?, requests: consuming AnalysisRequests,
                                settings: StackSettings, manager: VenvManager, clock: PhaseClock, emitRequests: URL?,
                                notice: (String) -> Void, beforeRunning: () -> Void) throws(HostError) -> AnalysisReport {
        let manifest = try PolicyManifest.load(packDirectory: packDir)

        let interpreter = try manager.prepare(manifest, versions: inputs.runtime.versionRule)
        clock.mark("venv check")
        let (route, routeNotice) = inputs.runtime.resolve(for: interpreter)
        if let routeNotice { notice(routeNotice) }
        beforeRunning()
        let session: any AnalysisSession
        switch route {
        case .sdkServer:
            session = try SDKServerSession.start(python: interpreter.executable, isVenv: interpreter.isVenv,
                                                 manifest: manifest, settings: settings)
            clock.mark("start the SDK's analyzer and load pack")
        case .embedded, .auto:
            let pack = try PackSession.start(python: interpreter.executable, manifest: manifest, settings: settings)
            if pack.sdkPath.kind == .servicer { notice("running \(pack.sdkPath.description)") }
            session = SDKServerSession.session(for: pack)
            clock.mark("start interpreter and load pack")
        }
        let options = PackAnalysis.Options(applyRemediations: inputs.applyRemediations, config: packConfig,
                                           keepSecrecy: !inputs.showSecrets)
        if let emitRequests {
            try RequestDump.write(to: emitRequests, session: session, settings: settings, requests: requests, options: options)
        }
        let report = try PackAnalysis.run(session, requests: consume requests, options: options, clock: clock)
        session.finish()
        return report
    }

    /// Several packs: the named ones and those the policy groups require for this stack (installed
    /// from the pack store), each in a worker `executable analyze …` of its own, in parallel; the
    /// reports merged in pack order.
    public static func runSeveral(_ inputs: AnalyzeInputs, manager: VenvManager, executable: String) throws(HostError) -> AnalysisReport {
        let snapshot = try StackSnapshot.load(inputs.stackFile)  // bad input fails once, here
        if snapshot.encryptedSecrets > 0 {
            // A wrong passphrase, too: each pack's process derives the key again for itself.
            var secrets = StackSecrets(snapshot: snapshot, file: inputs.stackFile.path, passphrase: .environment())
            try secrets.prepare()
        }
        if let stackConfig = inputs.stackConfig {
            _ = try StackConfigFile.load(stackConfig, project: inputs.project ?? (snapshot.project.isEmpty ? "project" : snapshot.project),
                                         passphrase: .environment())
        }
        var packs: [(label: String, dir: String, config: String?)] = []
        // With policy groups, the current directory is a pack only when named.
        let named = inputs.packs.isEmpty && inputs.policyGroups == nil
            ? [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] : inputs.packs
        for (i, dir) in named.enumerated() {
            packs.append((dir.path, dir.path, i < inputs.packConfigs.count ? inputs.packConfigs[i].path : nil))
        }
        let scratch = try ChildProcesses.makeScratchDirectory()
        if let policyGroups = inputs.policyGroups, let packStore = inputs.packStore {
            let org = inputs.organization ?? snapshot.organization ?? "organization"
            let stackRef = "\(org)/\(inputs.project ?? snapshot.project)/\(inputs.stack ?? snapshot.stack)"
            let groups = try PolicyGroups.load(policyGroups)
            let store = PolicyStore()
            for ref in groups.resolve(stack: stackRef) {
                let archive = packStore.appendingPathComponent("\(ref.name)-v\(ref.versionLabel).tar.gz")
                guard FileManager.default.fileExists(atPath: archive.path) else {
                    throw HostError(.usage, "policy group '\(ref.group)' requires \(ref.name)@\(ref.versionLabel), but \(archive.path) does not exist",
                                    hint: "put the archive made by `policy-host pack` into --pack-store")
                }
                let installed = try store.install(archive: archive, org: org, name: ref.name, maxSize: 256 << 20, manager: manager)
                var configPath: String?
                if !ref.config.isEmpty {
                    let f = scratch.appendingPathComponent("\(ref.name)-config.json")
                    do { try Data(JSON.serialize(.object(ref.config)).utf8).write(to: f) } catch {
                        throw HostError(.environment, "could not write \(f.path): \(error.localizedDescription)")
                    }
                    configPath = f.path
                }
                packs.append(("\(ref.name)@\(ref.versionLabel) (policy group \(ref.group))", installed.directory.path, configPath))
            }
        }
        let shared = workerArguments(inputs)
        let jobs = packs.map { p in
            MultiPackRunner.Job(label: p.label, arguments: ["analyze", inputs.stackFile.path, "--policy-pack", p.dir]
                + (p.config.map { ["--policy-pack-config", $0] } ?? []) + shared)
        }
        var report = MultiPackRunner(executable: executable, jobs: inputs.jobs, timeout: inputs.timeout).run(jobs)
        report.resourceURNs = snapshot.live.map(\.urn)
        return report
    }

    /// The options every worker of a several-pack run gets: the same run, one pack, a JSON report.
    static func workerArguments(_ inputs: AnalyzeInputs) -> [String] {
        var args: [String] = ["--format", "json", inputs.verbose ? "--verbose" : "--quiet"]
        if inputs.applyRemediations { args.append("--apply-remediations") }
        if inputs.preview { args.append("--preview") }
        if inputs.showSecrets { args.append("--show-secrets") }
        if let stackConfig = inputs.stackConfig { args += ["--stack-config", stackConfig.path] }
        for (k, v) in inputs.config { args += ["--config", "\(k)=\(v)"] }
        for (k, v) in inputs.stackTags { args += ["--stack-tag", "\(k)=\(v)"] }
        if let stack = inputs.stack { args += ["--stack", stack] }
        if let project = inputs.project { args += ["--project", project] }
        if let organization = inputs.organization { args += ["--organization", organization] }
        if let python = inputs.python { args += ["--python", python] }
        if inputs.runtime != .auto { args += ["--runtime", inputs.runtime.rawValue] }
        return args
    }

    /// Reads the stack file and builds the engine's requests and the stack settings.
    static func prepareRequests(_ inputs: AnalyzeInputs, clock: PhaseClock) throws(HostError) -> (AnalysisRequests, StackSettings) {
        let snapshot = try StackSnapshot.load(inputs.stackFile)
        let projectName = inputs.project ?? (snapshot.project.isEmpty ? "project" : snapshot.project)
        let stackName = inputs.stack ?? (snapshot.stack.isEmpty ? "stack" : snapshot.stack)
        let flags = inputs.config.map { (k, v) in (k.contains(":") ? k : "\(projectName):\(k)", v) }
        // Stack config from Pulumi.<stack>.yaml, then --config over it.
        let stackSettingsFile = try inputs.stackConfig.map { (url) throws(HostError) in
            try StackConfigFile.load(url, project: projectName, passphrase: .environment())
        }
        let overridden = Set(flags.map(\.0))
        let settings = StackSettings(
            organization: inputs.organization ?? snapshot.organization ?? "organization",
            project: projectName, stack: stackName,
            dryRun: inputs.preview || snapshot.format == .preview,
            config: (stackSettingsFile?.config ?? []).filter { !overridden.contains($0.0) } + flags,
            tags: inputs.stackTags)
        clock.mark("read inputs")
        var secrets = StackSecrets(snapshot: snapshot, file: inputs.stackFile.path, passphrase: .environment())
        if snapshot.encryptedSecrets > 0 {
            try secrets.prepare()
            clock.mark("derive the secrets key")
        }
        var requests = try AnalysisRequests(snapshot: snapshot, project: projectName, stack: stackName, secrets: secrets)
        requests.warnings += stackSettingsFile?.warnings ?? []
        requests.secretValues += (stackSettingsFile?.secretValues ?? []).map { .string($0) }
        clock.mark("encode requests")
        return (requests, settings)
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
