import Foundation
import Synchronization
import PolicyValues
import Testing
import TestSupport

/// The release matrix: every fixture pack on each pulumi-policy release that packs in the field pin,
/// each with the `pulumi` of its day, against **that release's own** `python -m pulumi.policy`
/// (driven by a harness speaking today's protocol, as the engine does). Where the release runs the
/// pack, `analyze` and `serve` give identical results; where it cannot, policy-host fails with the
/// pack's own error (exit 4). Releases the fast path is not proven on must take the SDK's servicer.
///
/// One venv per release, built once under the prepared-packs directory and kept between runs; every
/// pack copy of a release uses it (same requirements, so `install` finds it fresh).
struct MatrixRelease: Sendable, CustomStringConvertible {
    var id: String
    var policy: String
    var requirements: String
    /// Whether the fast path is proven on it (`sdk_support.FAST_PATH_RELEASES`).
    var fast: Bool

    var description: String { "pulumi-policy \(id)" }
}

let matrixReleases: [MatrixRelease] = [
    // Binary wheels only on CPython 3.11: pulumi 3.34–3.41 pin a grpcio without a 3.11 wheel, and
    // pulumi before 3.x's protobuf 4 support needs protobuf 3.
    .init(id: "1.3.0", policy: "1.3.0", requirements: "pulumi-policy==1.3.0\npulumi<=3.1.0\nprotobuf<4\n", fast: false),
    .init(id: "1.5.0", policy: "1.5.0", requirements: "pulumi-policy==1.5.0\npulumi<=3.33.1\nprotobuf<4\n", fast: false),
    .init(id: "1.8.0", policy: "1.8.0", requirements: "pulumi-policy==1.8.0\npulumi<=3.88.0\n", fast: false),
    .init(id: "1.11.0", policy: "1.11.0", requirements: "pulumi-policy==1.11.0\npulumi<=3.113.0\n", fast: false),
    .init(id: "1.13.0", policy: "1.13.0", requirements: "pulumi-policy==1.13.0\npulumi<=3.136.1\n", fast: false),
    .init(id: "1.16.0", policy: "1.16.0", requirements: "pulumi-policy==1.16.0\npulumi<=3.181.0\n", fast: false),
    .init(id: "1.18.0", policy: "1.18.0", requirements: "pulumi-policy==1.18.0\npulumi<=3.197.0\n", fast: false),
    .init(id: "1.19.0", policy: "1.19.0", requirements: "pulumi-policy==1.19.0\npulumi<=3.203.0\n", fast: false),
    .init(id: "1.21.0", policy: "1.21.0", requirements: "pulumi-policy==1.21.0\n", fast: true),
    // An older SDK with the newest `pulumi` it accepts.
    .init(id: "1.13.0-newest-pulumi", policy: "1.13.0", requirements: "pulumi-policy==1.13.0\npulumi>=3.180\n", fast: false),
]

/// One stack per pack (the differential suite covers the rest on the newest SDK).
let matrixPacks: [DifferentialCase] = [
    .init(pack: "legacy-sdk", stack: "aws-webshop.json"),
    .init(pack: "legacy-sdk", stack: "edge-preview.json"),
    .init(pack: "aws-basics", stack: "aws-webshop.json"),
    .init(pack: "remediate-tags", stack: "aws-webshop.json", flags: ["--apply-remediations"]),
    .init(pack: "config-levels", stack: "aws-webshop.json", config: "config-levels.json"),
    .init(pack: "preview-unknowns", stack: "edge-preview.json"),
    .init(pack: "assets-archives", stack: "thumbnailer-assets.json"),
    .init(pack: "not-applicable", stack: "storefront-k8s.json"),
    .init(pack: "async-checks", stack: "aws-webshop.json"),
    .init(pack: "raising-policy", stack: "aws-webshop.json"),
    .init(pack: "k8s-guard", stack: "storefront-k8s.json"),
    .init(pack: "proxy-probe", stack: "edge-preview.json"),
    .init(pack: "sdk-idioms", stack: "aws-webshop.json", flags: ["--stack-tag", "env=prod"]),
]

@Suite(.serialized) struct SDKReleaseMatrixTests {
    static let root = FixtureCopy.preparedRoot.appendingPathComponent("release-matrix")

    /// The release's venv: `<root>/<id>/legacy-sdk/venv`, made by `policy-host install` of the
    /// legacy-sdk pack with the release's requirements (a no-op while fresh).
    static func venv(_ release: MatrixRelease) throws -> URL {
        let known = root.appendingPathComponent("\(release.id)/legacy-sdk/venv")
        if checked.withLock({ $0.contains(release.id) }) { return known }
        let pack = try copy("legacy-sdk", release, venv: nil)
        let r = try policyHost(["install", "--quiet", pack.path])
        try #require(r.status == 0, "install of \(release) failed: \(r.stderr)")
        let venv = pack.appendingPathComponent("venv")
        let version = try run([venv.appendingPathComponent("bin/python").path, "-c",
                               "from importlib import metadata; print(metadata.version('pulumi-policy'))"])
        try #require(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == release.policy, "\(version.stderr)")
        checked.withLock { _ = $0.insert(release.id) }
        return venv
    }

    /// Releases whose venv this process has installed and checked.
    static let checked = Mutex<Set<String>>([])

    /// `<root>/<id>/<pack>`: the fixture pack's files with the release's requirements, and its
    /// `virtualenv:` at `venv` (the release's shared venv) when given. Only under the prepared root,
    /// which tests alone create: everything but a venv is replaced.
    static func copy(_ name: String, _ release: MatrixRelease, venv: URL?) throws -> URL {
        let fm = FileManager.default
        let dir = root.appendingPathComponent("\(release.id)/\(name)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        for entry in try fm.contentsOfDirectory(atPath: dir.path) where entry != "venv" {
            try fm.removeItem(at: dir.appendingPathComponent(entry))
        }
        let source = FixtureCopy.fixturePack(name)
        for entry in try fm.contentsOfDirectory(atPath: source.path) where entry != "venv" {
            try fm.copyItem(at: source.appendingPathComponent(entry), to: dir.appendingPathComponent(entry))
        }
        try Data(release.requirements.utf8).write(to: dir.appendingPathComponent("requirements.txt"))
        if let venv {
            let yaml = dir.appendingPathComponent("PulumiPolicy.yaml")
            let text = try String(contentsOf: yaml, encoding: .utf8)
            try #require(text.contains("virtualenv: venv"))
            try Data(text.replacingOccurrences(of: "virtualenv: venv", with: "virtualenv: \(venv.path)").utf8).write(to: yaml)
        }
        return dir
    }

    /// A harness on the newest `pulumi` (the aws-basics fixture's venv) driving the release's SDK.
    static func harness(_ venv: URL) throws -> SDKHarness {
        let newest = try preparedPack("aws-basics").appendingPathComponent("venv/bin/python")
        return SDKHarness(sdkPython: venv.appendingPathComponent("bin/python").path, harnessPython: newest.path)
    }

    @Test(arguments: matrixReleases, matrixPacks)
    func sameResultsAsThatReleasesOwnServer(_ release: MatrixRelease, _ c: DifferentialCase) throws {
        let venv = try Self.venv(release)
        let pack = c.pack == "legacy-sdk" ? try Self.copy("legacy-sdk", release, venv: nil) : try Self.copy(c.pack, release, venv: venv)
        let sdk = try Self.harness(venv)
        let loads = try run([sdk.harnessPython, Repo.root.appendingPathComponent("Tests/Differential/reference_driver.py").path,
                             pack.path, "--load-only"], env: sdk.environment)
        let verdict = try #require(loads.json, "\(loads.stderr)")
        guard verdict["loaded"] == true else {
            // The release cannot run the pack: the pack's own error, as the CLI shows it.
            var args = ["analyze", "-q", Repo.stack(c.stack).path, "--policy-pack", pack.path, "--format", "json"] + c.flags
            if let config = c.config { args += ["--policy-pack-config", Repo.config(config).path] }
            let ours = try policyHost(args)
            let error = verdict["error"]?.stringValue ?? ""
            #expect(ours.status == 4, "\(ours.stderr)")
            let first = ours.stderr.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.hasPrefix("error: ") && !error.isEmpty && first.contains(error), "expected \(error) in: \(first)")
            #expect(!ours.stderr.contains("add pulumi-policy to"), "no hint to add an SDK that is installed: \(ours.stderr)")
            if error.contains("'pulumi_policy'") {
                #expect(ours.stderr.contains("hint: the pack uses a part of the SDK that pulumi-policy \(release.policy) in its environment does not have"),
                        "\(ours.stderr)")
            }
            return
        }
        let ours = try expectSameResultsAsTheSDKServer(pack, c, sdk: sdk)
        let path = ours.stderr.contains("the SDK's own servicer, in process")
        #expect(path == !release.fast, "expected the \(release.fast ? "fast path" : "SDK's servicer") on \(release): \(ours.stderr)")
        if c.pack == "legacy-sdk" && c.stack == "aws-webshop.json" {
            let doctor = try policyHost(["doctor", pack.path])
            let line = doctor.stdout.split(separator: "\n").first { $0.hasPrefix("sdk: ") }.map(String.init) ?? ""
            #expect(line.hasPrefix("sdk: pulumi-policy \(release.policy) with pulumi ") &&
                    line.contains(release.fast ? ": the fast path (" : ": the SDK's own servicer, in process ("), "\(doctor.stdout)")
            // `policy-host test` takes the same path (the pack's policy-tests/cases.yaml).
            let tests = try policyHost(["test", pack.path])
            #expect(tests.status == 0 && tests.stdout.contains("2 cases: 2 passed, 0 failed"), "\(tests.stdout)\n\(tests.stderr)")
            #expect(tests.stderr.contains("the SDK's own servicer, in process") == !release.fast, "\(tests.stderr)")
        }
        try expectServeConformance(pack, c, sdk: sdk)
    }

    /// A release outside 1.3.0–1.x (a hand-made, activated venv holding only its metadata): one error
    /// naming the release and the range, exit 4, before anything of the pack runs; doctor says the same.
    @Test(arguments: ["0.9.0", "2.0.0"])
    func aReleaseOutsideTheRangeIsRefusedByName(_ version: String) throws {
        try withTemporaryDirectory { tmp in
            let venv = tmp.appendingPathComponent("venv")
            let made = try run(["/usr/bin/python3.11", "-m", "venv", "--without-pip", venv.path])
            try #require(made.status == 0, "\(made.stderr)")
            let site = venv.appendingPathComponent("lib/python3.11/site-packages")
            let info = site.appendingPathComponent("pulumi_policy-\(version).dist-info")
            try FileManager.default.createDirectory(at: info, withIntermediateDirectories: true)
            try Data("Metadata-Version: 2.1\nName: pulumi-policy\nVersion: \(version)\n".utf8).write(to: info.appendingPathComponent("METADATA"))
            try FileManager.default.createDirectory(at: site.appendingPathComponent("pulumi_policy"), withIntermediateDirectories: true)
            try Data("raise SystemExit('the pack must not get this far')\n".utf8).write(to: site.appendingPathComponent("pulumi_policy/__init__.py"))
            let pack = tmp.appendingPathComponent("pack")
            try FileManager.default.createDirectory(at: pack, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: FixtureCopy.fixturePack("legacy-sdk").appendingPathComponent("__main__.py"),
                                             to: pack.appendingPathComponent("__main__.py"))
            try Data("runtime: python\n".utf8).write(to: pack.appendingPathComponent("PulumiPolicy.yaml"))
            var env = ProcessInfo.processInfo.environment
            env["VIRTUAL_ENV"] = venv.path
            env["PATH"] = venv.appendingPathComponent("bin").path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", pack.path], env: env)
            #expect(r.status == 4, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n").map(String.init)
            #expect(lines.first == "error: \(pack.path)/__main__.py: pulumi-policy \(version) is installed in the pack's environment; "
                    + "policy-host runs pulumi-policy 1.3.0 through the newest 1.x", "\(r.stderr)")
            #expect(lines.contains("hint: require pulumi-policy>=1.3.0,<2.0.0 in the pack's requirements.txt and run `policy-host install`"), "\(r.stderr)")
            #expect(!r.stderr.contains("must not get this far"))
            let doctor = try policyHost(["doctor", pack.path], env: env)
            #expect(doctor.stdout.contains("sdk: none usable (pulumi-policy \(version) is installed in the pack's environment"), "\(doctor.stdout)")
        }
    }
}
