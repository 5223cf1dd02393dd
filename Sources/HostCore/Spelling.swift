/// "Did you mean …?" for names a user typed: a suggestion is offered only when it is close (at most
/// one edit per three characters, case ignored), so that a far-fetched one never misleads.
public enum Spelling {
    /// Levenshtein distance between two character sequences.
    public static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return row[b.count]
    }

    /// Whether `suggested` is close enough to `typed` to be offered.
    public static func isClose(_ typed: String, _ suggested: String) -> Bool {
        let a = Array(typed.lowercased()), b = Array(suggested.lowercased())
        return editDistance(a, b) <= max(1, min(a.count, b.count) / 3)
    }

    /// The closest of `candidates` to `typed`, if one is close enough.
    public static func suggestion(for typed: String, among candidates: [String]) -> String? {
        candidates.filter { isClose(typed, $0) }
            .min { editDistance(Array(typed.lowercased()), Array($0.lowercased())) < editDistance(Array(typed.lowercased()), Array($1.lowercased())) }
    }
}
