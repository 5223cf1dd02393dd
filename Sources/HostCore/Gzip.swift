import Foundation

/// gzip streams, through Debian's `gzip` (an essential package) working on files.
/// A C target over zlib next to the CPython module made clang disagree with
/// itself about glibc's `fd_set` in clean builds, so this runs gzip instead.
public enum Gzip {
    static let gzip = ["/bin/gzip", "/usr/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/bin/gzip"

    public static func compress(_ data: Data, level: Int32 = 6) throws(HostError) -> Data {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("policy-host-\(getpid())-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(at: tmp) }
        do { try data.write(to: tmp) } catch {
            throw HostError(.environment, "cannot write \(tmp.path): \(error.localizedDescription)")
        }
        let (status, out, _) = run(["-c", "-n", "-\(level)", tmp.path], limit: Int.max)
        guard status == 0 else { throw HostError(.internal, "gzip compression failed (exit status \(status))") }
        return out
    }

    /// Decompresses a .gz file; `maxSize` bounds the output (a "zip bomb" fails instead of filling memory).
    public static func decompress(file: URL, maxSize: Int) throws(HostError) -> Data {
        let (status, out, exceeded) = run(["-d", "-c", file.path], limit: maxSize)
        if exceeded {
            throw HostError(.usage, "\(file.path): the archive expands to more than \(maxSize / (1 << 20)) MiB; refusing it",
                            hint: "raise the limit with --max-size if the pack really is that large")
        }
        guard status == 0 else { throw HostError(.usage, "\(file.path): not a valid .tar.gz archive (corrupt or truncated gzip data)") }
        return out
    }

    /// Runs gzip; stops reading (and kills it) past `limit` bytes of output.
    private static func run(_ args: [String], limit: Int) -> (Int32, Data, Bool) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gzip)
        p.arguments = args
        let stdout = Pipe()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return (127, Data(), false) }
        var out = Data()
        var exceeded = false
        let reader = stdout.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            out.append(chunk)
            if out.count > limit {
                exceeded = true
                kill(p.processIdentifier, SIGKILL)
                break
            }
        }
        p.waitUntilExit()
        return (exceeded ? 1 : p.terminationStatus, out, exceeded)
    }
}
