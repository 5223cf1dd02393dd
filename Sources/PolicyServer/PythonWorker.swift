import Foundation
import HostCore
import NIOConcurrencyHelpers
import NIOCore
import PolicyPack

/// Owns the pack's Python side for the server. Calls into Python are jobs, run one at a time (the
/// SDK is not documented as thread-safe) by whichever of the server's I/O threads finds them queued
/// and no job running (`runQueued`): the thread that read a request runs its Python itself, with no
/// hand-off to another thread and back, while the server's other I/O thread serves everything else
/// — Cancel, Handshake, deadlines, other connections — however long a policy runs.
///
/// Every job after the pack is loaded runs in one contextvars context, a copy of the one the pack
/// loaded in, whichever thread runs it: what a policy sets in a context variable is seen by the
/// next call as on a server with one Python thread.
final class PythonWorker: @unchecked Sendable {
    // Safe: `session`, `settings`, `loadError` and `inContext` are touched only by the thread that holds
    // the right to run jobs (`Queue.running`, taken and given back under the queue's lock).
    private var session: PackSession?
    private var loadError: HostError?
    private var settings: StackSettings
    private var inContext = false
    private let python: String
    private let manifest: PolicyManifest

    private struct Queue {
        var jobs = CircularBuffer<@Sendable (PythonWorker) -> Void>()
        var running = false
    }
    private let queue = NIOLockedValueBox(Queue())

    /// Whether a Remediate call would run any policy as the pack is configured now; nil until the
    /// pack is loaded. Written by the job of the call that changed it (load, Configure, ConfigureStack)
    /// before its answer is sent, read on the connections' loops.
    private let remediation = NIOLockedValueBox<Bool?>(nil)

    /// True when Remediate is known to run no policy code: the SDK's servicer would set up the
    /// runtime, skip every policy and answer an empty response, so the connection's loop answers it (`analyze`
    /// skips the call altogether). The next call that runs policies sets the runtime up again first.
    var remediatesNothing: Bool { remediation.withLockedValue { $0 == false } }

    /// Asks the pack whether Remediate would run a policy (from a job only).
    func refreshRemediation(_ s: PackSession) {
        let remediates = (try? s.call("remediates", []))?.boolValue ?? true
        remediation.withLockedValue { $0 = remediates }
    }

    init(python: String, manifest: PolicyManifest, settings: StackSettings) {
        self.python = python
        self.manifest = manifest
        self.settings = settings
    }

    /// Queues `body` for Python, after the jobs submitted before it; an I/O thread runs it with
    /// `runQueued` once it holds no connection.
    func submit(_ body: @escaping @Sendable (PythonWorker) -> Void) {
        queue.withLockedValue { $0.jobs.append(body) }
    }

    /// Runs the queued jobs on the calling thread until none is left, unless another thread is
    /// running them already (which then runs these too). Called by an I/O thread holding no
    /// connection, so a job's answer can be written from here.
    func runQueued() {
        var next = queue.withLockedValue { q -> (@Sendable (PythonWorker) -> Void)? in
            guard !q.running, let job = q.jobs.popFirst() else { return nil }
            q.running = true
            return job
        }
        while let job = next {
            run(job)
            next = queue.withLockedValue { q in
                guard let job = q.jobs.popFirst() else {
                    q.running = false
                    return nil
                }
                return job
            }
        }
    }

    var hasQueuedJobs: Bool { queue.withLockedValue { !$0.jobs.isEmpty } }

    private func run(_ job: @Sendable (PythonWorker) -> Void) {
        if let session { inContext = session.enterSharedContext() }
        job(self)
        if inContext, let session { session.exitSharedContext() }
        inContext = false
    }

    /// The loaded pack, loading it on first use with the settings known so far (from a job only).
    func loaded() throws -> PackSession {
        if let session { return session }
        if let loadError { throw loadError }
        do {
            let s = try PackSession.start(python: python, manifest: manifest, settings: settings)
            _ = try? s.call("settle_for_serving", [])
            refreshRemediation(s)
            session = s
            // Calls from here on run in a copy of the context the pack loaded in (this one included).
            s.shareCurrentContext()
            inContext = s.enterSharedContext()
            return s
        } catch {
            loadError = error
            throw error
        }
    }

    /// ConfigureStack: before the pack is loaded the settings are kept for loading (so config reaches
    /// `__main__.py`, as the language host's proxy arranges); afterwards they are applied (Python
    /// job only).
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
