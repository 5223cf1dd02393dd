import Foundation
import PolicyValues
import Testing
import TestSupport

/// Paths and process helpers for tests that run the built `policy-host` binary.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var binary: String {
        ProcessInfo.processInfo.environment["POLICY_HOST_BIN"] ?? root.appendingPathComponent(".build/debug/policy-host").path
    }
    static func pack(_ name: String) -> URL { root.appendingPathComponent("Fixtures/packs/\(name)") }
    static func stack(_ name: String) -> URL { root.appendingPathComponent("Fixtures/stacks/\(name)") }
    static func config(_ name: String) -> URL { root.appendingPathComponent("Fixtures/config/\(name)") }
}

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String

    var json: PlainValue? { try? JSON.parse(stdout) }
}

/// Runs a command with stdout and stderr captured separately.
func run(_ argv: [String], cwd: URL? = nil, env: [String: String]? = nil) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    if let cwd { p.currentDirectoryURL = cwd }
    if let env { p.environment = env }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // Read both pipes concurrently so neither fills up.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
               stderr: String(decoding: errData, as: UTF8.self))
}

func policyHost(_ args: [String], cwd: URL? = nil, env: [String: String]? = nil) throws -> Run {
    try run([Repo.binary] + args, cwd: cwd, env: env)
}

/// The prepared copy of a fixture pack (`<TMPDIR>/policy-host-test-packs-<uid>/<name>`, see `FixtureCopy.preparedCopy`)
/// with its venv built (a no-op when its stamp is fresh). Nothing is written under `Fixtures/`.
func preparedPack(_ name: String) throws -> URL {
    let dir = try FixtureCopy.preparedCopy(name)
    let r = try policyHost(["install", "--quiet", dir.path])
    #expect(r.status == 0, "install of \(name) failed: \(r.stderr)")
    return dir
}

/// A scratch directory removed when the closure returns.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

extension PlainValue {
    /// `(policyName, urn-name, level)` triples of a report's violations, sorted.
    var violationTriples: [String] {
        (self["violations"]?.arrayValue ?? []).map { v in
            let urn = v["urn"]?.stringValue ?? ""
            let name = urn.components(separatedBy: "::").last ?? urn
            return "\(v["policyName"]?.stringValue ?? "") \(name) \(v["enforcementLevel"]?.stringValue ?? "")"
        }.sorted()
    }
}
