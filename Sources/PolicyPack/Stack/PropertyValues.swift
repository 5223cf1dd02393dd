import Foundation
import PolicyValues
import HostCore

/// Reads property values out of a state file as the CLI's `DeserializePropertyValue` does
/// (`pkg/resource/stack/deployment.go`): every object carrying the signature key must be one the
/// CLI knows and well formed, or the file is refused with the CLI's reason and the JSON path.
/// Values come back in the form the engine holds them in, ready for `EngineEncoding`:
///
/// * byte strings (the `byteString` feature) become their string — when their bytes are UTF-8;
///   otherwise the engine could not send them to an analyzer and the file is refused;
/// * the float signature (NaN and ±Inf) becomes the number;
/// * a `plaintext` secret becomes `{sig, value}` with its JSON read once, here;
/// * assets and archives keep only the fields the engine keeps (`Serialize` after `Deserialize`:
///   an archive is its path, else its URI, else its assets).
///
/// The engine's output-value signature never appears in a state file (the CLI refuses it); hand-made
/// previews may carry it, so `allowsOutputValues` lets it through for them.
struct PropertyValueReader {
    let file: String
    let allowsOutputValues: Bool
    /// Whether a secret's `ciphertext` is its JSON text, as inside a decrypted secret, which the CLI
    /// reads with its `NopDecrypter` (`secretPropertyValueFromPlaintext`).
    let ciphertextIsPlaintext: Bool
    /// How many signed values (secrets, assets, archives, resource references) were kept so far: a
    /// map read without this growing has no signature anywhere, and `EngineEncoding` can skip it.
    private(set) var keptSignatures = 0
    /// How many secrets were kept encrypted (`ciphertext`), for `EngineEncoding` to decrypt.
    private(set) var ciphertexts = 0

    init(file: String, allowsOutputValues: Bool, ciphertextIsPlaintext: Bool = false) {
        self.file = file
        self.allowsOutputValues = allowsOutputValues
        self.ciphertextIsPlaintext = ciphertextIsPlaintext
    }

    private typealias Sig = EngineEncoding
    static let byteStringSig = "803fd3297a5875dc03ca845dda5d2a98"
    static let floatSig = "8ad145fe-0d11-4827-bfd7-1abcbf086f5c"

    /// The map in engine form (the same storage when nothing changes).
    mutating func read(_ props: PlainObject, path: () -> String) throws(HostError) -> PlainObject {
        try changed(props, path: path) ?? props
    }

    /// The map in engine form, or `nil` when it is already in that form. Paths are built only for
    /// a message.
    mutating func changed(_ props: PlainObject, path: () -> String) throws(HostError) -> PlainObject? {
        try members(props, path: path).changed
    }

    /// The map's members in engine form (`nil`: unchanged), and whether it has the signature key.
    private mutating func members(_ props: PlainObject, path: () -> String) throws(HostError) -> (changed: PlainObject?, signed: Bool) {
        var out: PlainObject?
        var signed = false
        for e in props.entries {
            if e.key.utf8.count == 32, e.key == Sig.sigKey { signed = true }
            switch e.value {
            case .array, .object:
                if let changed = try value(e.value, path: { "\(path()).\(e.key)" }) {
                    if out == nil { out = props }
                    out?[e.key] = changed
                }
            default:
                continue
            }
        }
        return (out, signed)
    }

    /// The value in engine form, or `nil` when it is already in that form.
    mutating func value(_ v: PlainValue, path: () -> String) throws(HostError) -> PlainValue? {
        switch v {
        case .array(let items):
            var out: [PlainValue]?
            for (i, item) in items.enumerated() {
                switch item {
                case .array, .object:
                    if let changed = try value(item, path: { "\(path())[\(i)]" }) {
                        if out == nil { out = items }
                        out?[i] = changed
                    }
                default:
                    continue
                }
            }
            return out.map { .array($0) }
        case .object(let o):
            // The CLI deserializes the members first, then looks at the signature.
            let (changedMembers, isSigned) = try members(o, path: path)
            guard isSigned else { return changedMembers.map { .object($0) } }
            let members = changedMembers ?? o
            let engineForm = try signed(members, sig: members[Sig.sigKey] ?? .null, path: path())
            if case .object = engineForm { keptSignatures += 1 }
            return engineForm
        default:
            return nil
        }
    }

    private func fail(_ path: String, _ reason: String) -> HostError {
        HostError(.usage, "\(file): \(path): \(reason)", hint: "the Pulumi CLI refuses this value too; fix or re-export the state")
    }

    private func string(_ o: PlainObject, _ key: String, _ path: String, _ what: String) throws(HostError) -> String? {
        guard let v = o[key] else { return nil }
        guard case .string(let s) = v else { throw fail(path, "unexpected \(what) of type \(GoDecoder.describe(v))") }
        return s
    }

    private mutating func signed(_ o: PlainObject, sig: PlainValue, path: String) throws(HostError) -> PlainValue {
        guard case .string(let s) = sig else { throw fail(path, "unrecognized signature '\(JSON.serialize(sig))' in property map") }
        switch s {
        case Sig.assetSig:
            return .object(try asset(o, path: path))
        case Sig.archiveSig:
            return .object(try archive(o, path: path))
        case Sig.secretSig:
            let cipher = o["ciphertext"]?.stringValue
            let plain = o["plaintext"]?.stringValue
            guard (cipher == nil) != (plain == nil), (cipher ?? plain) != "" else {
                throw fail(path, "malformed secret value: exactly one of `ciphertext` or `plaintext` must be supplied")
            }
            guard let plain = plain ?? (ciphertextIsPlaintext ? cipher : nil) else {
                ciphertexts += 1
                return .object(o)
            }
            let inner: PlainValue
            do { inner = try JSON.parse(plain) } catch {
                throw fail(path, "malformed secret value: its plaintext is not JSON (\(error.message))")
            }
            let element = try value(inner, path: { path }) ?? inner
            return EngineEncoding.wrapSecret(element)
        case Sig.resourceSig:
            guard o["urn"]?.stringValue != nil else { throw fail(path, "malformed resource reference: missing urn") }
            if let pv = o["packageVersion"], pv.stringValue == nil {
                throw fail(path, "malformed resource reference: packageVersion must be a string")
            }
            if let id = o["id"] {
                switch id {
                case .string: break
                case .object(let wrapped):
                    // An old bug wrote the ID's PropertyValue ({"V": …}); the CLI still reads it.
                    var fixed = o
                    switch wrapped["V"] ?? .null {
                    case .null: fixed["id"] = nil
                    case .string(let s): fixed["id"] = .string(s)
                    case .object: fixed["id"] = .string("")
                    default: throw fail(path, "malformed resource reference: id must be a string")
                    }
                    return .object(fixed)
                default:
                    throw fail(path, "malformed resource reference: id must be a string")
                }
            }
            return .object(o)
        case Self.byteStringSig:
            guard case .string(let encoded)? = o["value"] else {
                throw fail(path, "malformed byte string: missing or non-string 'value' field")
            }
            guard let bytes = Data(base64Encoded: encoded) else {
                throw fail(path, "malformed byte string: unable to parse 'value' field")
            }
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw HostError(.usage, "\(file): \(path): a string of bytes that are not UTF-8, which the engine cannot send to a policy pack",
                                hint: "the engine fails the same way (\"the value of property … is a string that contains non-UTF8 bytes, which the receiver does not support\")")
            }
            return .string(text)
        case Self.floatSig:
            guard case .string(let hex)? = o["value"] else {
                throw fail(path, "malformed float value: missing or non-string 'value' field")
            }
            // strconv.ParseUint(hex, 16, 64): hex digits only, no sign or prefix.
            guard !hex.isEmpty, hex.count <= 16, hex.allSatisfy(\.isHexDigit), let bits = UInt64(hex, radix: 16) else {
                throw fail(path, "malformed float value: unable to parse 'value' field")
            }
            return .double(Double(bitPattern: bits))
        case Sig.outputSig where allowsOutputValues:
            return .object(o)
        default:
            throw fail(path, "unrecognized signature '\(s)' in property map")
        }
    }

    /// `asset.Deserialize` then `Serialize`: string fields checked, empty ones dropped.
    private func asset(_ o: PlainObject, path: String) throws(HostError) -> PlainObject {
        var out = PlainObject([(Sig.sigKey, .string(Sig.assetSig))])
        for (key, what) in [("hash", "asset hash"), ("text", "asset text"), ("path", "asset path"), ("uri", "asset URI")] {
            if let s = try string(o, key, path, what), !s.isEmpty { out[key] = .string(s) }
        }
        return out
    }

    /// `archive.Deserialize` then `Serialize`: a path, else a URI, else the assets (each an asset or
    /// an archive), else an empty set of assets.
    private func archive(_ o: PlainObject, path: String) throws(HostError) -> PlainObject {
        var out = PlainObject([(Sig.sigKey, .string(Sig.archiveSig))])
        if let hash = try string(o, "hash", path, "archive hash"), !hash.isEmpty { out["hash"] = .string(hash) }
        if let p = try string(o, "path", path, "archive path"), !p.isEmpty {
            out["path"] = .string(p)
            return out
        }
        if let uri = try string(o, "uri", path, "archive URI"), !uri.isEmpty {
            out["uri"] = .string(uri)
            return out
        }
        var assets = PlainObject()
        if let members = o["assets"] {
            guard case .object(let m) = members else {
                throw fail(path, "unexpected archive contents of type \(GoDecoder.describe(members))")
            }
            for e in m.entries {
                // Members were deserialized already: assets and archives are in their engine form.
                guard case .object(let member) = e.value,
                      let s = member[Sig.sigKey]?.stringValue, s == Sig.assetSig || s == Sig.archiveSig else {
                    throw fail("\(path).assets", "archive member '\(e.key)' is not an asset or archive")
                }
                assets[e.key] = e.value
            }
        }
        out["assets"] = .object(assets)
        return out
    }
}
