import Foundation
import PolicyValues
import Testing

/// Each fixture pack × stack runs through policy-host and through the real SDK's
/// own gRPC server (`python -m pulumi.policy`, driven with the `pulumi` package's
/// stubs as the engine drives it); violations, remediations and not-applicable
/// results must be identical.
struct DifferentialCase: Sendable, CustomStringConvertible {
    var pack: String
    var stack: String
    var config: String? = nil
    var flags: [String] = []

    var description: String { "\(pack) × \(stack)\(config.map { " + \($0)" } ?? "")\(flags.isEmpty ? "" : " " + flags.joined(separator: " "))" }
}

let differentialCases: [DifferentialCase] = [
    .init(pack: "aws-basics", stack: "aws-webshop.json"),
    .init(pack: "aws-basics", stack: "aws-webshop.json", config: "aws-basics.json"),
    .init(pack: "aws-basics", stack: "intranet-checkpoint-v1.json"),
    .init(pack: "aws-basics", stack: "edge-preview.json"),
    .init(pack: "remediate-tags", stack: "aws-webshop.json"),
    .init(pack: "remediate-tags", stack: "aws-webshop.json", flags: ["--apply-remediations"]),
    .init(pack: "config-levels", stack: "aws-webshop.json"),
    .init(pack: "config-levels", stack: "aws-webshop.json", config: "config-levels.json"),
    .init(pack: "preview-unknowns", stack: "edge-preview.json"),
    .init(pack: "preview-unknowns", stack: "aws-webshop.json"),
    .init(pack: "assets-archives", stack: "thumbnailer-assets.json"),
    .init(pack: "not-applicable", stack: "aws-webshop.json", flags: ["--stack-tag", "env=prod"]),
    .init(pack: "not-applicable", stack: "storefront-k8s.json"),
    .init(pack: "async-checks", stack: "aws-webshop.json"),
    .init(pack: "async-checks", stack: "aws-webshop.json", flags: ["--apply-remediations"]),
    .init(pack: "raising-policy", stack: "aws-webshop.json"),
    .init(pack: "k8s-guard", stack: "storefront-k8s.json"),
    .init(pack: "k8s-guard", stack: "aws-webshop.json"),
    // Every read and write path of the properties, options and provider a policy is given.
    .init(pack: "proxy-probe", stack: "edge-preview.json"),
    .init(pack: "proxy-probe", stack: "aws-webshop.json"),
    .init(pack: "proxy-probe", stack: "thumbnailer-assets.json"),
    .init(pack: "proxy-probe", stack: "storefront-k8s.json"),
    .init(pack: "proxy-probe", stack: "key-permutations.json"),
    // Idioms of public packs: proxy type identity, key lists in messages, option and tag objects.
    .init(pack: "sdk-idioms", stack: "key-permutations.json"),
    .init(pack: "sdk-idioms", stack: "aws-webshop.json", flags: ["--stack-tag", "env=prod", "--stack-tag", "Owner=me"]),
    .init(pack: "sdk-idioms", stack: "edge-preview.json"),
    .init(pack: "sdk-idioms", stack: "thumbnailer-assets.json"),
]

@Suite(.serialized) struct DifferentialTests {
    @Test(arguments: differentialCases)
    func sameResultsAsTheSDKServer(_ c: DifferentialCase) throws {
        try expectSameResultsAsTheSDKServer(try preparedPack(c.pack), c)
    }

    /// A manifest whose `options:` is empty and whose `virtualenv:` is indented one level too high runs
    /// as under the CLI (yaml.v3 decodes the null map as empty and ignores the stray key): on the
    /// activated venv's Python, with one warning that names the mistake, and the same results.
    @Test func aPackWithAnEmptyOptionsSectionRunsAsUnderTheCLI() throws {
        let pack = try preparedPack("sdk-idioms")
        let venv = pack.appendingPathComponent("venv")
        try withTemporaryDirectory { tmp in
            let copy = tmp.appendingPathComponent("pack")
            try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            for file in ["__main__.py", "requirements.txt"] {
                try FileManager.default.copyItem(at: pack.appendingPathComponent(file), to: copy.appendingPathComponent(file))
            }
            try Data("runtime:\n  name: python\n  options:\n  virtualenv: venv\nversion: 1.0.0\n".utf8)
                .write(to: copy.appendingPathComponent("PulumiPolicy.yaml"))
            var env = ProcessInfo.processInfo.environment
            env["VIRTUAL_ENV"] = venv.path
            env["PATH"] = venv.appendingPathComponent("bin").path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            let args = ["analyze", Repo.stack("aws-webshop.json").path, "--format", "json"]
            let lenient = try policyHost(args + ["--policy-pack", copy.path], env: env)
            #expect(lenient.status == 0, "\(lenient.stderr)")
            let warnings = lenient.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") && $0.contains("PulumiPolicy.yaml") }
            #expect(warnings.count == 1 && warnings[0].contains("'runtime.virtualenv' is ignored"), "\(lenient.stderr)")
            let strict = try policyHost(args + ["--policy-pack", pack.path])
            #expect(strict.status == 0, "\(strict.stderr)")
            let a = try #require(lenient.json), b = try #require(strict.json)
            #expect(canonical(a["violations"]) == canonical(b["violations"]))
            #expect(!canonical(a["violations"]).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: copy.appendingPathComponent("venv").path), "no venv is made for a pack without one")
        }
    }

    private func canonical(_ v: PlainValue?) -> [String] { canonicalResults(v) }
}

/// Results as sorted, key-sorted JSON texts: results come in call order, which differs between runtimes
/// only where calls run concurrently; what a result holds is compared exactly.
func canonicalResults(_ v: PlainValue?) -> [String] {
    (v?.arrayValue ?? []).map { JSON.serialize($0, sortKeys: true) }.sorted()
}

/// The differential check of one case, with `pack` a prepared pack directory (its venv built): the
/// report of `policy-host analyze` and that of the pack venv's own `python -m pulumi.policy` driven
/// over gRPC as the engine drives it must hold identical violations, remediations and not-applicable
/// results, and fail the same calls.
///
/// With `sdk`, the SDK is that interpreter's (`SDKHarness`): the harness runs on a venv of the newest
/// `pulumi` and drives the older SDK with today's protocol, as the engine does.
/// Returns policy-host's run.
@discardableResult
func expectSameResultsAsTheSDKServer(_ pack: URL, _ c: DifferentialCase, sdk: SDKHarness? = nil) throws -> Run {
    try withTemporaryDirectory { tmp in
        let requests = tmp.appendingPathComponent("requests.json")
        // --show-secrets: the report holds exactly what the policies returned, as the SDK's does.
        var args = ["analyze", Repo.stack(c.stack).path, "--policy-pack", pack.path, "--format", "json", "--show-secrets",
                    "--emit-requests", requests.path] + c.flags
        if let config = c.config { args += ["--policy-pack-config", Repo.config(config).path] }
        let ours = try policyHost(args)
        #expect([0, 1, 5].contains(ours.status), "policy-host failed: \(ours.stderr)")
        let reference = try run([sdk?.harnessPython ?? pack.appendingPathComponent("venv/bin/python").path,
                                 Repo.root.appendingPathComponent("Tests/Differential/reference_driver.py").path,
                                 pack.path, requests.path], env: sdk?.environment)
        #expect(reference.status == 0, "reference driver failed: \(reference.stderr)")
        let a = try #require(ours.json, "policy-host printed no JSON: \(ours.stdout)")
        let b = try #require(reference.json, "reference printed no JSON: \(reference.stdout)")
        for key in ["violations", "remediations", "notApplicable"] {
            let mine = canonicalResults(a[key])
            let theirs = canonicalResults(b[key])
            #expect(mine == theirs, "\(key) differ for \(c)")
        }
        // A policy that raised: the SDK server fails that call; we must fail the same calls.
        let ourErrors = (a["errors"]?.arrayValue ?? []).map { "\($0["urn"]?.stringValue ?? "") \($0["phase"]?.stringValue ?? "")" }.sorted()
        let refErrors = (b["errors"]?.arrayValue ?? []).map { "\($0["urn"]?.stringValue ?? "") \($0["phase"]?.stringValue ?? "")" }.sorted()
        #expect(ourErrors == refErrors)
        for (mine, theirs) in zip((a["errors"]?.arrayValue ?? []), (b["errors"]?.arrayValue ?? [])) {
            let detail = theirs["message"]?.stringValue ?? ""
            let ourMessage = mine["message"]?.stringValue ?? ""
            let text = ourMessage.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            #expect(detail.contains(text), "error text differs: \(ourMessage) vs \(detail)")
        }
        return ours
    }
}

/// `policy-host serve` answers the engine's RPC sequence exactly as `python -m pulumi.policy` does
/// (Handshake and Cancel excepted, which the SDK leaves unimplemented), for every fixture case.
@Suite(.serialized) struct ServeConformanceTests {
    @Test(arguments: differentialCases)
    func sameResponsesAsTheSDKServer(_ c: DifferentialCase) throws {
        try expectServeConformance(try preparedPack(c.pack), c)
    }
}

/// The serve conformance check of one case with a prepared pack: the engine's RPC sequence sent to
/// `policy-host serve` and to `python -m pulumi.policy` gets the same responses.
func expectServeConformance(_ pack: URL, _ c: DifferentialCase, sdk: SDKHarness? = nil) throws {
    try withTemporaryDirectory { tmp in
        let requests = tmp.appendingPathComponent("requests.json")
        var args = ["analyze", "-q", Repo.stack(c.stack).path, "--policy-pack", pack.path, "--format", "json",
                    "--emit-requests", requests.path] + c.flags
        if let config = c.config { args += ["--policy-pack-config", Repo.config(config).path] }
        _ = try policyHost(args)
        let r = try run([sdk?.harnessPython ?? pack.appendingPathComponent("venv/bin/python").path,
                         Repo.root.appendingPathComponent("Tests/Differential/conformance.py").path,
                         Repo.binary, pack.path, requests.path], env: sdk?.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(r.json, "no report: \(r.stdout) \(r.stderr)")
        #expect((report["calls"]?.doubleValue ?? 0) >= 8)
        #expect(report["mismatches"]?.arrayValue?.isEmpty == true, "\(JSON.serialize(report["mismatches"] ?? .null, pretty: true))")
        #expect(report["exitedOnCancel"] == true)
    }
}

/// An SDK other than the pack venv's newest one, driven by a harness on a venv of the newest `pulumi`.
struct SDKHarness: Sendable {
    /// The interpreter whose SDK serves (`python -m pulumi.policy`).
    var sdkPython: String
    /// The harness's interpreter (its `pulumi` stubs speak today's protocol).
    var harnessPython: String

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["POLICY_HOST_SDK_PYTHON"] = sdkPython
        return env
    }
}
