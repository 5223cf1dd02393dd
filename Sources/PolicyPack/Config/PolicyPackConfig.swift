import Foundation
import PolicyValues
import HostCore

/// One entry of policy configuration: an optional level and properties.
public struct PolicyConfigEntry: Sendable, Equatable {
    public var enforcementLevel: EnforcementLevel?
    public var properties: PlainObject

    public init(enforcementLevel: EnforcementLevel? = nil, properties: PlainObject = PlainObject()) {
        self.enforcementLevel = enforcementLevel
        self.properties = properties
    }
}

/// A `--policy-pack-config` file, parsed as the CLI's `parsePolicyPackConfig` does.
public struct PolicyPackConfig: Sendable, Equatable {
    /// Entries by policy name (or "all"), in file order.
    public var entries: [(String, PolicyConfigEntry)]
    public var environments: [String]

    public static func == (l: PolicyPackConfig, r: PolicyPackConfig) -> Bool {
        l.environments == r.environments && l.entries.map(\.0) == r.entries.map(\.0) && l.entries.map(\.1) == r.entries.map(\.1)
    }

    public init(entries: [(String, PolicyConfigEntry)] = [], environments: [String] = []) {
        self.entries = entries
        self.environments = environments
    }

    /// Config deeper than this cannot reach a policy through the engine's protobuf anyway.
    public static let maxDepth = 64

    public static func load(_ url: URL) throws(HostError) -> PolicyPackConfig {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw HostError(.usage, "\(url.path): no such file or not readable (--policy-pack-config)")
        }
        return try parse(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws(HostError) -> PolicyPackConfig {
        if String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw HostError(.usage, "\(file): the file is empty; policy pack configuration must be a JSON object",
                            hint: #"e.g. {"all": "mandatory"}; pass no --policy-pack-config for the pack's defaults"#)
        }
        let value: PlainValue
        do { value = try JSON.parse(data, maxDepth: maxDepth) } catch {
            throw HostError(.usage, "\(file):\(error.line):\(error.column): invalid JSON: \(error.message)")
        }
        guard let obj = value.objectValue else {
            throw HostError(.usage, "\(file): policy pack configuration must be a JSON object",
                            hint: #"e.g. {"all": "mandatory", "my-policy": {"enforcementLevel": "advisory", "maxSize": 10}}"#)
        }
        var config = PolicyPackConfig()
        for (key, v) in obj.entries {
            if key == "environments" {
                guard let list = v.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw HostError(.usage, "\(file): \"environments\" must be an array of strings")
                }
                config.environments = list.compactMap(\.stringValue)
                continue
            }
            switch v {
            case .string(let s):
                guard let level = EnforcementLevel(name: s) else {
                    throw HostError(.usage, "\(file): parsing enforcement level for \"\(key)\": \"\(s)\" is not a valid enforcement level",
                                    hint: "use one of advisory, mandatory, remediate, disabled")
                }
                config.entries.append((key, PolicyConfigEntry(enforcementLevel: level)))
            case .object(var o):
                var entry = PolicyConfigEntry()
                if let l = o["enforcementLevel"] {
                    guard let s = l.stringValue, let level = EnforcementLevel(name: s) else {
                        throw HostError(.usage, "\(file): parsing enforcement level for \"\(key)\": \(JSON.serialize(l)) is not a valid enforcement level",
                                        hint: "use one of advisory, mandatory, remediate, disabled")
                    }
                    entry.enforcementLevel = level
                    o["enforcementLevel"] = nil
                }
                entry.properties = o
                if entry.enforcementLevel == nil && entry.properties.isEmpty { continue }
                config.entries.append((key, entry))
            default:
                throw HostError(.usage, "\(file): parsing \"\(key)\": \(JSON.serialize(v)) is not a valid value; must be a string or object")
            }
        }
        if !config.environments.isEmpty {
            throw HostError(.usage, "\(file): the policy pack configuration specifies ESC environments but policy-host does not support them",
                            hint: "inline the configuration values instead of \"environments\"")
        }
        return config
    }
}
