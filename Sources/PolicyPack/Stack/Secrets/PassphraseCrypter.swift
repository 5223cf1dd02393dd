import Crypto
import Foundation
import _CryptoExtras

/// The passphrase secrets provider of the Pulumi CLI (`pkg/secrets/passphrase/manager.go`,
/// `sdk/go/common/resource/config/crypt.go`), for decryption only:
///
/// * the provider state's salt is `v1:<base64 salt>:<check value>`, the check value being the
///   string `pulumi` encrypted like any value;
/// * the key is PBKDF2-HMAC-SHA256 of the passphrase and the salt, 1 000 000 rounds, 32 bytes;
/// * a value is `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext and tag>`, without
///   additional data.
///
/// The key is derived and checked once, in `init` (about a second: that is the point of PBKDF2);
/// each value then costs one AES-GCM open. swift-crypto does the cryptography (BoringSSL on Linux).
///
/// `@unchecked Sendable`: swift-crypto's `SymmetricKey` is not marked Sendable on Linux, but it is an
/// immutable value (its bytes are never written after derivation), so sharing it is safe.
public struct PassphraseCrypter: SecretDecrypter, @unchecked Sendable {
    /// PBKDF2 rounds, fixed by the format (`NewSymmetricCrypterFromPassphrase`).
    public static let rounds = 1_000_000
    /// AES-GCM's standard nonce, the only one Go's `cipher.NewGCM` accepts.
    public static let nonceSize = 12
    static let tagSize = 16

    /// Why a provider state gives no key.
    public enum StateError: Error, Sendable, Equatable {
        /// The state is not `v1:<base64 salt>:<check value>`.
        case malformed(String)
        /// The check value does not decrypt to `pulumi` with this passphrase.
        case incorrectPassphrase
    }

    private let key: SymmetricKey

    /// Derives the key from `passphrase` (its bytes as given: the CLI uses `[]byte(phrase)`) and the
    /// salt of `state`, and checks it against the state's check value. Two different passphrases
    /// passing the check would need a collision of the GCM tag: a wrong one is always
    /// `.incorrectPassphrase`.
    public init(passphrase: [UInt8], state: String) throws(StateError) {
        // strings.SplitN(state, ":", 3): the third part is the whole check value.
        let parts = state.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected v1:<salt>:<check value>") }
        guard parts[0] == "v1" else { throw .malformed("unknown state version \"\(parts[0].prefix(16))\" (expected v1)") }
        guard let salt = Data(base64Encoded: String(parts[1])) else { throw .malformed("the salt is not base64") }
        // An empty salt is accepted by Go; no CLI writes one (8 random bytes), and BoringSSL's
        // PBKDF2 wants a buffer, so it is refused as the hand-made value it is.
        guard !salt.isEmpty else { throw .malformed("the salt is empty") }
        let derived: SymmetricKey
        do {
            derived = try KDF.Insecure.PBKDF2.deriveKey(from: passphrase, salt: salt, using: .sha256,
                                                        outputByteCount: 32, rounds: Self.rounds)
        } catch {
            throw .malformed("key derivation failed: \(error)")
        }
        key = derived
        // The CLI calls any failure here an incorrect passphrase; a check value that is not even
        // of the value format is a damaged state instead.
        let check: [UInt8]
        do {
            check = try decrypt(String(parts[2]))
        } catch {
            if error.reason == Self.authenticationFailed { throw .incorrectPassphrase }
            throw .malformed("its check value: \(error.reason)")
        }
        guard check == Array("pulumi".utf8) else { throw .incorrectPassphrase }
    }

    static let authenticationFailed = "message authentication failed (the value was altered, or encrypted with another key)"

    /// `symmetricCrypter.DecryptValue`: exactly three `:`-separated parts, version `v1`, standard
    /// base64 with padding, a 12-byte nonce, and a GCM tag that authenticates.
    public func decrypt(_ ciphertext: String) throws(SecretDecryptionError) -> [UInt8] {
        let parts = ciphertext.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw SecretDecryptionError("bad value: expected v1:<nonce>:<ciphertext>, found \(parts.count) part(s)")
        }
        guard parts[0] == "v1" else {
            throw SecretDecryptionError("unknown value version \"\(parts[0].prefix(16))\" (expected v1)")
        }
        guard let nonce = Data(base64Encoded: String(parts[1])) else { throw SecretDecryptionError("bad value: the nonce is not base64") }
        guard let sealed = Data(base64Encoded: String(parts[2])) else { throw SecretDecryptionError("bad value: the ciphertext is not base64") }
        guard nonce.count == Self.nonceSize else {
            throw SecretDecryptionError("bad value: nonce size is incorrect (\(nonce.count) bytes, expected \(Self.nonceSize))")
        }
        guard sealed.count >= Self.tagSize else {
            throw SecretDecryptionError("bad value: \(sealed.count) byte(s), shorter than the \(Self.tagSize)-byte authentication tag")
        }
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: sealed.dropLast(Self.tagSize),
                                            tag: sealed.suffix(Self.tagSize))
            return [UInt8](try AES.GCM.open(box, using: key))
        } catch {
            throw SecretDecryptionError(Self.authenticationFailed)
        }
    }
}
