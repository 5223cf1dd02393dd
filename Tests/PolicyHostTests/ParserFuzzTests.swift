import Foundation
import PolicyValues
import Testing
import HostCore
import PolicyPack
import PackStore
import TestSupport

/// A seeded mutation fuzzer over the readers of untrusted input: stack files, `PulumiPolicy.yaml`,
/// `--policy-pack-config` files, policy-groups files and tar archives. Every input must end in a
/// result or a thrown `HostError` (the readers' typed throws make that the only error a caller can
/// see) — never a trap, a stack overflow or a hang.
///
/// Each reader's cases run in an exit test (a child process), which writes `@@case N` to stderr
/// before case N: a trap kills the child, the test fails naming the case, its mutation and seed, the
/// input is saved for replay, and the fuzzing resumes after it in a new child (at most
/// `maxCrashes` times per reader). Cases are independent and deterministic: case N of a reader is
/// always the same input (`ParserFuzz.input(reader, N)`), whatever ran before.
@Suite struct ParserFuzzTests {
    static let maxCrashes = 8

    @Test(arguments: FuzzReader.allCases)
    func mutations(_ reader: FuzzReader) async throws {
        var from = 0
        var cases = 0, accepted = 0, rejected = 0
        let began = Date()
        var crashes: [String] = []
        var notes: [String] = []
        while from < ParserFuzz.iterations {
            let start = from
            // `.failure` matches every end but exit status 0, signals included, so that the result (and
            // the child's stderr) comes back however the child died; a finished child exits `doneStatus`.
            let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent],
                                       "parser fuzz \(reader.rawValue) from case \(start)") { [reader = reader as FuzzReader, start = start as Int] in
                ParserFuzz.runCases(reader, from: start)
                exit(ParserFuzz.doneStatus)
            }
            guard let result else { break }
            let report = ChildReport(result.standardErrorContent)
            if report.done, case .exitCode(ParserFuzz.doneStatus) = result.exitStatus {} else if report.done {
                Issue.record("parser fuzz \(reader.rawValue): the child finished but then ended with \(result.exitStatus)")
            }
            notes += report.notes
            for breach in report.breaches { Issue.record("parser fuzz \(reader.rawValue): \(breach)") }
            if report.done {
                cases += report.cases
                accepted += report.accepted
                rejected += report.rejected
                break
            }
            // The child died in the last case it announced; the ones before it ran.
            guard let n = report.lastCase else {
                Issue.record("parser fuzz \(reader.rawValue): the child died before its first case: \(report.otherText.suffix(2000))")
                break
            }
            cases += n - start + 1
            accepted += report.accepted
            rejected += report.rejected
            let input = ParserFuzz.input(reader, n)
            let saved = FileManager.default.temporaryDirectory.appendingPathComponent("parser-fuzz-\(reader.rawValue)-\(n).bin")
            try? Data(input.bytes).write(to: saved)
            let crash = "case \(n) (seed 0x\(String(ParserFuzz.seed(reader, n), radix: 16))): \(input.description), \(input.bytes.count) bytes, saved as \(saved.path)"
            crashes.append(crash)
            Issue.record("""
                parser fuzz \(reader.rawValue) crashed (\(result.exitStatus)) on \(crash)
                replay: ParserFuzz.feed(.\(reader.rawValue), ParserFuzz.input(.\(reader.rawValue), \(n)).bytes)
                \(report.crashSummary)
                """)
            if crashes.count >= Self.maxCrashes {
                Issue.record("parser fuzz \(reader.rawValue): stopped after \(crashes.count) crashes")
                break
            }
            from = n + 1
        }
        print("parser fuzz \(reader.rawValue): \(cases) cases (\(accepted) accepted, \(rejected) rejected with HostError, \(crashes.count) crashed) in \(String(format: "%.1f", Date().timeIntervalSince(began))) s; base seed 0x\(String(ParserFuzz.baseSeed, radix: 16)), mixed with the reader and the case number")
        for note in Set(notes).sorted() { print("parser fuzz \(reader.rawValue) note: \(note)") }
        #expect(cases >= ParserFuzz.iterations || crashes.count >= Self.maxCrashes, "only \(cases) of \(ParserFuzz.iterations) cases ran")
    }

    /// Inputs named in the brief and the bypasses of the YAML nesting check, one child each.
    @Test(arguments: SpecificCase.all.map(\.name))
    func specificInput(_ name: String) async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent], "\(name)") { [name] in
            SpecificCase.run(name)
            exit(ParserFuzz.doneStatus)
        }
        guard let result else { return }
        let text = String(decoding: result.standardErrorContent, as: UTF8.self)
        var breached = false
        for line in text.split(separator: "\n") where line.hasPrefix("@@breach ") {
            Issue.record("\(name): \(line.dropFirst(9))")
            breached = true
        }
        if case .exitCode(ParserFuzz.doneStatus) = result.exitStatus {} else if !breached {
            Issue.record("\(name) crashed (\(result.exitStatus)):\n\(text.suffix(2000))")
        }
        for line in text.split(separator: "\n") where line.hasPrefix("@@outcome ") {
            print("parser fuzz specific \(name): \(line.dropFirst(10))")
        }
    }

    /// The generator itself: deterministic, and every mutation kind is reachable for every reader.
    @Test func casesAreDeterministicAndVaried() {
        for reader in FuzzReader.allCases {
            #expect(ParserFuzz.input(reader, 17).bytes == ParserFuzz.input(reader, 17).bytes)
            let kinds = Set((0..<200).flatMap { ParserFuzz.input(reader, $0).kinds })
            #expect(kinds.count >= 12, "\(reader.rawValue): only \(kinds.sorted())")
            #expect(!ParserFuzz.seeds(reader).isEmpty)
        }
    }
}

/// What a child wrote to stderr.
struct ChildReport {
    var lastCase: Int?
    var done = false
    var cases = 0, accepted = 0, rejected = 0
    var seconds = 0.0
    var breaches: [String] = []
    var notes: [String] = []
    var otherText = ""

    /// The runtime's own words first (`Fatal error: …`), then the top of the stack trace.
    var crashSummary: String {
        let lines = otherText.split(separator: "\n")
        let fatal = lines.filter { $0.contains("Fatal error") || $0.contains("fatal error") || $0.contains("Segmentation") }
        return (fatal + lines.prefix(14)).joined(separator: "\n")
    }

    init(_ bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("@@case ") {
                let fields = line.dropFirst(7).split(separator: " ")
                lastCase = fields.first.flatMap { Int($0) }
                for field in fields.dropFirst() {
                    let kv = field.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, let v = Int(kv[1]) else { continue }
                    if kv[0] == "accepted" { accepted = v } else if kv[0] == "rejected" { rejected = v }
                }
            } else if line.hasPrefix("@@done ") {
                done = true
                for field in line.dropFirst(7).split(separator: " ") {
                    let kv = field.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2 else { continue }
                    switch kv[0] {
                    case "cases": cases = Int(kv[1]) ?? 0
                    case "accepted": accepted = Int(kv[1]) ?? 0
                    case "rejected": rejected = Int(kv[1]) ?? 0
                    case "seconds": seconds = Double(kv[1]) ?? 0
                    default: break
                    }
                }
            } else if line.hasPrefix("@@breach ") {
                breaches.append(String(line.dropFirst(9)))
            } else if line.hasPrefix("@@note ") {
                notes.append(String(line.dropFirst(7)))
            } else if !line.isEmpty {
                otherText += line + "\n"
            }
        }
    }
}

// MARK: - the readers

enum FuzzReader: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case stack, manifest, config, groups, tar
    var description: String { rawValue }
    var number: UInt64 { UInt64(Self.allCases.firstIndex(of: self)!) }
}

enum ParserFuzz {
    static let iterations = 2000
    /// How a child that ran all its cases exits (any other end is a crash).
    static let doneStatus: Int32 = 42
    /// One case taking longer than this is a breach: something is quadratic or worse.
    static let slowCase = 20.0
    static let baseSeed: UInt64 = 0x00C0_FFEE_5EED_2026
    /// Inputs grow no larger than this (long-string and nesting mutations are bounded by it).
    static let maxInput = 3 << 20

    static func seed(_ reader: FuzzReader, _ n: Int) -> UInt64 {
        var mix = SplitMix64(seed: baseSeed ^ (reader.number << 56) ^ UInt64(n))
        return mix.next()
    }

    // MARK: running

    /// Runs cases `from..<iterations` of `reader` (in an exit test's child).
    static func runCases(_ reader: FuzzReader, from: Int) {
        let start = Date()
        var accepted = 0, rejected = 0
        var notes: Set<String> = []
        var slowest = (case: -1, seconds: 0.0)
        for n in from..<iterations {
            say("@@case \(n) accepted=\(accepted) rejected=\(rejected)")  // counts before this case
            let input = input(reader, n)
            let began = Date()
            let outcome = feed(reader, input.bytes)
            let took = Date().timeIntervalSince(began)
            if took > slowest.seconds { slowest = (n, took) }
            if took > slowCase {
                say("@@breach case \(n) (\(input.description), \(input.bytes.count) bytes) took \(String(format: "%.1f", took)) s")
            }
            switch outcome {
            case .accepted:
                accepted += 1
            case .rejected(let e):
                rejected += 1
                if e.message.isEmpty { say("@@breach case \(n) (\(input.description)): a HostError without a message") }
                if e.status == .internal {
                    notes.insert("case \(n) (\(input.description)) gave an internal error: \(e.message.prefix(200))")
                }
                if e.message.contains("\n") && notes.count < 20 {
                    notes.insert("a multi-line error message (one `error:` line is the rule), e.g. case \(n): \(e.message.prefix(120).debugDescription)")
                }
            }
        }
        notes.insert("slowest case \(slowest.case): \(String(format: "%.2f", slowest.seconds)) s")
        for note in notes.sorted().prefix(20) { say("@@note \(note)") }
        say("@@done cases=\(iterations - from) accepted=\(accepted) rejected=\(rejected) seconds=\(String(format: "%.2f", Date().timeIntervalSince(start)))")
    }

    /// Writes a line to stderr at once (no buffering: the line must be out before a crash).
    static func say(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(2, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    enum Outcome {
        case accepted
        case rejected(HostError)
    }

    /// The reader under test, as the CLI calls it. A trap here is what the fuzzer looks for.
    static func feed(_ reader: FuzzReader, _ bytes: [UInt8]) -> Outcome {
        let data = Data(bytes)
        do throws(HostError) {
            switch reader {
            case .stack:
                // `StackSnapshot.load` without the file: JSON.parse, its error as load reports it, parse.
                let value: PlainValue
                do { value = try JSON.parse(data) } catch {
                    throw HostError(.usage, "stack.json:\(error.line):\(error.column): invalid JSON: \(error.message)")
                }
                let snapshot = try StackSnapshot.parse(value, file: "stack.json")
                // What analyze reads next.
                for r in snapshot.live { _ = (r.name, StackResource.typeFromURN(r.urn)) }
                _ = (snapshot.stack, snapshot.project, snapshot.organization)
            case .manifest:
                let m = try PolicyManifest.parse(data, packDirectory: URL(fileURLWithPath: "/tmp/pack"), path: "PulumiPolicy.yaml")
                _ = m.virtualenvURL
                // What installing an archived pack does with the same text.
                _ = try PolicyManifest.forcingVirtualenv(data, path: "PulumiPolicy.yaml")
            case .config:
                let c = try PolicyPackConfig.parse(data, file: "config.json")
                _ = c == c
            case .groups:
                let value: PlainValue
                do { value = try JSON.parse(data) } catch {
                    throw HostError(.usage, "groups.json:\(error.line):\(error.column): invalid JSON: \(error.message)")
                }
                let groups = try PolicyGroups.parse(value, file: "groups.json")
                // What `resolve` and `analyze --policy-groups` do next.
                for stack in ["acme/webshop/prod", "a/b/c", "*"] {
                    for ref in groups.resolve(stack: stack) { _ = ref.versionLabel }
                }
            case .tar:
                let entries = try Tar.read(data, file: "pack.tar")
                for e in entries { _ = (e.path, e.kind, e.mode, e.data.count) }
            }
            return .accepted
        } catch {
            return .rejected(error)
        }
    }

    // MARK: seeds

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Seed {
        var name: String
        var bytes: [UInt8]
        /// The seed parsed as JSON, and its nodes' paths, for structure-aware mutations.
        var json: PlainValue?
        var paths: [[PathStep]]

        init(name: String, bytes: [UInt8], json: PlainValue?) {
            self.name = name
            self.bytes = bytes
            self.json = json
            paths = json.map { ParserFuzz.paths($0) } ?? []
        }
    }

    static func files(_ dir: String, _ filter: (String) -> Bool) -> [Seed] {
        let base = root.appendingPathComponent(dir)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []).filter(filter).sorted()
        return names.compactMap { name in
            guard let d = FileManager.default.contents(atPath: base.appendingPathComponent(name).path) else { return nil }
            return Seed(name: "\(dir)/\(name)", bytes: [UInt8](d), json: try? JSON.parse(d))
        }
    }

    static func text(_ name: String, _ s: String) -> Seed {
        Seed(name: name, bytes: Array(s.utf8), json: try? JSON.parse(s))
    }

    static let stackSeeds: [Seed] = files("Fixtures/stacks") { $0.hasSuffix(".json") }

    static let manifestSeeds: [Seed] = {
        var out: [Seed] = []
        for dir in ["Fixtures/packs", "venv-templates"] {
            let base = root.appendingPathComponent(dir)
            for pack in ((try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []).sorted() {
                if let d = FileManager.default.contents(atPath: base.appendingPathComponent("\(pack)/PulumiPolicy.yaml").path) {
                    out.append(Seed(name: "\(dir)/\(pack)/PulumiPolicy.yaml", bytes: [UInt8](d), json: nil))
                }
            }
        }
        out.append(text("faulty-packs manifest", "runtime:\n  name: python\n  options:\n    virtualenv: ../venv\nversion: 0.0.1\n"))
        out.append(text("every key", """
            name: every-key
            runtime:
              name: python
              options:
                virtualenv: venv
                toolchain: uv
                typechecker: mypy
            version: "1.2.3"
            description: 'All the keys: "quoted" and # not a comment'
            main: src/
            extra: [1, {a: b}, &x anchored, *x]
            """))
        out.append(text("runtime string", "runtime: python\n"))
        out.append(text("flow style", "{runtime: {name: python, options: {virtualenv: venv}}, version: 2.0.0}\n"))
        out.append(text("documents", "%YAML 1.2\n---\nruntime: python # comment\ndescription: >-\n  folded\n  text\n...\n"))
        return out
    }()

    static let configSeeds: [Seed] = files("Fixtures/config") { $0.hasSuffix(".json") } + [
        text("levels and properties", #"{"all": "mandatory", "p": {"enforcementLevel": "advisory", "n": 3, "list": [1, "x", {"deep": [true, null]}]}, "q": "disabled"}"#),
        text("environments", #"{"environments": ["prod"], "all": "advisory"}"#),
        text("remediate", #"{"tags": {"enforcementLevel": "remediate", "required": ["owner", "env"], "limits": {"max": 1.5e3, "min": -0}}}"#),
    ]

    static let groupsSeeds: [Seed] = [
        text("README example", """
            { "policyGroups": [
                { "name": "production", "stacks": ["acme/webshop/prod", "acme/*/prod"],
                  "policyPacks": [
                    { "name": "aws-basics", "version": 3, "versionTag": "1.2.0",
                      "config": { "all": "mandatory" }, "configModified": "2026-11-20T10:00:00Z" } ] } ] }
            """),
        text("several groups", """
            {"policyGroups": [
              {"name": "a", "stacks": ["*"], "policyPacks": [{"name": "p", "version": 2, "config": {"all": "advisory"}, "configModified": "2026-01-01T00:00:00Z"}]},
              {"name": "b", "stacks": ["acme/webshop/prod"], "policyPacks": [{"name": "p", "version": 2, "config": {"x": {"n": 1}}, "configModified": "2026-03-01T00:00:00.5Z"}, {"name": "q", "versionTag": "1.10.0-rc.1"}]},
              {"name": "c", "stacks": ["a/*/c", "a/b/*"], "policyPacks": [{"name": "q", "versionTag": "1.9.0"}, {"name": "r", "version": 0}]}]}
            """),
        text("empty", #"{"policyGroups": []}"#),
    ]

    static let tarSeeds: [Seed] = {
        func file(_ path: String, _ text: String, mode: Int = 0o644) -> Tar.Entry {
            Tar.Entry(path: path, kind: .file, mode: mode, data: Data(text.utf8))
        }
        let pack = Tar.write([
            Tar.Entry(path: "package", kind: .directory, mode: 0o755, data: Data()),
            file("package/PulumiPolicy.yaml", "runtime: python\nversion: 1.0.0\n"),
            file("package/__main__.py", "from pulumi_policy import PolicyPack\nPolicyPack(name='p', policies=[])\n"),
            file("package/requirements.txt", "pulumi-policy>=1.20.0,<2.0.0\n"),
        ])
        let long = String(repeating: "very-long-directory-name/", count: 8)
        let odd = Tar.write([
            file("package/\(long)file.txt", String(repeating: "x", count: 512)),
            Tar.Entry(path: "package/link", kind: .symlink("../\(long)target"), mode: 0o777, data: Data()),
            Tar.Entry(path: "package/hard", kind: .hardlink("package/\(long)file.txt"), mode: 0o644, data: Data()),
            file("package/empty", ""),
            file("package/513", String(repeating: "y", count: 513), mode: 0o755),
            file("package/ünïcödé ☃.py", "# non-ASCII name\n"),
        ])
        // A GNU long-name entry ('L'), which Tar.write does not make: a file entry relabelled.
        var gnu = [UInt8](Tar.write([file("././@LongLink", "package/\(long)gnu-name.txt\0"), file("package/short", "gnu\n")]))
        gnu[156] = UInt8(ascii: "L")
        var aws: [Tar.Entry] = []
        let dir = root.appendingPathComponent("Fixtures/packs/aws-basics")
        for name in ["PulumiPolicy.yaml", "__main__.py", "requirements.txt"] {
            if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) {
                aws.append(Tar.Entry(path: "package/\(name)", kind: .file, mode: 0o644, data: d))
            }
        }
        return [Seed(name: "minimal pack", bytes: [UInt8](pack), json: nil), Seed(name: "long names and links", bytes: [UInt8](odd), json: nil),
                Seed(name: "GNU long name", bytes: gnu, json: nil), Seed(name: "aws-basics", bytes: [UInt8](Tar.write(aws)), json: nil)]
    }()

    static func seeds(_ reader: FuzzReader) -> [Seed] {
        switch reader {
        case .stack: stackSeeds
        case .manifest: manifestSeeds
        case .config: configSeeds
        case .groups: groupsSeeds
        case .tar: tarSeeds
        }
    }

    static let allSeeds: [Seed] = FuzzReader.allCases.flatMap { seeds($0) }

    // MARK: mutations

    struct Input {
        var bytes: [UInt8]
        var kinds: [String]
        var description: String
    }

    /// Case `n` of `reader`: a seed with one to three mutations stacked.
    static func input(_ reader: FuzzReader, _ n: Int) -> Input {
        var rng = SplitMix64(seed: seed(reader, n))
        let pool = seeds(reader)
        let seed = rng.pick(pool)
        var bytes = seed.bytes
        var json = seed.json.map { ($0, seed.paths) }
        var kinds: [String] = []
        let count = 1 + rng.below(3)
        for _ in 0..<count {
            let kind = pickKind(reader, hasJSON: json != nil, &rng)
            bytes = mutate(kind, bytes, json: json, reader: reader, &rng)
            kinds.append(kind)
            json = nil  // structure-aware mutations only on the unmutated seed
            if bytes.count > maxInput { bytes = Array(bytes.prefix(maxInput)) }
        }
        // The reader verifies header checksums: most mutated archives get theirs recomputed, so that
        // the mutations reach past that check.
        if reader == .tar && rng.chance(80) {
            fixTarChecksums(&bytes)
            kinds.append("checksums fixed")
        }
        return Input(bytes: bytes, kinds: kinds, description: "seed \(seed.name), mutations \(kinds.joined(separator: " + "))")
    }

    static let byteKinds = ["flip bits", "interesting bytes", "insert random bytes", "insert token", "delete range",
                            "duplicate range", "truncate", "splice same reader", "splice any reader", "number text",
                            "long string", "invalid UTF-8", "surrogate escape", "BOM", "wrap document 10000 deep"]
    static let jsonKinds = ["wrong type", "number value", "deep value 10000", "deep value 500", "long value", "surrogate value",
                            "duplicate key"]
    static let yamlKinds = ["yaml value", "yaml deep value", "yaml indent", "yaml duplicate line"]
    static let tarKinds = ["tar number field", "tar typeflag", "tar pax length", "tar name field"]

    static func pickKind(_ reader: FuzzReader, hasJSON: Bool, _ rng: inout SplitMix64) -> String {
        var kinds = byteKinds
        if hasJSON { kinds += jsonKinds + jsonKinds }  // weighted: they reach past the syntax
        if reader == .manifest { kinds += yamlKinds + yamlKinds }
        if reader == .tar { kinds += tarKinds + tarKinds + tarKinds }
        return rng.pick(kinds)
    }

    static let tokens: [String] = [
        "{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "-", "0", "\\", "\\u0000", "\\ud800", "\\udc00",
        "\\uDFFF\\uD800", "\\u", "\\x", "&a ", "*a", "!!binary ", "!!python/object ", "? ", "- ", "|", ">", "%YAML 1.2\n---\n",
        "\n...\n", "\t", "\r\n", "\r", "#", "'", "\"\"\"", "{}", "[]", "<<: *a", "~", "\u{0}", "\u{85}", "\u{2028}",
    ]

    static let numbers: [String] = [
        "1e300", "-1e300", "1e400", "-1e400", "1e-400", "4.9e-324", "1.7976931348623157e308", "-0", "-0.0", "0e0",
        "NaN", "nan", "Infinity", "-Infinity", ".inf", "-.inf", ".nan", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999999999999999999999", "0x10", "0o17", "1_000",
        "01", "1.", ".5", "+1", "1e", "--1", "1e+308", "2.5e18", "9.2e18", "9.3e18",
    ]

    static let invalidUTF8: [[UInt8]] = [
        [0xC3], [0xFF], [0xFE], [0x80], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xC0, 0x80], [0xC1, 0xBF],
        [0xE0, 0x80, 0x80], [0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ]

    static let boms: [[UInt8]] = [[0xEF, 0xBB, 0xBF], [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF], [0xFF, 0xFE], [0xFE, 0xFF],
                                  [0x00, 0x00, 0xFE, 0xFF], [0xEF, 0xBB]]

    static func mutate(_ kind: String, _ input: [UInt8], json: (PlainValue, [[PathStep]])?, reader: FuzzReader, _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        func pos(_ extra: Int = 1) -> Int { rng.below(b.count + extra) }
        func range() -> Range<Int> {
            guard !b.isEmpty else { return 0..<0 }
            let start = rng.below(b.count)
            let len = 1 + rng.below(rng.chance(80) ? 16 : max(1, b.count - start))
            return start..<min(b.count, start + len)
        }
        switch kind {
        case "flip bits":
            for _ in 0..<(1 + rng.below(8)) where !b.isEmpty { b[rng.below(b.count)] ^= UInt8(1 << rng.below(8)) }
        case "interesting bytes":
            let interesting: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x0A, 0x20, 0x23, 0x26, 0x2A, 0x21, 0x7C, 0x3E, 0x27, 0x2D]
            for _ in 0..<(1 + rng.below(4)) where !b.isEmpty { b[rng.below(b.count)] = rng.pick(interesting) }
        case "insert random bytes":
            b.insert(contentsOf: (0..<(1 + rng.below(32))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: pos())
        case "insert token":
            b.insert(contentsOf: Array(rng.pick(tokens).utf8), at: pos())
        case "delete range":
            b.removeSubrange(range())
        case "duplicate range":
            let r = range()
            let copy = Array(b[r])
            for _ in 0..<(rng.chance(90) ? 1 : 1 + rng.below(64)) { b.insert(contentsOf: copy, at: pos()) }
        case "truncate":
            b = Array(b.prefix(rng.below(b.count + 1)))
        case "splice same reader", "splice any reader":
            let other = kind == "splice same reader" ? rng.pick(seeds(reader)).bytes : rng.pick(allSeeds).bytes
            b = Array(b.prefix(rng.below(b.count + 1))) + Array(other.suffix(rng.below(other.count + 1)))
        case "number text":
            let spans = numberSpans(b)
            let replacement = Array(rng.pick(numbers).utf8)
            if spans.isEmpty { b.insert(contentsOf: replacement, at: pos()) } else { b.replaceSubrange(rng.pick(spans), with: replacement) }
        case "long string":
            let unit = rng.pick(["a", "é", "☃", "\\u00e9", "\\\\", " ", "\\\"", "%"])
            let n = rng.chance(1) ? 1 << 20 : rng.pick([64, 300, 4096, 4096, 70_000])
            let long = Array(String(repeating: unit, count: n).utf8)
            if let q = quotePositions(b).element(using: &rng) { b.insert(contentsOf: long, at: q + 1) } else { b.insert(contentsOf: long, at: pos()) }
        case "invalid UTF-8":
            let seq = rng.pick(invalidUTF8)
            if let q = quotePositions(b).element(using: &rng), rng.chance(70) { b.insert(contentsOf: seq, at: q + 1) } else { b.insert(contentsOf: seq, at: pos()) }
        case "surrogate escape":
            let esc = Array(rng.pick(["\\ud800", "\\udfff", "\\ud800\\u0041", "\\udc00\\ud800", "\\uD83D", "\\ud83d\\ude00"]).utf8)
            if let q = quotePositions(b).element(using: &rng) { b.insert(contentsOf: esc, at: q + 1) } else { b.insert(contentsOf: esc, at: pos()) }
        case "BOM":
            let bom = rng.pick(boms)
            if rng.chance(75) { b.insert(contentsOf: bom, at: 0) } else { b.insert(contentsOf: bom, at: pos()) }
        case "wrap document 10000 deep":
            let (open, close): (String, String) = reader == .manifest
                ? rng.pick([("[", "]"), ("{a: ", "}"), ("- ", "")])
                : rng.pick([("[", "]"), ("{\"a\":", "}"), ("[{\"k\":", "}]")])
            b = Array(String(repeating: open, count: 10_000).utf8) + b + Array(String(repeating: close, count: 10_000).utf8)
        case "wrong type", "number value", "deep value 10000", "deep value 500", "long value", "surrogate value", "duplicate key":
            guard let json else { return mutate("flip bits", b, json: nil, reader: reader, &rng) }
            return jsonMutation(kind, json.0, paths: json.1, &rng)
        case "yaml value", "yaml deep value", "yaml indent", "yaml duplicate line":
            return yamlMutation(kind, b, &rng)
        case "tar number field", "tar typeflag", "tar pax length", "tar name field":
            return tarMutation(kind, b, &rng)
        default:
            break
        }
        return b
    }

    /// Byte ranges of number-looking runs (in the first 64 KiB).
    static func numberSpans(_ b: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        let limit = min(b.count, 1 << 16)
        func isNum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D || c == 0x2B || c == 0x65 || c == 0x45 }
        while i < limit && out.count < 4096 {
            if b[i] >= 0x30 && b[i] <= 0x39 {
                var s = i
                if s > 0 && b[s - 1] == 0x2D { s -= 1 }
                var e = i
                while e < b.count && isNum(b[e]) { e += 1 }
                out.append(s..<e)
                i = e
            } else {
                i += 1
            }
        }
        return out
    }

    /// Offsets of quote characters (in the first 64 KiB).
    static func quotePositions(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        b.withUnsafeBufferPointer { p in
            for i in 0..<min(p.count, 1 << 16) where p[i] == 0x22 || p[i] == 0x27 {
                out.append(i)
                if out.count >= 4096 { break }
            }
        }
        return out
    }

    // MARK: JSON structure

    /// Every node's path (keys and indices) in document order, at most `limit`.
    static func paths(_ v: PlainValue, limit: Int = 5000) -> [[PathStep]] {
        var out: [[PathStep]] = []
        func walk(_ v: PlainValue, _ path: [PathStep]) {
            guard out.count < limit else { return }
            out.append(path)
            switch v {
            case .object(let o): for (k, child) in o.entries { walk(child, path + [.key(k)]) }
            case .array(let a): for (i, child) in a.enumerated() { walk(child, path + [.index(i)]) }
            default: break
            }
        }
        walk(v, [])
        return out
    }

    enum PathStep { case key(String), index(Int) }

    static func replacing(_ v: PlainValue, at path: ArraySlice<PathStep>, with new: PlainValue) -> PlainValue {
        guard let step = path.first else { return new }
        switch (v, step) {
        case (.object(var o), .key(let k)):
            if let child = o[k] { o[k] = replacing(child, at: path.dropFirst(), with: new) }
            return .object(o)
        case (.array(var a), .index(let i)) where i < a.count:
            a[i] = replacing(a[i], at: path.dropFirst(), with: new)
            return .array(a)
        default:
            return v
        }
    }

    static func value(_ v: PlainValue, at path: [PathStep]) -> PlainValue? {
        var cur: PlainValue? = v
        for step in path {
            switch step {
            case .key(let k): cur = cur?[k]
            case .index(let i): cur = cur?.arrayValue.flatMap { i < $0.count ? $0[i] : nil }
            }
        }
        return cur
    }

    static let marker = "\u{1}POLICY-HOST-FUZZ\u{1}"

    /// Replaces one node: with a value, or (through a marker) with raw text.
    static func jsonMutation(_ kind: String, _ json: PlainValue, paths all: [[PathStep]], _ rng: inout SplitMix64) -> [UInt8] {
        // Prefer nodes below the top: that is where readers look for fields.
        let path = all.count > 1 && rng.chance(90) ? all[1 + rng.below(all.count - 1)] : all[0]
        let old = value(json, at: path) ?? .null
        func raw(_ text: String) -> [UInt8] {
            let doc = JSON.serialize(replacing(json, at: path[...], with: .string(marker)), pretty: rng.chance(50))
            let quoted = JSON.serialize(.string(marker))
            return Array(doc.replacingOccurrences(of: quoted, with: text).utf8)
        }
        switch kind {
        case "wrong type":
            let options: [PlainValue] = ["s", "", .object(PlainObject()), .array([]), 0, 1.5, -1, true, false, .null,
                                         ["a": 1], [1, "x", .null], "mandatory", "python", "*", "1.2.0", "2026-11-20T10:00:00Z"]
            var new = rng.pick(options)
            // Something of another type than the node had.
            for _ in 0..<4 where sameType(new, old) { new = rng.pick(options) }
            return Array(JSON.serialize(replacing(json, at: path[...], with: new)).utf8)
        case "number value":
            return raw(rng.pick(numbers))
        case "deep value 10000", "deep value 500":
            let depth = kind == "deep value 500" ? rng.pick([499, 500, 511, 512, 513]) : 10_000
            let (open, close) = rng.pick([("[", "]"), ("{\"a\":", "}"), ("[{\"k\":[", "]}]")])
            let inner = JSON.serialize(old)
            return raw(String(repeating: open, count: depth) + inner + String(repeating: close, count: depth))
        case "long value":
            let n = rng.chance(1) ? 1 << 20 : rng.chance(5) ? 100_000 : rng.pick([1000, 3000, 10_000, 30_000])
            if rng.chance(30), case .object(var o) = old {
                o[String(repeating: "k", count: n)] = "v"
                return Array(JSON.serialize(replacing(json, at: path[...], with: .object(o))).utf8)
            }
            return Array(JSON.serialize(replacing(json, at: path[...], with: .string(String(repeating: rng.pick(["x", "é", "☃", "/"]), count: n)))).utf8)
        case "surrogate value":
            return raw(rng.pick(["\"\\ud800\"", "\"a\\udfffb\"", "\"\\ud800\\ud800\"", "{\"\\ud800\": 1}", "[\"\\udc00\"]"]))
        case "duplicate key":
            // The same key twice, the second of another type: text-level, as PlainObject keeps one.
            guard case .object(let o) = old, let k = o.keys.first else { return raw("{\"k\": 1, \"k\": \"two\"}") }
            let first = JSON.serialize(.object(o))
            let dup = "{" + JSON.serialize(.string(k)) + ": [\"dup\"], " + first.dropFirst()
            return raw(dup)
        default:
            return Array(JSON.serialize(json).utf8)
        }
    }

    static func sameType(_ a: PlainValue, _ b: PlainValue) -> Bool {
        switch (a, b) {
        case (.null, .null), (.bool, .bool), (.string, .string), (.array, .array), (.object, .object): true
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double): true
        default: false
        }
    }

    // MARK: YAML structure

    static let yamlValues: [String] = [
        "~", "null", "", "[]", "{}", "[a, b]", "{a: 1}", "1e300", "-1e300", ".nan", ".inf", "-.inf", "0x1F", "0o17",
        "99999999999999999999999", "-0", "true", "yes", "no", "'single'", "\"double\"", "\"\\ud800\"", "\"\\x00\"",
        "\"\\U0010FFFF\"", "\"\\U00110000\"", "!!binary aGk=", "!!str 3", "!!int x", "!!float y", "!!map {}", "!!seq []",
        "!custom tag", "&a python", "*a", "*undefined", "|\n  block\n  text", ">-\n  folded", "? complex\n: key",
        "- item\n- item", "python # comment", "\"unterminated", "'also unterminated", "[unclosed", "{unclosed: 1",
        "<<: {runtime: python}", "@reserved", "`reserved", "%directive", "--- second doc", "python\n...\n---\nruntime: nodejs",
    ]

    static func yamlMutation(_ kind: String, _ b: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var lines = String(decoding: b, as: UTF8.self).components(separatedBy: "\n")
        guard !lines.isEmpty else { return b }
        let i = rng.below(lines.count)
        switch kind {
        case "yaml value", "yaml deep value":
            let value: String
            if kind == "yaml deep value" {
                let depth = rng.pick([99, 100, 101, 150, 1000, 10_000])
                value = rng.pick([
                    String(repeating: "[", count: depth) + "x" + String(repeating: "]", count: depth),
                    String(repeating: "{a: ", count: depth) + "x" + String(repeating: "}", count: depth),
                    String(repeating: "- ", count: depth) + "x",
                    "[a'b, " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]",
                    "[\"a\\\\\", " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]",
                    String(repeating: "[\n", count: depth) + String(repeating: "]", count: depth),
                ])
            } else {
                value = rng.pick(yamlValues)
            }
            if let colon = lines[i].firstIndex(of: ":") {
                lines[i] = String(lines[i][...colon]) + " " + value
            } else {
                lines.insert(rng.pick(["runtime", "version", "description", "main", "  name", "  options", "    virtualenv",
                                       "    toolchain", "    typechecker", "extra"]) + ": " + value, at: i)
            }
        case "yaml indent":
            lines[i] = String(repeating: rng.pick([" ", "\t", "  "]), count: rng.pick([1, 2, 3, 7, 250])) + lines[i]
        default:  // duplicate line
            lines.insert(lines[i], at: rng.below(lines.count + 1))
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    // MARK: tar structure

    /// Header offsets of an archive, walking sizes as the reader does (stops where it cannot).
    static func tarHeaders(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i + 512 <= b.count && out.count < 1000 {
            if b[i..<(i + 512)].allSatisfy({ $0 == 0 }) { break }
            out.append(i)
            let field = String(decoding: b[(i + 124)..<(i + 135)], as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            guard let size = Int(field, radix: 8) else { break }
            i += 512 + (size + 511) / 512 * 512
        }
        return out
    }

    static func tarMutation(_ kind: String, _ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let headers = tarHeaders(b)
        guard let h = headers.isEmpty ? nil : rng.pick(headers) else { return mutate("flip bits", b, json: nil, reader: .tar, &rng) }
        func put(_ bytes: [UInt8], at: Int, len: Int) {
            for k in 0..<len where h + at + k < b.count { b[h + at + k] = k < bytes.count ? bytes[k] : 0 }
        }
        switch kind {
        case "tar number field":
            let (at, len) = rng.pick([(124, 12), (100, 8), (108, 8), (116, 8), (136, 12), (148, 8)])
            let values: [[UInt8]] = [
                Array("77777777777\0".utf8), Array("7777777777777777".utf8), Array("00000000000\0".utf8), Array("-1".utf8),
                Array("8".utf8), Array("   ".utf8), Array(" 1 2 ".utf8), Array("0x10".utf8), Array("1e9".utf8),
                [0x80] + [UInt8](repeating: 0xFF, count: 11), [0x80, 0x7F] + [UInt8](repeating: 0xFF, count: 10),
                [0xFF] + [UInt8](repeating: 0xFF, count: 11), [0x80] + [UInt8](repeating: 0, count: 10) + [0x01],
                [0xC0, 0x00], [0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00],
                Array(String(b.count, radix: 8).utf8), Array(String(b.count - h - 512 + 1, radix: 8).utf8),
            ]
            put(rng.pick(values), at: at, len: len)
        case "tar typeflag":
            let flags: [UInt8] = Array("0123456LKxgXVMNDS7".utf8) + [0, 0xFF, 0x80]
            if h + 156 < b.count { b[h + 156] = rng.pick(flags) }
        case "tar name field":
            let (at, len) = rng.pick([(0, 100), (157, 100), (345, 155), (257, 6)])
            let values = ["", "/etc/passwd", "../../escape", "package/../../x", "package/\u{0}hidden", "ustar", "ustar\u{0}00",
                          String(repeating: "a", count: 100), "package/ünï\u{FFFD}", "package/a\nb", "."]
            var v = Array(rng.pick(values).utf8)
            if rng.chance(20) { v.insert(rng.pick(invalidUTF8)[0], at: rng.below(v.count + 1)) }
            put(v, at: at, len: len)
        default:  // pax length: rewrite the length of a record, or add a record
            let text = b
            if let p = findBytes(Array(" path=".utf8), in: text) ?? findBytes(Array(" linkpath=".utf8), in: text) {
                var s = p
                while s > 0 && text[s - 1] >= 0x30 && text[s - 1] <= 0x39 { s -= 1 }
                let len = rng.pick(["0", "1", "2", "3", "5", "-1", "", " ", "99999999999999999999999", "18446744073709551616",
                                    "9223372036854775807", "00000000000000000000000000030", "512", "4096"])
                b.replaceSubrange(s..<p, with: Array(len.utf8))
            } else {
                // Relabel an entry as a PAX header holding odd records.
                if h + 156 < b.count { b[h + 156] = UInt8(ascii: "x") }
                let body = rng.pick(["1 path=x\n", "3 a\n", "999 path=short\n", "9 path=\n", "12 path=ü\u{FFFD}\n", " path=x\n", "5 =\n"])
                let start = h + 512
                if start < b.count { for (k, c) in body.utf8.enumerated() where start + k < b.count { b[start + k] = c } }
            }
        }
        return b
    }

    /// Recomputes the checksum of every header the walk finds (except one deliberately out of range).
    static func fixTarChecksums(_ b: inout [UInt8]) {
        for h in tarHeaders(b) where h + 512 <= b.count {
            var sum = 0
            for k in 0..<512 { sum += (148..<156).contains(k) ? 0x20 : Int(b[h + k]) }
            let octal = Array(String(sum, radix: 8).utf8)
            let field = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 6 - octal.count)) + octal.suffix(6) + [0, 0x20]
            for k in 0..<8 { b[h + 148 + k] = field[k] }
        }
    }

    static func findBytes(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}

extension Array {
    func element(using rng: inout SplitMix64) -> Element? {
        isEmpty ? nil : self[rng.below(count)]
    }
}

// MARK: - specific inputs

/// Inputs worth naming: each must end in a result or a `HostError`, and where the outcome is
/// settled (`expect`), that outcome.
struct SpecificCase: Sendable {
    enum Expect { case accepted, rejected, either }

    var name: String
    var reader: FuzzReader
    var expect: Expect
    /// Fed through the reader's `load(URL)` (a temporary file) rather than from memory.
    var viaFile = false
    var make: @Sendable () -> [UInt8]

    static func text(_ s: String) -> @Sendable () -> [UInt8] { { Array(s.utf8) } }

    static func groups(version: String) -> @Sendable () -> [UInt8] {
        text(#"{"policyGroups": [{"name": "g", "stacks": ["*"], "policyPacks": [{"name": "p", "version": "# + version + "}]}]}")
    }

    static func deepJSON(_ depth: Int, open: String = "[", close: String = "]", inner: String = "1") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    static func tarWith(size: [UInt8]) -> @Sendable () -> [UInt8] {
        {
            var b = [UInt8](Tar.write([Tar.Entry(path: "package/a", kind: .file, mode: 0o644, data: Data("hello".utf8))]))
            for k in 0..<12 { b[124 + k] = k < size.count ? size[k] : 0 }
            return b
        }
    }

    static func tarWithPax(_ records: String) -> @Sendable () -> [UInt8] {
        {
            var b = [UInt8](Tar.write([Tar.Entry(path: "package/a", kind: .file, mode: 0o644, data: Data(records.utf8)),
                                       Tar.Entry(path: "package/b", kind: .file, mode: 0o644, data: Data("b".utf8))]))
            b[156] = UInt8(ascii: "x")
            return b
        }
    }

    static let all: [SpecificCase] = [
        // Numbers where an integer is expected.
        SpecificCase(name: "groups version 1e300", reader: .groups, expect: .rejected, viaFile: true, make: groups(version: "1e300")),
        SpecificCase(name: "groups version -1e300", reader: .groups, expect: .rejected, make: groups(version: "-1e300")),
        SpecificCase(name: "groups version 1e400 (infinite)", reader: .groups, expect: .rejected, make: groups(version: "1e400")),
        SpecificCase(name: "groups version 2^63", reader: .groups, expect: .rejected, make: groups(version: "9223372036854775808")),
        SpecificCase(name: "groups version 2^63-1 as a double", reader: .groups, expect: .either, make: groups(version: "9223372036854775807")),
        SpecificCase(name: "groups version -0", reader: .groups, expect: .either, make: groups(version: "-0")),
        SpecificCase(name: "groups version 1.5", reader: .groups, expect: .rejected, make: groups(version: "1.5")),
        SpecificCase(name: "groups name with a lone surrogate", reader: .groups, expect: .either,
                     make: text(#"{"policyGroups": [{"name": "\ud800", "stacks": ["*"], "policyPacks": [{"name": "p\udfff", "version": 1}]}]}"#)),
        SpecificCase(name: "groups nested 10000 deep", reader: .groups, expect: .rejected,
                     make: text(#"{"policyGroups": "# + deepJSON(10_000) + "}")),
        // YAML nested 10 000 deep, in every style, and past the nesting check's heuristics.
        SpecificCase(name: "YAML flow sequences 10000 deep", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra: " + deepJSON(10_000, inner: "x") + "\n")),
        SpecificCase(name: "YAML flow mappings 10000 deep", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra: " + deepJSON(10_000, open: "{a: ", close: "}", inner: "x") + "\n")),
        SpecificCase(name: "YAML block sequences 10000 deep on one line", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra:\n  " + String(repeating: "- ", count: 10_000) + "x\n")),
        SpecificCase(name: "YAML block mappings 10000 deep by indentation", reader: .manifest, expect: .rejected,
                     make: { Array(("runtime: python\n" + (0..<10_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n") + " x\n").utf8) }),
        SpecificCase(name: "YAML flow 10000 deep, one bracket a line", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra: " + String(repeating: "[\n", count: 10_000) + String(repeating: "]", count: 10_000) + "\n")),
        SpecificCase(name: "YAML 10000 deep after an apostrophe in a plain scalar", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra: [it's, " + deepJSON(10_000, inner: "x") + "]\n")),
        SpecificCase(name: "YAML 10000 deep after an escaped backslash in a quoted scalar", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra: [\"a\\\\\", " + deepJSON(10_000, inner: "x") + "]\n")),
        SpecificCase(name: "YAML 10000 deep after a hash inside a flow scalar", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\nextra: [a #b, " + deepJSON(10_000, inner: "x") + "]\n")),
        SpecificCase(name: "YAML 10000 deep as an explicit key", reader: .manifest, expect: .rejected,
                     make: text("runtime: python\n? " + deepJSON(10_000, inner: "x") + "\n: v\n")),
        SpecificCase(name: "YAML alias fan-out (billion laughs, 90 aliases)", reader: .manifest, expect: .either,
                     make: {
                         var s = "runtime: python\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
                         for level in 1...9 { s += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
                         return Array(s.utf8)
                     }),
        SpecificCase(name: "YAML alias used as a key", reader: .manifest, expect: .either,
                     make: text("runtime: python\nbig: &k [a, b, c]\n? *k\n: value\n")),
        SpecificCase(name: "runtime: ~", reader: .manifest, expect: .rejected, make: text("runtime: ~\n")),
        SpecificCase(name: "runtime: null in an object", reader: .manifest, expect: .rejected, make: text("runtime:\n  name: ~\n")),
        SpecificCase(name: "version: ~ and description: null", reader: .manifest, expect: .accepted, make: text("runtime: python\nversion: ~\ndescription: null\n")),
        SpecificCase(name: "manifest with a UTF-16 BOM", reader: .manifest, expect: .either, make: { [0xFF, 0xFE] + Array("runtime: python\n".utf8) }),
        SpecificCase(name: "manifest that is invalid UTF-8", reader: .manifest, expect: .rejected, make: { Array("runtime: python\ndescription: ".utf8) + [0xC3, 0x28] }),
        SpecificCase(name: "manifest with a NUL", reader: .manifest, expect: .either, make: text("runtime: python\u{0}\n")),
        // Policy config.
        SpecificCase(name: "config nested 500 deep", reader: .config, expect: .either,
                     make: text(#"{"p": {"x": "# + deepJSON(498) + "}}")),
        SpecificCase(name: "config nested 10000 deep", reader: .config, expect: .rejected,
                     make: text(#"{"p": {"x": "# + deepJSON(10_000) + "}}")),
        SpecificCase(name: "empty config file", reader: .config, expect: .either, viaFile: true, make: text("")),
        SpecificCase(name: "config file of blanks", reader: .config, expect: .either, viaFile: true, make: text(" \n\t\n")),
        SpecificCase(name: "config that is a JSON string", reader: .config, expect: .rejected, viaFile: true, make: text(#""mandatory""#)),
        SpecificCase(name: "config that is null", reader: .config, expect: .rejected, make: text("null")),
        SpecificCase(name: "config that is an array", reader: .config, expect: .rejected, make: text(#"[{"all": "mandatory"}]"#)),
        SpecificCase(name: "config with 1e300 and -0 properties", reader: .config, expect: .accepted, make: text(#"{"p": {"max": 1e300, "min": -1e300, "zero": -0}}"#)),
        SpecificCase(name: "config with a lone surrogate key", reader: .config, expect: .either, make: text(#"{"\ud800": "mandatory"}"#)),
        SpecificCase(name: "config level that is an object", reader: .config, expect: .rejected, make: text(#"{"p": {"enforcementLevel": {"a": 1}}}"#)),
        // Stack files.
        SpecificCase(name: "stack nested 10000 deep", reader: .stack, expect: .rejected, viaFile: true,
                     make: text(#"{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:s::p::t::n", "inputs": {"x": "# + deepJSON(10_000) + "}}]}}")),
        SpecificCase(name: "stack version 1e300", reader: .stack, expect: .rejected, make: text(#"{"version": 1e300, "deployment": {"resources": []}}"#)),
        SpecificCase(name: "stack version NaN-ish 1e400", reader: .stack, expect: .either, make: text(#"{"version": 1e400, "deployment": {"resources": []}}"#)),
        SpecificCase(name: "stack customTimeouts 1e300", reader: .stack, expect: .accepted,
                     make: text(#"{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:s::p::t:index:T::n", "type": "t:index:T", "custom": true, "id": "n-1", "customTimeouts": {"create": 1e300, "update": -1e300, "delete": -0}}]}}"#)),
        SpecificCase(name: "stack URN of separators only", reader: .stack, expect: .either,
                     make: text(#"{"version": 3, "deployment": {"resources": [{"urn": "::::::"}, {"urn": "urn:pulumi:"}, {"urn": "$"}]}}"#)),
        SpecificCase(name: "stack with a UTF-16 BOM", reader: .stack, expect: .rejected, make: { [0xFE, 0xFF] + Array(#"{"version": 3, "deployment": {}}"#.utf8) }),
        // Tar.
        SpecificCase(name: "tar size base-256 near Int.max", reader: .tar, expect: .rejected, make: tarWith(size: [0x80, 0x7F] + [UInt8](repeating: 0xFF, count: 10))),
        SpecificCase(name: "tar size base-256 all ones", reader: .tar, expect: .rejected, make: tarWith(size: [UInt8](repeating: 0xFF, count: 12))),
        SpecificCase(name: "tar size 8^11-1", reader: .tar, expect: .rejected, make: tarWith(size: Array("77777777777\0".utf8))),
        SpecificCase(name: "tar size not octal", reader: .tar, expect: .rejected, make: tarWith(size: Array("9\0".utf8))),
        SpecificCase(name: "tar PAX record length 1", reader: .tar, expect: .either, make: tarWithPax("1 path=x\n")),
        SpecificCase(name: "tar PAX record length 0", reader: .tar, expect: .either, make: tarWithPax("0 path=x\n")),
        SpecificCase(name: "tar PAX record length past the body", reader: .tar, expect: .either, make: tarWithPax("99999 path=x\n")),
        SpecificCase(name: "tar PAX record length 2^64", reader: .tar, expect: .either, make: tarWithPax("18446744073709551616 path=x\n")),
        SpecificCase(name: "tar truncated mid-header", reader: .tar, expect: .either,
                     make: { Array([UInt8](Tar.write([Tar.Entry(path: "package/a", kind: .file, mode: 0o644, data: Data("a".utf8))])).prefix(300)) }),
    ]

    /// Runs one case (in an exit test's child); a wrong outcome is reported as `@@breach`.
    static func run(_ name: String) {
        guard let c = all.first(where: { $0.name == name }) else {
            ParserFuzz.say("@@breach no case named \(name)")
            return
        }
        let bytes = c.make()
        let outcome: ParserFuzz.Outcome
        if c.viaFile {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("parser-fuzz-\(UUID().uuidString).json")
            try? Data(bytes).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            do throws(HostError) {
                switch c.reader {
                case .stack: _ = try StackSnapshot.load(file)
                case .config: _ = try PolicyPackConfig.load(file)
                case .groups: _ = try PolicyGroups.load(file)
                case .manifest, .tar: break
                }
                outcome = .accepted
            } catch {
                outcome = .rejected(error)
            }
        } else {
            outcome = ParserFuzz.feed(c.reader, bytes)
        }
        switch (outcome, c.expect) {
        case (.accepted, .accepted), (.accepted, .either):
            ParserFuzz.say("@@outcome accepted")
        case (.rejected(let e), .rejected), (.rejected(let e), .either):
            ParserFuzz.say("@@outcome rejected: \(e.message.prefix(200).debugDescription)")
            if e.message.isEmpty { ParserFuzz.say("@@breach a HostError without a message") }
        case (.accepted, _):
            ParserFuzz.say("@@breach accepted; expected a HostError")
        case (.rejected(let e), _):
            ParserFuzz.say("@@breach rejected (\(e.message.prefix(300).debugDescription)); expected it to be accepted")
        }
    }
}
