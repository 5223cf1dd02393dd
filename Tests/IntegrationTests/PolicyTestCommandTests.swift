import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HostCore
import PolicyPack
import PolicyValues
import TestSupport
import Testing

/// `policy-host test` on the `harness-probe` fixture pack, whose policies depend on exactly what the
/// SDK hands them (proxies, floats, unknowns, secrets, config defaults).
@Suite(.serialized) struct PolicyTestCommandTests {
    func pack() throws -> URL { try preparedPack("harness-probe") }

    @Test func casesThatDescribeTheSDKPass() throws {
        let r = try policyHost(["test", try pack().path, "--filter", "passing.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("9 cases: 9 passed, 0 failed"), "\(r.stdout)")
        #expect(!r.stdout.contains("FAIL"))
    }

    /// What a hand-rolled helper with plain dicts, ints, no preview, wrapped secrets and no config
    /// reconciliation would let pass fails here, each for the reason it fails under `analyze`.
    @Test func theHarnessCatchesWhatHandRolledHelpersMiss() throws {
        let r = try policyHost(["test", try pack().path, "--filter", "naive.yaml"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let expected = [
            ("dict check finds a missing owner", "tags-as-dict: expected to fire with message \"missing owner tag\", but it reported nothing"),
            ("ints match port 22", "ssh-port: expected to fire with message \"ssh open\", but fired \"port 22.0 is open\" (mandatory on \"sg\")"),
            ("preview is like an update", "needs-arn: expected to pass, but fired \"can't run policy 'needs-arn' from policy pack 'harness-probe@v0.0.1' during preview: string value at .arn can't be known during preview\" (advisory on \"b\")"),
            ("secrets stay wrapped", "password-length: expected to pass, but fired \"password too short\" (advisory on \"db\")"),
            ("no config means no limit", "max-size: expected to pass, but fired \"size over 10.0\" (mandatory on \"v\")"),
        ]
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for (name, failure) in expected {
            let i = try #require(lines.firstIndex(of: "FAIL  policy-tests/naive.yaml › \(name)"), "\(r.stdout)")
            #expect(lines[i + 1].trimmingCharacters(in: .whitespaces) == failure)
        }
        #expect(r.stdout.contains("5 cases: 0 passed, 5 failed"))
    }

    /// For every case, the results `test` computes equal those of `analyze` on a stack file holding
    /// the same resources with the same settings.
    @Test func eachCaseReportsWhatAnalyzeReportsForTheSameResources() throws {
        #expect(try expectTestEqualsAnalyze(try pack()) == 14)
    }

    /// The same for every fixture pack, on cases made from a fixture stack: the stack file itself
    /// (`stackFile:`) and its resources written out as a case.
    @Test(arguments: [("aws-basics", "aws-webshop.json"), ("remediate-tags", "aws-webshop.json"), ("config-levels", "aws-webshop.json"),
                      ("preview-unknowns", "edge-preview.json"), ("assets-archives", "thumbnailer-assets.json"),
                      ("not-applicable", "storefront-k8s.json"), ("async-checks", "aws-webshop.json"),
                      ("raising-policy", "aws-webshop.json"), ("k8s-guard", "storefront-k8s.json"),
                      ("proxy-probe", "edge-preview.json"), ("sdk-idioms", "key-permutations.json")])
    func everyFixturePackReportsAsAnalyzeDoes(_ name: String, _ stack: String) throws {
        let source = try preparedPack(name)
        let snapshot = try StackSnapshot.load(Repo.stack(stack))
        var lines = ["cases:", "  - name: the stack file", "    stackFile: \(Repo.stack(stack).path)", "    nothingElse: true",
                     "  - name: its resources", "    preview: \(snapshot.format == .preview)", "    resources:"]
        var seen = Set<String>()
        for r in snapshot.live where r.custom && !r.type.hasPrefix("pulumi:providers:") && seen.insert(r.type + "::" + r.name).inserted {
            lines.append("      - {type: \(JSON.serialize(.string(r.type))), name: \(JSON.serialize(.string(r.name))), "
                         + "inputs: \(Self.flow(.object(r.inputs))), outputs: \(Self.flow(.object(r.outputs)))}")
        }
        lines.append("    nothingElse: true")
        try withTemporaryDirectory { tmp in
            let dir = tmp.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("policy-tests"), withIntermediateDirectories: true)
            for entry in try FileManager.default.contentsOfDirectory(atPath: source.path) where entry != "venv" && entry != "policy-tests" {
                try FileManager.default.copyItem(at: source.appendingPathComponent(entry), to: dir.appendingPathComponent(entry))
            }
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("venv"), withDestinationURL: source.appendingPathComponent("venv"))
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("policy-tests/cases.yaml"))
            #expect(try expectTestEqualsAnalyze(dir) == 2)
        }
    }

    /// A value as YAML flow text, a secret (as the stack reader holds it: signature and `value`) as `!secret`.
    static func flow(_ v: PlainValue) -> String {
        switch v {
        case .object(let o):
            if o["4dabf18193072939515e22adb298388d"]?.stringValue == "1b47061264138c4ac30d75fd1eb44270", let inner = o["value"] {
                return "!secret " + flow(inner)
            }
            if o["4dabf18193072939515e22adb298388d"]?.stringValue == "d0e6a833031e9bbcd3f4e8bde6ca49a4" {  // an output value
                let inner = o["value"].map(flow) ?? "!unknown string"
                return o["secret"]?.boolValue == true && o["value"] != nil ? "!secret " + inner : inner
            }
            return "{" + o.entries.map { "\(JSON.serialize(.string($0.0))): \(flow($0.1))" }.joined(separator: ", ") + "}"
        case .array(let a):
            return "[" + a.map(flow).joined(separator: ", ") + "]"
        default:
            return JSON.serialize(v)
        }
    }

    /// A copy of the pack (sharing its venv) with one case file of our own.
    func packWith(_ cases: String, in tmp: URL) throws -> URL {
        let source = try pack()
        let dir = tmp.appendingPathComponent("pack")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("policy-tests"), withIntermediateDirectories: true)
        for f in ["__main__.py", "requirements.txt"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        try Data("runtime:\n  name: python\n  options:\n    virtualenv: \(source.appendingPathComponent("venv").path)\n".utf8)
            .write(to: dir.appendingPathComponent("PulumiPolicy.yaml"))
        try Data(cases.utf8).write(to: dir.appendingPathComponent("policy-tests/cases.yaml"))
        return dir
    }

    /// Every kind of expectation that does not hold fails its case with a line saying what was
    /// expected and what happened.
    @Test func mismatchesOfEveryKind() throws {
        let cases = """
        cases:
          - name: everything wrong
            resources:
              - {type: "aws:ec2/securityGroup:SecurityGroup", name: sg, inputs: {arn: "arn:aws:ec2:sg", ingress: [{fromPort: 22}]}}
              - {type: "aws:sqs/queue:Queue", name: q, inputs: {arn: "arn:aws:sqs:q"}}
              - {type: "aws:s3/bucket:Bucket", name: b, inputs: {arn: "arn:aws:s3:::b", bucket: Up, name: boom}}
            expect:
              - {policy: ssh-port, fires: "port 22 is open"}
              - {policy: ssh-port, fires: {contains: "closed"}}
              - {policy: ssh-port, fires: {matches: "^ssh"}}
              - {policy: ssh-port, fires: true, level: advisory}
              - {policy: ssh-port, resource: q, fires: true}
              - {policy: ssh-port, resource: sg, passes: true}
              - {policy: not-for-queues, resource: q, notApplicable: other reason}
              - {policy: not-for-queues, resource: b, raises: KeyError}
              - {policy: lowercase-bucket, remediates: {bucket: UP}}
              - {policy: no-such-policy, passes: true}
            nothingElse: true
        """
        try withTemporaryDirectory { tmp in
            let r = try policyHost(["test", try packWith(cases, in: tmp).path])
            #expect(r.status == 1)
            let failures = r.stdout.split(separator: "\n").filter { $0.hasPrefix("      ") }.map { $0.trimmingCharacters(in: .whitespaces) }
            let expected = [
                "ssh-port: expected to fire with message \"port 22 is open\", but fired \"port 22.0 is open\" (mandatory on \"sg\")",
                "ssh-port: expected to fire with message containing \"closed\", but fired \"port 22.0 is open\" (mandatory on \"sg\")",
                "ssh-port: expected to fire with message matching /^ssh/, but fired \"port 22.0 is open\" (mandatory on \"sg\")",
                "ssh-port: expected to fire at level advisory, but fired \"port 22.0 is open\" (mandatory on \"sg\")",
                "ssh-port: expected to fire on \"q\", but it reported nothing",
                "ssh-port: expected to pass on \"sg\", but fired \"port 22.0 is open\" (mandatory on \"sg\")",
                "not-for-queues: expected to be not applicable on \"q\" with reason \"other reason\", but was not applicable: \"queues are exempt\"",
                "not-for-queues: expected to raise KeyError on \"b\", but raised ValueError: cannot check this one",
                "lowercase-bucket: expected to remediate to {\"bucket\":\"UP\"}, but was not applicable: \"Policy does not implement validate\", \"Policy does not implement validate\", \"Policy does not implement validate\"; remediated {\"arn\":\"arn:aws:s3:::b\",\"bucket\":\"up\",\"name\":\"boom\"}",
                "no-such-policy: the pack has no policy of this name (line 17)",
                "stack-count: fired \"4 resources\", which the case does not expect (nothingElse)",
            ]
            for e in expected { #expect(failures.contains(e), "missing: \(e)\nin:\n\(failures.joined(separator: "\n"))") }
            #expect(failures.count == expected.count, "\(failures.joined(separator: "\n"))")
        }
    }

    @Test func coverageIsCountedAndCanBeRequired() throws {
        let pack = try pack()
        let r = try policyHost(["test", pack.path, "--filter", "passing.yaml", "--format", "json"])
        #expect(r.status == 0)
        let coverage = try #require(r.json?["coverage"]?.arrayValue)
        let byPolicy = Dictionary(uniqueKeysWithValues: coverage.map { ($0["policy"]?.stringValue ?? "", ($0["fires"]?.boolValue ?? false, $0["passes"]?.boolValue ?? false)) })
        #expect(byPolicy.count == 8)
        #expect(byPolicy["ssh-port"]! == (true, true))
        #expect(byPolicy["tags-as-dict"]! == (false, true))
        #expect(byPolicy["not-for-queues"]! == (false, true))
        #expect(byPolicy["lowercase-bucket"]! == (true, true))
        let required = try policyHost(["test", pack.path, "--filter", "passing.yaml", "--require-coverage"])
        #expect(required.status == 1)
        #expect(required.stdout.contains("untested: not-for-queues (never fires), tags-as-dict (never fires)"), "\(required.stdout)")
    }

    @Test func junitIsValidAgainstTheSchema() throws {
        try withTemporaryDirectory { tmp in
            let file = tmp.appendingPathComponent("results.xml")
            let r = try policyHost(["test", try pack().path, "--junit", file.path])
            #expect(r.status == 1)
            let xml = try String(contentsOf: file, encoding: .utf8)
            try ReportFormatTests().validate("junit", xml, in: tmp)
            let doc = try XMLDocument(data: Data(xml.utf8))
            let suites = try doc.nodes(forXPath: "//testsuite").compactMap { $0 as? XMLElement }
            #expect(suites.count == 2)
            #expect(suites.map { $0.attribute(forName: "failures")?.stringValue ?? "" }.sorted() == ["0", "5"])
            #expect(try doc.nodes(forXPath: "//testcase").count == 14)
        }
    }

    /// Bad case files are one `error:` line naming the file and line, exit 2, nothing run.
    @Test(arguments: [
        ("cases: [", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping with `cases:`"),
        ("cases: {}\n", "`cases` must be a list"),
        ("cases:\n  - name: x\n    resourcez: []\n", ":3: cases[0]: unknown key 'resourcez' (did you mean 'resources'?)"),
        ("cases:\n  - name: x\n  - name: x\n", "two cases are named \"x\""),
        ("cases:\n  - name: x\n    resources: [{type: a, name: b}]\n", "a resource needs a `type`"),
        ("cases:\n  - name: x\n    resources: [{type: \"a:b:C\", name: b, parent: nope}]\n", "refers to \"nope\""),
        ("cases:\n  - name: x\n    resources: [{type: \"a:b:C\", name: b, inputs: {v: !bogus 1}}]\n", "unknown tag !bogus"),
        ("cases:\n  - name: x\n    resources: [{type: \"a:b:C\", name: b, inputs: {v: !unknown float}}]\n", "unknown kind 'float' for !unknown"),
        ("cases:\n  - name: x\n    expect: [{policy: p}]\n", "exactly one of fires, passes"),
        ("cases:\n  - name: x\n    expect: [{policy: p, passes: true, fires: true}]\n", "exactly one of fires, passes"),
        ("cases:\n  - name: x\n    expect: [{policy: p, fires: {matches: \"(\"}}]\n", "invalid regular expression"),
        ("cases:\n  - name: x\n    expect: [{policy: p, fires: false}]\n", "`false` expects nothing"),
        ("cases:\n  - name: x\n    expect: [{policy: p, fires: true, level: remediate}]\n", "a violation's level is advisory or mandatory"),
        ("cases:\n  - name: x\n    policyConfig: {p: {enforcementLevel: loud}}\n", "not a valid enforcement level"),
        ("cases:\n  - name: x\n    resources: [{type: \"a:b:C\", name: b, inputs: &a {x: *a}}]\n", "invalid YAML"),
        (String(repeating: "[", count: 200) + String(repeating: "]", count: 200), "nested more than"),
    ])
    func badCaseFiles(_ text: String, _ message: String) throws {
        try withTemporaryDirectory { tmp in
            let r = try policyHost(["test", try packWith(text, in: tmp).path])
            #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
            let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            #expect(lines.count == 1 && lines[0].contains("cases.yaml") && lines[0].contains(message), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test func aPackWithoutCasesSaysWhereTheyGo() throws {
        try withTemporaryDirectory { tmp in
            let dir = try packWith("cases: []\n", in: tmp)
            try FileManager.default.removeItem(at: dir.appendingPathComponent("policy-tests"))
            let r = try policyHost(["test", dir.path])
            #expect(r.status == 2)
            #expect(r.stderr.contains("policy-tests: no test cases (*.yaml)"), "\(r.stderr)")
        }
    }
}

/// `--update`: observed results go into the cases that expect nothing (or are named), the rest of
/// the file stays byte for byte, and the rewritten file passes.
@Suite(.serialized) struct PolicyTestUpdateTests {
    let original = """
    # my cases
    settings:
      project: p
    cases:
      - name: snapshot me
        resources:
          - type: aws:ec2/securityGroup:SecurityGroup
            name: sg
            inputs: {arn: "arn:aws:ec2:sg", ingress: [{fromPort: 22}], bucket: Up}

      # a comment before the next case
      - name: keep me
        resources:
          - {type: "aws:s3/bucket:Bucket", name: b, inputs: {arn: "arn:aws:s3:::b"}}
        expect:
          - policy: ssh-port
            fires: wrong on purpose
        nothingElse: false
      - {name: flow, resources: [], expect: [{policy: ssh-port, passes: true}]}

    """

    @Test func fillsTheCasesWithoutExpectationsOnly() throws {
        try withTemporaryDirectory { tmp in
            let pack = try PolicyTestCommandTests().packWith(original, in: tmp)
            let file = pack.appendingPathComponent("policy-tests/cases.yaml")
            let before = try policyHost(["test", pack.path])
            #expect(before.status == 1 && before.stdout.contains("the case expects nothing"))
            let r = try policyHost(["test", pack.path, "--update"])
            #expect(r.status == 1, "the case that fails on purpose still fails: \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("UPDATED  policy-tests/cases.yaml › snapshot me"))
            #expect(r.stdout.contains("FAIL  policy-tests/cases.yaml › keep me"))
            let text = try String(contentsOf: file, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let old = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // The new lines come right after the case's inputs; everything else is unchanged.
            let inserted = lines.count - old.count
            #expect(Array(lines[0..<9]) == Array(old[0..<9]))
            #expect(Array(lines[(9 + inserted)...]) == Array(old[9...]))
            #expect(lines[9] == "    expect:")
            #expect(text.contains("      - policy: ssh-port\n        resource: sg\n        fires: \"port 22.0 is open\"\n        level: mandatory\n"))
            #expect(text.contains("        remediates: {\"arn\":\"arn:aws:ec2:sg\",\"bucket\":\"up\",\"ingress\":[{\"fromPort\":22}]}"))
            #expect(text.contains("    nothingElse: true\n"))
            let again = try policyHost(["test", pack.path, "--filter", "snapshot me"])
            #expect(again.status == 0, "\(again.stdout)")
            #expect(!FileManager.default.fileExists(atPath: pack.appendingPathComponent("policy-tests/.cases.yaml.policy-host-update").path))
        }
    }

    @Test func rewritesANamedCaseAndRefusesFlowStyle() throws {
        try withTemporaryDirectory { tmp in
            let pack = try PolicyTestCommandTests().packWith(original, in: tmp)
            let file = pack.appendingPathComponent("policy-tests/cases.yaml")
            let r = try policyHost(["test", pack.path, "--update-case", "keep me"])
            #expect(r.status == 1, "snapshot me still expects nothing: \(r.stdout)")
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(!text.contains("wrong on purpose"))
            #expect(text.contains("    nothingElse: false\n"), "an existing nothingElse is kept")
            #expect(try policyHost(["test", pack.path, "--filter", "keep me"]).status == 0)
            let before = try Data(contentsOf: file)
            let flow = try policyHost(["test", pack.path, "--update-case", "flow"])
            #expect(flow.status == 2)
            #expect(flow.stderr.contains("flow style"), "\(flow.stderr)")
            #expect(try Data(contentsOf: file) == before, "nothing written when the update cannot be made")
            let unknown = try policyHost(["test", pack.path, "--update-case", "no such case"])
            #expect(unknown.status == 2 && unknown.stderr.contains("no case of this name"))
        }
    }
}

/// Case files that are not plain files are refused without being read (a FIFO never hangs the run).
@Suite struct PolicyTestHostileFilesTests {
    @Test(arguments: ["symlink", "fifo", "directory", "huge"])
    func refused(_ kind: String) throws {
        try withTemporaryDirectory { tmp in
            let pack = try PolicyTestCommandTests().packWith("cases: []\n", in: tmp)
            let file = pack.appendingPathComponent("policy-tests/evil.yaml")
            switch kind {
            case "symlink": try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: "/etc/passwd")
            case "fifo": #expect(mkfifo(file.path, 0o644) == 0)
            case "directory": try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
            default:
                let line = Data("# padding padding padding padding padding padding padding padding padding padding\n".utf8)
                var big = Data("cases: []\n".utf8)
                while big.count <= PolicyTestFile.maxSize { big.append(line) }
                try big.write(to: file)
            }
            let r = try policyHost(["test", pack.path])
            #expect(r.status == 2, "\(r.stderr)")
            #expect(r.stderr.hasPrefix("error: \(file.path): "), "\(r.stderr)")
            #expect(r.stderr.contains(kind == "huge" ? "larger than" : "not a regular file"), "\(r.stderr)")
        }
    }
}

/// Runs `policy-host test` on a pack and, for each of its cases, `analyze` on the stack the case
/// stands for (its stack file, or its resources as a stack export) with the same settings; the
/// results must be identical. Returns the number of cases compared.
@discardableResult
func expectTestEqualsAnalyze(_ pack: URL) throws -> Int {
    let r = try policyHost(["test", pack.path, "--format", "json", "-q"])
    let json = try #require(r.json, "\(r.stdout)\(r.stderr)")
    let reported = json["cases"]?.arrayValue ?? []
    var cases: [PolicyTestCase] = []
    for f in try PolicyTestFile.files(in: pack) { cases += try PolicyTestFile.load(f, label: "policy-tests/" + f.lastPathComponent) }
    #expect(cases.count == reported.count)
    try withTemporaryDirectory { tmp in
        for (i, c) in cases.enumerated() {
            let s = try PolicyTestRunner.requests(for: c).1
            let stack: URL
            if let file = c.stackFile {
                stack = file
            } else {
                stack = tmp.appendingPathComponent("case-\(i).json")
                try Data(JSON.serialize(PolicyTestRunner.deployment(c)).utf8).write(to: stack)
            }
            var args = ["analyze", "-q", stack.path, "--policy-pack", pack.path, "--format", "json", "--show-secrets",
                        "--organization", s.organization, "--project", s.project, "--stack", s.stack]
            if s.dryRun == true { args.append("--preview") }
            for (k, v) in s.tags { args += ["--stack-tag", "\(k)=\(v)"] }
            for (k, v) in s.config { args += ["--config", "\(k)=\(v)"] }
            if let pc = c.settings.policyConfig {
                let file = tmp.appendingPathComponent("config-\(i).json")
                let entries = pc.entries.map { name, e -> (String, PlainValue) in
                    var o = e.properties
                    if let l = e.enforcementLevel { o["enforcementLevel"] = .string(l.name) }
                    return (name, .object(o))
                }
                try Data(JSON.serialize(.object(PlainObject(entries))).utf8).write(to: file)
                args += ["--policy-pack-config", file.path]
            }
            let analyzed = try policyHost(args)
            let a = try #require(analyzed.json, "\(c.label): \(analyzed.stderr)")
            let mine = try #require(reported.first { $0["name"]?.stringValue == c.name && $0["file"]?.stringValue == c.file })
            for key in ["violations", "remediations", "notApplicable"] {
                #expect(canonicalResults(mine["results"]?[key]) == canonicalResults(a[key]), "\(key) differ for \(c.label)")
            }
            let errors: (PlainValue?) -> [String] = { v in
                (v?.arrayValue ?? []).map { "\($0["policyName"]?.stringValue ?? "") \($0["urn"]?.stringValue ?? "") \($0["message"]?.stringValue ?? "")" }.sorted()
            }
            #expect(errors(mine["results"]?["errors"]) == errors(a["errors"]), "errors differ for \(c.label)")
        }
    }
    return cases.count
}
