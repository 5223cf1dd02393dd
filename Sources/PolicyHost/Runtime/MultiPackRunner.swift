import Foundation
import PythonRuntime

/// Runs several packs, each in a process of its own (its own venv and interpreter,
/// so packs may pin different SDK versions), up to `jobs` at a time, and merges
/// their reports in the order the packs were given. A pack that crashes, exits
/// oddly or outlives `timeout` becomes a `PackFailure` with its stderr tail; the
/// other packs' results are still reported.
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = job.arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        var report = AnalysisReport()
        do { try p.run() } catch {
            report.packFailures = [.init(policyPack: job.label, message: "could not start: \(error.localizedDescription)", exitStatus: 70, stderrTail: "")]
            return report
        }
        let stderrBox = DataBox(), stdoutBox = DataBox()
        let readers = DispatchGroup()
        for (pipe, box) in [(out, stdoutBox), (err, stderrBox)] {
            readers.enter()
            DispatchQueue.global().async {
                box.data = pipe.fileHandleForReading.readDataToEndOfFile()
                readers.leave()
            }
        }
        var timedOut = false
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning {
                timedOut = true
                kill(-p.processIdentifier, SIGKILL)  // its installers too
                kill(p.processIdentifier, SIGKILL)
            }
        }
        p.waitUntilExit()
        readers.wait()
        let stderrText = String(decoding: stderrBox.data, as: UTF8.self)
        let tail = stderrText.split(separator: "\n", omittingEmptySubsequences: false).suffix(20).joined(separator: "\n")
        let status = p.terminationStatus
        if !timedOut, p.terminationReason == .exit, [0, 1, 5].contains(status),
           let json = try? JSON.parse(stdoutBox.data), let r = AnalysisReport(json: json) {
            return r
        }
        let message: String
        if timedOut {
            message = "timed out after \(JSON.formatNumber(timeout ?? 0)) s and was killed"
        } else if p.terminationReason == .uncaughtSignal {
            message = "crashed (signal \(status)\(status == SIGSEGV ? ", segmentation fault" : ""))"
        } else {
            let firstError = stderrText.split(separator: "\n").first { $0.hasPrefix("error: ") }.map { String($0.dropFirst(7)) }
            message = firstError ?? "exited with status \(status) without a report"
        }
        let exitStatus: Int32 = timedOut || p.terminationReason == .uncaughtSignal ? ExitStatus.packLoad.rawValue
            : ([2, 3, 4].contains(status) ? status : ExitStatus.packLoad.rawValue)
        report.packFailures = [.init(policyPack: job.label, message: message, exitStatus: exitStatus, stderrTail: tail)]
        return report
    }

    final class Results: @unchecked Sendable {
        private var items: [AnalysisReport]
        private let lock = NSLock()
        init(count: Int) { items = Array(repeating: AnalysisReport(), count: count) }
        func set(_ i: Int, _ r: AnalysisReport) { lock.lock(); items[i] = r; lock.unlock() }
        var all: [AnalysisReport] { lock.lock(); defer { lock.unlock() }; return items }
    }

    final class DataBox: @unchecked Sendable {
        var data = Data()
    }
}
