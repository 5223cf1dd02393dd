import Foundation

/// How much of the installers' work is shown.
public enum Verbosity: Sendable {
    case quiet, normal, verbose
}

/// Shows venv work as it happens: on a terminal, one live line (phase, the
/// package being handled, elapsed time); when piped or with `--verbose`, the
/// installers' own lines; with `--quiet`, nothing. Everything also goes to the
/// venv's install log.
public final class InstallReporter: @unchecked Sendable {
    private let verbosity: Verbosity
    private let live: Bool
    private let lock = NSLock()
    private var phase = ""
    private var detail = ""
    private var started = Date()
    private var pending = Data()
    private var log: FileHandle?

    public init(verbosity: Verbosity, isTerminal: Bool = isatty(2) != 0) {
        self.verbosity = verbosity
        live = isTerminal && verbosity == .normal
    }

    /// Starts appending everything to `url` (the venv's install log).
    func openLog(_ url: URL) {
        lock.lock(); defer { lock.unlock() }
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        log = try? FileHandle(forWritingTo: url)
        _ = try? log?.seekToEnd()
    }

    func closeLog() {
        lock.lock(); defer { lock.unlock() }
        try? log?.close()
        log = nil
    }

    /// A headline such as "Creating virtual environment at …".
    func message(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        log?.write(Data("== \(text)\n".utf8))
        guard verbosity != .quiet else { return }
        clearLine()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A `warning:` line, shown even with `--quiet`.
    func warning(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        log?.write(Data("== warning: \(text)\n".utf8))
        clearLine()
        FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
    }

    /// Begins a phase (one installer command).
    func begin(_ phase: String, command: [String]) {
        lock.lock(); defer { lock.unlock() }
        self.phase = phase
        detail = ""
        started = Date()
        log?.write(Data("$ \(command.joined(separator: " "))\n".utf8))
        if live { redraw() }
    }

    /// Output from the running installer.
    func output(_ data: Data) {
        lock.lock(); defer { lock.unlock() }
        log?.write(data)
        switch verbosity {
        case .quiet: return
        case .verbose: FileHandle.standardError.write(data); return
        case .normal:
            if !live { FileHandle.standardError.write(data); return }
        }
        pending.append(data)
        while let nl = pending.firstIndex(of: 0x0A) {
            let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            pending.removeSubrange(pending.startIndex...nl)
            if let d = Self.summary(of: line) { detail = d }
        }
        redraw()
    }

    /// Ends the phase; the live line is cleared.
    func end() {
        lock.lock(); defer { lock.unlock() }
        pending.removeAll()
        if live { clearLine() }
    }

    /// The interesting part of an installer line: the package being fetched or installed.
    static func summary(of line: String) -> String? {
        for prefix in ["Collecting ", "Downloading ", "Installing collected packages: ", "Successfully installed ",
                       "Resolved ", "Prepared ", "Installed ", "Building wheel for ", "Requirement already satisfied: "] where line.hasPrefix(prefix) {
            return String(line.prefix(70))
        }
        return nil
    }

    private func redraw() {
        let elapsed = String(format: "%.1fs", Date().timeIntervalSince(started))
        var text = "\(phase) \(elapsed)"
        if !detail.isEmpty { text += "  \(detail)" }
        let width = 100
        if text.count > width { text = String(text.prefix(width - 1)) + "…" }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
    }

    private func clearLine() {
        if live { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
