import Foundation
import Testing
import TestSupport
import PythonEnv

/// The exact text policy-host shows people, against `Tests/Golden/`: every command's `--help`, each
/// kind of `error:` output, and the reports of the fixture packs. `POLICY_HOST_UPDATE_GOLDEN=1`
/// rewrites the files (and fails the run on purpose); read the diff before committing it.
@Suite(.serialized) struct GoldenTests {
    /// The environment of every run: fixed width for argument-parser's wrapping, installed packs
    /// somewhere harmless.
    static func environment(pulumiHome: URL? = nil) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        env["LINES"] = "50"
        env.removeValue(forKey: "POLICY_HOST_TIMINGS")
        env.removeValue(forKey: "VIRTUAL_ENV")
        // storefront-k8s.json's passphrase secrets are redacted only when no passphrase is given.
        env.removeValue(forKey: "PULUMI_CONFIG_PASSPHRASE")
        env.removeValue(forKey: "PULUMI_CONFIG_PASSPHRASE_FILE")
        env["PULUMI_HOME"] = pulumiHome?.path ?? FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-golden-no-home").path
        return env
    }

    /// The command line, exit status, stdout and stderr of one run, as a golden file holds them.
    static func transcript(_ args: [String], _ r: Run) -> String {
        var text = "$ policy-host " + args.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ") + "\n"
        text += "exit: \(r.status)\n"
        text += "--- stdout\n" + r.stdout + (r.stdout.isEmpty || r.stdout.hasSuffix("\n") ? "" : "⏎(no newline)\n")
        text += "--- stderr\n" + r.stderr + (r.stderr.isEmpty || r.stderr.hasSuffix("\n") ? "" : "⏎(no newline)\n")
        return text
    }

    // MARK: --help

    static let commands = ["", "analyze", "test", "serve", "install", "new", "pack", "list", "resolve", "doctor", "__pack-name"]

    @Test(arguments: commands)
    func help(_ command: String) throws {
        let args = (command.isEmpty ? [] : [command]) + ["--help"]
        let r = try policyHost(args, env: Self.environment())
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        Golden.assert(Self.transcript(args, r), named: "help/\(command.isEmpty ? "root" : command.trimmingCharacters(in: ["_"]))")
        // No run of spaces inside a sentence: the only gap argument-parser makes is the one before the
        // help column (column 26); any other comes from the help strings themselves.
        let gap = try NSRegularExpression(pattern: "(?<=\\S)  +(?=\\S)")
        for line in r.stdout.components(separatedBy: "\n") {
            for m in gap.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                let end = Range(m.range, in: line).map { line.distance(from: line.startIndex, to: $0.upperBound) }
                #expect(end == 26, "a run of spaces in `\(args.joined(separator: " "))`: \(line)")
            }
        }
    }

    @Test func version() throws {
        let r = try policyHost(["--version"], env: Self.environment())
        #expect(r.status == 0)
        Golden.assert(Self.transcript(["--version"], r), named: "help/version")
    }

    // MARK: error:

    /// One `error:` case: files to make in a scratch directory (the working directory of the run),
    /// then the arguments, in which `@tmp` stands for the scratch directory and `@stacks/`,
    /// `@packs/` for the fixtures.
    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var name: String
        var args: [String]
        var files: [String: String] = [:]
        /// Fixture packs copied into the scratch directory, with their venv reused.
        var packs: [String] = []
        var status: Int32
        var testDescription: String { name }
    }

    static let minimalMain = "from pulumi_policy import PolicyPack\nPolicyPack(name=\"p\", policies=[])\n"

    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "unknown-option", args: ["analyze", "@stacks/aws-webshop.json", "--bogus"], status: 2),
        ErrorCase(name: "unknown-option-close", args: ["analyze", "@stacks/aws-webshop.json", "--formt", "json"], status: 2),
        ErrorCase(name: "unknown-subcommand", args: ["analyse", "@stacks/aws-webshop.json"], status: 2),
        ErrorCase(name: "missing-argument", args: ["analyze", "--policy-pack", "pack"], status: 2),
        ErrorCase(name: "bad-format-value", args: ["analyze", "@stacks/aws-webshop.json", "--format", "yaml"], status: 2),
        ErrorCase(name: "bad-timeout", args: ["analyze", "@stacks/aws-webshop.json", "--timeout", "0"], status: 2),
        ErrorCase(name: "timeout-not-a-number", args: ["analyze", "@stacks/aws-webshop.json", "--timeout", "soon"], status: 2),
        ErrorCase(name: "bad-config-flag", args: ["analyze", "@stacks/aws-webshop.json", "--config", "region"], status: 2),
        ErrorCase(name: "config-count-mismatch",
                  args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "a", "--policy-pack", "b", "--policy-pack-config", "a.json"],
                  status: 2),
        ErrorCase(name: "stack-file-missing", args: ["analyze", "missing.json", "--policy-pack", "aws-basics"],
                  packs: ["aws-basics"], status: 2),
        ErrorCase(name: "stack-file-is-a-directory", args: ["analyze", "@tmp", "--policy-pack", "aws-basics"],
                  packs: ["aws-basics"], status: 2),
        ErrorCase(name: "stack-file-invalid-json", args: ["analyze", "bad.json", "--policy-pack", "aws-basics"],
                  files: ["bad.json": "{\n  \"version\": 3,\n  \"deployment\": {,}\n}\n"], packs: ["aws-basics"], status: 2),
        ErrorCase(name: "stack-file-unknown-format", args: ["analyze", "other.json", "--policy-pack", "aws-basics"],
                  files: ["other.json": #"{"resources": []}"# + "\n"], packs: ["aws-basics"], status: 2),
        ErrorCase(name: "stack-file-misspelt-keys", args: ["analyze", "@stacks/checkpoint-misspelt.json", "--policy-pack", "aws-basics"],
                  packs: ["aws-basics"], status: 2),
        ErrorCase(name: "pack-dir-missing", args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "no-such-pack"], status: 2),
        ErrorCase(name: "pack-without-main", args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "runtime: python\n"], status: 4),
        ErrorCase(name: "manifest-runtime-wrong-type", args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "runtime: [python]\n", "pack/__main__.py": minimalMain], status: 4),
        ErrorCase(name: "manifest-missing-runtime", args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "version: 1\n", "pack/__main__.py": minimalMain], status: 4),
        ErrorCase(name: "manifest-invalid-yaml", args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "runtime: python\n  bad: [indent\n", "pack/__main__.py": minimalMain], status: 4),
        ErrorCase(name: "policy-config-invalid-json",
                  args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "aws-basics", "--policy-pack-config", "config.json"],
                  files: ["config.json": "{\"all\": \"mandatory\",\n  \"s3-versioning\": \n"], packs: ["aws-basics"], status: 2),
        ErrorCase(name: "policy-config-bad-level",
                  args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "aws-basics", "--policy-pack-config", "config.json"],
                  files: ["config.json": #"{"s3-versioning": "blocking"}"# + "\n"], packs: ["aws-basics"], status: 2),
        ErrorCase(name: "policy-config-schema",
                  args: ["analyze", "-q", "@stacks/aws-webshop.json", "--policy-pack", "config-levels",
                         "--policy-pack-config", "@config/config-levels-invalid.json"],
                  packs: ["config-levels"], status: 2),
        ErrorCase(name: "archive-not-a-tar", args: ["install", "--archive", "notes-v1.0.0.tar.gz"],
                  files: ["notes-v1.0.0.tar.gz": "these are notes, not an archive\n"], status: 2),
        ErrorCase(name: "archive-missing", args: ["install", "--archive", "absent-v1.0.0.tar.gz"], status: 2),
        ErrorCase(name: "install-max-size", args: ["install", "--archive", "absent-v1.0.0.tar.gz", "--max-size", "0"], status: 2),
        ErrorCase(name: "venv-without-pyvenv-cfg", args: ["install", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "runtime:\n  name: python\n  options:\n    virtualenv: venv\n",
                          "pack/__main__.py": minimalMain, "pack/requirements.txt": "pulumi-policy\n",
                          "pack/venv/notes.txt": "someone else's directory\n"],
                  status: 3),
        ErrorCase(name: "venv-path-is-a-file", args: ["analyze", "@stacks/aws-webshop.json", "--policy-pack", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "runtime:\n  name: python\n  options:\n    virtualenv: venv\n",
                          "pack/__main__.py": minimalMain, "pack/venv": "not a venv\n"],
                  status: 3),
        ErrorCase(name: "pack-without-version", args: ["pack", "pack"],
                  files: ["pack/PulumiPolicy.yaml": "runtime: python\n", "pack/__main__.py": minimalMain], status: 2),
        ErrorCase(name: "new-unknown-template", args: ["new", "cobol-python", "--dir", "fresh", "--generate-only"], status: 2),
    ]

    @Test(arguments: errorCases)
    func error(_ c: ErrorCase) throws {
        for pack in c.packs { _ = try preparedPack(pack) }
        try FixtureCopy.withTemporaryDirectory("golden") { dir in
            for (path, text) in c.files {
                let url = dir.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            for pack in c.packs { try FixtureCopy.pack(pack, in: dir, venv: .reuse) }
            let args = c.args.map { arg in
                arg.replacingOccurrences(of: "@tmp", with: dir.path)
                    .replacingOccurrences(of: "@stacks/", with: Repo.root.appendingPathComponent("Fixtures/stacks").path + "/")
                    .replacingOccurrences(of: "@config/", with: Repo.root.appendingPathComponent("Fixtures/config").path + "/")
            }
            let home = try dir.appendingPathComponent("pulumi-home").creatingDirectory()
            let r = try policyHost(args, cwd: dir, env: Self.environment(pulumiHome: home))
            #expect(r.status == c.status, "\(c.name): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(c.name): \(r.stdout)")
            let errorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            #expect(errorLines.count == 1, "\(c.name): \(r.stderr)")
            Golden.assert(Self.transcript(args, r), named: "errors/\(c.name)")
        }
    }

    // MARK: reports

    /// Each fixture pack against the stack it was written for (as in ExpectationTests).
    static let reportCases: [(pack: String, stack: String)] = [
        ("assets-archives", "thumbnailer-assets.json"),
        ("async-checks", "aws-webshop.json"),
        ("aws-basics", "aws-webshop.json"),
        ("config-levels", "aws-webshop.json"),
        ("k8s-guard", "storefront-k8s.json"),
        ("not-applicable", "aws-webshop.json"),
        ("preview-unknowns", "edge-preview.json"),
        ("proxy-probe", "edge-preview.json"),
        ("raising-policy", "aws-webshop.json"),
        ("remediate-tags", "aws-webshop.json"),
    ]

    func report(_ pack: String, _ stack: String, format: String) throws {
        _ = try preparedPack(pack)
        try FixtureCopy.withTemporaryDirectory("golden") { dir in
            let copy = try FixtureCopy.pack(pack, in: dir, venv: .reuse)
            var args = ["analyze", "--quiet", Repo.stack(stack).path, "--policy-pack", copy.path]
            if format != "text" { args += ["--format", format] }
            let r = try policyHost(args, cwd: dir, env: Self.environment())
            #expect([0, 1, 5].contains(r.status), "\(pack) × \(stack): \(r.stderr)")
            // The text report is plain: nothing decides on colour, whatever the terminal.
            #expect(!r.stdout.contains("\u{1B}["), "escape sequences in the report")
            // The SDK's version is whatever pulumi-policy release pip picked for the venv.
            let scrub = Scrubber.standard.replacingMatches(of: #""sdkVersion": "[^"]*""#, with: #""sdkVersion": "<sdk>""#)
            Golden.assert(Self.transcript(args, r), named: "reports/\(pack)--\(stack.replacingOccurrences(of: ".json", with: "")).\(format)",
                          scrub: scrub)
        }
    }

    @Test(arguments: reportCases.map { "\($0.pack) \($0.stack)" })
    func textReport(_ c: String) throws {
        let parts = c.split(separator: " ").map(String.init)
        try report(parts[0], parts[1], format: "text")
    }

    @Test(arguments: ["aws-basics aws-webshop.json", "remediate-tags aws-webshop.json"])
    func jsonReport(_ c: String) throws {
        let parts = c.split(separator: " ").map(String.init)
        try report(parts[0], parts[1], format: "json")
    }
}

// MARK: TestSupport itself

@Suite struct GoldenSupportTests {
    @Test func scrubbing() {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-test-1234-ABCD").path
        let text = """
        \(tmp)/pack/PulumiPolicy.yaml
        \(FixtureCopy.repositoryRoot.path)/Fixtures/stacks/aws-webshop.json
        \(NSHomeDirectory())/.pulumi/policies
        took 0.12 s, then 123 ms; pid 4711 and process 42
        3 buckets and 1 instances, s3-versioning
        """
        let scrubbed = Scrubber.standard.scrub(text)
        #expect(scrubbed.contains("<tmp>/pack/PulumiPolicy.yaml"))
        #expect(scrubbed.contains("<repo>/Fixtures/stacks/aws-webshop.json"))
        #expect(scrubbed.contains("took <time>, then <time>; pid <pid> and process <pid>"))
        #expect(scrubbed.contains("3 buckets and 1 instances, s3-versioning"))
        #expect(Scrubber.standard.scrub("Python \(VenvManager.embeddedVersion) here") == "Python <python> here")
    }

    @Test func diffShowsTheFirstDifferingLines() {
        let diff = Golden.unifiedDiff(expected: "a\nb\nc\nd\ne\nf\n", actual: "a\nb\nc\nD\ne\nf\n")
        #expect(diff.contains("@@ -1,6 +1,6 @@\n a\n b\n c\n-d\n+D\n e\n f\n"), "\(diff)")
    }

    @Test func fixtureCopyLeavesVenvAndBytecodeOut() throws {
        try FixtureCopy.withTemporaryDirectory { dir in
            let copy = try FixtureCopy.pack("aws-basics", in: dir, venv: .none)
            let entries = try FileManager.default.contentsOfDirectory(atPath: copy.path).sorted()
            #expect(entries == ["PulumiPolicy.yaml", "__main__.py", "requirements.txt"])
        }
    }
}
