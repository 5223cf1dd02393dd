import Foundation

/// Copies of fixture packs, so that tests never write inside `Fixtures/packs/*/`: prepared copies
/// under `<TMPDIR>/policy-host-test-packs-<uid>/<name>` whose venvs are built once and kept between runs (`preparedRoot`),
/// and throw-away copies in a temporary directory (`pack(_:in:)`), which use a prepared copy's venv.
public enum FixtureCopy {
    /// The repository root (this file is `Tests/TestSupport/FixtureCopy.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/packs/<name>`.
    public static func fixturePack(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Fixtures/packs/\(name)")
    }

    /// Where prepared copies live: outside the checkout (whose `.gitignore` ignores `.build/`, which
    /// `pack` would honour as publish does, leaving the copies' archives empty).
    public static let preparedRoot: URL = FileManager.default.temporaryDirectory
        .appendingPathComponent("policy-host-test-packs-\(getuid())")

    private static let preparedLock = NSLock()
    nonisolated(unsafe) private static var refreshed: Set<String> = []

    /// `preparedRoot/<name>`: a copy of `Fixtures/packs/<name>` whose sources are refreshed once
    /// per test process (everything but its `venv/` is replaced), so its venv survives between runs
    /// and is checked by the caller's `install`. Safe to call from concurrent tests.
    public static func preparedCopy(_ name: String) throws -> URL {
        let copy = preparedRoot.appendingPathComponent(name)
        preparedLock.lock()
        defer { preparedLock.unlock() }
        guard !refreshed.contains(name) else { return copy }
        let fm = FileManager.default
        try fm.createDirectory(at: copy, withIntermediateDirectories: true)
        // Only under preparedRoot, which tests alone create: everything but the venv goes.
        for entry in try fm.contentsOfDirectory(atPath: copy.path) where entry != "venv" {
            try fm.removeItem(at: copy.appendingPathComponent(entry))
        }
        try copyTree(fixturePack(name), to: copy)
        refreshed.insert(name)
        return copy
    }

    /// What the copy does about a venv.
    public enum VenvUse: Sendable {
        /// No venv: the copy's `virtualenv:` is left as it is (a run creates one in the copy).
        case none
        /// `virtualenv:` is rewritten to the absolute path of the prepared copy's `venv/`, which is
        /// used as it is (as `OtherPythons.pack` does with a venv of another Python).
        case reuse
        /// `<copy>/venv` is a symbolic link to the prepared copy's `venv/`; `virtualenv:` is unchanged.
        case symlink
    }

    /// Entries never copied: built venvs and bytecode.
    public static let skipped: Set<String> = ["venv", ".venv", "__pycache__"]

    /// Copies `Fixtures/packs/<name>` (without `venv/`, `.venv/` or `__pycache__`, at any depth)
    /// into `directory/<destination ?? name>` and returns the copy.
    ///
    /// With `.reuse` or `.symlink` the prepared copy's venv must have been made (`preparedCopy` and
    /// `policy-host install`, which the integration tests' `preparedPack` does); a missing one is an
    /// error rather than a silent venv creation.
    @discardableResult
    public static func pack(_ name: String, in directory: URL, as destination: String? = nil,
                            venv: VenvUse = .reuse) throws -> URL {
        let source = fixturePack(name)
        let copy = directory.appendingPathComponent(destination ?? name)
        try copyTree(source, to: copy)
        let fixtureVenv = preparedRoot.appendingPathComponent("\(name)/venv")
        if venv != .none, !FileManager.default.fileExists(atPath: fixtureVenv.appendingPathComponent("pyvenv.cfg").path) {
            throw FixtureError(description: "\(fixtureVenv.path) has no pyvenv.cfg: prepare the pack first (preparedPack(\"\(name)\"))")
        }
        switch venv {
        case .none:
            break
        case .symlink:
            try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent("venv"), withDestinationURL: fixtureVenv)
        case .reuse:
            let yaml = copy.appendingPathComponent("PulumiPolicy.yaml")
            let text = try String(contentsOf: yaml, encoding: .utf8)
            guard text.contains("virtualenv: venv") else {
                throw FixtureError(description: "\(name)/PulumiPolicy.yaml has no `virtualenv: venv` to rewrite")
            }
            try text.replacingOccurrences(of: "virtualenv: venv", with: "virtualenv: \(fixtureVenv.path)")
                .write(to: yaml, atomically: true, encoding: .utf8)
        }
        return copy
    }

    /// A fresh temporary directory, `<TMPDIR>/policy-host-<label>-<uuid>`, removed when `body` returns.
    public static func withTemporaryDirectory<T>(_ label: String = "fixture", _ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }

    /// Copies a directory tree without the `skipped` entries; links are copied as links.
    static func copyTree(_ source: URL, to destination: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        for entry in try fm.contentsOfDirectory(atPath: source.path).sorted() where !skipped.contains(entry) && !entry.hasSuffix(".pyc") {
            let from = source.appendingPathComponent(entry), to = destination.appendingPathComponent(entry)
            let attributes = try fm.attributesOfItem(atPath: from.path)
            if attributes[.type] as? FileAttributeType == .typeDirectory {
                try copyTree(from, to: to)
            } else {
                try fm.copyItem(at: from, to: to)
            }
        }
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public var description: String
    }
}
