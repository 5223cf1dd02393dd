import Foundation
import Testing
import TestSupport

/// The behaviour-parity probes (`proxy-probe`, `sdk-idioms`) on pulumi-policy 1.20.0 (the fast path)
/// and 1.19.0 (the SDK's servicer in process, `sdk_support`), each with a `pulumi` of its day: what policies observe of their arguments (classes,
/// state, key order, options and tags objects) equals what that release's own server gives them, in
/// `analyze` and in `serve`. The venvs are built once under the prepared-packs directory and kept.
struct SDKRelease: Sendable, CustomStringConvertible {
    var policy: String
    var requirements: String
    var description: String { "pulumi-policy \(policy)" }
}

let parityReleases: [SDKRelease] = [
    .init(policy: "1.19.0", requirements: "pulumi-policy==1.19.0\npulumi<=3.203.0\n"),
    .init(policy: "1.20.0", requirements: "pulumi-policy==1.20.0\n"),
]

let parityCases: [(SDKRelease, DifferentialCase)] = parityReleases.flatMap { release in
    [DifferentialCase(pack: "proxy-probe", stack: "key-permutations.json"),
     DifferentialCase(pack: "proxy-probe", stack: "edge-preview.json"),
     DifferentialCase(pack: "sdk-idioms", stack: "key-permutations.json"),
     DifferentialCase(pack: "sdk-idioms", stack: "aws-webshop.json", flags: ["--stack-tag", "env=prod"])].map { (release, $0) }
}

@Suite(.serialized) struct SDKReleaseParityTests {
    /// `<prepared root>/release-<version>/<pack>`: the fixture pack's sources with requirements pinned to
    /// the release; its venv is kept between runs (install is a no-op while fresh).
    static func pack(_ name: String, _ release: SDKRelease) throws -> URL {
        let dir = FixtureCopy.preparedRoot.appendingPathComponent("release-\(release.policy)/\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = FixtureCopy.fixturePack(name)
        for file in ["__main__.py", "PulumiPolicy.yaml"] {
            let data = try Data(contentsOf: source.appendingPathComponent(file))
            if (try? Data(contentsOf: dir.appendingPathComponent(file))) != data {
                try data.write(to: dir.appendingPathComponent(file))
            }
        }
        let requirements = Data(release.requirements.utf8)
        if (try? Data(contentsOf: dir.appendingPathComponent("requirements.txt"))) != requirements {
            try requirements.write(to: dir.appendingPathComponent("requirements.txt"))
        }
        let r = try policyHost(["install", "--quiet", dir.path])
        try #require(r.status == 0, "install of \(name) with \(release) failed: \(r.stderr)")
        let version = try run([dir.appendingPathComponent("venv/bin/python").path, "-c",
                               "import pulumi_policy.version as v; print(v.VERSION)"])
        try #require(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == release.policy)
        return dir
    }

    @Test(arguments: parityCases)
    func sameObservationsAsThatReleasesServer(_ release: SDKRelease, _ c: DifferentialCase) throws {
        let pack = try Self.pack(c.pack, release)
        try expectSameResultsAsTheSDKServer(pack, c)
        try expectServeConformance(pack, c)
    }
}
