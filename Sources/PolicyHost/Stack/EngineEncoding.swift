import Foundation
import PythonRuntime

/// Turns property values as stored in state files into what the engine sends
/// analyzers (`MarshalPropertyValue` with KeepUnknowns, KeepSecrets, and
/// KeepResources/KeepOutputValues off): secrets carry their plaintext,
/// resource references become their ID (or URN), output values their element.
public struct EngineEncoding {
    public static let sigKey = "4dabf18193072939515e22adb298388d"
    public static let secretSig = "1b47061264138c4ac30d75fd1eb44270"
    public static let assetSig = "c44067f5952c0a294b673a41bacd8c17"
    public static let archiveSig = "0def7320c3a5731c473e5ecbe6d01bc7"
    public static let resourceSig = "5cf8f73096256a8f31e491e813e4eb8e"
    public static let outputSig = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
    public static let unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

    /// The secrets provider of the file ("b64" can be decrypted here; others cannot).
    public var secretsProvider: String?
    /// Paths of secrets whose ciphertext could not be decrypted (for a warning).
    public private(set) var undecryptable: [String] = []

    public init(secretsProvider: String?) {
        self.secretsProvider = secretsProvider
    }

    /// Encodes a property map. `skipInternalKeys` drops top-level `__` keys
    /// (Analyze and AnalyzeStack); Remediate keeps them.
    public mutating func encode(_ props: PlainObject, skipInternalKeys: Bool, path: String) -> PlainObject {
        var out = PlainObject()
        for (k, v) in props.entries {
            if skipInternalKeys && k.hasPrefix("__") { continue }
            out[k] = encode(v, path: path + "." + k)
        }
        return out
    }

    public mutating func encode(_ v: PlainValue, path: String) -> PlainValue {
        switch v {
        case .array(let items):
            return .array(items.enumerated().map { encode($0.element, path: "\(path)[\($0.offset)]") })
        case .object(let o):
            guard let sig = o[Self.sigKey]?.stringValue else {
                var out = PlainObject()
                for (k, x) in o.entries { out[k] = encode(x, path: path + "." + k) }
                return .object(out)
            }
            switch sig {
            case Self.secretSig:
                return secret(o, path: path)
            case Self.resourceSig:
                if let id = o["id"]?.stringValue, !id.isEmpty { return .string(id) }
                return .string(o["urn"]?.stringValue ?? "")
            case Self.outputSig:
                guard let inner = o["value"] else { return .string(Self.unknownString) }
                let element = encode(inner, path: path)
                if o["secret"]?.boolValue == true { return Self.wrapSecret(element) }
                return element
            case Self.archiveSig:
                guard let assets = o["assets"]?.objectValue else { return v }
                var out = o
                var encoded = PlainObject()
                for (k, a) in assets.entries { encoded[k] = encode(a, path: path + ".assets." + k) }
                out["assets"] = .object(encoded)
                return .object(out)
            default:
                return v
            }
        default:
            return v
        }
    }

    static func wrapSecret(_ v: PlainValue) -> PlainValue {
        .object(PlainObject([(sigKey, .string(secretSig)), ("value", v)]))
    }

    private mutating func secret(_ o: PlainObject, path: String) -> PlainValue {
        if let value = o["value"] { return Self.wrapSecret(encode(value, path: path)) }
        if let plaintext = o["plaintext"]?.stringValue {
            let inner = (try? JSON.parse(plaintext)) ?? .string(plaintext)
            return Self.wrapSecret(encode(inner, path: path))
        }
        if let ciphertext = o["ciphertext"]?.stringValue {
            if secretsProvider == "b64", let data = Data(base64Encoded: ciphertext), let inner = try? JSON.parse(data) {
                return Self.wrapSecret(encode(inner, path: path))
            }
            if !undecryptable.contains(path) { undecryptable.append(path) }
            return Self.wrapSecret(.string("[secret]"))
        }
        return Self.wrapSecret(.null)
    }
}
