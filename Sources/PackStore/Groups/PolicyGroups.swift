import Foundation
import PolicyValues
import HostCore
import PolicyPack

/// A policy-groups file: which packs (and configuration) apply to which stacks,
/// as Pulumi Cloud keeps them. Format (JSON):
///
///     {"policyGroups": [{"name": "prod", "stacks": ["acme/webshop/prod", "acme/*/prod"],
///       "policyPacks": [{"name": "aws-basics", "version": 3, "versionTag": "1.2.0",
///                        "config": {"all": "mandatory"}, "configModified": "2026-11-20T10:00:00Z"}]}]}
///
/// `stacks` entries are `org/project/stack`, where `*` matches any one part (or `*` alone, every stack).
public struct PolicyGroups: Sendable {
    public struct PackRef: Sendable, Equatable {
        public var name: String
        /// The service's integer version; `nil` when only a tag is known.
        public var version: Int?
        public var versionTag: String?
        public var config: PlainObject
        public var configModified: Date?
        public var group: String
        /// Position in the file, for stable tie-breaking.
        var order: Int

        /// What an archive of this version is called in a pack store: the tag when there is one.
        public var versionLabel: String { versionTag ?? version.map(String.init) ?? "" }
    }

    public struct Group: Sendable {
        public var name: String
        public var stacks: [String]
        public var packs: [PackRef]
    }

    public var groups: [Group]

    public init(groups: [Group]) { self.groups = groups }

    public static func load(_ url: URL) throws(HostError) -> PolicyGroups {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw HostError(.usage, "\(url.path): no such file or not readable (--policy-groups)")
        }
        let v: PlainValue
        do { v = try JSON.parse(data, maxDepth: PolicyPackConfig.maxDepth + 6) } catch {
            throw HostError(.usage, "\(url.path):\(error.line):\(error.column): invalid JSON: \(error.message)")
        }
        return try parse(v, file: url.path)
    }

    public static func parse(_ v: PlainValue, file: String) throws(HostError) -> PolicyGroups {
        guard let list = v["policyGroups"]?.arrayValue else {
            throw HostError(.usage, "\(file): expected an object with a \"policyGroups\" array", hint: "see README, \"Policy groups\"")
        }
        let iso = ISO8601DateFormatter()
        let isoFrac = ISO8601DateFormatter()
        isoFrac.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var order = 0
        var groups: [Group] = []
        for (gi, g) in list.enumerated() {
            let at = "policyGroups[\(gi)]"
            guard let name = g["name"]?.stringValue, !name.isEmpty else { throw HostError(.usage, "\(file): \(at) has no \"name\"") }
            guard let stacks = g["stacks"]?.arrayValue, stacks.allSatisfy({ $0.stringValue != nil }) else {
                throw HostError(.usage, "\(file): \(at).stacks must be an array of \"org/project/stack\" strings")
            }
            var packs: [PackRef] = []
            let packList = g["policyPacks"] ?? .null
            guard packList == .null || packList.arrayValue != nil else {
                throw HostError(.usage, "\(file): \(at).policyPacks: expected an array, found \(GoDecoder.describe(packList))")
            }
            for (pi, p) in (packList.arrayValue ?? []).enumerated() {
                let pat = "\(at).policyPacks[\(pi)]"
                guard p.objectValue != nil else {
                    throw HostError(.usage, "\(file): \(pat): expected an object, found \(GoDecoder.describe(p))")
                }
                guard let pname = p["name"]?.stringValue, !pname.isEmpty else { throw HostError(.usage, "\(file): \(pat) has no \"name\"") }
                var version: Int?
                if let n = p["version"] {
                    guard let d = n.doubleValue, let whole = d.exactInt, whole >= 0 else {
                        throw HostError(.usage, "\(file): \(pat).version must be a whole number, found \(JSON.serialize(n))")
                    }
                    version = whole
                }
                if let t = p["versionTag"], t != .null, t.stringValue == nil {
                    throw HostError(.usage, "\(file): \(pat).versionTag: expected a string, found \(GoDecoder.describe(t))")
                }
                let tag = p["versionTag"]?.stringValue
                guard version != nil || tag != nil else { throw HostError(.usage, "\(file): \(pat) needs \"version\" or \"versionTag\"") }
                if let tag, !PackArchive.isValidVersion(tag) { throw HostError(.usage, "\(file): \(pat).versionTag \"\(tag)\" is not a valid version") }
                var modified: Date?
                if let m = p["configModified"] {
                    guard let s = m.stringValue, let d = iso.date(from: s) ?? isoFrac.date(from: s) else {
                        throw HostError(.usage, "\(file): \(pat).configModified must be an RFC 3339 time such as 2026-11-20T10:00:00Z")
                    }
                    modified = d
                }
                let configValue = p["config"] ?? .null
                guard configValue == .null || configValue.objectValue != nil else {
                    throw HostError(.usage, "\(file): \(pat).config: expected an object, found \(GoDecoder.describe(configValue))")
                }
                let config = configValue.objectValue ?? PlainObject()
                packs.append(PackRef(name: pname, version: version, versionTag: tag, config: config, configModified: modified,
                                     group: name, order: order))
                order += 1
            }
            groups.append(Group(name: name, stacks: stacks.compactMap(\.stringValue), packs: packs))
        }
        return PolicyGroups(groups: groups)
    }

    /// Whether a `stacks` entry names `org/project/stack`.
    public static func matches(_ pattern: String, _ stack: String) -> Bool {
        if pattern == "*" { return true }
        let p = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let s = stack.split(separator: "/", omittingEmptySubsequences: false)
        guard p.count == s.count else { return false }
        return zip(p, s).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// The packs that apply to `stack`: all groups' packs aggregated; one version of
    /// each pack, the newest; for equal versions with different configuration, the
    /// most recently modified configuration wins. Sorted by name.
    public func resolve(stack: String) -> [PackRef] {
        let candidates = groups.filter { $0.stacks.contains { Self.matches($0, stack) } }.flatMap(\.packs)
        var byName: [String: [PackRef]] = [:]
        for c in candidates { byName[c.name, default: []].append(c) }
        return byName.keys.sorted().compactMap { name in
            let refs = byName[name]!
            let newest = refs.max { Self.older($0, than: $1) }!
            let same = refs.filter { !Self.older($0, than: newest) && !Self.older(newest, than: $0) }
            return same.max { a, b in
                let ma = a.configModified ?? .distantPast, mb = b.configModified ?? .distantPast
                return ma != mb ? ma < mb : a.order > b.order  // ties: the first in the file
            }
        }
    }

    /// Version order: the integer version when both have one, else the tags compared as versions.
    static func older(_ a: PackRef, than b: PackRef) -> Bool {
        if let x = a.version, let y = b.version, x != y { return x < y }
        if a.version != nil && b.version != nil { return false }
        return compareTags(a.versionTag ?? "", b.versionTag ?? "") < 0
    }

    /// Dotted versions compared part by part, numerically where both parts are numbers.
    static func compareTags(_ a: String, _ b: String) -> Int {
        let pa = a.split(whereSeparator: { $0 == "." || $0 == "-" }), pb = b.split(whereSeparator: { $0 == "." || $0 == "-" })
        for i in 0..<max(pa.count, pb.count) {
            let x = i < pa.count ? String(pa[i]) : "", y = i < pb.count ? String(pb[i]) : ""
            if x == y { continue }
            if let nx = Int(x), let ny = Int(y) { return nx < ny ? -1 : 1 }
            if x.isEmpty { return -1 }
            if y.isEmpty { return 1 }
            return x < y ? -1 : 1
        }
        return 0
    }
}
