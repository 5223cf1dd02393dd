import Foundation
import PolicyValues
import HostCore

/// Runs several packs, each in a process of its own (its own venv and interpreter,
/// so packs may pin different SDK versions), up to `jobs` at a time, and merges
/// their reports in the order the packs were given. A pack that crashes, exits
/// oddly or outlives `timeout` becomes a `PackFailure` with its stderr tail; the
/// other packs' results are still reported. Each pack is a `PackWorker`, with the same completion
/// handshake as a single-pack run.
public struct MultiPackRunner: Sendable {
    public struct Job: Sendable {
        public var label: String
        public var arguments: [String]
        public init(label: String, arguments: [String]) {
            self.label = label
            self.arguments = arguments
        }
    }

    public var executable: String
    public var jobs: Int
    public var timeout: Double?

    public init(executable: String, jobs: Int, timeout: Double?) {
        self.executable = executable
        self.jobs = max(1, jobs)
        self.timeout = timeout
    }

    public func run(_ work: [Job]) -> AnalysisReport {
        let results = Results(count: work.count)
        let semaphore = DispatchSemaphore(value: jobs)
        let group = DispatchGroup()
        for (i, job) in work.enumerated() {
            semaphore.wait()
            group.enter()
            Thread.detachNewThread {
                results.set(i, self.runOne(job))
                semaphore.signal()
                group.leave()
            }
        }
        group.wait()
        var merged = AnalysisReport()
        for r in results.all { merged.merge(r) }
        return merged
    }

    private func runOne(_ job: Job) -> AnalysisReport {
        var report = AnalysisReport()
        let logDir: URL
        do { logDir = try ChildProcesses.makeScratchDirectory(prefix: "policy-host-log") } catch {
            report.packFailures = [.init(policyPack: job.label, message: error.message, exitStatus: ExitStatus.environment.rawValue, stderrTail: "")]
            return report
        }
        defer { try? FileManager.default.removeItem(at: logDir) }
        let log = logDir.appendingPathComponent("stderr")
        let outcome = PackWorker.run(executable: executable, arguments: job.arguments, stderr: .file(log), timeout: timeout)
        let stderrText = String(decoding: FileManager.default.contents(atPath: log.path) ?? Data(), as: UTF8.self)
        let tail = stderrText.split(separator: "\n", omittingEmptySubsequences: false).suffix(20).joined(separator: "\n")
        switch outcome {
        case .report(_, let bytes):
            do { return try AnalysisReport.decode(json: bytes) } catch {
                report.packFailures = [.init(policyPack: job.label, message: "its report could not be read: \(error.message)",
                                             exitStatus: ExitStatus.packLoad.rawValue, stderrTail: tail)]
            }
        case .failed(let status):
            let firstError = stderrText.split(separator: "\n").first { $0.hasPrefix("error: ") }.map { String($0.dropFirst(7)) }
            report.packFailures = [.init(policyPack: job.label, message: firstError ?? "failed with status \(status)",
                                         exitStatus: [2, 3, 4].contains(status) ? status : ExitStatus.packLoad.rawValue, stderrTail: tail)]
        case .abnormal(let message):
            report.packFailures = [.init(policyPack: job.label, message: message, exitStatus: ExitStatus.packLoad.rawValue, stderrTail: tail)]
        }
        return report
    }

    final class Results: @unchecked Sendable {
        private var items: [AnalysisReport]
        private let lock = NSLock()
        init(count: Int) { items = Array(repeating: AnalysisReport(), count: count) }
        func set(_ i: Int, _ r: AnalysisReport) { lock.lock(); items[i] = r; lock.unlock() }
        var all: [AnalysisReport] { lock.lock(); defer { lock.unlock() }; return items }
    }

}
