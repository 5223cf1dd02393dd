import Foundation
import PolicyValues
import Testing
import HostCore
import PythonEnv
import PolicyPack

/// `--runtime sdk-server`: the SDK's own analyzer (`python -m pulumi.policy`) on the pack's own
/// interpreter, driven over gRPC, must give the report the embedded runtime gives — violations,
/// remediations, not-applicable results, errors (policy, phase, type and text), the packs, the
/// summary and the exit status — on the embedded version's venv and on venvs of Python 3.10, 3.12
/// and 3.13 (pyenv's interpreters; a version whose interpreter is absent is skipped, saying so).
struct RouteCase: Sendable, CustomStringConvertible {
    var pack: String
    var stack: String
    var config: String? = nil
    var flags: [String] = []

    var description: String { "\(pack) × \(stack)\(config.map { " + \($0)" } ?? "")\(flags.isEmpty ? "" : " " + flags.joined(separator: " "))" }

    func arguments(pack dir: URL) -> [String] {
        ["analyze", "-q", Repo.stack(stack).path, "--policy-pack", dir.path, "--format", "json"] + flags
            + (config.map { ["--policy-pack-config", Repo.config($0).path] } ?? [])
    }
}

let routeCases: [RouteCase] = [
    .init(pack: "aws-basics", stack: "aws-webshop.json"),
    .init(pack: "aws-basics", stack: "aws-webshop.json", config: "aws-basics.json"),
    .init(pack: "aws-basics", stack: "intranet-checkpoint-v1.json"),
    .init(pack: "aws-basics", stack: "edge-preview.json"),
    .init(pack: "remediate-tags", stack: "aws-webshop.json"),
    .init(pack: "remediate-tags", stack: "aws-webshop.json", flags: ["--apply-remediations"]),
    .init(pack: "raising-policy", stack: "aws-webshop.json"),
    .init(pack: "config-levels", stack: "aws-webshop.json"),
    .init(pack: "config-levels", stack: "aws-webshop.json", config: "config-levels.json"),
    .init(pack: "preview-unknowns", stack: "edge-preview.json"),
    .init(pack: "not-applicable", stack: "aws-webshop.json", flags: ["--stack-tag", "env=prod"]),
    .init(pack: "not-applicable", stack: "storefront-k8s.json"),
    .init(pack: "async-checks", stack: "aws-webshop.json", flags: ["--apply-remediations"]),
    .init(pack: "assets-archives", stack: "thumbnailer-assets.json"),
    .init(pack: "k8s-guard", stack: "storefront-k8s.json"),
    .init(pack: "proxy-probe", stack: "aws-webshop.json"),
]

/// The cases run again on each other Python version: one of each kind (proxy-probe reports type
/// names, which are each interpreter's own business).
let otherVersionCases: [RouteCase] = [
    routeCases[1], routeCases[2], routeCases[3], routeCases[5], routeCases[6], routeCases[8], routeCases[9],
    routeCases[10], routeCases[12], routeCases[13],
]

/// A report reduced to what must be identical between the routes (order-insensitive where the
/// engine promises no order; tracebacks differ by nature, the frames being different code).
func comparableReport(_ r: Run) -> [String: [String]] {
    guard let json = r.json else { return ["unparsed": [r.stdout]] }
    var out: [String: [String]] = ["status": ["\(r.status)"]]
    for key in ["violations", "remediations", "notApplicable", "policyPacks", "warnings"] {
        out[key] = (json[key]?.arrayValue ?? []).map { JSON.serialize($0, sortKeys: true) }.sorted()
    }
    out["errors"] = (json["errors"]?.arrayValue ?? []).map { e in
        ["policyPackName", "policyPackVersion", "policyName", "urn", "phase", "message"].map { e[$0]?.stringValue ?? "-" }
            .joined(separator: " | ")
    }.sorted()
    out["summary"] = [JSON.serialize(json["summary"] ?? .null, sortKeys: true)]
    return out
}

/// Embedded reports, computed once per case and shared by the tests that compare against them.
final class EmbeddedReports: @unchecked Sendable {
    static let shared = EmbeddedReports()
    private let lock = NSLock()
    private var reports: [String: [String: [String]]] = [:]

    func report(_ c: RouteCase) throws -> [String: [String]] {
        lock.lock()
        if let r = reports[c.description] { lock.unlock(); return r }
        lock.unlock()
        let run = try policyHost(c.arguments(pack: try preparedPack(c.pack)) + ["--runtime", "embedded"])
        #expect([0, 1, 5].contains(run.status), "embedded run of \(c) failed: \(run.stderr)")
        let r = comparableReport(run)
        lock.lock()
        reports[c.description] = r
        lock.unlock()
        return r
    }
}

/// Venvs of other Python versions, made from pyenv's interpreters with the fixture packs'
/// requirements (the same for every pack). They are kept in the temporary directory between runs
/// (keyed by version and requirements), so only the first run pays for pip.
enum OtherPythons {
    static let requirements = Repo.pack("aws-basics").appendingPathComponent("requirements.txt")

    static var pyenvRoot: String {
        if let root = ProcessInfo.processInfo.environment["PYENV_ROOT"], !root.isEmpty { return root }
        if let pyenv = Subprocess.which("pyenv"), let r = try? run([pyenv, "root"]), r.status == 0 {
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return NSHomeDirectory() + "/.pyenv"
    }

    /// `$(pyenv root)/versions/<minor>.*/bin/python3`, the newest patch release.
    static func interpreter(_ minor: String) -> String? {
        let versions = URL(fileURLWithPath: pyenvRoot).appendingPathComponent("versions")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: versions.path)) ?? [])
            .filter { $0.hasPrefix(minor + ".") && $0.dropFirst(minor.count + 1).allSatisfy(\.isNumber) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard let name = names.last else { return nil }
        let python = versions.appendingPathComponent("\(name)/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: python) ? python : nil
    }

    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-sdk-server-venvs")

    /// The venv for `minor`, made if needed; a reason when it cannot be.
    static func venv(_ minor: String) -> Result<URL, SkipReason> {
        lock.lock()
        defer { lock.unlock() }
        if let made = made[minor] { return made }
        let result = makeVenv(minor)
        made[minor] = result
        return result
    }

    struct SkipReason: Error, CustomStringConvertible { var description: String }
    nonisolated(unsafe) private static var made: [String: Result<URL, SkipReason>] = [:]
    private static let lock = NSLock()

    /// Makes the venvs of all versions at once (pip is mostly waiting on the network).
    static func prepareAll(_ minors: [String]) {
        DispatchQueue.concurrentPerform(iterations: minors.count) { i in _ = venv(minors[i]) }
    }

    private static func makeVenv(_ minor: String) -> Result<URL, SkipReason> {
        guard let python = interpreter(minor) else {
            return .failure(SkipReason(description: "no Python \(minor) under \(pyenvRoot)/versions"))
        }
        let req = (try? String(contentsOf: requirements, encoding: .utf8)) ?? ""
        let dir = cache.appendingPathComponent("py\(minor)-\(stableKey(python + "\n" + req))")
        let python3 = dir.appendingPathComponent("bin/python").path
        if let probe = try? run([python3, "-c", "import pulumi_policy, pulumi.policy"]), probe.status == 0 {
            return .success(dir)
        }
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        do {
            let made = try run([python, "-m", "venv", dir.path])
            guard made.status == 0 else { return .failure(SkipReason(description: "\(python) -m venv failed: \(made.stderr)")) }
            let pip = try run([python3, "-m", "pip", "install", "-q", "-r", requirements.path])
            guard pip.status == 0 else {
                try? FileManager.default.removeItem(at: dir)
                Issue.record("pip install into the Python \(minor) venv failed: \(pip.stderr)")
                return .failure(SkipReason(description: "pip failed"))
            }
        } catch {
            return .failure(SkipReason(description: "\(error)"))
        }
        return .success(dir)
    }

    private static func stableKey(_ s: String) -> String {
        var h: UInt32 = 2166136261
        for b in s.utf8 { h = (h ^ UInt32(b)) &* 16777619 }
        return String(h, radix: 16)
    }

    /// A copy of a fixture pack (without its venv) whose `virtualenv` is `venv`.
    static func pack(_ name: String, venv: URL, in dir: URL) throws -> URL {
        let copy = dir.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: copy.path) { return copy }
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: Repo.pack(name).path) where entry != "venv" && entry != "__pycache__" {
            try FileManager.default.copyItem(at: Repo.pack(name).appendingPathComponent(entry), to: copy.appendingPathComponent(entry))
        }
        let yaml = copy.appendingPathComponent("PulumiPolicy.yaml")
        let text = try String(contentsOf: yaml, encoding: .utf8)
        #expect(text.contains("virtualenv: venv"))
        try text.replacingOccurrences(of: "virtualenv: venv", with: "virtualenv: \(venv.path)").write(to: yaml, atomically: true, encoding: .utf8)
        return copy
    }
}

@Suite(.serialized) struct SDKServerRouteTests {
    /// The same venv, both routes.
    @Test(arguments: routeCases)
    func sdkServerGivesTheEmbeddedReport(_ c: RouteCase) throws {
        let pack = try preparedPack(c.pack)
        let oop = try policyHost(c.arguments(pack: pack) + ["--runtime", "sdk-server"])
        #expect([0, 1, 5].contains(oop.status), "sdk-server run of \(c) failed: \(oop.stderr)")
        #expect(!oop.stderr.contains("running out of process"), "a chosen route needs no notice")
        let mine = comparableReport(oop)
        let reference = try EmbeddedReports.shared.report(c)
        for key in Set(mine.keys).union(reference.keys).sorted() {
            #expect(mine[key] == reference[key], "\(key) differ for \(c)")
        }
    }

    /// Venvs of Python 3.10, 3.12 and 3.13: the automatic route takes them out of process, says so
    /// in one line, and the reports are those of the embedded runtime on 3.11.
    @Test(arguments: ["3.10", "3.12", "3.13"])
    func otherPythonVersionsGiveTheSameReports(_ minor: String) throws {
        OtherPythons.prepareAll(["3.10", "3.12", "3.13"])
        let venv: URL
        switch OtherPythons.venv(minor) {
        case .success(let v): venv = v
        case .failure(let reason):
            print("skipping Python \(minor): \(reason)")
            return
        }
        try withTemporaryDirectory { dir in
            for c in otherVersionCases {
                let pack = try OtherPythons.pack(c.pack, venv: venv, in: dir)
                let r = try policyHost(c.arguments(pack: pack))
                #expect([0, 1, 5].contains(r.status), "Python \(minor): \(c) failed: \(r.stderr)")
                let notices = r.stderr.split(separator: "\n").filter { $0.hasPrefix("running out of process") }
                #expect(notices == ["running out of process: the venv uses Python \(minor); the embedded fast path needs \(VenvPlan.minor(VenvManager.embeddedVersion))"],
                        "\(r.stderr)")
                let mine = comparableReport(r)
                let reference = try EmbeddedReports.shared.report(c)
                for key in Set(mine.keys).union(reference.keys).sorted() {
                    #expect(mine[key] == reference[key], "Python \(minor): \(key) differ for \(c)")
                }
            }
            // The interpreter named by PULUMI_PYTHON_CMD, for a pack without a venv, goes the same way.
            let ambient = try dir.appendingPathComponent("ambient").creatingDirectory()
            for entry in ["__main__.py", "requirements.txt"] {
                try FileManager.default.copyItem(at: Repo.pack("aws-basics").appendingPathComponent(entry), to: ambient.appendingPathComponent(entry))
            }
            try "runtime: python\nversion: 1.2.0\n".write(to: ambient.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            var env = ProcessInfo.processInfo.environment
            env["PULUMI_PYTHON_CMD"] = venv.appendingPathComponent("bin/python").path
            env.removeValue(forKey: "VIRTUAL_ENV")
            let c = RouteCase(pack: "aws-basics", stack: "aws-webshop.json")
            let r = try policyHost(c.arguments(pack: ambient), env: env)
            #expect(r.stderr.contains("running out of process: \(venv.path)/bin/python"), "\(r.stderr)")
            #expect(comparableReport(r) == (try EmbeddedReports.shared.report(c)))
        }
    }

    /// `--runtime embedded` keeps the old rule: a venv of another version that policy-host did not
    /// make is refused, and left exactly as it was.
    @Test func embeddedRouteRefusesAnotherVersionAndKeepsTheVenv() throws {
        guard case .success(let venv) = OtherPythons.venv("3.12") else {
            print("skipping: no Python 3.12 venv")
            return
        }
        try withTemporaryDirectory { dir in
            let pack = try OtherPythons.pack("aws-basics", venv: venv, in: dir)
            let before = try FileManager.default.contentsOfDirectory(atPath: venv.path).sorted()
            let r = try policyHost(RouteCase(pack: "aws-basics", stack: "aws-webshop.json").arguments(pack: pack) + ["--runtime", "embedded"])
            #expect(r.status == 3, "\(r.stderr)")
            #expect(r.stderr.contains("policy-host did not create this venv, so it will not rebuild it"), "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: venv.path).sorted() == before)
            #expect(FileManager.default.isExecutableFile(atPath: venv.appendingPathComponent("bin/python").path))
        }
    }

    /// A pack of its own: every way a policy can fail one call — an exception, a `sys.exit()` and a
    /// `KeyboardInterrupt` (which gRPC's server never answers), in Remediate, Analyze and
    /// AnalyzeStack — is that call's error, with the policy's name and the type, in both routes.
    @Test func policyFaultsAreTheSameCallsFailingInBothRoutes() throws {
        try withTemporaryDirectory { dir in
            let pack = try faultPack(in: dir, main: """
            import sys
            from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy)

            def raises(args, report):
                if args.resource_type == "aws:s3/bucket:Bucket":
                    report("seen")
                    raise ValueError("bucket " + args.name)

            def exits(args, report):
                if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
                    sys.exit(3)
                report("fine " + args.name)

            def fix(args):
                if args.resource_type == "aws:ec2/instance:Instance":
                    raise KeyboardInterrupt()
                return None

            def stack(args, report):
                raise LookupError("no " + str(len(args.resources)))

            PolicyPack(name="faults", enforcement_level=EnforcementLevel.ADVISORY, policies=[
                ResourceValidationPolicy(name="raises", description="d", validate=raises),
                ResourceValidationPolicy(name="exits", description="d", validate=exits),
                ResourceValidationPolicy(name="fix", description="d", remediate=fix,
                                         enforcement_level=EnforcementLevel.REMEDIATE),
                StackValidationPolicy(name="stack", description="d", validate=stack),
            ])
            """)
            let args = ["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", pack.path, "--format", "json", "--timeout", "120"]
            let embedded = try policyHost(args + ["--runtime", "embedded"])
            let oop = try policyHost(args + ["--runtime", "sdk-server"])
            #expect(embedded.status == 5, "\(embedded.stderr)")
            #expect(oop.status == 5, "\(oop.stderr)")
            let a = comparableReport(embedded), b = comparableReport(oop)
            for key in Set(a.keys).union(b.keys).sorted() { #expect(a[key] == b[key], "\(key) differ") }
            let errors = (oop.json?["errors"]?.arrayValue ?? []).map { "\($0["policyName"]?.stringValue ?? "") \($0["phase"]?.stringValue ?? "")" }
            #expect(Set(errors) == ["raises analyze", "exits analyze", "fix remediate", "stack analyzeStack"])
            let messages = (oop.json?["errors"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
            #expect(messages.contains("SystemExit: 3"))
            #expect(messages.contains("KeyboardInterrupt: "))
            #expect(messages.contains { $0.hasPrefix("LookupError: no ") })
        }
    }

    /// The pack's process ending is the pack failing (exit 4), in both routes; so is a pack whose
    /// `__main__.py` raises.
    @Test func thePackEndingIsAPackFailure() throws {
        try withTemporaryDirectory { dir in
            let exits = try faultPack(in: dir, name: "exits", main: """
            import os
            from pulumi_policy import PolicyPack, ResourceValidationPolicy
            PolicyPack(name="exits", policies=[ResourceValidationPolicy(name="bye", description="d", validate=lambda a, r: os._exit(9))])
            """)
            let broken = try faultPack(in: dir, name: "broken", main: """
            print("loading")
            raise RuntimeError("no pack today")
            """)
            for runtime in ["embedded", "sdk-server"] {
                let r = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", exits.path, "--runtime", runtime])
                #expect(r.status == 4, "\(runtime): \(r.stderr)")
                #expect(r.stdout.isEmpty)
                let b = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", broken.path, "--runtime", runtime])
                #expect(b.status == 4, "\(runtime): \(b.stderr)")
                #expect(b.stderr.contains("no pack today"), "\(runtime): \(b.stderr)")
                #expect(b.stderr.contains("loading"), "\(runtime): \(b.stderr)")
            }
            let oop = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", exits.path, "--runtime", "sdk-server"])
            #expect(oop.stderr.contains("exited with status 9"), "\(oop.stderr)")
        }
    }

    /// A pack in `dir` on the embedded version's fixture venv (shared, not rebuilt).
    func faultPack(in dir: URL, name: String = "faults", main: String) throws -> URL {
        let pack = try dir.appendingPathComponent(name).creatingDirectory()
        let venv = try preparedPack("aws-basics").appendingPathComponent("venv")
        try "runtime:\n  name: python\n  options:\n    virtualenv: \(venv.path)\nversion: 0.0.1\n"
            .write(to: pack.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
        try main.write(to: pack.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Repo.pack("aws-basics").appendingPathComponent("requirements.txt"),
                                         to: pack.appendingPathComponent("requirements.txt"))
        return pack
    }
}
