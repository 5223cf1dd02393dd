import Foundation
import HostCore
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
        } else {
            _ = try loaded()
        }
    }
}
