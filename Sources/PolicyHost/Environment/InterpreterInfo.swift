import Foundation

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

    /// Runs `python -I -c <script>` and decodes its answer.
    public static func query(_ python: String) throws(HostError) -> InterpreterInfo {
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
