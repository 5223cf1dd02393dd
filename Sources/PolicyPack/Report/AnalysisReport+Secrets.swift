import HostCore
import PolicyValues

extension AnalysisReport {
    /// The report with every secret replaced by `[secret]` (`SecretRedactor`): in every message,
    /// reason, traceback, warning and failure, and in remediated properties, where a secret-signed
    /// value becomes `[secret]` whatever its text. Policy names and descriptions (the pack's own
    /// text) and URNs (the resource's identity, public in the stack) are left alone.
    /// `--show-secrets` skips this.
    public func redacted(by redactor: SecretRedactor) -> AnalysisReport {
        // Values a policy signed as secret in a remediation are secrets too, wherever else they appear.
        var redactor = redactor
        for r in remediations { redactor.add(secretsIn: r.properties) }
        guard !redactor.isEmpty || redactor.shortSecrets > 0 else { return self }  // no secret anywhere
        let s = { (text: String) in redactor.redact(text) }
        var out = self
        out.violations = violations.map { v in
            var v = v
            v.message = s(v.message)
            return v
        }
        out.remediations = remediations.map { r in
            var r = r
            r.properties = redactor.redact(r.properties)
            r.diagnostic = s(r.diagnostic)
            return r
        }
        out.notApplicable = notApplicable.map { n in
            var n = n
            n.reason = s(n.reason)
            return n
        }
        out.errors = errors.map { e in
            var e = e
            e.message = s(e.message)
            e.traceback = s(e.traceback)
            return e
        }
        out.warnings = warnings.map(s)
        out.packFailures = packFailures.map { f in
            var f = f
            f.message = s(f.message)
            f.stderrTail = s(f.stderrTail)
            return f
        }
        return out
    }

    /// Remediated properties with the secret signature put back on top-level values that were
    /// secret in the request and come back unsigned (a policy that copied its properties with
    /// `dict()` drops it: the SDK's proxy re-signs only values assigned to a key).
    static func keepingSecrecy(_ remediated: PlainValue, of request: PlainObject) -> PlainValue {
        guard case .object(var props) = remediated else { return remediated }
        for e in request.entries {
            guard case .object(let was) = e.value, was[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig,
                  let now = props[e.key] else { continue }
            if case .object(let o) = now, o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig { continue }
            props[e.key] = EngineEncoding.wrapSecret(now)
        }
        return .object(props)
    }
}

extension HostError {
    /// The error with every secret in its message, hint and detail replaced by `[secret]`.
    public func redacted(by redactor: SecretRedactor) -> HostError {
        var e = self
        e.message = redactor.redact(message)
        e.hints = hints.map { redactor.redact($0) }
        e.detail = detail.map { redactor.redact($0) }
        return e
    }
}
