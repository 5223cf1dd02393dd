import Foundation
import HostCore

/// Where the passphrase comes from, looked up as the CLI's `readPassphrase` looks it up
/// (`pkg/secrets/passphrase/manager.go`), without the prompt:
///
/// 1. `PULUMI_CONFIG_PASSPHRASE`, when set, even to the empty string (a valid passphrase);
/// 2. else the file `PULUMI_CONFIG_PASSPHRASE_FILE` names, when set and not empty (relative to the
///    current directory), its content trimmed of white space as Go's `strings.TrimSpace` trims it;
/// 3. else none: the CLI would prompt on a terminal and fail otherwise ("passphrase must be set
///    with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables");
///    policy-host never prompts, and redacts the secrets with a warning instead.
///
/// Values are bytes, as the CLI hands `[]byte(phrase)` to PBKDF2: no Unicode normalisation.
public struct PassphraseSource: Sendable {
    /// `PULUMI_CONFIG_PASSPHRASE`'s bytes, `nil` when unset.
    public var passphrase: [UInt8]?
    /// `PULUMI_CONFIG_PASSPHRASE_FILE`, `nil` when unset.
    public var passphraseFile: String?
    /// What a relative `passphraseFile` is relative to.
    public var currentDirectory: String

    /// The most a passphrase file may hold: a passphrase is a line, and a link to `/dev/zero` or a
    /// log file must not be read to its end.
    public static let maxFileSize = 64 << 10

    public init(passphrase: [UInt8]?, passphraseFile: String?, currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.passphrase = passphrase
        self.passphraseFile = passphraseFile
        self.currentDirectory = currentDirectory
    }

    /// None given (tests, and stack files whose secrets need none).
    public static let none = PassphraseSource(passphrase: nil, passphraseFile: nil, currentDirectory: "/")

    /// This process's environment, read as bytes (`getenv`), so that a passphrase that is not UTF-8
    /// reaches PBKDF2 as the CLI would pass it.
    public static func environment() -> PassphraseSource {
        func bytes(_ name: String) -> [UInt8]? {
            guard let p = getenv(name) else { return nil }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p)))
        }
        return PassphraseSource(passphrase: bytes("PULUMI_CONFIG_PASSPHRASE"),
                                passphraseFile: bytes("PULUMI_CONFIG_PASSPHRASE_FILE").map { String(decoding: $0, as: UTF8.self) })
    }

    /// Whether a passphrase is given at all (reading no file).
    public var isGiven: Bool { passphrase != nil || !(passphraseFile ?? "").isEmpty }

    /// The passphrase, or `nil` when none is given. An unreadable file is an error, as in the CLI,
    /// whose message it keeps ("unable to read PULUMI_CONFIG_PASSPHRASE_FILE: …").
    public func resolve() throws(HostError) -> [UInt8]? {
        if let passphrase { return passphrase }
        guard let name = passphraseFile, !name.isEmpty else { return nil }
        let path = URL(fileURLWithPath: name, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true)).standardizedFileURL.path
        func fail(_ reason: String) -> HostError {
            HostError(.usage, "unable to read PULUMI_CONFIG_PASSPHRASE_FILE: \(path): \(reason)",
                      hint: "PULUMI_CONFIG_PASSPHRASE_FILE names a file that holds the passphrase (white space around it is trimmed); or set PULUMI_CONFIG_PASSPHRASE, which comes first")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("no such file") }
        guard !isDirectory.boolValue else { throw fail("is a directory") }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            // One byte more than allowed tells a file at the limit from a longer one; a pipe
            // (`<(echo …)`) is read to its end like a file.
            data = try handle.read(upToCount: Self.maxFileSize + 1) ?? Data()
        } catch {
            throw fail("not readable (\((error as NSError).localizedDescription))")
        }
        guard data.count <= Self.maxFileSize else { throw fail("larger than \(Self.maxFileSize >> 10) KiB; a passphrase file holds one line") }
        return Self.trimSpace([UInt8](data))
    }

    /// Go's `strings.TrimSpace` on bytes: leading and trailing runes with Unicode's White_Space
    /// property (what `unicode.IsSpace` tests) are dropped; a byte that is not UTF-8 stops the trim.
    public static func trimSpace(_ bytes: [UInt8]) -> [UInt8] {
        var start = 0, end = bytes.count
        while start < end, let width = spaceWidth(bytes[start..<end]) { start += width }
        while end > start {
            // The last rune starts at the last byte that is not a continuation byte (at most 4 back).
            var s = end - 1
            while s > start, end - s < 4, bytes[s] & 0xC0 == 0x80 { s -= 1 }
            guard let width = spaceWidth(bytes[s..<end]), width == end - s else { break }
            end = s
        }
        return Array(bytes[start..<end])
    }

    /// The width of the white-space rune at the start of `bytes`, or `nil`.
    private static func spaceWidth(_ bytes: ArraySlice<UInt8>) -> Int? {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let scalar) = decoder.decode(&it), scalar.properties.isWhitespace else { return nil }
        return UTF8.width(scalar)
    }
}
