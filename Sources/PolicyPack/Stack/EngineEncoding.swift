import Foundation
import HostCore
import PolicyValues

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

    /// Whether no object anywhere in `props` carries the signature key: then the SDK's
    /// `deserialize_properties` would return an equal copy, and the driver skips it (`plain`).
    public static func isPlain(_ props: PlainObject) -> Bool {
        func plain(_ v: PlainValue) -> Bool {
            switch v {
            case .object(let o): return isPlain(o)
            case .array(let items): return items.allSatisfy(plain)
            default: return true
            }
        }
        return props[sigKey] == nil && props.entries.allSatisfy { plain($0.value) }
    }

    /// How the file's encrypted secrets are decrypted, or why they are not (`StackSecrets`).
    public private(set) var secrets: StackSecrets
    /// Paths of secrets whose ciphertext could not be decrypted (for a warning).
    public private(set) var undecryptable: [String] = []
    /// The plaintext of every secret encoded (decrypted or given in plaintext), for redaction.
    public private(set) var secretValues: [PlainValue] = []
    private var undecryptableSet: Set<String> = []

    public init(secrets: StackSecrets) {
        self.secrets = secrets
    }

    /// Without a passphrase: `b64` secrets are decrypted, others redacted.
    public init(secretsProvider: String?) {
        self.init(secrets: StackSecrets(provider: secretsProvider, state: nil, file: "stack file", passphrase: .none))
    }

    /// Encodes a property map. `skipInternalKeys` drops top-level `__` keys
    /// (Analyze and AnalyzeStack); Remediate keeps them. `path` names the map in warnings.
    public mutating func encode(_ props: PlainObject, skipInternalKeys: Bool, path: String) throws(HostError) -> PlainObject {
        pathStack = [path]
        defer { pathStack = [] }
        var out = props
        var removed = false
        for e in props.entries {
            if skipInternalKeys && e.key.hasPrefix("__") {
                removed = true
                continue
            }
            pathStack.append("." + e.key)
            if let changed = try encodeIfChanged(e.value) { out[e.key] = changed }
            pathStack.removeLast()
        }
        if removed {
            out = PlainObject(out.entries.filter { !$0.key.hasPrefix("__") }.map { ($0.key, $0.value) })
        }
        return out
    }

    /// Encodes one value; `path` names it in warnings.
    public mutating func encode(_ v: PlainValue, path: String) throws(HostError) -> PlainValue {
        pathStack = [path]
        defer { pathStack = [] }
        return try encodeIfChanged(v) ?? v
    }

    /// Path components of the value being encoded, joined only for a warning.
    private var pathStack: [String] = []
    private var currentPath: String { pathStack.joined() }

    /// The encoded value, or `nil` when the value is already in wire form (no
    /// signature anywhere below it), so that plain data is never copied.
    private mutating func encodeIfChanged(_ v: PlainValue) throws(HostError) -> PlainValue? {
        switch v {
        case .array(let items):
            var out: [PlainValue]?
            for (i, item) in items.enumerated() {
                pathStack.append("[\(i)]")
                defer { pathStack.removeLast() }
                if let c = try encodeIfChanged(item) {
                    if out == nil { out = items }
                    out?[i] = c
                }
            }
            return out.map { .array($0) }
        case .object(let o):
            guard let sig = o[Self.sigKey]?.stringValue else {
                var out: PlainObject?
                for e in o.entries {
                    pathStack.append("." + e.key)
                    defer { pathStack.removeLast() }
                    if let c = try encodeIfChanged(e.value) {
                        if out == nil { out = o }
                        out?[e.key] = c
                    }
                }
                return out.map { .object($0) }
            }
            switch sig {
            case Self.secretSig:
                return try secret(o)
            case Self.resourceSig:
                // `MarshalPropertyValue` without KeepResources: a custom resource's ID, unknown when
                // it is empty (`MakeCustomResourceReference`); a component's URN.
                guard let id = o["id"] else { return .string(o["urn"]?.stringValue ?? "") }
                if case .string(let s) = id, !s.isEmpty { return .string(s) }
                return .string(Self.unknownString)
            case Self.outputSig:
                guard let inner = o["value"] else { return .string(Self.unknownString) }
                let element = try encodeIfChanged(inner) ?? inner
                if o["secret"]?.boolValue == true { return recordSecret(element) }
                return element
            case Self.archiveSig:
                guard let assets = o["assets"]?.objectValue else { return nil }
                var encoded = assets
                var changed = false
                for e in assets.entries {
                    pathStack.append(".assets." + e.key)
                    defer { pathStack.removeLast() }
                    if let c = try encodeIfChanged(e.value) {
                        encoded[e.key] = c
                        changed = true
                    }
                }
                guard changed else { return nil }
                var out = o
                out["assets"] = .object(encoded)
                return .object(out)
            default:
                return nil
            }
        default:
            return nil
        }
    }

    public static func wrapSecret(_ v: PlainValue) -> PlainValue {
        .object(PlainObject([(sigKey, .string(secretSig)), ("value", v)]))
    }

    private mutating func recordSecret(_ v: PlainValue) -> PlainValue {
        secretValues.append(v)
        return Self.wrapSecret(v)
    }

    private mutating func secret(_ o: PlainObject) throws(HostError) -> PlainValue {
        if let value = o["value"] { return recordSecret(try encodeIfChanged(value) ?? value) }
        if let plaintext = o["plaintext"]?.stringValue {
            let inner = (try? JSON.parse(plaintext)) ?? .string(plaintext)
            return recordSecret(try encodeIfChanged(inner) ?? inner)
        }
        if let ciphertext = o["ciphertext"]?.stringValue {
            let components = pathStack
            if let inner = try secrets.open(ciphertext, path: { components.joined() }) {
                return recordSecret(try encodeIfChanged(inner) ?? inner)
            }
            let path = currentPath
            if undecryptableSet.insert(path).inserted { undecryptable.append(path) }
            return Self.wrapSecret(.string("[secret]"))
        }
        return Self.wrapSecret(.null)
    }
}
