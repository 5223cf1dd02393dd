import Dispatch
import Foundation
import HostCore
import PolicyPack

/// Owns the pack's Python side for the server: every call into Python runs on
/// one serial queue, so RPCs that arrive together are served one at a time (the
/// SDK is not documented as thread-safe) and no cooperative-pool thread ever
/// blocks in Python.
final class PythonWorker: @unchecked Sendable {
    // Safe: `session`, `settings` and `loadError` are touched only on `queue`.
    private let queue = DispatchQueue(label: "policy-host.python")
    private var session: PackSession?
    private var loadError: HostError?
    private var settings: StackSettings
    private let python: String
    private let manifest: PolicyManifest

    private let nameLock = NSLock()
    private var loadedName = ""

    /// The pack's name once loaded (any thread).
    var packName: String {
        nameLock.lock(); defer { nameLock.unlock() }
        return loadedName
    }

    init(python: String, manifest: PolicyManifest, settings: StackSettings) {
        self.python = python
        self.manifest = manifest
        self.settings = settings
    }

    /// Runs `body` on the Python queue.
    func run<T: Sendable>(_ body: @escaping @Sendable (PythonWorker) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            queue.async {
                do { c.resume(returning: try body(self)) } catch { c.resume(throwing: error) }
            }
        }
    }

    /// The loaded pack, loading it on first use with the settings known so far (queue only).
    func loaded() throws -> PackSession {
        if let session { return session }
        if let loadError { throw loadError }
        do {
            let s = try PackSession.start(python: python, manifest: manifest, settings: settings)
            session = s
            nameLock.lock()
            loadedName = s.info.name
            nameLock.unlock()
            return s
        } catch {
            loadError = error
            throw error
        }
    }

    /// ConfigureStack: before the pack is loaded the settings are kept for loading (so config reaches
    /// `__main__.py`, as the language host's proxy arranges); afterwards they are applied (queue only).
    func configureStack(_ new: StackSettings) throws {
        settings = new
        if let session {
            _ = try session.call("configure_stack", [new.plainValue])
        } else {
            _ = try loaded()
        }
    }
}
