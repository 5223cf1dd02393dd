import Foundation
import PythonRuntime
import Testing

/// Bad input: one `error:` line saying what and where, an optional `hint:`,
/// a documented exit code, nothing on stdout, no crash.
@Suite struct BadInputTests {
    func expectCleanFailure(_ r: Run, status: Int32, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout)", sourceLocation: sourceLocation)
        let errorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errorLines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    @Test func missingStackFile() throws {
        let r = try policyHost(["analyze", "/nonexistent/stack.json", "--policy-pack", Repo.pack("aws-basics").path])
        expectCleanFailure(r, status: 2, mentions: "/nonexistent/stack.json")
    }

    @Test func invalidJSONGivesLineAndColumn() throws {
        try withTemporaryDirectory { dir in
            let f = dir.appendingPathComponent("bad.json")
            try Data("{\n  \"version\": 3,\n  \"deployment\": {,}\n}".utf8).write(to: f)
            let r = try policyHost(["analyze", f.path, "--policy-pack", Repo.pack("aws-basics").path])
            expectCleanFailure(r, status: 2, mentions: "bad.json:3:")
        }
    }

    @Test func unknownFormatHasAHint() throws {
        try withTemporaryDirectory { dir in
            let f = dir.appendingPathComponent("other.json")
            try Data(#"{"resources": []}"#.utf8).write(to: f)
            let r = try policyHost(["analyze", f.path, "--policy-pack", Repo.pack("aws-basics").path])
            expectCleanFailure(r, status: 2, mentions: "unknown file format")
            #expect(r.stderr.contains("hint: "))
        }
    }

    @Test func packWithoutManifest() throws {
        try withTemporaryDirectory { dir in
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", dir.path])
            expectCleanFailure(r, status: 4, mentions: "PulumiPolicy.yaml")
        }
    }

    @Test func packWithoutMainPy() throws {
        try withTemporaryDirectory { dir in
            try "runtime: python\n".write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", dir.path])
            expectCleanFailure(r, status: 4, mentions: "__main__.py")
        }
    }

    @Test(arguments: [
        ("runtime: nodejs\n", "runtime 'nodejs' is not supported"),
        ("runtime: [python]\n", "runtime section must be a string or an object with name and options attributes"),
        ("version: 1\n", "project is missing a 'runtime' attribute"),
        ("runtime:\n  name: python\n  options:\n    toolchain: conda\n", "unsupported toolchain option: conda"),
        ("runtime:\n  name: python\n  options:\n    typechecker: pylint\n", "unsupported typechecker option: pylint"),
        ("runtime:\n  name: python\n  options:\n    virtualenv: 3\n", "virtualenv option must be a string"),
        ("runtime: python\n  bad: [indent\n", "invalid YAML"),
    ])
    func badManifest(_ yaml: String, _ message: String) throws {
        try withTemporaryDirectory { dir in
            try yaml.write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            try "".write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", dir.path])
            expectCleanFailure(r, status: 4, mentions: message)
        }
    }

    @Test func configFailingItsSchemaNamesPolicyAndProperty() throws {
        let pack = try preparedPack("config-levels")
        let r = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", pack.path,
                                "--policy-pack-config", Repo.config("config-levels-invalid.json").path])
        expectCleanFailure(r, status: 2, mentions: "validating policy config: config-levels 2.0.1  bucket-prefix: prefix: String length must be greater than or equal to 2")
        #expect(r.stderr.contains("resource-limit: limit: Invalid type. Expected: integer, given: string"))
    }

    @Test func invalidEnforcementLevelInConfig() throws {
        try withTemporaryDirectory { dir in
            let f = dir.appendingPathComponent("c.json")
            try Data(#"{"s3-versioning": "blocking"}"#.utf8).write(to: f)
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", Repo.pack("aws-basics").path,
                                    "--policy-pack-config", f.path])
            expectCleanFailure(r, status: 2, mentions: #"parsing enforcement level for "s3-versioning": "blocking" is not a valid enforcement level"#)
        }
    }

    @Test func tooManyConfigFlags() throws {
        let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack-config", "a.json", "--policy-pack-config", "b.json"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--policy-pack-config"))
    }

    @Test func virtualenvPathThatIsAFile() throws {
        try withTemporaryDirectory { dir in
            try "runtime:\n  name: python\n  options:\n    virtualenv: venv\n".write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            try "".write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
            try "not a venv".write(to: dir.appendingPathComponent("venv"), atomically: true, encoding: .utf8)
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", dir.path])
            expectCleanFailure(r, status: 3, mentions: "is not a directory")
            #expect(try String(contentsOf: dir.appendingPathComponent("venv"), encoding: .utf8) == "not a venv")
        }
    }

    @Test func ambientInterpreterOfAnotherVersionIsRefused() throws {
        try withTemporaryDirectory { dir in
            try "runtime: python\n".write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            try "".write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
            let fake = dir.appendingPathComponent("python-other")
            try """
            #!/bin/sh
            echo '{"executable": "\(fake.path)", "version": "3.12.1", "majorMinor": "3.12", "prefix": "/x", "basePrefix": "/x", "soabi": ""}'
            """.write(to: fake, atomically: true, encoding: .utf8)
            chmod(fake.path, 0o755)
            var env = ProcessInfo.processInfo.environment
            env["PULUMI_PYTHON_CMD"] = fake.path
            // The embedded runtime needs its own minor version…
            let r = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", dir.path, "--runtime", "embedded"], env: env)
            expectCleanFailure(r, status: 3, mentions: "(\(fake.path), 3.12.1) is not Python \(PythonInterpreter.linkedMajorMinor), which the embedded runtime needs")
            #expect(r.stderr.contains("hint: set `virtualenv: venv`"))
            // …the automatic route takes any other out of process, where this one cannot run the SDK.
            let auto = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--policy-pack", dir.path], env: env)
            expectCleanFailure(auto, status: 4, mentions: "before it was ready")
            #expect(auto.stderr.hasPrefix("running out of process: \(fake.path) is Python 3.12;"), "\(auto.stderr)")
        }
    }

    @Test func foreignDirectoryAtVenvPathIsRefusedAndUntouched() throws {
        try withTemporaryDirectory { dir in
            try "runtime:\n  name: python\n  options:\n    virtualenv: env\n".write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
            try "".write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
            let env = dir.appendingPathComponent("env")
            try FileManager.default.createDirectory(at: env, withIntermediateDirectories: true)
            try "precious".write(to: env.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
            let r = try policyHost(["install", "--recreate", dir.path])
            expectCleanFailure(r, status: 3, mentions: "is not a virtual environment")
            #expect(try String(contentsOf: env.appendingPathComponent("notes.txt"), encoding: .utf8) == "precious")
        }
    }
}

/// Pack load failures: exit 4, the Python traceback, one error line.
@Suite struct PackLoadFailureTests {
    /// A temporary pack that shares the aws-basics venv (same requirements, so the stamp stays fresh).
    func pack(_ main: String, in dir: URL) throws -> URL {
        let venv = try preparedPack("aws-basics").appendingPathComponent("venv")
        try "runtime:\n  name: python\n  options:\n    virtualenv: \(venv.path)\n".write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
        try main.write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Repo.pack("aws-basics").appendingPathComponent("requirements.txt"),
                                         to: dir.appendingPathComponent("requirements.txt"))
        return dir
    }

    @Test(arguments: [
        ("def broken(:\n    pass\n", "SyntaxError"),
        ("import pulumi_nonexistent_sdk\n", "ModuleNotFoundError: No module named 'pulumi_nonexistent_sdk'"),
        ("from pulumi_policy import PolicyPack, ResourceValidationPolicy\nPolicyPack(name='p', policies=[ResourceValidationPolicy(name='all', description='d', validate=lambda a, r: None)])\n", #"Invalid policy name "all"; "all" is a reserved name"#),
        ("from pulumi_policy import PolicyPack\nPolicyPack(name='bad name!', policies=[])\n", "Invalid policy pack name bad name!"),
        ("print('no pack here')\n", "without constructing a PolicyPack"),
    ])
    func loadFailure(_ main: String, _ message: String) throws {
        try withTemporaryDirectory { dir in
            let p = try pack(main, in: dir)
            let r = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", p.path])
            #expect(r.status == 4, "exit \(r.status): \(r.stderr)")
            #expect(r.stdout.isEmpty)
            #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count == 1)
        }
    }

    @Test func packPrintsDoNotCorruptTheReport() throws {
        try withTemporaryDirectory { dir in
            let main = """
            import sys
            from pulumi_policy import PolicyPack, ResourceValidationPolicy
            print("hello from the pack")
            def v(args, report):
                print("validating", args.name)
                sys.stdout.flush()
            PolicyPack(name="chatty", policies=[ResourceValidationPolicy(name="chat", description="d", validate=v)])
            """
            let p = try pack(main, in: dir)
            let r = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", p.path, "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.json?["summary"]?["passed"] == true)
            #expect(r.stderr.contains("hello from the pack"))
            #expect(r.stderr.contains("validating wiki"))
        }
    }

    @Test func stackSettingsReachThePackBeforeItRuns() throws {
        try withTemporaryDirectory { dir in
            let main = """
            import os
            import pulumi
            from pulumi_policy import PolicyPack, StackValidationPolicy
            cfg = pulumi.Config("intranet")
            seen = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()} dry={os.environ.get('PULUMI_DRY_RUN')} team={cfg.get('team')} cwd={os.path.basename(os.getcwd())}"
            def v(args, report):
                report(seen + " tags=" + ",".join(f"{k}={v}" for k, v in sorted(args.stack_tags.items())))
            PolicyPack(name="settings", policies=[StackValidationPolicy(name="echo", description="d", validate=v)])
            """
            let p = try pack(main, in: dir)
            let r = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", p.path, "--format", "json",
                                    "--config", "team=blue", "--stack-tag", "env=legacy", "--preview"])
            let message = r.json?["violations"]?.arrayValue?.first?["message"]?.stringValue
            #expect(message == "d\nacme/intranet/legacy dry=true team=blue cwd=\(dir.lastPathComponent) tags=env=legacy", "\(r.stderr)")
        }
    }
}
