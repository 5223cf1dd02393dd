import Foundation
import HostCore
import PolicyValues

/// What is done with the encrypted secrets (`{sig, "ciphertext": …}`) of one stack file, decided
/// from the file's `secrets_providers` and the environment:
///
/// * `b64`: decrypted (it is base64);
/// * `passphrase` with a passphrase given (`PassphraseSource`): decrypted with a key derived and
///   checked once, at the first ciphertext; a wrong passphrase is an error (exit 2);
/// * anything else (`service`, `cloud` with an `awskms://`, `azurekeyvault://`, `gcpkms://` or
///   `hashivault://` key, `passphrase` without a passphrase, no provider at all): each such secret
///   reaches policies as `"[secret]"`, whatever its type, and the run warns once
///   (`redactionWarning`), as `pulumi policy analyze --file` does.
///
/// A ciphertext that does not decrypt with a checked key, or decrypts to something other than
/// JSON, is an error naming its path: the file is damaged, and a silent `"[secret]"` would hide it.
public struct StackSecrets: Sendable {
    /// Why the secrets of a file cannot be decrypted here.
    public enum Redaction: Sendable, Equatable {
        /// No `secrets_providers` (deployments v1 and v2 have none).
        case noProvider
        /// `passphrase`, but neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set.
        case noPassphrase
        /// Pulumi Cloud (`service`), a cloud KMS (`cloud`, named by its URL scheme) or a type the CLI
        /// does not know.
        case needsService(String)
    }

    private enum Access: Sendable {
        case ready(any SecretDecrypter)
        case passphrase(state: PlainValue?, source: PassphraseSource)
        case redact(Redaction)
    }

    /// The file, for messages.
    public let file: String
    /// `secrets_providers.type` as written, if any.
    public let provider: String?
    private var access: Access
    /// Where the passphrase provider's salt is, for messages.
    private var saltName = "secrets_providers.state.salt"

    /// The secrets of a file whose `secrets_providers` is `provider` with `state`.
    public init(provider: String?, state: PlainValue?, file: String, passphrase: PassphraseSource) {
        self.file = file
        self.provider = provider
        switch provider {
        case nil, "":
            access = .redact(.noProvider)
        case "b64":
            access = .ready(Base64SecretDecrypter())
        case "passphrase":
            access = passphrase.isGiven ? .passphrase(state: state, source: passphrase) : .redact(.noPassphrase)
        case "cloud":
            access = .redact(.needsService(Self.cloudName(url: state.flatMap { Self.member($0, "url") }?.stringValue ?? "")))
        case let other?:
            access = .redact(.needsService(other))
        }
    }

    /// The secrets of a stack settings file (`Pulumi.<stack>.yaml`): its `encryptionsalt` is the
    /// passphrase provider's salt; without one, the `secretsprovider` URL (or the service, when
    /// that is empty) holds the key.
    public init(encryptionSalt: String?, secretsProvider: String?, file: String, passphrase: PassphraseSource) {
        if let encryptionSalt {
            self.init(provider: "passphrase", state: ["salt": .string(encryptionSalt)], file: file, passphrase: passphrase)
            saltName = "encryptionsalt"
        } else {
            let url = secretsProvider ?? ""
            self.init(provider: url.isEmpty || url == "service" ? "service" : "cloud", state: ["url": .string(url)], file: file,
                      passphrase: passphrase)
        }
    }

    static func cloudName(url: String) -> String {
        let scheme = url.range(of: "://").map { String(url[..<$0.lowerBound]) } ?? ""
        return scheme.isEmpty || scheme.count > 32 ? "cloud" : "cloud (\(scheme))"
    }

    /// The secrets of `snapshot`, read from `file`.
    public init(snapshot: StackSnapshot, file: String, passphrase: PassphraseSource) {
        self.init(provider: snapshot.secretsProvider, state: snapshot.secretsState, file: file, passphrase: passphrase)
    }

    /// The secrets of `file`, decrypted by `decrypter` (a key made elsewhere, e.g. for another file
    /// of the same stack).
    public init(decrypter: any SecretDecrypter, file: String) {
        self.file = file
        self.provider = nil
        self.access = .ready(decrypter)
    }

    /// Why the file's secrets are redacted, or `nil` when they are decrypted.
    public var redaction: Redaction? {
        if case .redact(let r) = access { return r }
        return nil
    }

    /// Derives and checks the key now, when it is not yet done (it is otherwise done at the first
    /// ciphertext): a wrong passphrase then fails before any pack runs.
    public mutating func prepare() throws(HostError) {
        guard case .passphrase(let state, let source) = access else { return }
        guard let phrase = try source.resolve() else {
            access = .redact(.noPassphrase)
            return
        }
        guard let salt = state.flatMap({ Self.member($0, "salt") })?.stringValue else {
            throw HostError(.usage, "\(file): secrets_providers.state has no \"salt\": the passphrase provider's state is {\"salt\": \"v1:…\"}",
                            hint: "the file was edited or is damaged; export it again with `pulumi stack export`")
        }
        do {
            access = .ready(try PassphraseCrypter(passphrase: phrase, state: salt))
        } catch {
            switch error {
            case .incorrectPassphrase:
                throw HostError(.usage, "\(file): incorrect passphrase: it does not decrypt the stack's secrets",
                                hint: "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the passphrase of the stack the file was exported from; or analyse a `pulumi stack export --show-secrets` file")
            case .malformed(let reason):
                throw HostError(.usage, "\(file): \(saltName) is malformed: \(reason)",
                                hint: "the file was edited or is damaged; write it again (`pulumi stack export`, or `pulumi stack change-secrets-provider passphrase` for a stack's settings)")
            }
        }
    }

    /// The value `ciphertext` holds, read as the CLI reads a secret's plaintext (secrets inside it
    /// are the JSON text of their value: the CLI's `NopEncrypter`), or `nil` when this file's
    /// secrets are redacted. `path` names the value in errors.
    public mutating func open(_ ciphertext: String, path: () -> String) throws(HostError) -> PlainValue? {
        guard let plaintext = try decrypt(ciphertext, path: path) else { return nil }
        let inner: PlainValue
        do {
            inner = try JSON.parse(Data(plaintext))
        } catch {
            throw HostError(.usage, "\(file): \(path()): the secret decrypts, but not to JSON (\(error.message))",
                            hint: "the Pulumi CLI refuses this value too; export the stack again")
        }
        var reader = PropertyValueReader(file: file, allowsOutputValues: false, ciphertextIsPlaintext: true)
        return try reader.value(inner, path: path) ?? inner
    }

    /// The plaintext bytes of `ciphertext`, or `nil` when this file's secrets are redacted (config
    /// secrets are their text as it is; state secrets are JSON, see `open`).
    public mutating func decrypt(_ ciphertext: String, path: () -> String) throws(HostError) -> [UInt8]? {
        try prepare()
        switch access {
        case .redact:
            return nil
        case .passphrase:
            throw HostError(.internal, "\(file): the secrets provider was not prepared")
        case .ready(let decrypter):
            do {
                return try decrypter.decrypt(ciphertext)
            } catch {
                throw HostError(.usage, "\(file): \(path()): the secret does not decrypt: \(error.reason)",
                                hint: "the passphrase is right (it decrypts the provider's check value), so this value is damaged; write it again (`pulumi stack export`, or `pulumi config set --secret`)")
            }
        }
    }

    /// The one warning for `count` redacted secrets (the first paths as examples), or `nil`.
    public func redactionWarning(count: Int, examples: [String]) -> String? {
        guard count > 0, case .redact(let why) = access else { return nil }
        let shown = examples.prefix(3).joined(separator: ", ") + (count > 3 ? ", …" : "")
        let cause: String
        var remedy = "analyse a `pulumi stack export --show-secrets` file instead"
        switch why {
        case .noProvider:
            cause = "the file names no secrets provider"
        case .noPassphrase:
            cause = "they are encrypted with a passphrase and none was given"
            remedy = "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or " + remedy
        case .needsService(let name):
            cause = "they are encrypted by the \"\(name)\" secrets provider, which cannot be reached offline"
        }
        return "\(file): \(count) secret value(s) could not be decrypted (\(cause)) and reach policies as \"[secret]\": \(shown); to let policies see them, \(remedy)"
    }

    /// `object[key]` matched as Go's `encoding/json` matches a struct field: case-insensitively,
    /// the last such key winning.
    static func member(_ object: PlainValue, _ key: String) -> PlainValue? {
        guard case .object(let o) = object else { return nil }
        let folded = GoStruct.fold(key)
        return o.entries.last { $0.key == key || GoStruct.fold($0.key) == folded }?.value
    }
}
