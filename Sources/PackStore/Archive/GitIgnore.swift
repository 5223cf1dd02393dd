import Foundation

/// `.gitignore` rules as `pulumi policy publish` applies them: the files of the
/// pack directory and of every directory above it up to the root, later rules
/// (deeper files, later lines) winning; `!` re-includes.
public struct GitIgnore {
    struct Rule {
        var base: String  // directory of the .gitignore, absolute, no trailing slash
        var regex: NSRegularExpression
        var negated: Bool
        var directoryOnly: Bool
    }

    var rules: [Rule] = []

    /// Rules from `.gitignore` files in `directory` and all its ancestors.
    public init(loadingFrom directory: URL) {
        var dirs: [URL] = []
        var d = directory.standardizedFileURL
        while true {
            dirs.append(d)
            let parent = d.deletingLastPathComponent()
            if parent.path == d.path { break }
            d = parent
        }
        for dir in dirs.reversed() { add(fileIn: dir) }
    }

    /// Adds the rules of `<dir>/.gitignore`, if any (used while walking down).
    public mutating func add(fileIn dir: URL) {
        guard let text = try? String(contentsOf: dir.appendingPathComponent(".gitignore"), encoding: .utf8) else { return }
        let base = dir.standardizedFileURL.path
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var negated = false
            if line.hasPrefix("!") { negated = true; line.removeFirst() }
            if line.hasPrefix("\\") { line.removeFirst() }
            var directoryOnly = false
            if line.hasSuffix("/") { directoryOnly = true; line.removeLast() }
            let anchored = line.dropLast().contains("/") || line.hasPrefix("/")
            if line.hasPrefix("/") { line.removeFirst() }
            guard let regex = try? NSRegularExpression(pattern: Self.regex(line, anchored: anchored)) else { continue }
            rules.append(Rule(base: base, regex: regex, negated: negated, directoryOnly: directoryOnly))
        }
    }

    static func regex(_ pattern: String, anchored: Bool) -> String {
        var out = anchored ? "^" : "^(?:.*/)?"
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "*" {
                if i + 1 < chars.count && chars[i + 1] == "*" {
                    if i + 2 < chars.count && chars[i + 2] == "/" {
                        out += "(?:.*/)?"
                        i += 3
                        continue
                    }
                    out += ".*"
                    i += 2
                    continue
                }
                out += "[^/]*"
            } else if c == "?" {
                out += "[^/]"
            } else if c == "[" {
                var j = i + 1
                var cls = "["
                if j < chars.count && chars[j] == "!" { cls += "^"; j += 1 }
                while j < chars.count && chars[j] != "]" { cls += chars[j] == "\\" ? "\\\\" : String(chars[j]); j += 1 }
                if j < chars.count { out += cls + "]"; i = j + 1; continue }
                out += "\\["
            } else {
                out += NSRegularExpression.escapedPattern(for: String(c))
            }
            i += 1
        }
        return out + "(?:/.*)?$"
    }

    /// Whether the absolute `path` (a file, or a directory when `isDirectory`) is ignored.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        var ignored = false
        for rule in rules {
            guard path.hasPrefix(rule.base + "/") || rule.base == "/" else { continue }
            let rel = rule.base == "/" ? String(path.dropFirst()) : String(path.dropFirst(rule.base.count + 1))
            let range = NSRange(rel.startIndex..., in: rel)
            guard let m = rule.regex.firstMatch(in: rel, range: range) else { continue }
            // A directory-only rule matches a file only through one of its parent directories.
            if rule.directoryOnly && !isDirectory {
                let matched = (rel as NSString).substring(with: m.range)
                if matched == rel && !rel.contains("/") { continue }
                if !Self.matchesParent(rule.regex, rel) { continue }
            }
            ignored = !rule.negated
        }
        return ignored
    }

    private static func matchesParent(_ regex: NSRegularExpression, _ rel: String) -> Bool {
        var parts = rel.split(separator: "/").map(String.init)
        parts.removeLast()
        var prefix = ""
        for p in parts {
            prefix = prefix.isEmpty ? p : prefix + "/" + p
            if regex.firstMatch(in: prefix, range: NSRange(prefix.startIndex..., in: prefix)) != nil { return true }
        }
        return false
    }
}
