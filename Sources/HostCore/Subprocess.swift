import Foundation

/// Running a helper program (python, pip, uv) with its output shown live on
/// stderr and kept for error messages.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: String

    /// The last `lines` lines of the output.
    public func tail(_ lines: Int = 20) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

public enum Subprocess {
    /// Runs `argv` and returns its status and combined output; `onOutput` sees the output as it
    /// arrives, `onStart` the child's PID.
    public static func run(_ argv: [String], cwd: URL? = nil, environment: [String: String]? = nil,
                           onOutput: (@Sendable (Data) -> Void)? = nil,
                           onStart: ((Int32) -> Void)? = nil) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        if let cwd { p.currentDirectoryURL = cwd }
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        let collected = Collected()
        pipe.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            guard !d.isEmpty else { return }
            collected.append(d)
            onOutput?(d)
        }
        try p.run()
        // Foundation makes the child a process group leader: a termination signal stops it and its children.
        ChildProcesses.register(group: p.processIdentifier)
        defer { ChildProcesses.unregister(group: p.processIdentifier) }
        onStart?(p.processIdentifier)
        p.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        if !rest.isEmpty {
            collected.append(rest)
            onOutput?(rest)
        }
        return ProcessResult(status: p.terminationStatus, output: collected.text)
    }

    /// The first executable named `name` on `PATH` (or `name` itself when it contains a slash).
    public static func which(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (path ?? "").split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private final class Collected: @unchecked Sendable {
        private var data = Data()
        private let lock = NSLock()
        func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }
}
