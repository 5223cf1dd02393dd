import NIOHPACK

/// The checks RFC 9113 (§ 8.1.1, 8.2, 8.3) makes of the header blocks a server receives, made by
/// serve itself: a block that fails one is a malformed request, answered with RST_STREAM
/// PROTOCOL_ERROR (`AnalyzerConnectionHandler`). NIO's HTTP/2 handler makes the same checks, and its
/// content-length check, on every block in *and out*; serve turns those off
/// (`AnalyzerServer.configure`) because re-checking the server's own constant answer headers, with
/// String operations per character, was ≈6 µs of a sequential Analyze's CPU. What is checked here,
/// byte by byte, is what NIO checks of a request (its `HPACKHeaders+Validation` and
/// `ContentLengthVerifier`, without extended CONNECT, which serve does not offer):
///
/// - every field name a token of lowercase characters (`:` first for a pseudo-header);
/// - pseudo-headers only before regular fields, each known and at most once: `:method`, `:scheme`,
///   `:path` (not empty) and optionally `:authority`; for CONNECT `:method` and `:authority` only;
///   none in trailers;
/// - no pseudo-header value with a control character, space or DEL; no field value with NUL, CR or LF;
/// - no connection-specific field (`connection`, `keep-alive`, `proxy-connection`,
///   `transfer-encoding`, `upgrade`); `te` only as `trailers` (requests);
/// - `content-length`, when present, a decimal number that every instance agrees on, matched by
///   the DATA that follows.
enum RequestHeaderCheck {
    /// What is wrong with a request's header block, or nil.
    static func request(_ headers: HPACKHeaders) -> String? {
        check(headers, trailers: false)
    }

    /// What is wrong with a trailer block, or nil.
    static func trailers(_ headers: HPACKHeaders) -> String? {
        check(headers, trailers: true)
    }

    private struct Pseudo: OptionSet {
        let rawValue: UInt8
        static let path = Pseudo(rawValue: 1)
        static let method = Pseudo(rawValue: 2)
        static let scheme = Pseudo(rawValue: 4)
        static let authority = Pseudo(rawValue: 8)
        static let status = Pseudo(rawValue: 16)

        init(rawValue: UInt8) { self.rawValue = rawValue }

        /// A known pseudo-header's bit (`:protocol` is known to HTTP/2 but offered only with extended
        /// CONNECT, so it is refused like an unknown one).
        init?(name: String.UTF8View) {
            if name.elementsEqual(":path".utf8) { self = .path }
            else if name.elementsEqual(":method".utf8) { self = .method }
            else if name.elementsEqual(":scheme".utf8) { self = .scheme }
            else if name.elementsEqual(":authority".utf8) { self = .authority }
            else if name.elementsEqual(":status".utf8) { self = .status }
            else { return nil }
        }
    }

    private static func check(_ headers: HPACKHeaders, trailers: Bool) -> String? {
        var seen: Pseudo = []
        var regular = false
        var connect = false
        for (name, value, _) in headers {
            let bytes = name.utf8
            let pseudo = bytes.first == UInt8(ascii: ":")
            guard isToken(pseudo ? bytes.dropFirst() : bytes[...]) else { return "invalid header field name \(quoted(name))" }
            if pseudo {
                if regular { return "pseudo-header \(quoted(name)) after a regular field" }
                guard let kind = Pseudo(name: bytes) else { return "unknown or unsupported pseudo-header \(quoted(name))" }
                if seen.contains(kind) { return "duplicate pseudo-header \(quoted(name))" }
                seen.insert(kind)
                if value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) { return "invalid value of \(quoted(name))" }
                if kind == .method { connect = value == "CONNECT" }
                if kind == .path && value.isEmpty { return "empty :path" }
            } else {
                regular = true
                if isConnectionSpecific(bytes) { return "connection-specific header field \(quoted(name))" }
                if value.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) { return "invalid value of \(quoted(name))" }
                if !trailers && bytes.elementsEqual("te".utf8) && value != "trailers" { return "te other than trailers" }
            }
        }
        let allowed: Pseudo, mandatory: Pseudo
        if trailers {
            (allowed, mandatory) = ([], [])
        } else if connect {
            (allowed, mandatory) = ([.method, .authority], [.method, .authority])
        } else {
            (allowed, mandatory) = ([.path, .method, .scheme, .authority], [.path, .method, .scheme])
        }
        guard allowed.isSuperset(of: seen) else { return trailers ? "pseudo-header in trailers" : "pseudo-header not allowed in a request" }
        guard seen.isSuperset(of: mandatory) else { return "missing pseudo-header" }
        return nil
    }

    /// `content-length` as a request declares it: nil without one, else the length — or a failure for a
    /// value that is not a non-negative decimal number or instances that disagree (each instance may
    /// list values separated by commas).
    static func contentLength(_ headers: HPACKHeaders) -> Result<Int?, ContentLengthError> {
        var first: Substring?
        for value in headers.values(forHeader: "content-length", canonicalForm: true) {
            if let first, first != value { return .failure(ContentLengthError(reason: "content-length values disagree")) }
            first = first ?? value
        }
        guard let first else { return .success(nil) }
        guard let length = Int(first, radix: 10), length >= 0 else {
            return .failure(ContentLengthError(reason: "invalid content-length"))
        }
        return .success(length)
    }

    struct ContentLengthError: Error, Equatable {
        let reason: String
    }

    /// RFC 9110's token, lowercase only (HTTP/2 field names are lowercase), at least one character.
    private static func isToken(_ bytes: Substring.UTF8View) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes {
            switch byte {
            case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x5E...0x7A, 0x7C, 0x7E: continue
            default: return false
            }
        }
        return true
    }

    private static let connectionSpecific = ["connection", "transfer-encoding", "proxy-connection", "keep-alive", "upgrade"]

    private static func isConnectionSpecific(_ name: String.UTF8View) -> Bool {
        connectionSpecific.contains { name.elementsEqual($0.utf8) }
    }

    private static func quoted(_ name: String) -> String {
        "\"\(name.prefix(64))\""
    }
}
