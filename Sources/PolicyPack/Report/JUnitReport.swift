import Foundation
import HostCore

/// `--format junit`: the report as JUnit XML (the Ant/Jenkins format, valid against windyroad's
/// `JUnit.xsd`), which CI systems render as a test report. README "JUnit" documents the mapping:
/// one test suite per pack; one test case per resource policy × resource analysed and one per stack
/// policy; a mandatory violation is a failure, a policy that raised an error, a not-applicable
/// result a skipped case; advisory violations and remediations pass and are listed in the suite's
/// `system-out`; warnings go to `system-err`.
public struct JUnitReport {
    public var report: AnalysisReport
    /// `yyyy-MM-ddTHH:mm:ss` in UTC, as the schema's pattern wants it (no zone).
    public var timestamp: String
    public var hostname: String

    public init(report: AnalysisReport, date: Date = Date(), hostname: String = ProcessInfo.processInfo.hostName) {
        self.report = report
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        timestamp = f.string(from: date)
        self.hostname = hostname.isEmpty ? "localhost" : hostname
    }

    enum Outcome {
        case pass
        case failure(message: String, type: String, text: String)
        case error(message: String, type: String, text: String)
        case skipped(message: String)
    }

    struct Case {
        var classname: String
        var name: String
        var outcome: Outcome
    }

    /// The test cases of one pack, in rule order then resource order.
    func cases(for pack: AnalysisReport.Pack) -> (cases: [Case], out: [String]) {
        var out: [String] = []
        let violations = report.violations.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version }
        let errors = report.errors.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version }
        let notApplicable = report.notApplicable.filter { $0.policyPackName == pack.name && $0.policyPackVersion == pack.version }
        for v in violations where v.enforcementLevel != .mandatory {
            out.append("\(v.enforcementLevel.name): \(v.policyName) on \(v.urn.isEmpty ? "the stack" : v.urn): \(v.message)")
        }
        for r in report.remediations where r.policyPackName == pack.name && r.policyPackVersion == pack.version {
            out.append("remediated: \(r.policyName) on \(r.urn)\(r.diagnostic.isEmpty ? "" : ": \(r.diagnostic)")")
        }
        // Results by case: a stack policy's case takes every URN it reported on; a resource policy's one URN.
        let stackRules = Set(pack.rules.filter(\.stackPolicy).map(\.name))
        func key(_ policy: String, _ urn: String) -> String { stackRules.contains(policy) ? policy : policy + "\u{0}" + urn }
        let failedBy = Dictionary(grouping: violations.filter { $0.enforcementLevel == .mandatory }) { key($0.policyName, $0.urn) }
        let raisedBy = Dictionary(grouping: errors) { key($0.policyName, $0.urn) }
        let notApplicableBy = Dictionary(grouping: notApplicable) { key($0.policyName, $0.urn) }
        let resourceURNs = Set(report.resourceURNs)
        var cases: [Case] = []
        for rule in pack.rules where rule.enforcementLevel != .disabled {
            let classname = "\(pack.name).\(rule.name)"
            // A stack policy is one case; a resource policy one per resource (and per other URN it reported on).
            let urns: [String]
            if rule.stackPolicy {
                urns = ["stack"]
            } else {
                var seen = resourceURNs
                urns = report.resourceURNs + violations.filter { $0.policyName == rule.name }.map(\.urn).filter { seen.insert($0).inserted }
            }
            for urn in urns {
                let failed = failedBy[key(rule.name, urn)] ?? []
                let raised = raisedBy[key(rule.name, urn)] ?? []
                let outcome: Outcome
                if let e = raised.first {
                    let type = e.message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "Exception"
                    outcome = .error(message: e.message, type: type, text: raised.map { $0.traceback.isEmpty ? $0.message : $0.traceback }.joined(separator: "\n"))
                } else if let first = failed.first {
                    let lines = failed.map { ($0.stackPolicy ? "\($0.urn): " : "") + $0.message }
                    outcome = .failure(message: first.message.components(separatedBy: "\n").last ?? first.message,
                                       type: "mandatory", text: lines.joined(separator: "\n\n"))
                } else if let na = notApplicableBy[key(rule.name, urn)]?.first {
                    outcome = .skipped(message: na.reason)
                } else {
                    outcome = .pass
                }
                cases.append(Case(classname: classname, name: urn, outcome: outcome))
            }
        }
        return (cases, out)
    }

    /// The XML document.
    public var document: String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        for (id, pack) in report.packs.enumerated() {
            let (cases, out) = cases(for: pack)
            var failures = 0, errors = 0, skipped = 0
            for c in cases {
                switch c.outcome {
                case .failure: failures += 1
                case .error: errors += 1
                case .skipped: skipped += 1
                case .pass: break
                }
            }
            xml += "  <testsuite name=\"\(Self.attr("\(pack.name)@v\(pack.version)"))\" package=\"\(Self.attr(pack.name))\" id=\"\(id)\" "
                + "timestamp=\"\(timestamp)\" hostname=\"\(Self.attr(hostname))\" tests=\"\(cases.count)\" failures=\"\(failures)\" "
                + "errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"0\">\n"
            xml += "    <properties>\n"
            xml += "      <property name=\"policyPackVersion\" value=\"\(Self.attr(pack.version))\"/>\n"
            xml += "      <property name=\"sdkVersion\" value=\"\(Self.attr(pack.sdkVersion))\"/>\n"
            xml += "    </properties>\n"
            for c in cases {
                let open = "    <testcase name=\"\(Self.attr(c.name))\" classname=\"\(Self.attr(c.classname))\" time=\"0\""
                switch c.outcome {
                case .pass:
                    xml += open + "/>\n"
                case .failure(let message, let type, let text):
                    xml += open + ">\n      <failure message=\"\(Self.attr(message))\" type=\"\(Self.attr(type))\">\(Self.text(text))</failure>\n    </testcase>\n"
                case .error(let message, let type, let text):
                    xml += open + ">\n      <error message=\"\(Self.attr(message))\" type=\"\(Self.attr(type))\">\(Self.text(text))</error>\n    </testcase>\n"
                case .skipped(let message):
                    xml += open + ">\n      <skipped message=\"\(Self.attr(message))\"/>\n    </testcase>\n"
                }
            }
            xml += "    <system-out>\(Self.text(out.joined(separator: "\n")))</system-out>\n"
            xml += "    <system-err>\(Self.text(report.warnings.joined(separator: "\n")))</system-err>\n"
            xml += "  </testsuite>\n"
        }
        // A pack that could not run is a suite with one erroring case, so that the CI report shows it.
        for (i, f) in report.packFailures.enumerated() {
            let id = report.packs.count + i
            xml += "  <testsuite name=\"\(Self.attr(f.policyPack))\" package=\"\(Self.attr(f.policyPack))\" id=\"\(id)\" timestamp=\"\(timestamp)\" "
                + "hostname=\"\(Self.attr(hostname))\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\">\n"
            xml += "    <properties/>\n"
            xml += "    <testcase name=\"run\" classname=\"\(Self.attr(f.policyPack))\" time=\"0\">\n"
            xml += "      <error message=\"\(Self.attr(f.message))\" type=\"exit status \(f.exitStatus)\">\(Self.text(f.stderrTail))</error>\n"
            xml += "    </testcase>\n    <system-out></system-out>\n    <system-err></system-err>\n  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// Text content: XML-escaped, characters XML 1.0 cannot hold shown as `\u{…}`.
    public static func text(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || (0xFFFE...0xFFFF).contains(u.value) {
                    out += "\\u{\(String(u.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// An attribute value: as text, with quotes escaped and line breaks kept as character references.
    public static func attr(_ s: String) -> String {
        text(s).replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "\n", with: "&#10;").replacingOccurrences(of: "\r", with: "&#13;").replacingOccurrences(of: "\t", with: "&#9;")
    }
}
