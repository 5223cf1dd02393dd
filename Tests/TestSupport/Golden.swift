import Foundation
import Testing

/// Golden-file assertions: output compared with `Tests/Golden/<name>.txt` after scrubbing.
///
/// With `POLICY_HOST_UPDATE_GOLDEN=1` in the environment the file is (re)written instead, and an
/// issue is recorded saying so, so that a run that rewrote files never passes unnoticed (as
/// argument-parser's `RECORD_SNAPSHOTS`). Read the rewritten files before committing them.
public enum Golden {
    /// `Tests/Golden` in the repository.
    public static var directory: URL {
        FixtureCopy.repositoryRoot.appendingPathComponent("Tests/Golden")
    }

    /// Whether this run rewrites golden files (`POLICY_HOST_UPDATE_GOLDEN=1`).
    public static var updating: Bool {
        ProcessInfo.processInfo.environment["POLICY_HOST_UPDATE_GOLDEN"] == "1"
    }

    /// The file for `name`; `name` may hold `/` to group files in directories.
    public static func file(named name: String) -> URL {
        directory.appendingPathComponent(name + ".txt")
    }

    /// Compares `scrub.scrub(actual)` with the golden file `name`, recording an issue with a
    /// unified-style diff of the first differing lines when they differ.
    public static func assert(_ actual: String, named name: String, scrub: Scrubber = .standard,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let text = scrub.scrub(actual)
        let file = file(named: name)
        if updating {
            do {
                let old = try? String(contentsOf: file, encoding: .utf8)
                guard old != text else { return }
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: file, options: .atomic)
                Issue.record("\(old == nil ? "wrote" : "rewrote") golden file Tests/Golden/\(name).txt (POLICY_HOST_UPDATE_GOLDEN=1); check it and run again without the variable",
                             sourceLocation: sourceLocation)
            } catch {
                Issue.record("could not write golden file \(file.path): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no golden file Tests/Golden/\(name).txt; run with POLICY_HOST_UPDATE_GOLDEN=1 to write it. Output:\n\(text)",
                         sourceLocation: sourceLocation)
            return
        }
        if expected != text {
            let diff = unifiedDiff(expected: expected, actual: text, name: name)
            Issue.record("output differs from Tests/Golden/\(name).txt (POLICY_HOST_UPDATE_GOLDEN=1 rewrites it):\n\(diff)",
                         sourceLocation: sourceLocation)
        }
    }

    /// A one-hunk unified diff around the first differing lines: the common prefix and suffix are
    /// cut down to `context` lines, at most `limit` lines are shown on each side.
    public static func unifiedDiff(expected: String, actual: String, name: String = "golden",
                                   context: Int = 3, limit: Int = 20) -> String {
        let old = lines(expected), new = lines(actual)
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix,
              old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        let start = max(0, prefix - context)
        let oldEnd = old.count - suffix, newEnd = new.count - suffix
        let after = min(context, suffix)
        var out = "--- Tests/Golden/\(name).txt\n+++ actual\n"
        out += "@@ -\(start + 1),\(oldEnd + after - start) +\(start + 1),\(newEnd + after - start) @@\n"
        for line in old[start..<prefix] { out += " \(line)\n" }
        func side(_ mark: String, _ slice: ArraySlice<String>) {
            for line in slice.prefix(limit) { out += "\(mark)\(line)\n" }
            if slice.count > limit { out += "\(mark)… \(slice.count - limit) more lines\n" }
        }
        side("-", old[prefix..<oldEnd])
        side("+", new[prefix..<newEnd])
        for line in old[oldEnd..<(oldEnd + after)] { out += " \(line)\n" }
        return out
    }

    /// Lines, with a missing final newline shown (it is a difference too).
    static func lines(_ text: String) -> [String] {
        var parts = text.components(separatedBy: "\n")
        if parts.last == "" {
            parts.removeLast()
        } else if !parts.isEmpty {
            parts[parts.count - 1] += "⏎(no newline at end)"
        }
        return parts.map { $0.replacingOccurrences(of: "\t", with: "→") }
    }
}
