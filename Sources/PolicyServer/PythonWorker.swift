import Foundation
import HostCore
import NIOConcurrencyHelpers
import NIOPosix
import PolicyPack

/// Owns the pack's Python side for the server: every call into Python runs on one dedicated thread
/// (a one-thread `NIOThreadPool`: a job is appended under a lock and the thread woken by its
/// condition variable, no dispatch queue between), so RPCs that arrive together are served one at
/// a time (the SDK is not documented as thread-safe) and no event loop ever blocks in Python.
final class PythonWorker: @unchecked Sendable {
    // Safe: `session`, `settings` and `loadError` are touched only on the Python thread.
    private let thread: NIOThreadPool
    private var session: PackSession?
    private var loadError: HostError?
    private var settings: StackSettings
    private let python: String
    private let manifest: PolicyManifest

    /// Whether a Remediate call would run any policy as the pack is configured now; nil until the
    /// pack is loaded. Written on the Python thread before the answer of the call that changed it
    /// (load, Configure, ConfigureStack) is sent, read on the event loops.
    private let remediation = NIOLockedValueBox<Bool?>(nil)

    /// True when Remediate is known to run no policy code: the SDK's servicer would set up the
    /// runtime, skip every policy and answer an empty response, so the loop answers it (`analyze`
    /// skips the call altogether). The next call that runs policies sets the runtime up again first.
    var remediatesNothing: Bool { remediation.withLockedValue { $0 == false } }

    /// Asks the pack whether Remediate would run a policy (Python thread only).
    func refreshRemediation(_ s: PackSession) {
        let remediates = (try? s.call("remediates", []))?.boolValue ?? true
        remediation.withLockedValue { $0 = remediates }
    }

    init(python: String, manifest: PolicyManifest, settings: StackSettings) {
        self.python = python
        self.manifest = manifest
        self.settings = settings
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// Runs `body` on the Python thread, after the jobs submitted before it.
    func submit(_ body: @escaping @Sendable (PythonWorker) -> Void) {
        thread.submit { state in
            guard case .active = state else { return }
            body(self)
        }
    }

    /// The loaded pack, loading it on first use with the settings known so far (Python thread only).
    func loaded() throws -> PackSession {
        if let session { return session }
        if let loadError { throw loadError }
        do {
            let s = try PackSession.start(python: python, manifest: manifest, settings: settings)
            _ = try? s.call("settle_for_serving", [])
            refreshRemediation(s)
            session = s
            return s
        } catch {
            loadError = error
            throw error
        }
    }

    /// ConfigureStack: before the pack is loaded the settings are kept for loading (so config reaches
    /// `__main__.py`, as the language host's proxy arranges); afterwards they are applied (Python
    /// thread only).
    func configureStack(_ new: StackSettings) throws {
        settings = new
        if let session {
            _ = try session.call("configure_stack", [new.plainValue])
            refreshRemediation(session)
        } else {
            _ = try loaded()
        }
    }
}
