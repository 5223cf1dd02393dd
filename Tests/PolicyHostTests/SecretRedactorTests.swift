import Foundation
import HostCore
@testable import PolicyPack
import PolicyValues
import Testing

/// The matching rule of `SecretRedactor` (README "Secrets in outputs") at its edges.
@Suite struct SecretRedactorTests {
    func redactor(_ values: PlainValue...) -> SecretRedactor {
        var r = SecretRedactor()
        for v in values { r.add(v) }
        return r
    }

    @Test func aStringIsReplacedWhereverItOccurs() {
        let r = redactor(.string("hunter22"))
        #expect(r.redact("pw=hunter22;again hunter22") == "pw=[secret];again [secret]")
        #expect(r.redact("HUNTER22 hunter2") == "HUNTER22 hunter2", "bytes exactly: no case folding, no prefixes")
        #expect(r.redact("") == "")
    }

    @Test func jsonAndReprForms() {
        let r = redactor(.string("a\"b'c\\d\ne"))
        // json.dumps: "a\"b'c\\d\ne"; repr: 'a"b\'c\\d\ne'
        #expect(r.redact(#"json "a\"b'c\\d\ne""#) == #"json "[secret]""#)
        #expect(r.redact(#"repr 'a"b\'c\\d\ne'"#) == "repr '[secret]'")
        #expect(r.redact("raw a\"b'c\\d\ne.") == "raw [secret].")
        let repr = redactor(.string("it's"))  // repr picks double quotes and escapes nothing
        #expect(repr.redact(#"x "it's""#) == #"x "[secret]""#)
    }

    @Test func nonASCIIInEveryEncoding() {
        let r = redactor(.string("tok-äöü-✓"))
        #expect(r.redact("a tok-äöü-✓ b") == "a [secret] b")
        #expect(r.redact(#"{"t": "tok-\u00e4\u00f6\u00fc-\u2713"}"#) == #"{"t": "[secret]"}"#, "json.dumps with ensure_ascii")
    }

    @Test func numbersAsPoliciesSeeThem() {
        let r = redactor(.int(5432), .double(20.5))
        #expect(r.redact("port 5432.0 and 5432, ratio 20.5") == "port [secret] and [secret], ratio [secret]")
        let whole = redactor(.double(8080))
        #expect(whole.redact("8080.0 8080") == "[secret] [secret]")
    }

    @Test func shortSecretsBooleansAndNullAreNotMatchedInText() {
        let r = redactor(.string("abc"), .bool(true), .null, .int(5), .string("abcd"))
        #expect(r.redact("abc true null 5 abcd") == "abc true null 5 [secret]")
        #expect(r.shortSecrets == 4)
        // Where a value is itself a secret it is hidden whatever its length.
        let props: PlainValue = .object(PlainObject([("flag", EngineEncoding.wrapSecret(.bool(true))), ("n", .int(5))]))
        #expect(r.redact(props) == .object(PlainObject([("flag", .string("[secret]")), ("n", .int(5))])))
    }

    @Test func compositeSecretsByTheirLeaves() {
        let r = redactor(.object(PlainObject([("user", .string("ledger-admin")), ("pass", .string("pa55word")),
                                             ("nested", EngineEncoding.wrapSecret(.array([.string("deep-value")])))])))
        #expect(r.redact("user ledger-admin pass pa55word deep deep-value") == "user [secret] pass [secret] deep [secret]")
        #expect(r.redact("keys user and pass stay") == "keys user and pass stay")
    }

    @Test func longestSecretFirstAndOverlaps() {
        let r = redactor(.string("secret-one"), .string("secret-one-and-more"))
        #expect(r.redact("x secret-one-and-more y secret-one") == "x [secret] y [secret]")
        let overlapping = redactor(.string("abcdabcd"))
        #expect(overlapping.redact("abcdabcdabcdabcdabc") == "[secret][secret]abc")
    }

    @Test func shorterSecretsOnlyAsWholeTokens() {
        let r = redactor(.string("admin"), .string("s3cr3t-pw"))
        #expect(r.redact("user admin, adminPassword, admin_x, xadmin, (admin)") == "user [secret], adminPassword, admin_x, xadmin, ([secret])")
        #expect(r.redact("admin") == "[secret]")
        // From `unboundedLength` bytes on, anywhere.
        #expect(r.redact("xs3cr3t-pwx") == "x[secret]x")
    }

    @Test func publicNamesAreExempt() {
        var r = redactor(.string("ledger"), .string("hunter22"))
        r.exempt(["ledger", "not-a-secret"])
        #expect(r.redact("urn:…::ledger hunter22") == "urn:…::ledger [secret]")
    }

    @Test func emptyRedactorChangesNothing() {
        let r = SecretRedactor()
        #expect(r.isEmpty)
        #expect(r.redact("anything at all") == "anything at all")
        #expect(r.redact(Array("bytes".utf8)) == nil)
    }

    @Test func reportFieldsAndRemediationSignatures() {
        var report = AnalysisReport()
        report.violations = [.init(policyPackName: "p", policyPackVersion: "1", policyName: "x", description: "d",
                                   message: "pw hunter22", enforcementLevel: .mandatory, severity: .high, urn: "u", stackPolicy: false)]
        report.errors = [.init(policyPackName: "p", policyPackVersion: "1", policyName: "x", urn: "u", phase: "analyze",
                               message: "ValueError: hunter22", traceback: "Traceback…\nValueError: hunter22\n")]
        report.warnings = ["hunter22 in a warning"]
        // A value the policy itself signed as secret is a secret everywhere, though the stack did not hold it.
        report.remediations = [.init(policyPackName: "p", policyPackVersion: "1", policyName: "x", urn: "u",
                                     properties: .object(PlainObject([("new", EngineEncoding.wrapSecret(.string("minted-by-policy"))),
                                                                      ("copy", .string("minted-by-policy"))])), diagnostic: "")]
        report.notApplicable = [.init(policyPackName: "p", policyPackVersion: "1", policyName: "x", urn: "u", reason: "because minted-by-policy")]
        let out = report.redacted(by: redactor(.string("hunter22")))
        #expect(out.violations[0].message == "pw [secret]")
        #expect(out.errors[0].message == "ValueError: [secret]")
        #expect(out.errors[0].traceback == "Traceback…\nValueError: [secret]\n")
        #expect(out.warnings == ["[secret] in a warning"])
        #expect(out.remediations[0].properties == .object(PlainObject([("new", .string("[secret]")), ("copy", .string("[secret]"))])))
        #expect(out.notApplicable[0].reason == "because [secret]")
    }

    @Test func remediationsKeepTheSecrecyOfTopLevelValues() {
        let request = PlainObject([("password", EngineEncoding.wrapSecret(.string("old"))), ("engine", .string("pg"))])
        let copied: PlainValue = .object(PlainObject([("password", .string("new")), ("engine", .string("pg"))]))
        let kept = AnalysisReport.keepingSecrecy(copied, of: request)
        #expect(kept.objectValue?["password"] == EngineEncoding.wrapSecret(.string("new")))
        #expect(kept.objectValue?["engine"] == .string("pg"))
        // A value still signed is not signed twice; a removed key stays removed.
        let signed: PlainValue = .object(PlainObject([("password", EngineEncoding.wrapSecret(.string("new")))]))
        #expect(AnalysisReport.keepingSecrecy(signed, of: request) == signed)
    }

    @Test func hostileTextsDoNotTrap() {
        let r = redactor(.string("ab\u{0}cd"), .string(String(repeating: "x", count: 100_000)))
        #expect(r.redact("..ab\u{0}cd..") == "..[secret]..")
        #expect(r.redact(String(repeating: "x", count: 100_001)) == "[secret]x")
        let invalid: [UInt8] = [0xFF, 0xFE, 0x61, 0x62, 0x00, 0x63, 0x64]
        #expect(r.redact(invalid) == [0xFF, 0xFE] + Array("[secret]".utf8))
    }
}

/// The text report's colours (on a terminal only) and its defence against a message that carries
/// terminal control sequences.
@Suite struct TextReportColorTests {
    func report(message: String) -> AnalysisReport {
        var r = AnalysisReport()
        r.packs = [.init(name: "p", version: "1", sdkVersion: "1.21.0", policies: 1)]
        r.violations = [.init(policyPackName: "p", policyPackVersion: "1", policyName: "x", description: "d", message: message,
                              enforcementLevel: .mandatory, severity: .high, urn: "urn:pulumi:s::p::t:m:R::r", stackPolicy: false)]
        return r
    }

    @Test func plainTextHasNoEscapes() {
        let text = report(message: "d\nplain").text
        #expect(!text.contains("\u{1B}"))
        #expect(text == report(message: "d\nplain").text(color: false))
    }

    @Test func colorPaintsLevelsAndDefusesControlCharacters() {
        let text = report(message: "d\nclear\u{1B}[2J\u{7}bell\u{9B}31m").text(color: true)
        #expect(text.contains("\u{1B}[31mmandatory\u{1B}[0m"))
        #expect(text.contains("clear\\u{1b}[2J\\u{7}bell\\u{9b}31m"), "\(text)")
        // The only escapes left are ours.
        let ours = text.components(separatedBy: "\u{1B}[").count - 1
        #expect(ours == 2, "\(text.debugDescription)")
    }
}

/// The SARIF writer's scan of a stack file for the lines of URNs, on hostile bytes: it must never trap
/// or run past the end, and must only ever name lines that exist.
@Suite struct SARIFLineScanTests {
    @Test func linesOfURNs() {
        let text = "{\n  \"urn\": \"urn:a\",\n  \"x\": {\"urn\":\"urn:b\"}, \"urn\" : \"urn:\\u0063\"\n}\n"
        #expect(SARIFReport.Location.urnLines(Array(text.utf8)) == ["urn:a": 2, "urn:b": 3, "urn:c": 3])
    }

    @Test(arguments: [
        "\"urn\"", "\"urn\":", "\"urn\": \"unterminated", "\"urn\": \"ends in a backslash\\", "\"urn\": \"a\nb\"",
        "\"urn\": 5", "\"urn\"\"urn\"\"urn\"", String(repeating: "\"urn\": \"", count: 10_000),
    ])
    func hostileInputs(_ text: String) {
        let lines = SARIFReport.Location.urnLines(Array(text.utf8))
        let count = text.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(lines.values.allSatisfy { $0 >= 1 && $0 <= count })
    }

    @Test func invalidUTF8AndBinary() {
        let bytes: [UInt8] = [0x22, 0x75, 0x72, 0x6E, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x0A, 0x00, 0x22, 0x75, 0x72, 0x6E, 0x22]
        _ = SARIFReport.Location.urnLines(bytes)
        _ = SARIFReport.Location.urnLines((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    }
}
