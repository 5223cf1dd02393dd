import Foundation
import HostCore
import PolicyPack
import PolicyValues
import Testing

/// Secrets of stack exports (`Stack/Secrets`): the passphrase provider against exports encrypted by
/// an independent implementation (`Tests/Secrets/make_encrypted_exports.py`, PyPI `cryptography`),
/// the providers that cannot be decrypted offline, the passphrase's sources, and damaged values.
@Suite struct SecretsTests {
    static let passphrase = Array("correct horse battery staple".utf8)
    static let sig = EngineEncoding.sigKey
    static let db = "urn:pulumi:prod::payments::aws:rds/instance:Instance::ledger"

    /// `Fixtures/stacks/secrets/hostile-values.json`: the state, and ciphertexts keyed by case.
    static let hostile: PlainValue = try! JSON.parse(Data(contentsOf: StackFixtures.url("secrets/hostile-values.json")))
    static func hostileCase(_ name: String) -> String { hostile["cases"]![name]!.stringValue! }

    /// The fixtures' key, derived once for the suite (1 000 000 PBKDF2 rounds).
    static let crypter = try! PassphraseCrypter(passphrase: passphrase, state: hostile["state"]!["salt"]!.stringValue!)

    static func secret(_ v: PlainValue) -> PlainValue { [sig: .string(EngineEncoding.secretSig), "value": v] }

    static func requests(_ name: String, passphrase: PassphraseSource) throws -> (AnalysisRequests, StackSnapshot) {
        let snapshot = try StackFixtures.load("secrets/\(name)")
        let secrets = StackSecrets(snapshot: snapshot, file: name, passphrase: passphrase)
        return (try AnalysisRequests(snapshot: snapshot, project: snapshot.project, stack: snapshot.stack, secrets: secrets), snapshot)
    }

    static let given = PassphraseSource(passphrase: passphrase, passphraseFile: nil)

    func inputs(_ r: AnalysisRequests, _ urn: String) -> PlainObject {
        r.resources.first { $0.urn == urn }?.properties ?? PlainObject()
    }

    // MARK: Decryption

    @Test func keyDerivationIsTimedOnce() throws {
        let state = Self.hostile["state"]!["salt"]!.stringValue!
        let clock = ContinuousClock()
        let elapsed = try clock.measure { _ = try PassphraseCrypter(passphrase: Self.passphrase, state: state) }
        // Informational (BENCHMARKS.md has the release figure); a bound that only a hang would cross.
        print("PBKDF2-HMAC-SHA256, 1 000 000 rounds, and the check value: \(elapsed)")
        #expect(elapsed < .seconds(60))
        let value = Self.hostileCase("good")
        let n = 2_000
        let perValue = try clock.measure { for _ in 0..<n { _ = try Self.crypter.decrypt(value) } } / n
        print("one value (AES-256-GCM open of a short secret): \(perValue)")
    }

    @Test func everyShapeDecryptsToWhatTheShowSecretsExportHolds() throws {
        // The same stack exported with --show-secrets (plaintext) is the reference: decryption must
        // give exactly the requests that file gives.
        let plain = try Self.requests("plaintext-v3.json", passphrase: .none).0
        #expect(plain.undecryptable.isEmpty)
        for name in ["passphrase-v3.json", "passphrase-v4.json", "checkpoint-passphrase-v3.json"] {
            let (r, snapshot) = try Self.requests(name, passphrase: Self.given)
            #expect(snapshot.encryptedSecrets == 17, "\(name)")
            #expect(r.undecryptable.isEmpty, "\(name)")
            #expect(r.warnings.isEmpty, "\(name): \(r.warnings)")
            #expect(JSON.serialize(.array(r.engineForm.resources)) == JSON.serialize(.array(plain.engineForm.resources)), "\(name)")
            #expect(JSON.serialize(.array(r.engineForm.stackResources)) == JSON.serialize(.array(plain.engineForm.stackResources)), "\(name)")
        }
    }

    @Test func valuesOfEachKind() throws {
        let (r, _) = try Self.requests("passphrase-v3.json", passphrase: Self.given)
        let p = inputs(r, Self.db)
        #expect(p["password"] == Self.secret("s3cr3t-ledger-pw-19"))
        #expect(p["port"] == Self.secret(5432.0))
        #expect(p["storageEncrypted"] == Self.secret(true))
        #expect(p["allocatedStorage"] == Self.secret(20.5))
        #expect(p["credentials"] == Self.secret(["user": "ledger", "pass": "hunter22", "roles": ["rw", "admin"]]))
        #expect(p["tags"] == ["env": "prod", "token": Self.secret("tok-äöü-✓")])
        // Secrets inside a secret: the CLI writes them with its NopEncrypter (JSON text as "ciphertext").
        #expect(p["connection"] == Self.secret(["host": "db.internal", "password": Self.secret("inner-pw"),
                                                "replicas": [Self.secret(["host": "r1", "key": Self.secret("k1")])]]))
        #expect(p["maintenance"] == Self.secret(.null))
        #expect(p["emptyPassword"] == Self.secret(""))
        #expect(p["list"] == [Self.secret("a"), "b", Self.secret(["c", 1.0])])
        // Outputs (AnalyzeStack), the provider's inputs, the stack's outputs.
        let out = r.stackResources.first { $0.urn == Self.db }?.properties
        #expect(out?["endpoint"] == Self.secret("ledger.abc.eu-west-1.rds.amazonaws.com:5432"))
        #expect(r.providers.first?.properties["secretKey"] == Self.secret("AKIA-not-a-real-key"))
        #expect(r.stackResources.first?.properties["adminPassword"] == Self.secret("s3cr3t-ledger-pw-19"))
    }

    @Test func anEmptyPassphraseIsAPassphrase() throws {
        let empty = Self.hostile["emptyPassphrase"]!
        let crypter = try PassphraseCrypter(passphrase: [], state: empty["state"]!["salt"]!.stringValue!)
        #expect(try crypter.decrypt(empty["value"]!.stringValue!) == Array(#""from an empty passphrase""#.utf8))
        #expect(throws: PassphraseCrypter.StateError.incorrectPassphrase) {
            try PassphraseCrypter(passphrase: Array(" ".utf8), state: empty["state"]!["salt"]!.stringValue!)
        }
    }

    // MARK: Wrong and missing passphrases

    @Test func aWrongPassphraseIsOneUsageError() throws {
        let wrong = PassphraseSource(passphrase: Array("Correct horse battery staple".utf8), passphraseFile: nil)
        let e = try #require(throws: HostError.self) { _ = try Self.requests("passphrase-v3.json", passphrase: wrong) }
        #expect(e.status == .usage)
        #expect(e.message == "passphrase-v3.json: incorrect passphrase: it does not decrypt the stack's secrets")
        #expect(e.hints.first?.contains("PULUMI_CONFIG_PASSPHRASE") == true)
        #expect(throws: PassphraseCrypter.StateError.incorrectPassphrase) {
            try PassphraseCrypter(passphrase: Array("wrong".utf8), state: Self.hostile["state"]!["salt"]!.stringValue!)
        }
    }

    @Test func withoutAPassphraseEverySecretIsRedactedWithOneWarning() throws {
        for name in ["passphrase-v3.json", "checkpoint-passphrase-v3.json"] {
            let (r, snapshot) = try Self.requests(name, passphrase: .none)
            #expect(r.undecryptable.count == 17 && snapshot.encryptedSecrets == 17, "\(name)")
            let p = inputs(r, Self.db)
            // Whatever the type: a number, an object, null, all "[secret]".
            for key in ["password", "port", "credentials", "maintenance", "connection"] {
                #expect(p[key] == Self.secret("[secret]"), "\(name) \(key)")
            }
            #expect(r.warnings.count == 1)
            let w = try #require(r.warnings.first)
            #expect(w.hasPrefix("\(name): 17 secret value(s) could not be decrypted (they are encrypted with a passphrase and none was given)"))
            #expect(w.contains("set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"))
            #expect(w.contains("pulumi stack export --show-secrets"))
            #expect(w.contains("\(Self.db):inputs.password") || w.contains(":outputs.adminPassword"))
        }
    }

    @Test(arguments: [
        ("service.json", "\"service\" secrets provider"),
        ("awskms.json", "\"cloud (awskms)\" secrets provider"),
        ("azurekeyvault.json", "\"cloud (azurekeyvault)\" secrets provider"),
        ("gcpkms.json", "\"cloud (gcpkms)\" secrets provider"),
        ("hashivault.json", "\"cloud (hashivault)\" secrets provider"),
        ("no-provider-v2.json", "the file names no secrets provider"),
    ])
    func providersThatNeedAServiceAreRedacted(name: String, named: String) throws {
        // A passphrase in the environment changes nothing for them.
        let (r, snapshot) = try Self.requests(name, passphrase: Self.given)
        #expect(r.undecryptable.count == snapshot.encryptedSecrets && r.undecryptable.count > 0)
        #expect(inputs(r, Self.db)["password"] == Self.secret("[secret]"))
        #expect(r.warnings.count == 1)
        let w = r.warnings.first ?? ""
        #expect(w.contains(named), "\(w)")
        #expect(w.contains("\(r.undecryptable.count) secret value(s)"))
        #expect(w.contains("`pulumi stack export --show-secrets`"))
        #expect(!w.contains("PULUMI_CONFIG_PASSPHRASE"), "a passphrase would not help: \(w)")
    }

    // MARK: Where the passphrase comes from

    @Test func theVariableComesBeforeTheFileEvenWhenEmpty() throws {
        try withScratch { dir in
            let file = dir.appendingPathComponent("pass")
            try Data("  from the file\n".utf8).write(to: file)
            #expect(try PassphraseSource(passphrase: Array("env".utf8), passphraseFile: file.path).resolve() == Array("env".utf8))
            #expect(try PassphraseSource(passphrase: [], passphraseFile: file.path).resolve() == [])
            #expect(try PassphraseSource(passphrase: nil, passphraseFile: file.path).resolve() == Array("from the file".utf8))
            // Relative to the current directory, as filepath.Abs makes it.
            #expect(try PassphraseSource(passphrase: nil, passphraseFile: "pass", currentDirectory: dir.path).resolve() == Array("from the file".utf8))
            // An empty PULUMI_CONFIG_PASSPHRASE_FILE is no file.
            #expect(try PassphraseSource(passphrase: nil, passphraseFile: "").resolve() == nil)
            #expect(try PassphraseSource(passphrase: nil, passphraseFile: nil).resolve() == nil)
            #expect(!PassphraseSource(passphrase: nil, passphraseFile: "").isGiven)
        }
    }

    @Test func thePassphraseFileDecryptsTheExport() throws {
        try withScratch { dir in
            let file = dir.appendingPathComponent("pass")
            try Data("correct horse battery staple\n".utf8).write(to: file)
            let (r, _) = try Self.requests("passphrase-v3.json", passphrase: PassphraseSource(passphrase: nil, passphraseFile: file.path))
            #expect(inputs(r, Self.db)["password"] == Self.secret("s3cr3t-ledger-pw-19"))
        }
    }

    @Test func trimSpaceAsGo() {
        func trim(_ s: [UInt8]) -> [UInt8] { PassphraseSource.trimSpace(s) }
        #expect(trim(Array(" \t\r\n\u{0B}\u{0C}pass word \n".utf8)) == Array("pass word".utf8))
        // Unicode white space (NBSP, NEL, ideographic space) is trimmed; other characters are not.
        #expect(trim(Array("\u{00A0}\u{0085}pw\u{3000}\u{2029}".utf8)) == Array("pw".utf8))
        #expect(trim(Array("\u{200B}pw\u{200B}".utf8)) == Array("\u{200B}pw\u{200B}".utf8))
        // A byte that is not UTF-8 stops the trim; the bytes are kept as they are.
        #expect(trim([0x20, 0xFF, 0x70, 0x0A, 0xC2]) == [0xFF, 0x70, 0x0A, 0xC2])
        #expect(trim([0x20, 0x0A]) == [])
        #expect(trim([]) == [])
    }

    @Test func hostilePassphraseFiles() throws {
        try withScratch { dir in
            func error(_ file: String) -> HostError? {
                do { _ = try PassphraseSource(passphrase: nil, passphraseFile: file).resolve(); return nil } catch { return error }
            }
            let missing = error(dir.appendingPathComponent("none").path)
            #expect(missing?.status == .usage)
            #expect(missing?.message.hasPrefix("unable to read PULUMI_CONFIG_PASSPHRASE_FILE: ") == true)
            #expect(missing?.message.hasSuffix("none: no such file") == true)
            #expect(error(dir.path)?.message.hasSuffix(": is a directory") == true)
            // A link to /dev/zero is read only up to the bound.
            let zero = dir.appendingPathComponent("zero")
            try FileManager.default.createSymbolicLink(atPath: zero.path, withDestinationPath: "/dev/zero")
            let started = ContinuousClock.now
            #expect(error(zero.path)?.message.hasSuffix(": larger than 64 KiB; a passphrase file holds one line") == true)
            #expect(ContinuousClock.now - started < .seconds(5))
            // At the bound it is read.
            let big = dir.appendingPathComponent("big")
            try Data(repeating: 0x61, count: PassphraseSource.maxFileSize).write(to: big)
            #expect(try PassphraseSource(passphrase: nil, passphraseFile: big.path).resolve()?.count == PassphraseSource.maxFileSize)
            // An unreadable file (not as root, who reads everything).
            if getuid() != 0 {
                let locked = dir.appendingPathComponent("locked")
                try Data("x".utf8).write(to: locked)
                try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
                #expect(error(locked.path)?.message.contains("not readable") == true)
            }
        }
    }

    // MARK: Hostile values

    @Test(arguments: [
        ("truncatedTag", "message authentication failed"),
        ("flippedByte", "message authentication failed"),
        ("otherKey", "message authentication failed"),
        ("tagOnlyPart", "shorter than the 16-byte authentication tag"),
        ("nonce16", "nonce size is incorrect (16 bytes, expected 12)"),
        ("nonce8", "nonce size is incorrect (8 bytes, expected 12)"),
        ("notBase64Nonce", "the nonce is not base64"),
        ("notBase64Body", "the ciphertext is not base64"),
        ("unpaddedBody", "the ciphertext is not base64"),
        ("v2Prefix", "unknown value version \"v2\""),
        ("noPrefix", "found 2 part(s)"),
        ("fourParts", "found 4 part(s)"),
        ("empty", "found 1 part(s)"),
    ])
    func damagedValuesAreRefused(name: String, reason: String) throws {
        let e = try #require(throws: SecretDecryptionError.self) { try Self.crypter.decrypt(Self.hostileCase(name)) }
        #expect(e.reason.contains(reason), "\(name): \(e.reason)")
    }

    @Test func plaintextThatIsNotJSON() throws {
        #expect(try Self.crypter.decrypt(Self.hostileCase("good")) == Array(#""fine""#.utf8))
        var secrets = StackSecrets(decrypter: Self.crypter, file: "f.json")
        #expect(try secrets.open(Self.hostileCase("good"), path: { "p" }) == "fine")
        // Bytes that are not UTF-8 inside a JSON string become U+FFFD, as Go's json.Unmarshal has them.
        #expect(try secrets.open(Self.hostileCase("nonUTF8String"), path: { "p" }) == "\u{FFFD}\u{FFFD}ok")
        for name in ["notJSON", "nonUTF8Bare"] {
            let e = try #require(throws: HostError.self) { _ = try secrets.open(Self.hostileCase(name), path: { "r:inputs.x" }) }
            #expect(e.status == .usage)
            #expect(e.message.hasPrefix("f.json: r:inputs.x: the secret decrypts, but not to JSON ("), "\(e.message)")
        }
    }

    @Test func aHugeCiphertextFailsWithoutFuss() throws {
        // 32 MiB that are no GCM message of this key: refused, in one pass.
        var bytes = [UInt8](repeating: 0, count: 32 << 20)
        for i in stride(from: 0, to: bytes.count, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i >> 12) }
        let value = "v1:\(Data(repeating: 7, count: 12).base64EncodedString()):\(Data(bytes).base64EncodedString())"
        let started = ContinuousClock.now
        let e = try #require(throws: SecretDecryptionError.self) { try Self.crypter.decrypt(value) }
        #expect(e.reason.contains("message authentication failed"))
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aDamagedValueInAnExportNamesItsPath() throws {
        var text = try String(contentsOf: StackFixtures.url("secrets/passphrase-v3.json"), encoding: .utf8)
        let snapshot = try StackFixtures.load("secrets/passphrase-v3.json")
        // The database's input password: replace its ciphertext with another key's.
        let original = try #require(snapshot.resources.first { $0.urn == Self.db }?.inputs["password"]?["ciphertext"]?.stringValue)
        text = text.replacingOccurrences(of: original, with: Self.hostileCase("otherKey"))
        let damaged = try StackSnapshot.parse(JSON.parse(text), file: "damaged.json")
        var secrets = StackSecrets(snapshot: damaged, file: "damaged.json", passphrase: Self.given)
        try secrets.prepare()  // the check value still decrypts: the passphrase is right
        let e = try #require(throws: HostError.self) {
            _ = try AnalysisRequests(snapshot: damaged, project: "p", stack: "s", secrets: secrets)
        }
        #expect(e.status == .usage)
        #expect(e.message == "damaged.json: \(Self.db):inputs.password: the secret does not decrypt: message authentication failed (the value was altered, or encrypted with another key)")
    }

    @Test func b64ValuesThatAreNotBase64AreErrorsToo() throws {
        var enc = EngineEncoding(secretsProvider: "b64")
        let e = try #require(throws: HostError.self) {
            try enc.encode([Self.sig: .string(EngineEncoding.secretSig), "ciphertext": "not base64!"], path: "r:inputs.k")
        }
        #expect(e.message.contains("r:inputs.k: the secret does not decrypt: the b64 provider's ciphertext is not base64"))
    }

    // MARK: Provider state

    @Test func malformedStates() throws {
        let good = Self.hostile["state"]!["salt"]!.stringValue!
        let parts = good.split(separator: ":", maxSplits: 2).map(String.init)
        let cases: [(String, PassphraseCrypter.StateError)] = [
            ("v1", .malformed("expected v1:<salt>:<check value>")),
            ("v2:\(parts[1]):\(parts[2])", .malformed("unknown state version \"v2\" (expected v1)")),
            ("v1:***:\(parts[2])", .malformed("the salt is not base64")),
            ("v1::\(parts[2])", .malformed("the salt is empty")),
            ("v1:\(parts[1]):v1:abc", .malformed("its check value: bad value: expected v1:<nonce>:<ciphertext>, found 2 part(s)")),
            // The check value of another key: the passphrase is wrong for this salt.
            ("v1:\(parts[1]):\(Self.hostileCase("otherKey"))", .incorrectPassphrase),
            // A check value that decrypts, but not to "pulumi".
            ("v1:\(parts[1]):\(Self.hostileCase("good"))", .incorrectPassphrase),
        ]
        for (state, expected) in cases {
            #expect(throws: expected, "\(state)") { try PassphraseCrypter(passphrase: Self.passphrase, state: state) }
        }
    }

    @Test func stateMembersAreMatchedAsGoMatchesThem() throws {
        let salt = Self.hostile["state"]!["salt"]!
        // encoding/json: case-insensitive keys, the last one wins.
        var secrets = StackSecrets(provider: "passphrase", state: ["SALT": "v1:x:y", "Salt": salt], file: "f", passphrase: Self.given)
        try secrets.prepare()
        #expect(secrets.redaction == nil)
        var none = StackSecrets(provider: "passphrase", state: ["pepper": salt], file: "f", passphrase: Self.given)
        let e = try #require(throws: HostError.self) { try none.prepare() }
        #expect(e.message.contains("secrets_providers.state has no \"salt\""))
    }

    @Test func aPassphraseIsReadOnlyWhenASecretNeedsIt() throws {
        // A missing passphrase file is no error for a file without encrypted secrets.
        let snapshot = try StackFixtures.load("secrets/plaintext-v3.json")
        let source = PassphraseSource(passphrase: nil, passphraseFile: "/nonexistent/passphrase")
        let r = try AnalysisRequests(snapshot: snapshot, project: "p", stack: "s",
                                     secrets: StackSecrets(snapshot: snapshot, file: "f", passphrase: source))
        #expect(r.warnings.isEmpty)
    }

    // MARK: Stack settings files (--stack-config)

    static func settings(_ name: String, passphrase: PassphraseSource) throws -> StackConfigFile {
        try StackConfigFile.load(StackFixtures.url("secrets/\(name)"), project: "payments", passphrase: passphrase)
    }

    @Test func stackConfigAsTheEngineHandsItToAnalyzers() throws {
        let file = try Self.settings("Pulumi.prod.yaml", passphrase: Self.given)
        #expect(file.warnings.isEmpty)
        let config = Dictionary(uniqueKeysWithValues: file.config)
        #expect(config == [
            "aws:region": "eu-west-1",
            "payments:instanceCount": "3",  // a key without a namespace gets the project's
            "payments:dbPassword": "s3cr3t-ledger-pw-19",  // a secure value is its text, not JSON
            "payments:ratio": "0.25",
            "payments:debug": "true",
            "payments:zip": "01234",
            "payments:tiny": "1e-7",  // Go's float format
            "payments:legacy": "old-style key",  // payments:config:legacy
            // json.Marshal: keys sorted, <>& escaped, secure values inside decrypted.
            "payments:database": #"{"host":"db.internal","note":"a\u003cb \u0026 c\u003ed","password":"nested-pw","port":5432,"replicas":[{"host":"r1","key":"k1"}]}"#,
            // `secure:` with a value that is not a string is an ordinary map.
            "payments:notSecure": #"{"secure":5}"#,
        ])
        #expect(file.config.map(\.0) == file.config.map(\.0).sorted())
        #expect(file.secretKeys == ["payments:database", "payments:dbPassword"])
    }

    @Test func stackConfigWithoutAPassphraseIsRedactedWithOneWarning() throws {
        let file = try Self.settings("Pulumi.prod.yaml", passphrase: .none)
        let config = Dictionary(uniqueKeysWithValues: file.config)
        #expect(config["payments:dbPassword"] == "[secret]")
        #expect(config["payments:database"]?.contains(#""password":"[secret]""#) == true)
        #expect(config["payments:database"]?.contains(#""key":"[secret]""#) == true)
        #expect(file.warnings.count == 1)
        #expect(file.warnings.first?.contains("3 secure config value(s) could not be decrypted (they are encrypted with a passphrase and none was given)") == true)
        #expect(file.warnings.first?.contains("config.payments:dbPassword") == true)

        let kms = try Self.settings("Pulumi.awskms.yaml", passphrase: Self.given)
        #expect(Dictionary(uniqueKeysWithValues: kms.config) == ["payments:dbPassword": "[secret]", "payments:plain": "visible"])
        #expect(kms.warnings.first?.contains("\"cloud (awskms)\" secrets provider") == true)
    }

    @Test func stackConfigWithAWrongPassphrase() throws {
        let e = try #require(throws: HostError.self) {
            _ = try Self.settings("Pulumi.prod.yaml", passphrase: PassphraseSource(passphrase: Array("nope".utf8), passphraseFile: nil))
        }
        #expect(e.status == .usage)
        #expect(e.message.hasSuffix("Pulumi.prod.yaml: incorrect passphrase: it does not decrypt the stack's secrets"))
    }

    @Test func hostileStackConfigFiles() throws {
        let salt = try String(contentsOf: StackFixtures.url("secrets/Pulumi.prod.yaml"), encoding: .utf8)
            .split(separator: "\n").first.map(String.init) ?? ""
        func error(_ text: String) -> String? {
            do {
                _ = try StackConfigFile.parse(Data(text.utf8), file: "S.yaml", project: "p", passphrase: Self.given)
                return nil
            } catch { return error.message }
        }
        #expect(error("config: [")?.hasPrefix("S.yaml: invalid YAML") == true)
        #expect(error("- a\n- b\n") == "S.yaml: expected a mapping at the top level")
        #expect(error("config: 5\n") == "S.yaml: 'config' must be a mapping of keys to values")
        #expect(error("config:\n  a:b:c: 1\n")?.contains("could not parse a:b:c as a configuration key") == true)
        #expect(error("config:\n  p:a: 1\n  a: 2\n")?.contains("config key p:a is given twice") == true)
        #expect(error("config:\n  a:\n    x: 1\n    x: 2\n")?.contains("mapping key \"x\" already defined") == true)
        #expect(error("config:\n  a: .nan\n")?.contains("cannot be passed to a policy pack") == true)
        // No encryptionsalt and no secretsprovider: the service holds the key; redacted, no error.
        let service = try StackConfigFile.parse(Data("config:\n  a:\n    secure: v1:AAAA:AAAA\n".utf8), file: "S.yaml", project: "p", passphrase: Self.given)
        #expect(service.config.first?.1 == "[secret]")
        #expect(service.warnings.first?.contains("\"service\" secrets provider") == true)
        #expect(error("\(salt)\nconfig:\n  a:\n    secure: v1:AAAA:AAAA\n") == "S.yaml: config.a: the secret does not decrypt: bad value: nonce size is incorrect (3 bytes, expected 12)")
        // A damaged value under a right salt names its path.
        let damaged = "\(salt)\nconfig:\n  a:\n    - secure: \(Self.hostileCase("otherKey"))\n"
        #expect(error(damaged) == "S.yaml: config.a[0]: the secret does not decrypt: message authentication failed (the value was altered, or encrypted with another key)")
        #expect(error(String(repeating: "[", count: 500)) != nil)
        // Empty files and a null config are an empty config.
        #expect(try StackConfigFile.parse(Data(), file: "S.yaml", project: "p", passphrase: .none).config.isEmpty)
        #expect(try StackConfigFile.parse(Data("config:\n".utf8), file: "S.yaml", project: "p", passphrase: .none).config.isEmpty)
    }

    @Test func yamlScalarsAsYamlV3ResolvesThem() throws {
        func text(_ plain: String) throws -> String {
            try StackConfigFile.parse(Data("config:\n  a: \(plain)\n".utf8), file: "S", project: "p", passphrase: .none).config[0].1
        }
        let cases: [(String, String)] = [
            ("0x1F", "31"), ("0o17", "15"), ("017", "15"), ("0b101", "5"), ("1_000", "1000"), ("-5", "-5"),
            ("9223372036854775808", "9223372036854775808"), ("1e3", "1000"), ("09", "9"), ("2.50", "2.5"),
            ("yes", "yes"), ("on", "on"), ("2001-12-14", "2001-12-14"), ("~", "null"), ("True", "true"),
            ("'true'", "true"), ("\"0x1F\"", "0x1F"), ("1e21", "1e+21"), ("1e20", "100000000000000000000"),
        ]
        for (plain, expected) in cases { #expect(try text(plain) == expected, "\(plain)") }
    }

    func withScratch(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir)
    }
}
