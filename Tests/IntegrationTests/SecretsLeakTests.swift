import Foundation
import HostCore
import PolicyPack
import PolicyValues
import TestSupport
import Testing

/// The secrets-leak test: the `secret-leak` pack puts the secrets it sees into violation messages,
/// an exception's text and traceback, a remediation copied with `dict()`, prints on stdout and
/// stderr (plain, `repr`, JSON, straight to fd 2) and stack policies' messages. For every output
/// format, route and exit path, no secret's text may appear in stdout, stderr or the files written,
/// unless `--show-secrets` is given, when it must.
@Suite(.serialized) struct SecretsLeakTests {
    static let passphrase = "correct horse battery staple"

    /// The plaintext of the fixture stack's and config's secrets (`Tests/Secrets/make_encrypted_exports.py`),
    /// in the forms a careless pack writes them.
    static let secrets = [
        "s3cr3t-ledger-pw-19", "AKIA-not-a-real-key", "hunter22", "inner-pw", "nested-pw",
        "tok-äöü-✓", "tok-\\u00e4\\u00f6\\u00fc-\\u2713", "5432.0",
    ]

    func environment(passphrase: Bool, _ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PULUMI_CONFIG_PASSPHRASE"] = passphrase ? Self.passphrase : nil
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = nil
        return env.merging(extra) { _, new in new }
    }

    /// A copy of the `secret-leak` pack that uses the aws-basics venv (same requirements).
    func pack(in dir: URL, as name: String = "secret-leak") throws -> URL {
        let venv = try preparedPack("aws-basics").appendingPathComponent("venv")
        let copy = try FixtureCopy.pack("secret-leak", in: dir, as: name, venv: .none)
        let yaml = copy.appendingPathComponent("PulumiPolicy.yaml")
        try String(contentsOf: yaml, encoding: .utf8).replacingOccurrences(of: "virtualenv: venv", with: "virtualenv: \(venv.path)")
            .write(to: yaml, atomically: true, encoding: .utf8)
        return copy
    }

    /// Every secret that shows in `text`.
    func leaked(_ text: String) -> [String] { Self.secrets.filter { text.contains($0) } }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var stack: String
        var passphrase: Bool
        var args: [String]
        var packs = 1
        var env: [String: String] = [:]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "text, --show-secrets export", stack: "plaintext-v3.json", passphrase: false, args: []),
        Case(name: "json, --show-secrets export", stack: "plaintext-v3.json", passphrase: false, args: ["--format", "json"]),
        Case(name: "text, decrypted export and stack config", stack: "passphrase-v3.json", passphrase: true,
             args: ["--stack-config", Repo.stack("secrets/Pulumi.prod.yaml").path]),
        Case(name: "json, decrypted checkpoint, --apply-remediations", stack: "checkpoint-passphrase-v3.json", passphrase: true,
             args: ["--format", "json", "--apply-remediations"]),
        Case(name: "json, two packs in workers", stack: "passphrase-v4.json", passphrase: true,
             args: ["--format", "json", "--stack-config", Repo.stack("secrets/Pulumi.prod.yaml").path], packs: 2),
        Case(name: "text, the SDK's own analyzer out of process", stack: "plaintext-v3.json", passphrase: false,
             args: ["--runtime", "sdk-server"]),
        Case(name: "sarif, decrypted export and stack config", stack: "passphrase-v3.json", passphrase: true,
             args: ["--format", "sarif", "--stack-config", Repo.stack("secrets/Pulumi.prod.yaml").path]),
        Case(name: "junit, --show-secrets export", stack: "plaintext-v3.json", passphrase: false, args: ["--format", "junit"]),
        Case(name: "events (-j), --show-secrets export", stack: "plaintext-v3.json", passphrase: false, args: ["-j"]),
        Case(name: "a pack that exits in the middle of a policy", stack: "plaintext-v3.json", passphrase: false,
             args: [], env: ["SECRET_LEAK_EXIT": "1"]),
    ]

    func run(_ c: Case, showSecrets: Bool) throws -> (Run, [String]) {
        try FixtureCopy.withTemporaryDirectory("secrets-leak") { dir in
            var args = ["analyze", Repo.stack("secrets/\(c.stack)").path]
            for i in 0..<c.packs { args += ["--policy-pack", try pack(in: dir, as: "secret-leak-\(i)").path] }
            args += c.args + (showSecrets ? ["--show-secrets"] : [])
            let r = try policyHost(args, env: environment(passphrase: c.passphrase, c.env))
            // Files written next to the pack (none expected but the venv's, which is not in the copy).
            var written: [String] = []
            let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)
            while let f = files?.nextObject() as? URL {
                if let text = try? String(contentsOf: f, encoding: .utf8) { written.append(text) }
            }
            return (r, written)
        }
    }

    @Test(arguments: cases)
    func noSecretInAnyOutput(_ c: Case) throws {
        let (r, written) = try run(c, showSecrets: false)
        #expect(![0, 2, 3].contains(r.status), "\(c.name): status \(r.status)\n\(r.stderr)")
        #expect(leaked(r.stdout).isEmpty, "\(c.name): stdout shows \(leaked(r.stdout))\n\(r.stdout)")
        #expect(leaked(r.stderr).isEmpty, "\(c.name): stderr shows \(leaked(r.stderr))\n\(r.stderr)")
        for text in written { #expect(leaked(text).isEmpty, "\(c.name): a file written shows \(leaked(text))") }
        // The leaks were there to be caught: the pack ran and its output was relayed, redacted.
        let all = r.stdout + r.stderr
        #expect(all.contains("[secret]"), "\(c.name): nothing redacted\n\(all)")
        if c.env["SECRET_LEAK_EXIT"] == nil {
            #expect(all.contains("the password is [secret]"), "\(c.name)")
        }
        if c.packs == 1 {  // several packs' workers write to files, shown only when a pack fails
            #expect(r.stderr.contains("fd2: [secret]"), "\(c.name): the pack's own writes to fd 2 were not relayed\n\(r.stderr)")
        }
    }

    @Test(arguments: cases.filter { $0.env.isEmpty })
    func showSecretsShowsThem(_ c: Case) throws {
        let (r, _) = try run(c, showSecrets: true)
        #expect(r.stdout.contains("s3cr3t-ledger-pw-19"), "\(c.name)\n\(r.stdout)")
        if c.packs == 1 {
            #expect(r.stderr.contains("fd2: s3cr3t-ledger-pw-19"), "\(c.name)\n\(r.stderr)")
        }
    }

    /// Remediated properties keep secrecy: values that were secret (even copied with `dict()`, which
    /// drops the signature of top-level values) are `[secret]`; public ones stay readable.
    @Test func remediationsKeepSecrecy() throws {
        let (r, _) = try run(Self.cases[1], showSecrets: false)
        let props = r.json?["remediations"]?.arrayValue?.first?["properties"]?.objectValue
        #expect(props?["password"] == .string("[secret]"))
        #expect(props?["port"] == .string("[secret]"))
        #expect(props?["engine"] == .string("postgres"))
        #expect(props?["note"] == .string("rotated from [secret]"))
        // The resource's name is public (its URN shows it) though a secret holds the same text.
        #expect(r.json?["remediations"]?.arrayValue?.first?["urn"]?.stringValue?.hasSuffix("::ledger") == true)
        // --show-secrets: exactly what the SDK returns, the copied password unsigned.
        let (shown, _) = try run(Self.cases[1], showSecrets: true)
        let password = shown.json?["remediations"]?.arrayValue?.first?["properties"]?["password"]
        #expect(password == .string("s3cr3t-ledger-pw-19"))
    }

    /// `serve`: the engine's requests sign their secrets; what the pack prints (the engine's plugin
    /// log) shows none of them, while the responses carry exactly what the policies said, as the SDK's.
    @Test(arguments: [false, true])
    func serveLogsShowNoSecret(showSecrets: Bool) throws {
        try FixtureCopy.withTemporaryDirectory("secrets-serve") { dir in
            let pack = try pack(in: dir)
            let log = dir.appendingPathComponent("serve.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Repo.binary)
            p.arguments = ["serve", "127.0.0.1:1", pack.path]
            var env = environment(passphrase: false)
            env["POLICY_HOST_SHOW_SECRETS"] = showSecrets ? "1" : nil
            p.environment = env
            let out = Pipe()
            p.standardOutput = out
            p.standardError = try FileHandle(forWritingTo: log)
            try p.run()
            defer { if p.isRunning { p.terminate() } }
            var line = Data()
            while true {
                let b = out.fileHandleForReading.readData(ofLength: 1)
                if b.isEmpty || b == Data([0x0A]) { break }
                line.append(b)
            }
            let port = try #require(Int(String(decoding: line, as: UTF8.self)))
            let script = """
            import grpc
            from google.protobuf import empty_pb2
            from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
            s = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel("127.0.0.1:\(port)"))
            s.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            s.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack="s", project="p", organization="o", config={"payments:dbPassword": "cfg-secret-value-77"},
                config_secret_keys=["payments:dbPassword"]), timeout=30)
            req = analyzer_pb2.AnalyzeRequest(type="aws:rds/instance:Instance", urn="urn:pulumi:s::p::aws:rds/instance:Instance::db", name="db")
            req.properties.update({"password": {"\(EngineEncoding.sigKey)": "\(EngineEncoding.secretSig)", "value": "s3cr3t-serve-pw-42"}, "port": 5432})
            d = s.Analyze(req, timeout=30).diagnostics
            print(d[0].message)
            try:
                s.Cancel(empty_pb2.Empty(), timeout=5)
            except grpc.RpcError:
                pass
            """
            let venv = try preparedPack("aws-basics").appendingPathComponent("venv/bin/python")
            let r = try IntegrationTests.run([venv.path, "-c", script])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("the password is s3cr3t-serve-pw-42"), "the response is the SDK's: \(r.stdout)")
            let deadline = Date().addingTimeInterval(20)
            while p.isRunning && Date() < deadline { usleep(50_000) }
            let text = try String(contentsOf: log, encoding: .utf8)
            if showSecrets {
                #expect(text.contains("fd2: s3cr3t-serve-pw-42"), "\(text)")  // (its prints went to stdout, as without policy-host)
            } else {
                #expect(text.contains("fd2: [secret]"), "\(text)")
                #expect(!text.contains("s3cr3t-serve-pw-42"), "\(text)")
                #expect(text.contains("config: [secret]"), "the stack's secret config: \(text)")
                #expect(!text.contains("cfg-secret-value-77"), "\(text)")
            }
        }
    }
}
