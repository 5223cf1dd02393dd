import Foundation
import HostCore
import PolicyValues
import Yams

/// A stack's settings file, `Pulumi.<stack>.yaml` (`--stack-config`): its `config`, as the engine
/// hands it to analyzers (`ConfigureStack`'s `config`, `target.Config.Decrypt`): a map from
/// `<namespace>:<name>` to text.
///
/// * Keys without a namespace get the project's (`stackConfigNamespacedWithProject`);
///   `<ns>:config:<name>` is `<ns>:<name>`; other keys with colons are refused (`config.ParseKey`).
/// * A string is itself; `{secure: <ciphertext>}` is its decrypted text (config secrets are text,
///   not JSON); any other value is the JSON Go's `json.Marshal` writes for it (keys sorted, `<>&`
///   escaped), with secure values inside it decrypted.
/// * Plain scalars are resolved as yaml.v3 resolves them: `true`/`false`, null, integers (also
///   `0x`, `0o`, `0b`), floats; timestamps and everything else stay text.
/// * Secure values are decrypted with the passphrase (`PassphraseSource`) and the file's
///   `encryptionsalt`, as state secrets are (`StackSecrets`); when that cannot be done offline (no
///   passphrase, a `secretsprovider` or the service holds the key), each is `"[secret]"` and
///   `warnings` says so once.
public struct StackConfigFile: Sendable {
    /// `<namespace>:<name>` → text, sorted by key.
    public var config: [(String, String)]
    /// Keys whose value is or holds a secure value (the engine's `ConfigSecretKeys`).
    public var secretKeys: [String]
    /// The decrypted text of every secure value (for `SecretRedactor`).
    public var secretValues: [String] = []
    public var warnings: [String]

    /// Largest settings file read.
    public static let maxSize = 4 << 20

    public static func load(_ url: URL, project: String, passphrase: PassphraseSource) throws(HostError) -> StackConfigFile {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let handle = FileHandle(forReadingAtPath: path) else {
            throw HostError(.usage, "\(path): no such file or not readable (--stack-config)",
                            hint: "pass the stack's settings file, Pulumi.<stack>.yaml, from the project directory")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxSize + 1)) ?? Data()
        guard data.count <= maxSize else {
            throw HostError(.usage, "\(path): the file is larger than \(maxSize >> 20) MiB; refusing it (--stack-config)")
        }
        return try parse(data, file: path, project: project, passphrase: passphrase)
    }

    public static func parse(_ data: Data, file: String, project: String, passphrase: PassphraseSource) throws(HostError) -> StackConfigFile {
        guard var text = String(data: data, encoding: .utf8) else { throw HostError(.usage, "\(file): the file is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        try YAMLLimits.check(text, path: file, status: .usage)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw HostError(.usage, "\(file): invalid YAML: \(first.trimmingCharacters(in: CharacterSet(charactersIn: ": ")))")
        }
        var result = StackConfigFile(config: [], secretKeys: [], warnings: [])
        // An empty file is an empty config, as for the CLI.
        guard let node, !isNull(node) else { return result }
        guard let root = node.mapping else { throw HostError(.usage, "\(file): expected a mapping at the top level") }
        func topString(_ key: String) throws(HostError) -> String? {
            guard let v = root[key], !isNull(v) else { return nil }
            guard case .scalar(let s) = v else { throw HostError(.usage, "\(file): '\(key)' must be a string") }
            return s.string
        }
        var secrets = StackSecrets(encryptionSalt: try topString("encryptionsalt"), secretsProvider: try topString("secretsprovider"),
                                   file: file, passphrase: passphrase)
        guard let configNode = root["config"], !isNull(configNode) else { return result }
        guard let config = configNode.mapping else { throw HostError(.usage, "\(file): 'config' must be a mapping of keys to values") }
        var redacted: [String] = []
        var entries: [(String, String)] = []
        var seen: Set<String> = []
        for (k, v) in config {
            let rawKey = k.scalar?.string ?? ""
            let key = try Self.key(rawKey, project: project, file: file)
            guard seen.insert(key).inserted else {
                throw HostError(.usage, "\(file): config key \(key) is given twice (as \(rawKey))", hint: "the CLI would keep one of them, whichever its map gives last; keep one spelling")
            }
            var decoder = ValueReader(file: file, secrets: secrets)
            let value = try decoder.read(v, path: "config.\(rawKey)")
            secrets = decoder.secrets
            redacted += decoder.redacted
            result.secretValues += decoder.plaintexts
            if decoder.sawSecret { result.secretKeys.append(key) }
            switch value {
            case .string(let s): entries.append((key, s))
            case .secret(let s): entries.append((key, s))
            default: entries.append((key, try GoJSONText.marshal(value, path: "\(file): config.\(rawKey)")))
            }
        }
        result.config = entries.sorted { $0.0 < $1.0 }
        result.secretKeys.sort()
        if let w = secrets.redactionWarning(count: redacted.count, examples: redacted) {
            result.warnings.append(w.replacingOccurrences(of: "secret value(s)", with: "secure config value(s)"))
        }
        return result
    }

    /// `config.ParseKey` after `stackConfigNamespacedWithProject`.
    static func key(_ raw: String, project: String, file: String) throws(HostError) -> String {
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return "\(project):\(raw)"
        case 2: return raw
        case 3 where parts[1] == "config" && !parts[0].isEmpty && !parts[2].isEmpty: return "\(parts[0]):\(parts[2])"
        default:
            throw HostError(.usage, "\(file): could not parse \(raw) as a configuration key (configuration keys should be of the form `<namespace>:<name>`)")
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// Reads one config value into `GoJSONText.Value`, decrypting secure values.
    struct ValueReader {
        let file: String
        var secrets: StackSecrets
        var redacted: [String] = []
        var plaintexts: [String] = []
        var sawSecret = false

        init(file: String, secrets: StackSecrets) {
            self.file = file
            self.secrets = secrets
        }

        mutating func read(_ node: Node, path: String) throws(HostError) -> GoJSONText.Value {
            switch node {
            case .scalar(let s):
                return s.style == .plain ? GoJSONText.resolvePlain(s.string) : .string(s.string)
            case .sequence(let seq):
                var items: [GoJSONText.Value] = []
                for (i, item) in seq.enumerated() { items.append(try read(item, path: "\(path)[\(i)]")) }
                return .array(items)
            case .mapping(let map):
                // `isSecureValue`: a map whose one key is "secure" and whose value is a string.
                if map.count == 1, let only = map.first, only.key.scalar?.string == "secure", case .scalar(let c) = only.value,
                   c.style != .plain || GoJSONText.resolvePlain(c.string) == .string(c.string) {
                    sawSecret = true
                    guard let bytes = try secrets.decrypt(c.string, path: { path }) else {
                        redacted.append(path)
                        return .secret("[secret]")
                    }
                    let text = String(decoding: bytes, as: UTF8.self)
                    plaintexts.append(text)
                    return .secret(text)
                }
                var members: [(String, GoJSONText.Value)] = []
                var seen: Set<String> = []
                for (k, v) in map {
                    let name = k.scalar?.string ?? ""
                    guard seen.insert(name).inserted else {
                        throw HostError(.usage, "\(file): \(path): mapping key \"\(name)\" already defined", hint: "yaml.v3, which the CLI uses, refuses it too")
                    }
                    members.append((name, try read(v, path: "\(path).\(name)")))
                }
                return .object(members)
            }
        }
    }
}
