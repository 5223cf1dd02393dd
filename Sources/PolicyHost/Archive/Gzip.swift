import CGzip
import Foundation

/// gzip streams in memory.
public enum Gzip {
    public static func compress(_ data: Data, level: Int32 = 6) throws(HostError) -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var outlen = 0
        let rc = data.withUnsafeBytes { buf in
            cgzip_deflate(buf.bindMemory(to: UInt8.self).baseAddress, buf.count, &out, &outlen, level)
        }
        guard rc == 0, let out else { throw HostError(.internal, "gzip compression failed") }
        defer { cgzip_free(out) }
        return Data(bytes: out, count: outlen)
    }

    /// Decompresses; `maxSize` bounds the output (a "zip bomb" fails instead of filling memory).
    public static func decompress(_ data: Data, maxSize: Int, file: String) throws(HostError) -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var outlen = 0
        let rc = data.withUnsafeBytes { buf in
            cgzip_inflate(buf.bindMemory(to: UInt8.self).baseAddress, buf.count, &out, &outlen, maxSize)
        }
        switch rc {
        case 0:
            guard let out else { return Data() }
            defer { cgzip_free(out) }
            return Data(bytes: out, count: outlen)
        case -2:
            throw HostError(.usage, "\(file): the archive expands to more than \(maxSize / (1 << 20)) MiB; refusing it",
                            hint: "raise the limit with --max-size if the pack really is that large")
        default:
            throw HostError(.usage, "\(file): not a valid .tar.gz archive (corrupt or truncated gzip data)")
        }
    }
}
