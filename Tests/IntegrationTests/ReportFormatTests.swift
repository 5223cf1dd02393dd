import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import PolicyPack
import PolicyValues
import TestSupport
import Testing

/// `--format sarif` and `--format junit` for every fixture pack × stack of the golden reports: valid
/// against the formats' own schemas (`Tests/Schemas/`) with third-party validators from PyPI, and one to
/// one with the JSON report of the same run.
@Suite(.serialized) struct ReportFormatTests {
    /// A venv of third-party validators (`jsonschema`, `xmlschema`), made once per machine.
    static func validatorPython() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-test-validators-\(getuid())")
        let python = dir.appendingPathComponent("bin/python").path
        let ready = dir.appendingPathComponent(".ready")
        if FileManager.default.fileExists(atPath: ready.path) { return python }
        try? FileManager.default.removeItem(at: dir)
        let made = try run(["/usr/bin/python3.11", "-m", "venv", dir.path])
        #expect(made.status == 0, "\(made.stderr)")
        let pip = try run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "jsonschema>=4", "xmlschema>=3"])
        #expect(pip.status == 0, "\(pip.stderr)")
        FileManager.default.createFile(atPath: ready.path, contents: nil)
        return python
    }

    static let validator = """
    import json, sys
    kind, schema, doc = sys.argv[1:4]
    if kind == "sarif":
        import jsonschema
        with open(schema) as f: s = json.load(f)
        with open(doc) as f: d = json.load(f)
        errors = sorted(jsonschema.Draft4Validator(s).iter_errors(d), key=lambda e: list(e.path))
        for e in errors[:5]: print(f"{list(e.path)}: {e.message}")
        sys.exit(1 if errors else 0)
    else:
        import xmlschema
        x = xmlschema.XMLSchema(schema)
        errors = list(x.iter_errors(doc))
        for e in errors[:5]: print(e.reason, e.path)
        sys.exit(1 if errors else 0)
    """

    func validate(_ kind: String, _ text: String, in dir: URL) throws {
        let doc = dir.appendingPathComponent("report.\(kind)")
        try text.write(to: doc, atomically: true, encoding: .utf8)
        let schema = Repo.root.appendingPathComponent(kind == "sarif" ? "Tests/Schemas/sarif-schema-2.1.0.json" : "Tests/Schemas/JUnit.xsd")
        let r = try run([try Self.validatorPython(), "-c", Self.validator, kind, schema.path, doc.path])
        #expect(r.status == 0, "\(kind) is not valid:\n\(r.stdout)\(r.stderr)")
    }

    func analyze(_ pack: String, _ stack: String, _ format: String) throws -> Run {
        try policyHost(["analyze", "-q", Repo.stack(stack).path, "--policy-pack", try preparedPack(pack).path, "--format", format])
    }

    @Test(arguments: GoldenTests.reportCases.map { "\($0.pack) \($0.stack)" })
    func sarifIsValidAndMatchesTheJSONReport(_ c: String) throws {
        let parts = c.split(separator: " ").map(String.init)
        let json = try #require(try analyze(parts[0], parts[1], "json").json)
        let first = try analyze(parts[0], parts[1], "sarif")
        let sarif = try #require(first.json, "no SARIF: \(first.stdout) \(first.stderr)")
        try withTemporaryDirectory { dir in try validate("sarif", first.stdout, in: dir) }
        let run = try #require(sarif["runs"]?.arrayValue?.first)
        let results = run["results"]?.arrayValue ?? []
        // One result per violation (kind fail), remediation (informational) and not-applicable entry.
        let violations = (json["violations"]?.arrayValue ?? []).map {
            "\($0["policyPackName"]?.stringValue ?? "")/\($0["policyName"]?.stringValue ?? "") \($0["urn"]?.stringValue ?? "") \($0["message"]?.stringValue ?? "")"
        }.sorted()
        let failing = results.filter { $0["kind"] == "fail" }.map { r in
            "\(r["ruleId"]?.stringValue ?? "") \(r["locations"]?.arrayValue?.first?["logicalLocations"]?.arrayValue?.first?["fullyQualifiedName"]?.stringValue ?? "") \(r["message"]?["text"]?.stringValue ?? "")"
        }.sorted()
        #expect(failing == violations)
        #expect(results.filter { $0["kind"] == "informational" }.count == json["remediations"]?.arrayValue?.count)
        #expect(results.filter { $0["kind"] == "notApplicable" }.count == json["notApplicable"]?.arrayValue?.count)
        // Levels follow the enforcement level.
        #expect(results.filter { $0["level"] == "error" }.count == json["summary"]?["mandatory"]?.doubleValue.map(Int.init))
        // Every result points into the stack file, at the line of its resource when it has one.
        let stackText = try String(contentsOf: Repo.stack(parts[1]), encoding: .utf8).components(separatedBy: "\n")
        for r in results {
            let loc = r["locations"]?.arrayValue?.first
            #expect(loc?["physicalLocation"]?["artifactLocation"]?["uri"] == .string("Fixtures/stacks/\(parts[1])"))
            if let urn = loc?["logicalLocations"]?.arrayValue?.first?["fullyQualifiedName"]?.stringValue,
               let line = loc?["physicalLocation"]?["region"]?["startLine"]?.doubleValue {
                #expect(stackText[Int(line) - 1].contains(urn), "line \(Int(line)) does not hold \(urn)")
            }
        }
        // Fingerprints are the same on a second run.
        let second = try #require(try analyze(parts[0], parts[1], "sarif").json)
        let prints = { (d: PlainValue) in (d["runs"]?.arrayValue?.first?["results"]?.arrayValue ?? []).map { JSON.serialize($0["partialFingerprints"] ?? .null) } }
        #expect(prints(sarif) == prints(second))
        #expect(Set(prints(sarif)).count == prints(sarif).count, "two results share a fingerprint")
    }

    @Test(arguments: GoldenTests.reportCases.map { "\($0.pack) \($0.stack)" })
    func junitIsValidAndCountsMatchTheJSONReport(_ c: String) throws {
        let parts = c.split(separator: " ").map(String.init)
        let json = try #require(try analyze(parts[0], parts[1], "json").json)
        let r = try analyze(parts[0], parts[1], "junit")
        try withTemporaryDirectory { dir in try validate("junit", r.stdout, in: dir) }
        let doc = try XMLDocument(xmlString: r.stdout)
        let suite = try #require(try doc.nodes(forXPath: "/testsuites/testsuite").first as? XMLElement)
        func count(_ attr: String) -> Int { Int(suite.attribute(forName: attr)?.stringValue ?? "") ?? -1 }
        // A failure per policy × resource with a mandatory violation; an error per policy × resource that raised.
        let mandatory = Set((json["violations"]?.arrayValue ?? []).filter { $0["enforcementLevel"] == "mandatory" }.map { v in
            v["stackPolicy"] == true ? "\(v["policyName"]?.stringValue ?? "") stack" : "\(v["policyName"]?.stringValue ?? "") \(v["urn"]?.stringValue ?? "")"
        })
        let raised = Set((json["errors"]?.arrayValue ?? []).map { "\($0["policyName"]?.stringValue ?? "") \($0["urn"]?.stringValue ?? "")" })
        #expect(count("failures") == mandatory.subtracting(raised).count)
        #expect(count("errors") == raised.count)
        #expect(count("tests") == (try doc.nodes(forXPath: "//testcase")).count)
        #expect(count("skipped") == (try doc.nodes(forXPath: "//testcase/skipped")).count)
        #expect(count("skipped") <= (json["notApplicable"]?.arrayValue?.count ?? 0))
    }

    /// The fields of `apitype.EngineEvent`'s members that `pulumi policy analyze --json` emits, in Go
    /// declaration order, with their JSON types and whether they are `omitempty` — from
    /// `sdk/go/common/apitype/events.go` of pulumi v3.249.0–v3.260.0 (unchanged in that range).
    static let eventFields: [String: [(name: String, type: String, omitEmpty: Bool)]] = [
        "policyEvent": [("resourceUrn", "string", true), ("message", "string", false), ("color", "string", false),
                        ("policyName", "string", false), ("policyPackName", "string", false), ("policyPackVersion", "string", false),
                        ("policyPackVersionTag", "string", false), ("enforcementLevel", "string", false), ("severity", "string", true)],
        "policyRemediationEvent": [("resourceUrn", "string", true), ("color", "string", false), ("policyName", "string", false),
                                   ("policyPackName", "string", false), ("policyPackVersion", "string", false),
                                   ("policyPackVersionTag", "string", false), ("before", "object", true), ("after", "object", true)],
        "summaryEvent": [("maybeCorrupt", "bool", false), ("durationSeconds", "number", false), ("resourceChanges", "object", false),
                         ("PolicyPacks", "object", false), ("isPreview", "bool", false), ("result", "string", false)],
    ]

    static func jsonType(_ v: PlainValue) -> String {
        switch v {
        case .string: "string"
        case .bool: "bool"
        case .int, .double: "number"
        case .object: "object"
        case .array: "array"
        case .null: "null"
        }
    }

    @Test(arguments: GoldenTests.reportCases.map { "\($0.pack) \($0.stack)" })
    func eventStreamMatchesTheGoStructsAndTheJSONReport(_ c: String) throws {
        let parts = c.split(separator: " ").map(String.init)
        let json = try #require(try analyze(parts[0], parts[1], "json").json)
        let r = try policyHost(["analyze", "-q", "--file", Repo.stack(parts[1]).path, "--policy-pack", try preparedPack(parts[0]).path, "-j"])
        #expect(r.stdout.hasSuffix("\n"))
        let lines = r.stdout.split(separator: "\n").map(String.init)
        var policyEvents: [String] = []
        var remediations: [String] = []
        for (i, line) in lines.enumerated() {
            let event = try JSON.parse(line)
            let keys = event.objectValue?.entries.map(\.key) ?? []
            #expect(keys.count == 3 && keys[0] == "sequence" && keys[1] == "timestamp", "\(line)")
            #expect(event["sequence"]?.doubleValue == Double(i))
            let member = keys.last ?? ""
            let fields = try #require(Self.eventFields[member], "unexpected member \(member)")
            let body = event[member]?.objectValue?.entries ?? []
            // Declaration order, types, and only omitempty fields may be missing.
            let expected = fields.filter { f in body.contains { $0.key == f.name } }.map(\.name)
            #expect(body.map(\.key) == expected, "\(member): \(body.map(\.key))")
            for f in fields where !f.omitEmpty { #expect(body.contains { $0.key == f.name }, "\(member) lacks \(f.name)") }
            for (key, value) in body {
                let type = fields.first { $0.name == key }?.type
                #expect(Self.jsonType(value) == type, "\(member).\(key) is \(Self.jsonType(value))")
            }
            let get = { (k: String) in event[member]?[k]?.stringValue ?? "" }
            switch member {
            case "policyEvent": policyEvents.append("\(get("policyName")) \(get("resourceUrn")) \(get("message")) \(get("enforcementLevel"))")
            case "policyRemediationEvent": remediations.append("\(get("policyName")) \(get("resourceUrn"))")
            default: #expect(i == lines.count - 1, "the summary is the last event")
            }
        }
        #expect(lines.last?.contains("\"summaryEvent\"") == true)
        let violations = (json["violations"]?.arrayValue ?? []).map {
            "\($0["policyName"]?.stringValue ?? "") \($0["urn"]?.stringValue ?? "") \($0["message"]?.stringValue ?? "") \($0["enforcementLevel"]?.stringValue ?? "")"
        }
        #expect(policyEvents.sorted() == violations.sorted())
        let remediated = (json["remediations"]?.arrayValue ?? []).filter { $0["diagnostic"] == "" }.map {
            "\($0["policyName"]?.stringValue ?? "") \($0["urn"]?.stringValue ?? "")"
        }
        #expect(remediations.sorted() == remediated.sorted())
        #expect(r.status == (json["summary"]?["passed"] == true ? 0 : r.status))
    }

    /// Several packs (workers' JSON reports merged): one suite per pack, the rules of both.
    @Test func severalPacks() throws {
        let args = ["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", try preparedPack("aws-basics").path,
                    "--policy-pack", try preparedPack("remediate-tags").path, "--format"]
        let junit = try policyHost(args + ["junit"])
        try withTemporaryDirectory { dir in try validate("junit", junit.stdout, in: dir) }
        let doc = try XMLDocument(xmlString: junit.stdout)
        let suites = try doc.nodes(forXPath: "/testsuites/testsuite").compactMap { ($0 as? XMLElement)?.attribute(forName: "package")?.stringValue }
        #expect(suites == ["aws-basics", "remediate-tags"])
        // Every resource of the stack is a case of each resource policy.
        #expect(try doc.nodes(forXPath: "//testcase[@classname='aws-basics.s3-no-public-read']").count == 11)
        let sarif = try policyHost(args + ["sarif"])
        try withTemporaryDirectory { dir in try validate("sarif", sarif.stdout, in: dir) }
        let rules = (sarif.json?["runs"]?.arrayValue?.first?["tool"]?["driver"]?["rules"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
        #expect(rules.contains("aws-basics/s3-no-public-read") && rules.contains("remediate-tags/required-tags"), "\(rules)")
    }

    /// `--output FILE` writes the chosen format there (replacing the file whole) and the text report to stdout.
    @Test func outputFileAndTextOnStdout() throws {
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("results.sarif")
            try "old".write(to: out, atomically: true, encoding: .utf8)
            let r = try policyHost(["analyze", "-q", "--file", Repo.stack("aws-webshop.json").path, "--policy-pack",
                                    try preparedPack("aws-basics").path, "--format", "sarif", "--output", out.path])
            #expect(r.status == 1)
            #expect(r.stdout.hasPrefix("Policy Pack aws-basics@v1.2.0"), "\(r.stdout)")
            let sarif = try JSON.parse(String(contentsOf: out, encoding: .utf8))
            #expect(sarif["version"] == "2.1.0")
            // Unwritable: one error line, exit 2, nothing else written.
            let bad = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack",
                                      try preparedPack("aws-basics").path, "--format", "junit", "--output", dir.appendingPathComponent("no/such/dir/x.xml").path])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("error: cannot write"), "\(bad.stderr)")
            #expect(bad.stdout.isEmpty)
        }
    }

    @Test func stackFileOnceOnly() throws {
        let both = try policyHost(["analyze", Repo.stack("aws-webshop.json").path, "--file", Repo.stack("aws-webshop.json").path])
        #expect(both.status == 2)
        #expect(both.stderr.contains("not both"), "\(both.stderr)")
        let none = try policyHost(["analyze", "--format", "json"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("STACK_FILE"), "\(none.stderr)")
    }

    /// Hostile text in messages stays well-formed XML and valid SARIF: quotes, markup, control characters.
    @Test func hostileTextStaysWellFormed() throws {
        #expect(JUnitReport.attr("a<b>&\"c\"\u{1}\u{0}x\ty") == "a&lt;b&gt;&amp;&quot;c&quot;\\u{1}\\u{0}x&#9;y")
        #expect(JUnitReport.text("line\nnext\u{FFFE}") == "line\nnext\\u{fffe}")
    }
}

/// Colour only on a terminal, and never with NO_COLOR.
@Suite(.serialized) struct ColorTests {
    /// stdout of `policy-host args` when it is a pseudo-terminal (stderr stays a pipe).
    func underTerminal(_ args: [String], env: [String: String] = [:]) throws -> String {
        let script = """
        import os, pty, subprocess, sys
        master, slave = os.openpty()
        env = dict(os.environ); env.update(dict(a.split("=", 1) for a in sys.argv[1].split("\\n") if a))
        p = subprocess.Popen(sys.argv[2:], stdout=slave, stderr=subprocess.DEVNULL, env=env)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait()
        sys.stdout.write(out.decode("utf-8", "replace"))
        """
        var base = ProcessInfo.processInfo.environment
        base["NO_COLOR"] = nil
        base["TERM"] = "xterm"
        let extra = env.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        let r = try run(["/usr/bin/python3.11", "-c", script, extra, Repo.binary] + args, env: base)
        return r.stdout
    }

    @Test func colourOnATerminalOnly() throws {
        let args = ["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", try preparedPack("aws-basics").path]
        let tty = try underTerminal(args)
        #expect(tty.contains("\u{1B}[31mmandatory\u{1B}[0m"), "\(tty)")
        #expect(!(try underTerminal(args, env: ["NO_COLOR": "1"])).contains("\u{1B}["))
        let piped = try policyHost(args)
        #expect(!piped.stdout.contains("\u{1B}"))
    }
}
