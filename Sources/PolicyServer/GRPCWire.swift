import NIOCore
import NIOHPACK
import SwiftProtobuf

/// What a gRPC call ends with: `grpc-status` and `grpc-message` (gRPC over HTTP/2).
struct GRPCStatus: Error, Equatable, Sendable {
    enum Code: Int, Sendable {
        case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
             permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented,
             internalError, unavailable, dataLoss, unauthenticated
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `grpc-message` as the specification encodes it: bytes outside printable ASCII, and `%`,
    /// percent-encoded (so a policy's message in any script survives HPACK and every client).
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A gRPC message's frame: a flag byte (0: not compressed), its length (4 bytes, big-endian), the message.
enum GRPCFrame {
    static let headerLength = 5

    /// `message` serialised and framed, ready for a DATA frame.
    static func encode(_ message: some SwiftProtobuf.Message) throws -> ByteBuffer {
        let bytes: [UInt8] = try message.serializedBytes()
        return encode(bytes: bytes)
    }

    static func encode(bytes: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: headerLength + bytes.count)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }
}

/// The framed messages of one request body, read as its DATA frames arrive. A unary call carries
/// exactly one; a message over `limit` bytes is refused from its header, before it is buffered.
struct GRPCMessageReader {
    let limit: Int
    /// `grpc-encoding` of the request, for the error when a message says it is compressed.
    let encoding: String?
    private var pending: ByteBuffer?
    private(set) var messages: [ByteBuffer] = []

    init(limit: Int, encoding: String?) {
        self.limit = limit
        self.encoding = encoding
    }

    mutating func append(_ data: ByteBuffer) throws(GRPCStatus) {
        if pending == nil || pending!.readableBytes == 0 {
            pending = data
        } else {
            var data = data
            pending!.writeBuffer(&data)
        }
        while let buffer = pending, buffer.readableBytes >= GRPCFrame.headerLength {
            let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self)!
            let length = Int(buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)!)
            switch flag {
            case 0: break
            case 1:
                let named = encoding.map { "grpc-encoding \($0)" } ?? "no grpc-encoding"
                throw GRPCStatus(.unimplemented, "a compressed message (\(named)) was sent; this server accepts identity only")
            default:
                throw GRPCStatus(.internalError, "invalid gRPC message flag \(flag)")
            }
            guard length <= limit else {
                throw GRPCStatus(.resourceExhausted,
                                 "the request message is \(length) bytes; this server accepts at most \(limit)")
            }
            guard buffer.readableBytes >= GRPCFrame.headerLength + length else { return }
            guard messages.isEmpty else { throw GRPCStatus(.internalError, "a unary request carried more than one message") }
            pending!.moveReaderIndex(forwardBy: GRPCFrame.headerLength)
            messages.append(pending!.readSlice(length: length)!)
        }
    }

    /// The request's one message, once its stream has ended.
    func finish() throws(GRPCStatus) -> ByteBuffer {
        if let pending, pending.readableBytes > 0 {
            throw GRPCStatus(.internalError, "the request ended inside a message (\(pending.readableBytes) bytes left over)")
        }
        guard let message = messages.first else { throw GRPCStatus(.internalError, "a unary request carried no message") }
        return message
    }
}

/// A `grpc-timeout` header value: 1 to 8 ASCII digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`),
/// as the gRPC over HTTP/2 specification defines it. An invalid value sets no deadline (as
/// grpc-swift did with most; a negative one, `-1S`, made grpc-swift trap).
struct GRPCTimeout: Equatable {
    static let key = "grpc-timeout"

    var amount: UInt64
    var unitNanoseconds: UInt64

    init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard (2...9).contains(utf8.count), let unit = utf8.last else { return nil }
        switch unit {
        case UInt8(ascii: "H"): unitNanoseconds = 3_600_000_000_000
        case UInt8(ascii: "M"): unitNanoseconds = 60_000_000_000
        case UInt8(ascii: "S"): unitNanoseconds = 1_000_000_000
        case UInt8(ascii: "m"): unitNanoseconds = 1_000_000
        case UInt8(ascii: "u"): unitNanoseconds = 1_000
        case UInt8(ascii: "n"): unitNanoseconds = 1
        default: return nil
        }
        var amount: UInt64 = 0
        for digit in utf8.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            amount = amount * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        self.amount = amount
    }

    /// The timeout in nanoseconds, or nil when that does not fit in 64 bits (over 584 years).
    var nanoseconds: UInt64? {
        let (product, overflow) = amount.multipliedReportingOverflow(by: unitNanoseconds)
        return overflow ? nil : product
    }

    /// What an event loop can schedule, or nil: a deadline past about 292 years never fires.
    var timeAmount: TimeAmount? {
        guard let ns = nanoseconds, ns <= UInt64(Int64.max) else { return nil }
        return .nanoseconds(Int64(ns))
    }
}
