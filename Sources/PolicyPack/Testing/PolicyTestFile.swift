import Foundation
import HostCore
import PolicyValues
import Yams

/// Test cases of a policy pack: `<pack>/policy-tests/*.yaml` (README "Testing your policies").
/// A file holds optional `settings` for all its cases and a list of `cases`; a case holds its own
/// settings, the resources it analyses and what it expects of each policy.
public struct PolicyTestCase: Sendable {
    public struct Provider: Sendable, Equatable {
        public var type: String
        public var name: String
        public var inputs: PlainObject
    }

    public struct Resource: Sendable {
        public var type: String
        public var name: String
        public var inputs: PlainObject
        /// `nil`: the same as the inputs (what stack policies see).
        public var outputs: PlainObject?
        public var custom: Bool
        public var protect: Bool
        /// Names of other resources of the case.
        public var parent: String?
        public var dependencies: [String]
        public var ignoreChanges: [String]
        public var provider: Provider?
    }

    /// Stack settings and policy config; a case's own override its file's.
    public struct Settings: Sendable {
        public var organization: String?
        public var project: String?
        public var stack: String?
        public var preview: Bool?
        public var config: [(String, String)]?
        public var tags: [(String, String)]?
        public var policyConfig: PolicyPackConfig?

        func overridden(by o: Settings) -> Settings {
            Settings(organization: o.organization ?? organization, project: o.project ?? project, stack: o.stack ?? stack,
                     preview: o.preview ?? preview, config: o.config ?? config, tags: o.tags ?? tags,
                     policyConfig: o.policyConfig ?? policyConfig)
        }

        public var stackSettings: StackSettings {
            StackSettings(organization: organization ?? "organization", project: project ?? "project", stack: stack ?? "stack",
                          dryRun: preview ?? false, config: config ?? [], tags: tags ?? [])
        }
    }

    /// How a message (or reason) is matched.
    public enum TextMatch: Sendable, Equatable, CustomStringConvertible {
        case exact(String), contains(String), regex(String)

        public func matches(_ s: String) -> Bool {
            switch self {
            case .exact(let t): return s == t
            case .contains(let t): return s.contains(t)
            case .regex(let r): return s.range(of: r, options: .regularExpression) != nil
            }
        }

        public var description: String {
            switch self {
            case .exact(let t): return GoJSONText.quoted(t)
            case .contains(let t): return "containing \(GoJSONText.quoted(t))"
            case .regex(let r): return "matching /\(r)/"
            }
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// The policy reports a violation (at least one; each given field must match one violation).
        case fires(message: TextMatch?, level: EnforcementLevel?)
        /// The policy runs and reports nothing: no violation, no not-applicable result, no error.
        case passes
        case notApplicable(reason: TextMatch?)
        /// A remediation whose properties hold every given key with the given value.
        case remediates(properties: PlainObject?)
        /// The policy raises; the exception's type name, when given, must be this.
        case raises(type: String?)
    }

    public struct Expectation: Sendable, Equatable {
        public var policy: String
        /// A resource of the case (by name): only results about it count.
        public var resource: String?
        public var outcome: Outcome
        public var line: Int
    }

    public var file: String
    public var name: String
    public var line: Int
    public var settings: Settings
    public var resources: [Resource]
    /// A stack file to analyse instead of `resources` (`pulumi stack export` or `pulumi preview --json`
    /// output), read exactly as `analyze` reads it.
    public var stackFile: URL?
    public var expectations: [Expectation]
    /// Every violation, remediation and error of the run must be expected.
    public var nothingElse: Bool
    /// Where the case is written, for `--update`; `nil` for a case in flow style (`- {…}`).
    public var layout: Layout?

    /// The lines a block-style case occupies (1-based, inclusive) and where its keys are.
    public struct Layout: Sendable {
        public var path: String
        public var keyColumn: Int
        public var firstLine: Int
        public var lastLine: Int
        /// Each key of the case mapping with its line, in file order.
        public var keyLines: [(key: String, line: Int)]
    }

    /// `file › name`, what `--filter` matches and reports show.
    public var label: String { "\(file) › \(name)" }
}

/// Reading case files: YAML, with `!unknown [kind]` and `!secret VALUE` for the values a preview
/// leaves unknown and the stack's secrets. Every problem is one `error:` naming file, line and key.
public enum PolicyTestFile {
    /// The directory of a pack's cases.
    public static let directoryName = "policy-tests"
    /// Largest case file read.
    public static let maxSize = 8 << 20

    /// The engine's sentinels for unknown values, by the kind `!unknown` names (default `string`).
    public static let unknownSentinels: [String: String] = [
        "bool": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "number": "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "string": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "array": "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "asset": "030794c1-ac77-496b-92df-f27374a8bd58", "archive": "e48ece36-62e2-4504-bad9-02848725956a",
        "object": "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    ]

    /// The case files of a pack, sorted by path; none is an empty list.
    public static func files(in packDirectory: URL) throws(HostError) -> [URL] {
        let dir = packDirectory.appendingPathComponent(directoryName)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else { return [] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir.path) } catch {
            throw HostError(.usage, "\(dir.path): cannot list the test cases: \(error.localizedDescription)")
        }
        return names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
            .map { dir.appendingPathComponent($0) }
    }

    public static func load(_ url: URL, label: String) throws(HostError) -> [PolicyTestCase] {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        if (attributes?[.type] as? FileAttributeType) != .typeRegular {
            throw HostError(.usage, "\(url.path): not a regular file", hint: "test cases are YAML files in \(directoryName)/")
        }
        if let size = attributes?[.size] as? Int, size > maxSize {
            throw HostError(.usage, "\(url.path): the file is larger than \(maxSize >> 20) MiB; refusing it")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw HostError(.usage, "\(url.path): cannot read the file")
        }
        return try parse(data, path: url.path, label: label)
    }

    public static func parse(_ data: Data, path: String, label: String) throws(HostError) -> [PolicyTestCase] {
        guard data.count <= maxSize else {
            throw HostError(.usage, "\(path): the file is larger than \(maxSize >> 20) MiB; refusing it")
        }
        guard var text = String(data: data, encoding: .utf8) else { throw HostError(.usage, "\(path): the file is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        try YAMLLimits.check(text, path: path, status: .usage)
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw HostError(.usage, "\(path): invalid YAML: \("\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)")")
        }
        var reader = Reader(path: path)
        guard let root = node?.mapping else {
            throw HostError(.usage, "\(path): expected a mapping with `cases:` at the top level",
                            hint: "see README \"Testing your policies\" for the format")
        }
        try reader.onlyKeys(root, ["settings", "cases"], at: "")
        let fileSettings = try root["settings"].map { n throws(HostError) in try reader.settings(n, at: "settings") } ?? .init()
        guard let casesNode = root["cases"], let cases = casesNode.sequence else {
            throw HostError(.usage, "\(path): `cases` must be a list of test cases", hint: "see README \"Testing your policies\" for the format")
        }
        var out: [PolicyTestCase] = []
        var names = Set<String>()
        // Where the `cases` list ends: before the next top-level key, or at the end of the file.
        let textLines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let lineCount = textLines.count
        /// Whether a node starts with `{` or `[` (flow style), read from the text at its mark.
        func isFlow(_ mark: Mark) -> Bool {
            guard mark.line >= 1, mark.line <= textLines.count else { return true }
            let scalars = Array(textLines[mark.line - 1].unicodeScalars)
            guard mark.column >= 1, mark.column <= scalars.count else { return true }
            return scalars[mark.column - 1] == "{" || scalars[mark.column - 1] == "["
        }
        let casesLine = root.keys.first { $0.scalar?.string == "cases" }?.mark?.line ?? 0
        let listEnd = (root.keys.compactMap { $0.mark?.line }.filter { $0 > casesLine }.min() ?? (lineCount + 1)) - 1
        for (i, c) in cases.enumerated() {
            var tc = try reader.testCase(c, at: "cases[\(i)]", file: label)
            tc.settings = fileSettings.overridden(by: tc.settings)
            if let map = c.mapping, let mark = c.mark, !isFlow(mark) {
                let next = i + 1 < cases.count ? (cases[i + 1].mark?.line ?? listEnd + 1) - 1 : listEnd
                tc.layout = .init(path: path, keyColumn: mark.column, firstLine: mark.line, lastLine: max(mark.line, next),
                                  keyLines: map.keys.map { ($0.scalar?.string ?? "", $0.mark?.line ?? mark.line) })
            }
            guard names.insert(tc.name).inserted else {
                throw HostError(.usage, "\(path):\(tc.line): two cases are named \(GoJSONText.quoted(tc.name))", hint: "case names are unique in a file")
            }
            out.append(tc)
        }
        return out
    }

    /// Turns nodes into cases; `path` names the file in messages.
    struct Reader {
        let path: String

        func fail(_ node: Node?, _ at: String, _ message: String, hint: String? = nil) -> HostError {
            let line = node?.mark.map { ":\($0.line)" } ?? ""
            return HostError(.usage, "\(path)\(line): \(at.isEmpty ? "" : at + ": ")\(message)", hint: hint)
        }

        func onlyKeys(_ map: Node.Mapping, _ known: [String], at: String) throws(HostError) {
            for key in map.keys {
                let k = key.scalar?.string ?? "?"
                if !known.contains(k) {
                    let guess = Spelling.suggestion(for: k, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                    throw fail(key, at, "unknown key '\(k)'\(guess)", hint: "known here: \(known.joined(separator: ", "))")
                }
            }
        }

        func string(_ node: Node?, _ at: String) throws(HostError) -> String? {
            guard let node else { return nil }
            guard case .scalar(let s) = node, node.null == nil || s.style != .plain else {
                throw fail(node, at, "expected a string")
            }
            return s.string
        }

        func bool(_ node: Node?, _ at: String) throws(HostError) -> Bool? {
            guard let node else { return nil }
            guard let b = node.bool, node.scalar?.style == .plain else { throw fail(node, at, "expected true or false") }
            return b
        }

        func strings(_ node: Node?, _ at: String) throws(HostError) -> [String] {
            guard let node else { return [] }
            guard let seq = node.sequence else { throw fail(node, at, "expected a list of strings") }
            var out: [String] = []
            for (i, n) in seq.enumerated() { out.append(try string(n, "\(at)[\(i)]") ?? "") }
            return out
        }

        func pairs(_ node: Node?, _ at: String) throws(HostError) -> [(String, String)]? {
            guard let node else { return nil }
            guard let map = node.mapping else { throw fail(node, at, "expected a mapping of keys to strings") }
            var out: [(String, String)] = []
            for (k, v) in map {
                let key = try string(k, at) ?? ""
                guard case .scalar(let s) = v else { throw fail(v, "\(at).\(key)", "expected a string") }
                out.append((key, s.string))
            }
            return out
        }

        func object(_ node: Node?, _ at: String) throws(HostError) -> PlainObject? {
            guard let node else { return nil }
            if node.null != nil, node.scalar?.style == .plain { return PlainObject() }
            guard case .object(let o) = try value(node, at) else { throw fail(node, at, "expected a mapping") }
            return o
        }

        /// A property value: YAML scalars as their resolved types (integers as numbers), `!unknown`
        /// as the engine's sentinel, `!secret` as a decrypted export's secret.
        func value(_ node: Node, _ at: String) throws(HostError) -> PlainValue {
            let tag = node.tag.description
            if tag == "!unknown" {
                let kind: String
                if case .scalar(let s) = node, !s.string.isEmpty { kind = s.string } else { kind = "string" }
                guard let sentinel = PolicyTestFile.unknownSentinels[kind] else {
                    throw fail(node, at, "unknown kind '\(kind)' for !unknown", hint: "one of: \(PolicyTestFile.unknownSentinels.keys.sorted().joined(separator: ", "))")
                }
                return .string(sentinel)
            }
            if tag == "!secret" {
                let inner = try plain(node, at)
                return .object(PlainObject([("4dabf18193072939515e22adb298388d", .string("1b47061264138c4ac30d75fd1eb44270")),
                                            ("plaintext", .string(JSON.serialize(inner)))]))
            }
            if tag.hasPrefix("!") && !tag.hasPrefix("!!") && tag != "!" {
                throw fail(node, at, "unknown tag \(tag)", hint: "values may be tagged !unknown [kind] or !secret")
            }
            return try plain(node, at)
        }

        /// The value without its own tag.
        func plain(_ node: Node, _ at: String) throws(HostError) -> PlainValue {
            switch node {
            case .scalar(let s):
                if s.style == .plain || s.style == .any {
                    if node.null != nil { return .null }
                    if let b = node.bool { return .bool(b) }
                    if let i = node.int { return .double(Double(i)) }
                    if let d = node.float { return .double(d) }
                }
                return .string(s.string)
            case .mapping(let map):
                var o = PlainObject()
                for (k, v) in map {
                    let key = try string(k, at) ?? ""
                    guard o[key] == nil else { throw fail(k, at, "the key '\(key)' appears twice") }
                    o[key] = try value(v, at.isEmpty ? key : "\(at).\(key)")
                }
                return .object(o)
            case .sequence(let seq):
                var out: [PlainValue] = []
                for (i, n) in seq.enumerated() { out.append(try value(n, "\(at)[\(i)]")) }
                return .array(out)
            }
        }

        func settings(_ node: Node, at: String) throws(HostError) -> PolicyTestCase.Settings {
            guard let map = node.mapping else { throw fail(node, at, "expected a mapping") }
            try onlyKeys(map, ["organization", "project", "stack", "preview", "config", "tags", "policyConfig"], at: at)
            return try settings(map, at: at)
        }

        func settings(_ map: Node.Mapping, at: String) throws(HostError) -> PolicyTestCase.Settings {
            var s = PolicyTestCase.Settings()
            s.organization = try string(map["organization"], "\(at).organization")
            s.project = try string(map["project"], "\(at).project")
            s.stack = try string(map["stack"], "\(at).stack")
            s.preview = try bool(map["preview"], "\(at).preview")
            s.config = try pairs(map["config"], "\(at).config")
            s.tags = try pairs(map["tags"], "\(at).tags")
            if let pc = map["policyConfig"] {
                let value = try plain(pc, "\(at).policyConfig")
                s.policyConfig = try PolicyPackConfig.parse(Data(JSON.serialize(value).utf8), file: "\(path) (\(at).policyConfig)")
            }
            return s
        }

        func testCase(_ node: Node, at: String, file: String) throws(HostError) -> PolicyTestCase {
            guard let map = node.mapping else { throw fail(node, at, "a case must be a mapping with a name, resources and expect") }
            try onlyKeys(map, ["name", "organization", "project", "stack", "preview", "config", "tags", "policyConfig",
                               "resources", "stackFile", "expect", "nothingElse"], at: at)
            guard let name = try string(map["name"], "\(at).name"), !name.isEmpty else {
                throw fail(node, at, "a case needs a `name`")
            }
            let settings = try settings(map, at: at)
            var stackFile: URL?
            if let f = try string(map["stackFile"], "\(at).stackFile") {
                guard map["resources"] == nil else { throw fail(node, at, "give either `resources` or a `stackFile`, not both") }
                guard !f.isEmpty, !f.contains("\0") else { throw fail(map["stackFile"], "\(at).stackFile", "expected a path") }
                stackFile = URL(fileURLWithPath: f, relativeTo: URL(fileURLWithPath: path).deletingLastPathComponent()).standardizedFileURL
            }
            var resources: [PolicyTestCase.Resource] = []
            if let rs = map["resources"] {
                guard let seq = rs.sequence else { throw fail(rs, "\(at).resources", "expected a list of resources") }
                for (i, r) in seq.enumerated() { resources.append(try resource(r, at: "\(at).resources[\(i)]")) }
            }
            // As in a stack, a name is unique per type; a reference by name must name one resource.
            var seen = Set<String>(), names = Set<String>(), ambiguous = Set<String>()
            for r in resources {
                guard seen.insert(r.type + "::" + r.name).inserted else {
                    throw fail(node, at, "two resources of type \(r.type) are named \(GoJSONText.quoted(r.name))", hint: "a name is unique per type in a case, as in a stack")
                }
                if !names.insert(r.name).inserted { ambiguous.insert(r.name) }
            }
            for r in resources {
                for ref in [r.parent].compactMap({ $0 }) + r.dependencies {
                    guard names.contains(ref) else {
                        throw fail(node, at, "resource \(GoJSONText.quoted(r.name)) refers to \(GoJSONText.quoted(ref)), which is not a resource of the case")
                    }
                    guard !ambiguous.contains(ref) else {
                        throw fail(node, at, "resource \(GoJSONText.quoted(r.name)) refers to \(GoJSONText.quoted(ref)), a name several resources of the case have")
                    }
                }
            }
            var expectations: [PolicyTestCase.Expectation] = []
            if let ex = map["expect"] {
                guard let seq = ex.sequence else { throw fail(ex, "\(at).expect", "expected a list of expectations") }
                for (i, e) in seq.enumerated() {
                    expectations.append(try expectation(e, at: "\(at).expect[\(i)]", resources: stackFile == nil ? names : nil))
                }
            }
            return PolicyTestCase(file: file, name: name, line: node.mark?.line ?? 0, settings: settings, resources: resources,
                                  stackFile: stackFile, expectations: expectations, nothingElse: try bool(map["nothingElse"], "\(at).nothingElse") ?? false)
        }

        func resource(_ node: Node, at: String) throws(HostError) -> PolicyTestCase.Resource {
            guard let map = node.mapping else { throw fail(node, at, "a resource must be a mapping with type and name") }
            try onlyKeys(map, ["type", "name", "inputs", "outputs", "custom", "protect", "parent", "dependencies",
                               "ignoreChanges", "provider"], at: at)
            guard let type = try string(map["type"], "\(at).type"), type.split(separator: ":").count >= 3 else {
                throw fail(node, at, "a resource needs a `type` such as aws:s3/bucket:Bucket")
            }
            guard let name = try string(map["name"], "\(at).name"), !name.isEmpty, !name.contains("::") else {
                throw fail(node, at, "a resource needs a `name` (without \"::\")")
            }
            var provider: PolicyTestCase.Provider?
            if let p = map["provider"] {
                guard let pm = p.mapping else { throw fail(p, "\(at).provider", "expected a mapping with type, name and inputs") }
                try onlyKeys(pm, ["type", "name", "inputs"], at: "\(at).provider")
                guard let ptype = try string(pm["type"], "\(at).provider.type"), ptype.hasPrefix("pulumi:providers:") else {
                    throw fail(p, "\(at).provider", "a provider needs a `type` such as pulumi:providers:aws")
                }
                provider = .init(type: ptype, name: try string(pm["name"], "\(at).provider.name") ?? "default",
                                 inputs: try object(pm["inputs"], "\(at).provider.inputs") ?? PlainObject())
            }
            return .init(type: type, name: name, inputs: try object(map["inputs"], "\(at).inputs") ?? PlainObject(),
                         outputs: try object(map["outputs"], "\(at).outputs"), custom: try bool(map["custom"], "\(at).custom") ?? true,
                         protect: try bool(map["protect"], "\(at).protect") ?? false, parent: try string(map["parent"], "\(at).parent"),
                         dependencies: try strings(map["dependencies"], "\(at).dependencies"),
                         ignoreChanges: try strings(map["ignoreChanges"], "\(at).ignoreChanges"), provider: provider)
        }

        func textMatch(_ node: Node, _ at: String) throws(HostError) -> PolicyTestCase.TextMatch? {
            if case .scalar = node {
                if node.null != nil, node.scalar?.style == .plain { return nil }
                if node.bool == true, node.scalar?.style == .plain { return nil }
                if node.bool == false, node.scalar?.style == .plain {
                    throw fail(node, at, "`false` expects nothing", hint: "for a policy that must not fire, write `passes: true`")
                }
                return .exact(try string(node, at) ?? "")
            }
            guard let map = node.mapping, map.count == 1, let key = map.keys.first?.scalar?.string else {
                throw fail(node, at, "expected a text, or one of {message: …}, {contains: …}, {matches: …}")
            }
            let text = try string(map[key], "\(at).\(key)") ?? ""
            switch key {
            case "message", "reason", "exact": return .exact(text)
            case "contains": return .contains(text)
            case "matches":
                guard (try? NSRegularExpression(pattern: text)) != nil else { throw fail(node, at, "invalid regular expression /\(text)/") }
                return .regex(text)
            default: throw fail(node, at, "unknown match '\(key)'", hint: "use message, contains or matches")
            }
        }

        /// `resources`: the names a `resource:` may give (nil: any, for a case that reads a stack file).
        func expectation(_ node: Node, at: String, resources: Set<String>?) throws(HostError) -> PolicyTestCase.Expectation {
            guard let map = node.mapping else { throw fail(node, at, "an expectation must be a mapping with `policy` and one outcome") }
            try onlyKeys(map, ["policy", "resource", "fires", "level", "passes", "notApplicable", "remediates", "raises"], at: at)
            guard let policy = try string(map["policy"], "\(at).policy"), !policy.isEmpty else {
                throw fail(node, at, "an expectation needs the `policy` it is about")
            }
            let resource = try string(map["resource"], "\(at).resource")
            if let resource, let resources, !resources.contains(resource) {
                throw fail(node, at, "no resource of the case is named \(GoJSONText.quoted(resource))")
            }
            let outcomes = ["fires", "passes", "notApplicable", "remediates", "raises"].filter { map[$0] != nil }
            guard outcomes.count == 1, let kind = outcomes.first, let value = map[kind] else {
                throw fail(node, at, "an expectation needs exactly one of fires, passes, notApplicable, remediates, raises")
            }
            if map["level"] != nil && kind != "fires" { throw fail(node, at, "`level` goes with `fires`") }
            let outcome: PolicyTestCase.Outcome
            switch kind {
            case "fires":
                var level: EnforcementLevel?
                if let l = try string(map["level"], "\(at).level") {
                    guard let parsed = EnforcementLevel(name: l), parsed == .advisory || parsed == .mandatory else {
                        throw fail(map["level"], "\(at).level", "a violation's level is advisory or mandatory (remediate is reported as mandatory)")
                    }
                    level = parsed
                }
                outcome = .fires(message: try textMatch(value, "\(at).fires"), level: level)
            case "passes":
                guard try bool(value, "\(at).passes") == true else { throw fail(value, "\(at).passes", "write `passes: true`") }
                outcome = .passes
            case "notApplicable":
                outcome = .notApplicable(reason: try textMatch(value, "\(at).notApplicable"))
            case "remediates":
                if value.bool == true, value.scalar?.style == .plain {
                    outcome = .remediates(properties: nil)
                } else {
                    outcome = .remediates(properties: try object(value, "\(at).remediates"))
                }
            default:
                if value.bool == true, value.scalar?.style == .plain {
                    outcome = .raises(type: nil)
                } else {
                    outcome = .raises(type: try string(value, "\(at).raises"))
                }
            }
            return .init(policy: policy, resource: resource, outcome: outcome, line: node.mark?.line ?? 0)
        }
    }
}
