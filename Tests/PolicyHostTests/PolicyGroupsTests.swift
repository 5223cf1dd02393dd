import Foundation
import PolicyValues
import Testing
import HostCore
import PackStore

/// The resolution rule, table-driven: newest version wins; same version with different
/// configuration, the most recently modified wins; packs spread over several groups.
@Suite struct PolicyGroupsTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var groups: String
        var stack: String
        var expected: [String]  // "name@label config"
    }

    static let cases: [Case] = [
        Case(description: "newest version wins across groups", groups: """
            {"policyGroups": [
              {"name": "a", "stacks": ["acme/web/prod"], "policyPacks": [{"name": "p", "version": 3, "versionTag": "1.3.0"}]},
              {"name": "b", "stacks": ["acme/web/prod"], "policyPacks": [{"name": "p", "version": 5, "versionTag": "1.5.0"}]},
              {"name": "c", "stacks": ["acme/web/prod"], "policyPacks": [{"name": "p", "version": 4, "versionTag": "1.4.0"}]}]}
            """, stack: "acme/web/prod", expected: ["p@1.5.0 {}"]),
        Case(description: "same version: latest configuration wins", groups: """
            {"policyGroups": [
              {"name": "a", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 2, "config": {"all": "advisory"}, "configModified": "2026-01-01T00:00:00Z"}]},
              {"name": "b", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 2, "config": {"all": "mandatory"}, "configModified": "2026-03-01T00:00:00Z"}]},
              {"name": "c", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 2, "config": {"all": "disabled"}, "configModified": "2026-02-01T00:00:00.5Z"}]}]}
            """, stack: "acme/web/prod", expected: ["p@2 {\"all\":\"mandatory\"}"]),
        Case(description: "a newer version beats a newer configuration", groups: """
            {"policyGroups": [
              {"name": "a", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 1, "config": {"x": {"n": 1}}, "configModified": "2026-09-01T00:00:00Z"}]},
              {"name": "b", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 2, "config": {"x": {"n": 2}}, "configModified": "2026-01-01T00:00:00Z"}]}]}
            """, stack: "o/p/s", expected: ["p@2 {\"x\":{\"n\":2}}"]),
        Case(description: "packs spread over several groups are aggregated", groups: """
            {"policyGroups": [
              {"name": "security", "stacks": ["acme/*/prod"], "policyPacks": [{"name": "aws-sec", "versionTag": "2.0.0"}, {"name": "tags", "version": 1}]},
              {"name": "cost", "stacks": ["acme/web/*"], "policyPacks": [{"name": "cost", "versionTag": "0.3.0"}, {"name": "tags", "version": 2}]},
              {"name": "other", "stacks": ["other/web/prod"], "policyPacks": [{"name": "never", "version": 9}]}]}
            """, stack: "acme/web/prod", expected: ["aws-sec@2.0.0 {}", "cost@0.3.0 {}", "tags@2 {}"]),
        Case(description: "tags compare as versions", groups: """
            {"policyGroups": [{"name": "g", "stacks": ["*"], "policyPacks": [
              {"name": "p", "versionTag": "1.9.0"}, {"name": "p", "versionTag": "1.10.0"}, {"name": "p", "versionTag": "1.2.3"}]}]}
            """, stack: "a/b/c", expected: ["p@1.10.0 {}"]),
        Case(description: "a stack in no group gets nothing", groups: """
            {"policyGroups": [{"name": "g", "stacks": ["acme/web/prod"], "policyPacks": [{"name": "p", "version": 1}]}]}
            """, stack: "acme/web/dev", expected: []),
        Case(description: "equal versions and times: the first listed wins", groups: """
            {"policyGroups": [
              {"name": "a", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 1, "config": {"k": "advisory"}}]},
              {"name": "b", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 1, "config": {"k": "mandatory"}}]}]}
            """, stack: "a/b/c", expected: ["p@1 {\"k\":\"advisory\"}"]),
    ]

    @Test(arguments: cases)
    func resolution(_ c: Case) throws {
        let groups = try PolicyGroups.parse(try JSON.parse(c.groups), file: "groups.json")
        let got = groups.resolve(stack: c.stack).map { "\($0.name)@\($0.versionLabel) \(JSON.serialize(.object($0.config)))" }
        #expect(got == c.expected)
    }

    @Test(arguments: [
        (#"{"groups": []}"#, "expected an object with a \"policyGroups\" array"),
        (#"{"policyGroups": [{"stacks": []}]}"#, "policyGroups[0] has no \"name\""),
        (#"{"policyGroups": [{"name": "g", "stacks": ["*"], "policyPacks": [{"name": "p"}]}]}"#, "needs \"version\" or \"versionTag\""),
        (#"{"policyGroups": [{"name": "g", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 1, "configModified": "yesterday"}]}]}"#, "configModified must be an RFC 3339 time"),
        (#"{"policyGroups": [{"name": "g", "stacks": ["*"], "policyPacks": [{"name": "p", "versionTag": "1 0"}]}]}"#, "is not a valid version"),
    ])
    func invalidFiles(_ text: String, _ message: String) throws {
        do {
            _ = try PolicyGroups.parse(try JSON.parse(text), file: "groups.json")
            Issue.record("accepted \(text)")
        } catch let e as HostError {
            #expect(e.message.contains(message), "\(e.message)")
            #expect(e.status == .usage)
        }
    }

    @Test func stackPatterns() {
        #expect(PolicyGroups.matches("*", "a/b/c"))
        #expect(PolicyGroups.matches("a/*/c", "a/b/c"))
        #expect(!PolicyGroups.matches("a/*/c", "a/b/d"))
        #expect(!PolicyGroups.matches("a/b", "a/b/c"))
    }
}

@Suite struct ArchiveTests {
    @Test func tarRoundTripWithLongNamesAndLinks() throws {
        let long = "package/" + String(repeating: "d/", count: 60) + "file.py"
        let entries = [
            Tar.Entry(path: "package/a.txt", kind: .file, mode: 0o644, data: Data("hello".utf8)),
            Tar.Entry(path: long, kind: .file, mode: 0o755, data: Data(repeating: 7, count: 1000)),
            Tar.Entry(path: "package/link", kind: .symlink("a.txt"), mode: 0o777, data: Data()),
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString).tar.gz")
        defer { try? FileManager.default.removeItem(at: file) }
        try Gzip.compress(Tar.write(entries)).write(to: file)
        let back = try Tar.read(Gzip.decompress(file: file, maxSize: 1 << 20), file: "t")
        #expect(back.map(\.path) == entries.map(\.path))
        #expect(back[1].data == entries[1].data)
        #expect(back[1].mode == 0o755)
        #expect(back[2].kind == .symlink("a.txt"))
    }

    @Test func gitignoreRules() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "*.log\nbuild/\n/secret.txt\n!keep.log\ndocs/**/*.md\n".write(to: dir.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
        let gi = GitIgnore(loadingFrom: dir)
        let base = dir.standardizedFileURL.path
        #expect(gi.isIgnored(base + "/x.log", isDirectory: false))
        #expect(gi.isIgnored(base + "/sub/y.log", isDirectory: false))
        #expect(!gi.isIgnored(base + "/keep.log", isDirectory: false))
        #expect(gi.isIgnored(base + "/build", isDirectory: true))
        #expect(gi.isIgnored(base + "/sub/build/out.py", isDirectory: false))
        #expect(gi.isIgnored(base + "/secret.txt", isDirectory: false))
        #expect(!gi.isIgnored(base + "/sub/secret.txt", isDirectory: false))
        #expect(gi.isIgnored(base + "/docs/a/b/c.md", isDirectory: false))
        #expect(!gi.isIgnored(base + "/main.py", isDirectory: false))
    }
}
