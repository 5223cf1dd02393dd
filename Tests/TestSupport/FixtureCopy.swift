import Foundation

/// Copies of fixture packs in a temporary directory, so that tests never write inside
/// `Fixtures/packs/*/` (venvs aside: `prepare` builds those where `install` puts them).
public enum FixtureCopy {
    /// The repository root (this file is `Tests/TestSupport/FixtureCopy.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/packs/<name>`.
    public static func fixturePack(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Fixtures/packs/\(name)")
    }

    /// What the copy does about a venv.
    public enum VenvUse: Sendable {
        /// No venv: the copy's `virtualenv:` is left as it is (a run creates one in the copy).
        case none
        /// `virtualenv:` is rewritten to the absolute path of the fixture's own `venv/`, which is
        /// used as it is (as `OtherPythons.pack` does with a venv of another Python).
        case reuse
        /// `<copy>/venv` is a symbolic link to the fixture's `venv/`; `virtualenv:` is unchanged.
        case symlink
    }

    /// Entries never copied: built venvs and bytecode.
    public static let skipped: Set<String> = ["venv", ".venv", "__pycache__"]

    /// Copies `Fixtures/packs/<name>` (without `venv/`, `.venv/` or `__pycache__`, at any depth)
    /// into `directory/<destination ?? name>` and returns the copy.
    ///
    /// With `.reuse` or `.symlink` the fixture's venv must have been made (`policy-host install
    /// Fixtures/packs/<name>`); a missing one is an error rather than a silent venv creation.
    @discardableResult
    public static func pack(_ name: String, in directory: URL, as destination: String? = nil,
                            venv: VenvUse = .reuse) throws -> URL {
        let source = fixturePack(name)
        let copy = directory.appendingPathComponent(destination ?? name)
        try copyTree(source, to: copy)
        let fixtureVenv = source.appendingPathComponent("venv")
        if venv != .none, !FileManager.default.fileExists(atPath: fixtureVenv.appendingPathComponent("pyvenv.cfg").path) {
            throw FixtureError(description: "\(fixtureVenv.path) has no pyvenv.cfg: run `policy-host install \(source.path)` first")
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
