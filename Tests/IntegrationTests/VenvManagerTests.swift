import Foundation
import PythonRuntime
import Testing
import PythonEnv

/// The venv manager against real venvs and real installs from PyPI, with a
/// small requirement set so that each case builds quickly.
@Suite struct VenvManagerTests {
    func makePack(in dir: URL, requirements: String = "six\n", options: String = "virtualenv: venv") throws -> URL {
        try "runtime:\n  name: python\n  options:\n    \(options.replacingOccurrences(of: "\n", with: "\n    "))\n"
            .write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
        try "".write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
        try requirements.write(to: dir.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
        return dir
    }

    func stamp(_ pack: URL) -> VenvStamp? { VenvStamp.read(from: pack.appendingPathComponent("venv")) }

    func imports(_ pack: URL, _ module: String) throws -> Bool {
        try run([pack.appendingPathComponent("venv/bin/python").path, "-c", "import \(module)"]).status == 0
    }

    @Test func noOpReuseThenRequirementsChangeThenRecreate() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir)
            let first = try policyHost(["install", pack.path])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("Creating virtual environment"))
            #expect(stamp(pack)?.state == .complete)
            #expect(try imports(pack, "six"))
            let log = pack.appendingPathComponent("venv/\(VenvManager.logName)")
            let logSize = try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int
            #expect((logSize ?? 0) > 0)

            // Reuse: nothing to do, nothing printed, nothing written.
            let second = try policyHost(["install", pack.path])
            #expect(second.status == 0)
            #expect(!second.stderr.contains("Installing") && !second.stderr.contains("Creating"), "\(second.stderr)")
            #expect(try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int == logSize)

            // A changed requirements file is installed.
            try "six\nidna\n".write(to: pack.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
            let third = try policyHost(["install", pack.path])
            #expect(third.status == 0)
            #expect(third.stderr.contains("the requirements changed"), "\(third.stderr)")
            #expect(try imports(pack, "idna"))

            // --recreate rebuilds from scratch.
            let marker = pack.appendingPathComponent("venv/marker")
            try "x".write(to: marker, atomically: true, encoding: .utf8)
            let fourth = try policyHost(["install", "--recreate", pack.path])
            #expect(fourth.status == 0)
            #expect(fourth.stderr.contains("Recreating virtual environment"))
            #expect(!FileManager.default.fileExists(atPath: marker.path))
            #expect(try imports(pack, "idna"))
            #expect(try String(contentsOf: pack.appendingPathComponent("requirements.txt"), encoding: .utf8) == "six\nidna\n")
        }
    }

    /// Starts `policy-host install`, waits for `ready`, kills its process group with SIGKILL.
    func killInstall(_ pack: URL, when ready: () -> Bool) throws {
        let p = Process()
        // Foundation starts the child as a process group leader; its installers get groups of their own,
        // so killing this group leaves them orphaned, as a killed CI job would.
        p.executableURL = URL(fileURLWithPath: Repo.binary)
        p.arguments = ["install", "--quiet", pack.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while !ready() && p.isRunning && Date() < deadline { usleep(20_000) }
        #expect(p.isRunning, "the install finished before it could be interrupted")
        kill(-p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        usleep(200_000)
    }

    @Test func killedDuringCreationIsRepaired() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir)
            try killInstall(pack) { stamp(pack)?.state == .creating && FileManager.default.fileExists(atPath: pack.appendingPathComponent("venv/bin").path) }
            #expect(stamp(pack)?.state == .creating)
            let r = try policyHost(["install", pack.path])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("Recreating") || r.stderr.contains("Creating"), "\(r.stderr)")
            #expect(stamp(pack)?.state == .complete)
            #expect(try imports(pack, "six"))
        }
    }

    @Test func killedDuringInstallIsRepaired() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir)
            try killInstall(pack) { stamp(pack)?.state == .installing }
            #expect(stamp(pack)?.state == .installing)
            let r = try policyHost(["install", pack.path])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("its last install was interrupted"), "\(r.stderr)")
            #expect(stamp(pack)?.state == .complete)
            #expect(try imports(pack, "six"))
        }
    }

    @Test func concurrentInstallsBuildOneVenv() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir)
            let results = ConcurrentResults()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                if let r = try? policyHost(["install", pack.path]) { results.add(r) }
            }
            let runs = results.all
            #expect(runs.count == 2)
            #expect(runs.allSatisfy { $0.status == 0 }, "\(runs.map(\.stderr))")
            let all = runs.map(\.stderr).joined()
            #expect(all.components(separatedBy: "Creating virtual environment").count - 1 == 1, "\(all)")
            #expect(all.contains("Waiting for another policy-host process"))
            #expect(stamp(pack)?.state == .complete)
            #expect(try imports(pack, "six"))
        }
    }

    @Test func missingPackageFailsWithTheInstallersTail() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir, requirements: "policy-host-no-such-package-9f3e\n")
            let r = try policyHost(["install", "--quiet", pack.path])
            #expect(r.status == 3)
            #expect(r.stderr.hasPrefix("error: installing dependencies via"), "\(r.stderr)")
            #expect(r.stderr.contains("command: "))
            #expect(r.stderr.contains("policy-host-no-such-package-9f3e"))
            #expect(r.stderr.contains("hint: "))
            // The venv itself is kept; the next run retries the install.
            #expect(stamp(pack)?.state == .installing)
        }
    }

    @Test func interpreterOfAnotherVersionIsRefused() throws {
        try withTemporaryDirectory { dir in
            let fake = dir.appendingPathComponent("python3.10")
            try """
            #!/bin/sh
            echo '{"executable": "\(fake.path)", "version": "3.10.14", "majorMinor": "3.10", "prefix": "/x", "basePrefix": "/x", "soabi": ""}'
            """.write(to: fake, atomically: true, encoding: .utf8)
            chmod(fake.path, 0o755)
            let pack = try makePack(in: dir.appendingPathComponent("pack").creatingDirectory())
            // Only the embedded runtime needs the embedded version (`install` and `--runtime auto` take
            // any version: the pack then runs out of process; PythonEnvironmentTests).
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", pack.path,
                                    "--runtime", "embedded", "--python", fake.path])
            #expect(r.status == 3)
            #expect(r.stderr.contains("no Python interpreter matches the embedded libpython \(VenvManager.embeddedVersion)"), "\(r.stderr)")
            #expect(r.stderr.contains("3.10.14"))
            #expect(r.stderr.contains("hint: "))
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("venv").path))
        }
    }

    @Test func unknownToolchainIsWordedAsTheCLIWordsIt() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir, options: "virtualenv: venv\ntoolchain: pipenv")
            let r = try policyHost(["install", pack.path])
            #expect(r.status == 4)
            #expect(r.stderr.contains("unsupported toolchain option: pipenv"))
        }
    }

    @Test func doctorExplainsTheState() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir)
            let before = try policyHost(["doctor", pack.path])
            #expect(before.status == 0)
            #expect(before.stdout.contains("embedded libpython: \(VenvManager.embeddedVersion)"))
            #expect(before.stdout.contains("venv state: missing; install would create it"))
            _ = try policyHost(["install", "-q", pack.path])
            try "six\nidna\n".write(to: pack.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
            let after = try policyHost(["doctor", pack.path])
            #expect(after.stdout.contains("venv state: stale (the requirements changed); install would reinstall requirements"), "\(after.stdout)")
        }
    }

    @Test func uvToolchainEndToEnd() throws {
        try withTemporaryDirectory { dir in
            let pack = try makePack(in: dir, requirements: "pulumi-policy>=1.20.0,<2.0.0\n", options: "virtualenv: venv\ntoolchain: uv")
            try FileManager.default.removeItem(at: pack.appendingPathComponent("__main__.py"))
            try FileManager.default.copyItem(at: Repo.pack("aws-basics").appendingPathComponent("__main__.py"), to: pack.appendingPathComponent("__main__.py"))
            let r = try policyHost(["install", pack.path])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(stamp(pack)?.toolchain == "uv")
            // uv leaves no pip; bytecode was compiled at install time.
            let sitePackages = pack.appendingPathComponent("venv/lib/python\(PythonInterpreter.linkedMajorMinor)/site-packages")
            #expect(FileManager.default.fileExists(atPath: sitePackages.appendingPathComponent("pulumi_policy/__pycache__").path))
            let analyzed = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", pack.path, "--format", "json"])
            #expect(analyzed.status == 1, "\(analyzed.stderr)")
            #expect(analyzed.json?.violationTriples == ["ec2-instance-size app advisory", "s3-no-public-read wiki mandatory", "s3-versioning wiki advisory"])
            #expect(try String(contentsOf: pack.appendingPathComponent("requirements.txt"), encoding: .utf8) == "pulumi-policy>=1.20.0,<2.0.0\n")
        }
    }
}

final class ConcurrentResults: @unchecked Sendable {
    private var runs: [Run] = []
    private let lock = NSLock()
    func add(_ r: Run) { lock.lock(); runs.append(r); lock.unlock() }
    var all: [Run] { lock.lock(); defer { lock.unlock() }; return runs }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
