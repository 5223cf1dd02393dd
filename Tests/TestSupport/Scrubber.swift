import Foundation
import PolicyHostCLI
import PythonRuntime

/// Replaces run-specific text (paths, versions, durations, pids) with stable placeholders, so that
/// output can be compared with a golden file on any machine.
///
/// Rules apply in order; the standard set puts the most specific paths first (a temporary
/// directory may lie under the home directory).
public struct Scrubber: Sendable {
    /// One replacement.
    public enum Rule: Sendable {
        /// Every occurrence of the text.
        case literal(String, String)
        /// Every match of an `NSRegularExpression` pattern; the template may use `$1`….
        case pattern(String, String)
    }

    public var rules: [Rule]

    public init(rules: [Rule] = []) {
        self.rules = rules
    }

    /// The rules every golden test wants:
    ///
    /// - temporary directories made by tests and by policy-host: `<TMPDIR>/policy-host-…`
    ///   (`/tmp/policy-host-test-<uuid>`, the worker's scratch directories) → `<tmp>`; other
    ///   paths under `/tmp` are left alone, they may be data (a stack file's asset path);
    /// - the repository root → `<repo>`, the home directory → `<home>`;
    /// - policy-host's version (after `policy-host ` or on a line of its own) → `<version>`;
    /// - the embedded Python's version (`3.11.2`) → `<python>`;
    /// - durations (`0.12 s`, `123 ms`, `1.5s`) → `<time>`;
    /// - pids (`pid 1234`, `process 1234`) → `pid <pid>`, `process <pid>`.
    public static var standard: Scrubber {
        var rules: [Rule] = []
        for tmp in temporaryDirectories {
            rules.append(.pattern(NSRegularExpression.escapedPattern(for: tmp) + "/policy-host-[A-Za-z0-9._-]+", "<tmp>"))
        }
        rules.append(.literal(FixtureCopy.repositoryRoot.path, "<repo>"))
        let home = NSHomeDirectory()
        if home.count > 1 {
            rules.append(.pattern(NSRegularExpression.escapedPattern(for: home) + "(?=/|$|[^A-Za-z0-9._-])", "<home>"))
        }
        let version = NSRegularExpression.escapedPattern(for: PolicyHostVersion.string)
        rules.append(.pattern("(?<=policy-host )" + version + "\\b", "<version>"))
        rules.append(.pattern("(?m)^" + version + "$", "<version>"))
        rules.append(.pattern("(?<![0-9.])" + NSRegularExpression.escapedPattern(for: PythonInterpreter.linkedVersion) + "(?![0-9])", "<python>"))
        rules.append(.pattern("(?<![A-Za-z0-9.])[0-9]+(\\.[0-9]+)? ?(ms|s)\\b", "<time>"))
        rules.append(.pattern("\\b(pid|PID|process) [0-9]+\\b", "$1 <pid>"))
        return Scrubber(rules: rules)
    }

    /// `/tmp` and `$TMPDIR` as written and as resolved (macOS's `/private/var/…`), longest first.
    static var temporaryDirectories: [String] {
        var dirs: Set<String> = ["/tmp", "/private/tmp"]
        let tmp = FileManager.default.temporaryDirectory.path
        dirs.insert(tmp.hasSuffix("/") && tmp.count > 1 ? String(tmp.dropLast()) : tmp)
        dirs.insert(FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path)
        return dirs.filter { $0.count > 1 }.sorted { $0.count > $1.count }
    }

    /// This scrubber with one more literal replacement at the end.
    public func replacing(_ text: String, with replacement: String) -> Scrubber {
        Scrubber(rules: rules + [.literal(text, replacement)])
    }

    /// This scrubber with one more pattern replacement at the end.
    public func replacingMatches(of pattern: String, with template: String) -> Scrubber {
        Scrubber(rules: rules + [.pattern(pattern, template)])
    }

    /// `text` with every rule applied in order.
    public func scrub(_ text: String) -> String {
        var out = text
        for rule in rules {
            switch rule {
            case .literal(let from, let to):
                guard !from.isEmpty else { continue }
                out = out.replacingOccurrences(of: from, with: to)
            case .pattern(let pattern, let template):
                // A bad pattern is a bug in the test itself.
                let regex = try! NSRegularExpression(pattern: pattern)
                out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: template)
            }
        }
        return out
    }
}
