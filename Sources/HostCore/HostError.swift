/// The documented exit codes of `policy-host` (see README "Exit codes").
public enum ExitStatus: Int32, Sendable {
    /// Success: no mandatory violation.
    case ok = 0
    /// At least one mandatory violation (data, not an error).
    case violations = 1
    /// Bad command line or bad input file (missing, unparseable, wrong format, invalid config).
    case usage = 2
    /// The environment failed: no matching interpreter, venv creation or install failed.
    case environment = 3
    /// The pack failed to load: missing files, a bad PulumiPolicy.yaml, or its `__main__.py` raised.
    case packLoad = 4
    /// A policy raised while running (the engine would fail the deployment).
    case policyError = 5
    /// A bug in policy-host itself.
    case `internal` = 70
}

/// A user-facing error: one line saying what and where, optional hints,
/// optional detail (a traceback or an installer's output tail).
public struct HostError: Error, Sendable, CustomStringConvertible {
    public var status: ExitStatus
    public var message: String
    public var hints: [String]
    public var detail: String?

    public init(_ status: ExitStatus, _ message: String, hint: String? = nil, detail: String? = nil) {
        self.status = status
        self.message = message
        self.hints = hint.map { [$0] } ?? []
        self.detail = detail
    }

    public var description: String { message }

    /// The text printed to stderr: `error: …`, the detail, then `hint: …` lines.
    public var rendered: String {
        var out = "error: \(message)\n"
        if let detail, !detail.isEmpty {
            out += detail.hasSuffix("\n") ? detail : detail + "\n"
        }
        for h in hints { out += "hint: \(h)\n" }
        return out
    }
}
