import Foundation
import Testing
import HostCore

/// Several packs in one run, pack archives, installed packs and policy groups.
@Suite struct MultiPackTests {
    /// A pack using the aws-basics venv (same requirements) with its own `__main__.py`.
    func sharedVenvPack(_ main: String, in dir: URL, name: String) throws -> URL {
        let pack = try dir.appendingPathComponent(name).creatingDirectory()
        let venv = try preparedPack("aws-basics").appendingPathComponent("venv")
        try "runtime:\n  name: python\n  options:\n    virtualenv: \(venv.path)\nversion: 0.0.1\n".write(to: pack.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
        try main.write(to: pack.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Repo.pack("aws-basics").appendingPathComponent("requirements.txt"), to: pack.appendingPathComponent("requirements.txt"))
        return pack
    }

    @Test func twoPacksPinningDifferentSDKs() throws {
        try withTemporaryDirectory { dir in
            let old = try dir.appendingPathComponent("pinned-old").creatingDirectory()
            let main = try String(contentsOf: Repo.pack("aws-basics").appendingPathComponent("__main__.py"), encoding: .utf8)
                .replacingOccurrences(of: "name=\"aws-basics\"", with: "name=\"aws-basics-old-sdk\"")
            try main.write(to: old.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
            try "runtime:\n  name: python\n  options:\n    virtualenv: venv\nversion: 0.9.0\n".write(to: old.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            try "pulumi-policy==1.20.0\n".write(to: old.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
            let current = try preparedPack("aws-basics")
            let r = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", old.path,
                                    "--policy-pack", current.path, "--format", "json"])
            #expect(r.status == 1, "\(r.stderr)")
            let json = try #require(r.json)
            let packs = (json["policyPacks"]?.arrayValue ?? []).map { "\($0["name"]?.stringValue ?? "") \($0["sdkVersion"]?.stringValue ?? "")" }
            #expect(packs == ["aws-basics-old-sdk 1.20.0", "aws-basics 1.21.0"])
            // Both packs found the same problems; results are in the order the packs were given.
            let byPack = (json["violations"]?.arrayValue ?? []).map { $0["policyPackName"]?.stringValue ?? "" }
            #expect(byPack == Array(repeating: "aws-basics-old-sdk", count: 3) + Array(repeating: "aws-basics", count: 3))
        }
    }

    @Test func aCrashingOrHangingPackDoesNotHideTheOthers() throws {
        try withTemporaryDirectory { dir in
            let crash = try sharedVenvPack("""
            import ctypes
            from pulumi_policy import PolicyPack, ResourceValidationPolicy
            def v(args, report):
                if args.resource_type == "aws:s3/bucket:Bucket":
                    print("about to crash", flush=True)
                    ctypes.string_at(0)
            PolicyPack(name="segfaults", policies=[ResourceValidationPolicy(name="crash", description="d", validate=v)])
            """, in: dir, name: "segfaults")
            let exit = try sharedVenvPack("""
            import os
            from pulumi_policy import PolicyPack, ResourceValidationPolicy
            PolicyPack(name="exits", policies=[ResourceValidationPolicy(name="bye", description="d", validate=lambda a, r: os._exit(9))])
            """, in: dir, name: "exits")
            let hang = try sharedVenvPack("""
            import time
            from pulumi_policy import PolicyPack, ResourceValidationPolicy
            PolicyPack(name="hangs", policies=[ResourceValidationPolicy(name="sleep", description="d", validate=lambda a, r: time.sleep(3600))])
            """, in: dir, name: "hangs")
            let good = try preparedPack("aws-basics")
            let r = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", crash.path,
                                    "--policy-pack", good.path, "--policy-pack", exit.path, "--policy-pack", hang.path,
                                    "--timeout", "20", "--format", "json"])
            #expect(r.status == 4, "\(r.stderr)")
            let json = try #require(r.json)
            #expect(json.violationTriples == ["ec2-instance-size app advisory", "s3-no-public-read wiki mandatory", "s3-versioning wiki advisory"])
            let failures = try #require(json["packFailures"]?.arrayValue)
            #expect(failures.map { $0["policyPack"]?.stringValue ?? "" } == [crash.path, exit.path, hang.path])
            #expect(failures[0]["message"]?.stringValue?.hasPrefix("was killed by SIGSEGV") == true, "\(failures[0])")
            #expect(failures[0]["stderrTail"]?.stringValue?.contains("about to crash") == true)
            #expect(failures[1]["message"]?.stringValue?.hasPrefix("exited with status 9 before its report was complete") == true, "\(failures[1])")
            #expect(failures[2]["message"] == "timed out after 20 s and was killed")
        }
    }

    /// `main: DIR` as publish reads it: the archive holds DIR (booted there for the name) and the
    /// pack's PulumiPolicy.yaml without `main`, so it still installs; a `main` that leaves the pack,
    /// is absolute or is not a directory is refused before any environment work.
    @Test func packHonoursMain() throws {
        let source = try preparedPack("aws-basics")
        try withTemporaryDirectory { dir in
            let pack = try dir.appendingPathComponent("pack").creatingDirectory()
            let src = try pack.appendingPathComponent("src").creatingDirectory()
            try FileManager.default.copyItem(at: source.appendingPathComponent("__main__.py"), to: src.appendingPathComponent("__main__.py"))
            try FileManager.default.copyItem(at: source.appendingPathComponent("requirements.txt"), to: pack.appendingPathComponent("requirements.txt"))
            try "notes\n".write(to: pack.appendingPathComponent("outside-main.txt"), atomically: true, encoding: .utf8)
            func manifest(_ main: String) throws {
                try "runtime:\n  name: python\n  options:\n    virtualenv: \(source.appendingPathComponent("venv").path)\nversion: 1.2.0\nmain: \(main)\n"
                    .write(to: pack.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            }
            try manifest("src/")
            let out = dir.appendingPathComponent("aws-basics-v1.2.0.tar.gz")
            let packed = try policyHost(["pack", "-q", pack.path, "-o", out.path])
            #expect(packed.status == 0, "\(packed.stderr)")
            #expect(packed.stdout.contains("Packed aws-basics 1.2.0") && packed.stdout.contains("2 files"), "\(packed.stdout)")
            let listing = try run(["/bin/tar", "-tzf", out.path])
            #expect(listing.stdout.split(separator: "\n").sorted() == ["package/PulumiPolicy.yaml", "package/__main__.py"])
            let yaml = try run(["/bin/tar", "-xzOf", out.path, "package/PulumiPolicy.yaml"])
            #expect(!yaml.stdout.contains("main") && yaml.stdout.contains("version: \"1.2.0\""), "\(yaml.stdout)")
            let home = try dir.appendingPathComponent("home").creatingDirectory()
            var env = ProcessInfo.processInfo.environment
            env["PULUMI_HOME"] = home.path
            let installed = try policyHost(["install", "-q", "--archive", out.path, "--org", "acme"], env: env)
            #expect(installed.status == 0, "\(installed.stderr)")
            for (main, message) in [("../", "leads outside the pack directory"), ("/etc", "must be a directory relative to the pack"),
                                    ("outside-main.txt", "is not a directory of the pack"), ("missing", "is not a directory of the pack")] {
                try manifest(main)
                let r = try policyHost(["pack", "-q", pack.path, "-o", out.path])
                #expect(r.status == 2 && r.stderr.hasPrefix("error: ") && r.stderr.contains(message), "\(main): \(r.stderr)")
            }
            try FileManager.default.createSymbolicLink(atPath: pack.appendingPathComponent("escape").path, withDestinationPath: dir.path)
            try manifest("escape")
            let r = try policyHost(["pack", "-q", pack.path, "-o", out.path])
            #expect(r.status == 2 && r.stderr.contains("leads outside the pack directory"), "\(r.stderr)")
        }
    }

    @Test func archiveRoundTripGivesTheSameResults() throws {
        let source = try preparedPack("aws-basics")
        try withTemporaryDirectory { dir in
            let home = try dir.appendingPathComponent("pulumi-home").creatingDirectory()
            var env = ProcessInfo.processInfo.environment
            env["PULUMI_HOME"] = home.path
            // A venv inside the pack and a .gitignore'd file must stay out of the archive.
            let packed = try policyHost(["pack", "-q", source.path, "-o", dir.appendingPathComponent("aws-basics-v1.2.0.tar.gz").path], env: env)
            #expect(packed.status == 0, "\(packed.stderr)")
            #expect(packed.stdout.contains("Packed aws-basics 1.2.0"))
            #expect(packed.stdout.contains("3 files"))
            let installed = try policyHost(["install", "-q", "--archive", dir.appendingPathComponent("aws-basics-v1.2.0.tar.gz").path, "--org", "acme"], env: env)
            #expect(installed.status == 0, "\(installed.stderr)")
            let target = home.appendingPathComponent("policies/acme/pulumi-analyzer-aws-basics-v1.2.0")
            let manifest = try PolicyManifest.load(packDirectory: target)
            #expect(manifest.virtualenv == "venv")
            let list = try policyHost(["list"], env: env)
            #expect(list.stdout == "acme/aws-basics@1.2.0  installed  \(target.path)\n")

            let a = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", source.path, "--format", "json"])
            let b = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", target.path, "--format", "json"], env: env)
            #expect(a.status == b.status)
            #expect(a.json?["violations"] == b.json?["violations"])
            #expect(a.json?["violations"]?.arrayValue?.isEmpty == false)

            // Installing again is a no-op; a half-installed pack (files without a venv, or a directory
            // without PulumiPolicy.yaml as in pulumi/pulumi#24306) is repaired by the next install.
            try FileManager.default.removeItem(at: target.appendingPathComponent("venv"))
            #expect(try policyHost(["list"], env: env).stdout.contains("broken: its venv is missing or incomplete"))
            let repaired = try policyHost(["install", "-q", "--archive", dir.appendingPathComponent("aws-basics-v1.2.0.tar.gz").path, "--org", "acme"], env: env)
            #expect(repaired.status == 0, "\(repaired.stderr)")
            #expect(try policyHost(["list"], env: env).stdout.contains("  installed  "))
            try FileManager.default.removeItem(at: target.appendingPathComponent("PulumiPolicy.yaml"))
            #expect(try policyHost(["list"], env: env).stdout.contains("broken: PulumiPolicy.yaml"))
            let again = try policyHost(["install", "-q", "--archive", dir.appendingPathComponent("aws-basics-v1.2.0.tar.gz").path, "--org", "acme"], env: env)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("PulumiPolicy.yaml").path))
            #expect(try policyHost(["list"], env: env).stdout.contains("  installed  "))
        }
    }

    static let maliciousCases: [(String, String)] = [
        ("traversal", "escapes the package directory"),
        ("absolute", "has an absolute path"),
        ("symlink-escape", "points outside the pack"),
        ("hardlink-escape", "does not name an earlier file of the archive"),
        ("device", "is a device"),
        ("fifo", "is a FIFO"),
        ("outside-package", "is not under package/"),
        ("bomb", "expands to more than 1 MiB"),
    ]

    @Test(arguments: maliciousCases)
    func maliciousArchivesAreRefusedAndLeaveNothing(_ kind: String, _ message: String) throws {
        try withTemporaryDirectory { dir in
            let home = try dir.appendingPathComponent("home").creatingDirectory()
            let archive = dir.appendingPathComponent("evil-v1.0.0.tar.gz")
            let script = Repo.root.appendingPathComponent("Tests/Differential/make_archive.py").path
            let made = try run(["/usr/bin/python3", script, kind, archive.path])
            #expect(made.status == 0, "\(made.stderr)")
            var env = ProcessInfo.processInfo.environment
            env["PULUMI_HOME"] = home.path
            let r = try policyHost(["install", "-q", "--archive", archive.path, "--org", "acme", "--max-size", "1"], env: env)
            #expect(r.status == 2, "\(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
            let org = home.appendingPathComponent("policies/acme")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: org.path)) ?? []
            #expect(left.isEmpty, "left behind: \(left)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("outside").path))
        }
    }

    @Test func policyGroupsInstallFromTheStoreAndRunWithLocalPacks() throws {
        let source = try preparedPack("aws-basics")
        try withTemporaryDirectory { dir in
            let home = try dir.appendingPathComponent("home").creatingDirectory()
            let store = try dir.appendingPathComponent("store").creatingDirectory()
            var env = ProcessInfo.processInfo.environment
            env["PULUMI_HOME"] = home.path
            #expect(try policyHost(["pack", "-q", source.path, "-o", store.appendingPathComponent("aws-basics-v1.2.0.tar.gz").path], env: env).status == 0)
            let groups = dir.appendingPathComponent("groups.json")
            try """
            {"policyGroups": [
              {"name": "everyone", "stacks": ["*"], "policyPacks": [
                {"name": "aws-basics", "version": 1, "versionTag": "1.1.0", "config": {"all": "disabled"}}]},
              {"name": "legacy", "stacks": ["acme/intranet/*"], "policyPacks": [
                {"name": "aws-basics", "version": 2, "versionTag": "1.2.0", "config": {"s3-versioning": "mandatory"},
                 "configModified": "2026-11-01T00:00:00Z"}]}
            ]}
            """.write(to: groups, atomically: true, encoding: .utf8)
            let resolved = try policyHost(["resolve", "--policy-groups", groups.path, "--stack", "acme/intranet/legacy"])
            #expect(resolved.stdout == "aws-basics@1.2.0  (policy group legacy)  config: {\"s3-versioning\":\"mandatory\"}\n", "\(resolved.stderr)")
            let r = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", try preparedPack("k8s-guard").path,
                                    "--policy-groups", groups.path, "--pack-store", store.path, "--format", "json"], env: env)
            #expect(r.status == 1, "\(r.stderr)")
            let json = try #require(r.json)
            #expect((json["policyPacks"]?.arrayValue ?? []).map { $0["name"]?.stringValue ?? "" } == ["k8s-guard", "aws-basics"])
            // The group's configuration applied: versioning is mandatory.
            #expect(json.violationTriples == ["ec2-instance-size app advisory", "s3-no-public-read wiki mandatory", "s3-versioning wiki mandatory"])
            #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("policies/acme/pulumi-analyzer-aws-basics-v1.2.0/venv/bin/python").path))
        }
    }

    @Test func configCountsAreValidatedAsTheCLIDoes() throws {
        let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", "a", "--policy-pack", "b", "--policy-pack-config", "c.json"])
        #expect(r.status == 2)
        #expect(r.stderr.contains(#"the number of "--policy-pack-config" paths must match the number of "--policy-pack" paths"#))
    }
}
