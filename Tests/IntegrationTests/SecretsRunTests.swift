import Foundation
import HostCore
import PolicyPack
import PolicyValues
import TestSupport
import Testing

/// Encrypted stack exports run end to end: the built binary decrypts `Fixtures/stacks/secrets/*`
/// (made by `Tests/Secrets/make_encrypted_exports.py`) with the passphrase from the environment, and
/// the `secret-length` pack checks a password's length, which only its plaintext can tell.
@Suite(.serialized) struct SecretsRunTests {
    static let passphrase = "correct horse battery staple"

    /// This process's environment without any passphrase of the developer's, plus `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PULUMI_CONFIG_PASSPHRASE"] = nil
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = nil
        return env.merging(extra) { _, new in new }
    }

    /// A copy of the `secret-length` pack that uses the aws-basics venv (same requirements).
    func pack(in dir: URL, as name: String = "secret-length") throws -> URL {
        let venv = try preparedPack("aws-basics").appendingPathComponent("venv")
        let copy = try FixtureCopy.pack("secret-length", in: dir, as: name, venv: .none)
        let yaml = copy.appendingPathComponent("PulumiPolicy.yaml")
        try String(contentsOf: yaml, encoding: .utf8).replacingOccurrences(of: "virtualenv: venv", with: "virtualenv: \(venv.path)")
            .write(to: yaml, atomically: true, encoding: .utf8)
        return copy
    }

    func analyze(_ stack: String, env: [String: String], extra: [String] = []) throws -> Run {
        try FixtureCopy.withTemporaryDirectory("secrets") { dir in
            try policyHost(["analyze", "-q", Repo.stack("secrets/\(stack)").path, "--policy-pack", try pack(in: dir).path,
                            "--format", "json"] + extra, env: env)
        }
    }

    func messages(_ r: Run) -> [String] {
        (r.json?["violations"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
            .map { $0.components(separatedBy: "\n").last ?? $0 }.sorted()
    }

    func warnings(_ r: Run) -> [String] { (r.json?["warnings"]?.arrayValue ?? []).compactMap(\.stringValue) }

    static let decrypted = [
        "adminPassword has 19 characters",
        "the endpoint names a port",
        // The engine sends numbers as doubles, so a decrypted 5432 is a float, as in a --show-secrets file.
        "the password has 19 characters, fewer than 20 (port is a float)",
    ]

    @Test func thePassphraseVariableDecrypts() throws {
        // The --show-secrets twin of the same stack is the reference.
        let plain = try analyze("plaintext-v3.json", env: environment())
        #expect(messages(plain) == Self.decrypted)
        for stack in ["passphrase-v3.json", "passphrase-v4.json", "checkpoint-passphrase-v3.json"] {
            let r = try analyze(stack, env: environment(["PULUMI_CONFIG_PASSPHRASE": Self.passphrase]))
            #expect(r.status == 1, "\(stack): \(r.stderr)")
            #expect(messages(r) == Self.decrypted, "\(stack)")
            #expect(warnings(r).isEmpty, "\(stack): \(warnings(r))")
            #expect(!r.stderr.contains("warning:"), "\(stack): \(r.stderr)")
        }
    }

    @Test func thePassphraseFileDecrypts() throws {
        try FixtureCopy.withTemporaryDirectory("passphrase") { dir in
            let file = dir.appendingPathComponent("passphrase.txt")
            try "\(Self.passphrase)\n".write(to: file, atomically: true, encoding: .utf8)
            let r = try analyze("passphrase-v3.json", env: environment(["PULUMI_CONFIG_PASSPHRASE_FILE": file.path]))
            #expect(r.status == 1, "\(r.stderr)")
            #expect(messages(r) == Self.decrypted)
            // The variable comes first: a wrong one is not rescued by a right file.
            let both = try analyze("passphrase-v3.json", env: environment(["PULUMI_CONFIG_PASSPHRASE": "nope",
                                                                            "PULUMI_CONFIG_PASSPHRASE_FILE": file.path]))
            #expect(both.status == 2)
            #expect(both.stderr.contains("incorrect passphrase"))
        }
    }

    @Test func aWrongPassphraseIsExitTwoWithAHint() throws {
        let r = try analyze("passphrase-v3.json", env: environment(["PULUMI_CONFIG_PASSPHRASE": "Correct horse battery staple"]))
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("error: \(Repo.stack("secrets/passphrase-v3.json").path): incorrect passphrase"), "\(r.stderr)")
        #expect(r.stderr.contains("hint: set PULUMI_CONFIG_PASSPHRASE"))
        #expect(!r.stderr.contains("s3cr3t"))
    }

    @Test func anUnreadablePassphraseFileIsExitTwo() throws {
        let r = try analyze("passphrase-v3.json", env: environment(["PULUMI_CONFIG_PASSPHRASE_FILE": "/dev/zero"]))
        #expect(r.status == 2)
        #expect(r.stderr.contains("error: unable to read PULUMI_CONFIG_PASSPHRASE_FILE: /dev/zero: larger than 64 KiB"), "\(r.stderr)")
    }

    @Test func withoutAPassphraseSecretsAreRedactedWithOneWarning() throws {
        let r = try analyze("passphrase-v3.json", env: environment())
        #expect(r.status == 1, "\(r.stderr)")
        // "[secret]" has 8 characters, and the secret port is that string too.
        #expect(messages(r) == ["adminPassword has 8 characters", "the endpoint is redacted",
                                "the password has 8 characters, fewer than 20 (port is a str)"])
        #expect(warnings(r).count == 1)
        let w = warnings(r).first ?? ""
        #expect(w.contains(": 17 secret value(s) could not be decrypted (they are encrypted with a passphrase and none was given)"), "\(w)")
        #expect(w.contains("set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"))
        #expect(r.stderr.components(separatedBy: "warning: ").count == 2, "one warning on stderr: \(r.stderr)")
    }

    @Test(arguments: ["service", "awskms", "azurekeyvault", "gcpkms", "hashivault"])
    func providersThatNeedAServiceRunRedacted(provider: String) throws {
        let r = try analyze("\(provider).json", env: environment(["PULUMI_CONFIG_PASSPHRASE": Self.passphrase]))
        #expect(r.status == 1, "\(r.stderr)")
        #expect(messages(r).contains("the password has 8 characters, fewer than 20 (port is a str)"))
        #expect(warnings(r).count == 1)
        let w = warnings(r).first ?? ""
        #expect(w.contains("3 secret value(s) could not be decrypted"), "\(w)")
        #expect(w.contains(provider == "service" ? "\"service\" secrets provider" : "\"cloud (\(provider))\" secrets provider"), "\(w)")
        #expect(w.contains("`pulumi stack export --show-secrets`"))
    }

    @Test func severalPacksCheckTheWrongPassphraseOnce() throws {
        try FixtureCopy.withTemporaryDirectory("secrets-multi") { dir in
            let a = try pack(in: dir, as: "a"), b = try pack(in: dir, as: "b")
            let bad = try policyHost(["analyze", "-q", Repo.stack("secrets/passphrase-v3.json").path, "--policy-pack", a.path,
                                      "--policy-pack", b.path, "--format", "json"],
                                     env: environment(["PULUMI_CONFIG_PASSPHRASE": "wrong"]))
            #expect(bad.status == 2)
            #expect(bad.stderr.components(separatedBy: "incorrect passphrase").count == 2, "once: \(bad.stderr)")
            let good = try policyHost(["analyze", "-q", Repo.stack("secrets/passphrase-v3.json").path, "--policy-pack", a.path,
                                       "--policy-pack", b.path, "--format", "json"],
                                      env: environment(["PULUMI_CONFIG_PASSPHRASE": Self.passphrase]))
            #expect(good.status == 1, "\(good.stderr)")
            #expect(messages(good).filter { $0.contains("19 characters") }.count == 4)
        }
    }

    // MARK: --stack-config

    static let settings = Repo.stack("secrets/Pulumi.prod.yaml").path

    func configMessage(_ r: Run) -> String? { messages(r).first { $0.hasPrefix("config: ") } }

    @Test func stackConfigIsDecryptedAndConfigFlagsOverrideIt() throws {
        let env = environment(["PULUMI_CONFIG_PASSPHRASE": Self.passphrase])
        let r = try analyze("passphrase-v3.json", env: env, extra: ["--stack-config", Self.settings])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(configMessage(r) == "config: dbPassword has 19 characters, database.password 9, replica key 2, region eu-west-1, instanceCount 3")
        #expect(warnings(r).isEmpty, "\(warnings(r))")
        let flags = try analyze("passphrase-v3.json", env: env,
                                extra: ["--stack-config", Self.settings, "--config", "aws:region=us-east-1", "--config", "instanceCount=7"])
        #expect(configMessage(flags) == "config: dbPassword has 19 characters, database.password 9, replica key 2, region us-east-1, instanceCount 7")
        // With several packs, each pack's process reads it.
        try FixtureCopy.withTemporaryDirectory("secrets-multi") { dir in
            let a = try pack(in: dir, as: "a"), b = try pack(in: dir, as: "b")
            let multi = try policyHost(["analyze", "-q", Repo.stack("secrets/passphrase-v3.json").path, "--policy-pack", a.path,
                                        "--policy-pack", b.path, "--format", "json", "--stack-config", Self.settings], env: env)
            #expect(messages(multi).filter { $0.hasPrefix("config: dbPassword has 19 characters") }.count == 2, "\(multi.stderr)")
        }
    }

    @Test func stackConfigWithoutAPassphraseIsRedacted() throws {
        let r = try analyze("passphrase-v3.json", env: environment(), extra: ["--stack-config", Self.settings])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(configMessage(r) == "config: dbPassword has 8 characters, database.password 8, replica key 8, region eu-west-1, instanceCount 3")
        // One warning for the export's secrets, one for the config's.
        #expect(warnings(r).count == 2, "\(warnings(r))")
        #expect(warnings(r).contains { $0.contains("Pulumi.prod.yaml: 3 secure config value(s) could not be decrypted") })
    }

    @Test func stackConfigWithAWrongPassphraseFailsOnce() throws {
        // The export is plaintext: only the settings file needs the passphrase.
        let r = try analyze("plaintext-v3.json", env: environment(["PULUMI_CONFIG_PASSPHRASE": "wrong"]),
                            extra: ["--stack-config", Self.settings])
        #expect(r.status == 2)
        #expect(r.stderr.contains("Pulumi.prod.yaml: incorrect passphrase"), "\(r.stderr)")
    }

    @Test func keyDerivationIsOnePhase() throws {
        let r = try analyze("passphrase-v3.json", env: environment(["PULUMI_CONFIG_PASSPHRASE": Self.passphrase,
                                                                     "POLICY_HOST_TIMINGS": "1"]))
        let line = r.stderr.components(separatedBy: "\n").first { $0.contains("derive the secrets key") }
        #expect(line != nil, "\(r.stderr)")
        print(line ?? "")
    }
}
