import Foundation

/// Decrypts the `ciphertext` of one secret in a stack file into the text the CLI encrypted: the
/// compact JSON of the secret's value (`SerializePropertyValue`). One decrypter serves one file, its
/// key made once.
public protocol SecretDecrypter: Sendable {
    /// The plaintext bytes of `ciphertext`, or why it does not decrypt.
    func decrypt(_ ciphertext: String) throws(SecretDecryptionError) -> [UInt8]
}

/// Why a ciphertext does not decrypt with a key that is known to be right: the value is damaged.
public struct SecretDecryptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The `b64` secrets provider (`pkg/secrets/b64`): the ciphertext is the plaintext in base64. The
/// CLI writes it for tests and for `pulumi stack init --secrets-provider b64`-style stacks.
public struct Base64SecretDecrypter: SecretDecrypter {
    public init() {}

    public func decrypt(_ ciphertext: String) throws(SecretDecryptionError) -> [UInt8] {
        guard let data = Data(base64Encoded: ciphertext) else {
            throw SecretDecryptionError("the b64 provider's ciphertext is not base64")
        }
        return [UInt8](data)
    }
}
