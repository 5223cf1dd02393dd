import ArgumentParser
import Foundation
import HostCore
import PolicyPack
import PolicyServer
import PolicyValues

/// `policy-host test [PACK_DIR]`: runs the pack's test cases (`policy-tests/*.yaml`) through the
/// pipeline `analyze` uses, all in one interpreter, and checks what each case expects.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a policy pack's test cases (policy-tests/*.yaml) through the same path as analyze.",
        discussion: "Exit status: 0 when every case passes, 1 when one fails (or, with --require-coverage, when a policy is not both made to fire and to pass), 2 for bad case files, 3–5 as for analyze."
    )

    @Argument(help: ArgumentHelp("The policy pack directory (default: the current directory).", valueName: "PACK_DIR"))
    var packDirectory: String?

    @Option(name: .long, help: ArgumentHelp("Run only the cases whose `file › name` contains this text.", valueName: "PATTERN"))
    var filter: String?

    @Option(name: .long, help: "The report on stdout.")
    var format: OutputFormat = .text

    @Option(name: .long, help: ArgumentHelp("Also write the results as JUnit XML to this file.", valueName: "FILE"))
    var junit: String?

    @Flag(name: .customLong("require-coverage"), help: "Fail unless every policy fires in some case and passes in another.")
    var requireCoverage = false

    @Flag(name: .long, help: "Write what each case without expectations observed into its `expect:` (other cases are not changed).")
    var update = false

    @Option(name: .customLong("update-case"), help: ArgumentHelp("Also rewrite the expectations of the case of this name (repeatable).", valueName: "NAME"))
    var updateCases: [String] = []

    @OptionGroup var environment: EnvironmentOptions

    func run() throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let dir = URL(fileURLWithPath: packDirectory ?? ".", relativeTo: cwd).standardizedFileURL
        let manifest = try PolicyManifest.load(packDirectory: dir)
        var cases: [PolicyTestCase] = []
        let files = try PolicyTestFile.files(in: dir)
        guard !files.isEmpty else {
            throw HostError(.usage, "\(dir.appendingPathComponent(PolicyTestFile.directoryName).path): no test cases (*.yaml)",
                            hint: "see README \"Testing your policies\" for the format")
        }
        for f in files {
            cases += try PolicyTestFile.load(f, label: PolicyTestFile.directoryName + "/" + f.lastPathComponent)
        }
        if let filter { cases = cases.filter { $0.label.contains(filter) } }
        guard !cases.isEmpty else {
            throw HostError(.usage, "no test case matches --filter \("\"\(filter ?? "")\"")")
        }
        let manager = environment.manager()
        let interpreter = try manager.prepare(manifest, versions: PackRuntime.embedded.versionRule)
        let first = try PolicyTestRunner.requests(for: cases[0]).1  // the settings the first case runs with
        Terminal.isolateStdout()
        let pack = try PackSession.start(python: interpreter.executable, manifest: manifest, settings: first)
        if pack.sdkPath.kind == .servicer { FileHandle.standardError.write(Data("running \(pack.sdkPath.description)\n".utf8)) }
        let session = SDKServerSession.session(for: pack)
        var results = try PolicyTestRunner.run(cases, session: session, startedWith: first) { settings throws(HostError) in
            do { _ = try pack.call("configure_stack", [settings.plainValue]) } catch {
                throw HostError(.policyError, "configuring the stack settings of a case: \(error)")
            }
        }
        let coverage = PolicyTestRunner.coverage(results, info: session.info)
        var updated = Set<String>()
        if update || !updateCases.isEmpty {
            updated = try Self.update(&results, chosen: { c in (update && c.expectations.isEmpty) || updateCases.contains(c.name) },
                                      info: session.info)
            for name in updateCases where !results.contains(where: { $0.testCase.name == name }) {
                throw HostError(.usage, "--update-case \"\(name)\": no case of this name was run")
            }
        }
        session.finish()
        if let junit {
            let url = URL(fileURLWithPath: junit, relativeTo: cwd).standardizedFileURL
            do { try Data(Self.junit(results, pack: session.info.name).utf8).write(to: url, options: .atomic) } catch {
                throw HostError(.usage, "cannot write \(url.path): \(error.localizedDescription)", hint: "--junit names the file the JUnit XML is written to")
            }
        }
        let failed = results.filter { !$0.passed }.count
        let uncovered = coverage.filter { !$0.complete }
        switch format {
        case .text: Terminal.writeReport(Self.text(results, coverage: coverage, updated: updated))
        case .json: Terminal.writeReport(Self.json(results, coverage: coverage))
        }
        if failed > 0 || (requireCoverage && !uncovered.isEmpty) { Terminal.exit(.violations) }
        Terminal.exit(.ok)
    }

    /// Writes the observed expectations of the chosen cases into their files, checks that the
    /// rewritten cases now hold, and marks them passed; returns their labels.
    static func update(_ results: inout [PolicyTestRunner.CaseResult], chosen: (PolicyTestCase) -> Bool,
                       info: AnalyzerInfo) throws(HostError) -> Set<String> {
        var byFile: [String: [(PolicyTestCase, [String])]] = [:]
        var order: [String] = []
        for r in results where chosen(r.testCase) {
            guard let path = r.testCase.layout?.path else {
                throw HostError(.usage, "\(r.testCase.label): the case is written in flow style ({…}); --update cannot add lines to it",
                                hint: "write the case in block style (one key per line)")
            }
            if byFile[path] == nil { order.append(path) }
            byFile[path, default: []].append((r.testCase, PolicyTestUpdate.observed(r, info: info)))
        }
        var updated = Set<String>()
        for path in order {
            let updates = byFile[path] ?? []
            try PolicyTestUpdate.write(updates, to: path)
            let label = updates.first?.0.file ?? path
            let reread = try PolicyTestFile.load(URL(fileURLWithPath: path), label: label)
            for (c, _) in updates {
                guard let i = results.firstIndex(where: { $0.testCase.label == c.label }),
                      let fresh = reread.first(where: { $0.name == c.name }) else { continue }
                let failures = PolicyTestRunner.check(fresh, report: results[i].report, info: info)
                guard failures.isEmpty else {
                    throw HostError(.internal, "\(c.label): the expectations written by --update do not hold: \(failures[0])")
                }
                results[i].testCase = fresh
                results[i].failures = []
                updated.insert(c.label)
            }
        }
        return updated
    }

    static func text(_ results: [PolicyTestRunner.CaseResult], coverage: [PolicyTestRunner.Coverage], updated: Set<String> = []) -> String {
        var lines: [String] = []
        for r in results {
            lines.append("\(updated.contains(r.testCase.label) ? "UPDATED" : r.passed ? "PASS" : "FAIL")  \(r.testCase.label)")
            for f in r.failures { lines.append("      " + f) }
        }
        let failed = results.filter { !$0.passed }.count
        lines.append("")
        lines.append("\(results.count) case\(results.count == 1 ? "" : "s"): \(results.count - failed) passed, \(failed) failed")
        let complete = coverage.filter(\.complete).count
        var cov = "coverage: \(complete) of \(coverage.count) policies fire in some case and pass in another"
        let missing = coverage.filter { !$0.complete }.map { c in
            "\(c.policy) (\([c.fires ? nil : "never fires", c.passes ? nil : "never passes"].compactMap { $0 }.joined(separator: ", ")))"
        }
        if !missing.isEmpty { cov += "; untested: " + missing.joined(separator: ", ") }
        lines.append(cov)
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ results: [PolicyTestRunner.CaseResult], coverage: [PolicyTestRunner.Coverage]) -> String {
        let cases: [PlainValue] = results.map { r in
            .object(PlainObject([("file", .string(r.testCase.file)), ("name", .string(r.testCase.name)),
                                 ("passed", .bool(r.passed)), ("failures", .array(r.failures.map { .string($0) })),
                                 ("seconds", .double(r.seconds)),
                                 // What the pack reported, as `analyze --format json` reports it.
                                 ("results", .object(PlainObject(["violations", "remediations", "notApplicable", "errors"].map { key in
                                     (key, r.report.json[key] ?? .array([]))
                                 })))]))
        }
        let failed = results.filter { !$0.passed }.count
        let cov: [PlainValue] = coverage.map { c in
            .object(PlainObject([("policy", .string(c.policy)), ("fires", .bool(c.fires)), ("passes", .bool(c.passes))]))
        }
        return JSON.serialize(.object(PlainObject([
            ("cases", .array(cases)),
            ("summary", .object(PlainObject([("cases", .int(results.count)), ("passed", .int(results.count - failed)), ("failed", .int(failed))]))),
            ("coverage", .array(cov)),
        ])), pretty: true) + "\n"
    }

    /// One test suite per case file, one test case per case; a failing case's reasons in its failure.
    static func junit(_ results: [PolicyTestRunner.CaseResult], pack: String) -> String {
        var files: [String] = []
        for r in results where !files.contains(r.testCase.file) { files.append(r.testCase.file) }
        let timestamp = JUnitReport(report: AnalysisReport()).timestamp
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        for (i, file) in files.enumerated() {
            let mine = results.filter { $0.testCase.file == file }
            let failures = mine.filter { !$0.passed }.count
            let time = mine.reduce(0) { $0 + $1.seconds }
            xml += "  <testsuite name=\"\(JUnitReport.attr(pack + " " + file))\" tests=\"\(mine.count)\" failures=\"\(failures)\" errors=\"0\" "
                + "skipped=\"0\" time=\"\(String(format: "%.3f", time))\" id=\"\(i)\" package=\"\(JUnitReport.attr(pack))\" "
                + "hostname=\"localhost\" timestamp=\"\(timestamp)\">\n    <properties/>\n"
            for r in mine {
                xml += "    <testcase name=\"\(JUnitReport.attr(r.testCase.name))\" classname=\"\(JUnitReport.attr(file))\" time=\"\(String(format: "%.3f", r.seconds))\""
                if r.passed {
                    xml += "/>\n"
                } else {
                    xml += ">\n      <failure message=\"\(JUnitReport.attr(r.failures.first ?? ""))\" type=\"expectation\">\(JUnitReport.text(r.failures.joined(separator: "\n")))</failure>\n    </testcase>\n"
                }
            }
            xml += "    <system-out/>\n    <system-err/>\n  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }
}
