import Foundation
import HostCore

/// What a Python interpreter says about itself when run (as uv queries interpreters).
public struct InterpreterInfo: Sendable, Equatable, Codable {
    public var executable: String
    public var version: String
    public var majorMinor: String
    public var prefix: String
    public var basePrefix: String
    public var soabi: String

    static let script = """
    import json, sys, sysconfig
    print(json.dumps({"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3],
      "majorMinor": "%d.%d" % sys.version_info[:2], "prefix": sys.prefix, "basePrefix": sys.base_prefix,
      "soabi": sysconfig.get_config_var("SOABI") or ""}))
    """

    /// The interpreter's answer, from a cache keyed by its resolved path, size and
    /// modification time (as uv caches interpreter queries), else by running it.
    public static func query(_ python: String) throws(HostError) -> InterpreterInfo {
        let resolved = URL(fileURLWithPath: python).resolvingSymlinksInPath().path
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: resolved),
              let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970,
              let size = (attrs[.size] as? NSNumber)?.intValue
        else { return try run(python) }
        let key = "\(python)|\(resolved)|\(size)|\(mtime)"
        let cacheDir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache"))
            .appendingPathComponent("policy-host/interpreters")
        let file = cacheDir.appendingPathComponent(String(key.hashValueStable, radix: 16) + ".json")
        if let data = FileManager.default.contents(atPath: file.path),
           let entry = try? JSONDecoder().decode(CacheEntry.self, from: data), entry.key == key {
            return entry.info
        }
        let info = try run(python)
        try? FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        if let data = try? JSONEncoder().encode(CacheEntry(key: key, info: info)) {
            try? data.write(to: file, options: .atomic)
        }
        return info
    }

    private struct CacheEntry: Codable {
        var key: String
        var info: InterpreterInfo
    }

    /// Runs `python -I -c <script>` and decodes its answer.
    static func run(_ python: String) throws(HostError) -> InterpreterInfo {
        let result: ProcessResult
        do {
            result = try Subprocess.run([python, "-I", "-c", script])
        } catch {
            throw HostError(.environment, "could not run the Python interpreter \(python): \(error.localizedDescription)")
        }
        guard result.status == 0,
              let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let info = try? JSONDecoder().decode(InterpreterInfo.self, from: Data(line.utf8))
        else {
            throw HostError(.environment, "the Python interpreter \(python) is broken (exit status \(result.status))",
                            detail: result.tail(10))
        }
        return info
    }
}

extension String {
    /// FNV-1a: a hash that is stable across processes (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }
}
