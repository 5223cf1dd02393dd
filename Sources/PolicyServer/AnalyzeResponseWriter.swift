import NIOCore
import PolicyPack

/// `pulumirpc.AnalyzeResponse` for a call's result, written in protobuf's wire format straight into
/// its gRPC frame: the bytes SwiftProtobuf writes for the same message (fields in number order, empty
/// strings and zero enums left out — `AnalyzeResponseWriterTests` compares them), without building
/// the message's structs, measuring it with a visitor and copying the serialised array into the
/// frame. An Analyze is the call the engine makes for every resource; this was ≈5 µs of its CPU.
///
/// Field numbers (analyzer.proto): AnalyzeResponse 2 diagnostics, 3 not_applicable;
/// AnalyzeDiagnostic 1 policyName, 2 policyPackName, 3 policyPackVersion, 4 description, 5 message,
/// 7 enforcementLevel, 8 urn, 9 severity; PolicyNotApplicable 1 policy_name, 2 reason.
enum AnalyzeResponseWriter {
    /// The framed response (flag byte, big-endian length, message), ready for a DATA frame.
    static func frame(diagnostics: [DiagnosticResult], notApplicable: [NotApplicableResult],
                      pack: String, version: String) -> ByteBuffer {
        let packSize = pack.utf8.count, versionSize = version.utf8.count
        var size = 0
        for d in diagnostics { size += nested(field: 2, size: diagnosticSize(d, pack: packSize, version: versionSize)) }
        for n in notApplicable { size += nested(field: 3, size: notApplicableSize(n)) }
        let total = GRPCFrame.headerLength + size
        var out = ByteBufferAllocator().buffer(capacity: total)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var w = Writer(base: raw.baseAddress!, end: total)
            w.byte(0)
            w.byte(UInt8(truncatingIfNeeded: size >> 24))
            w.byte(UInt8(truncatingIfNeeded: size >> 16))
            w.byte(UInt8(truncatingIfNeeded: size >> 8))
            w.byte(UInt8(truncatingIfNeeded: size))
            for d in diagnostics {
                w.tag(field: 2, lengthDelimited: true)
                w.varint(UInt64(diagnosticSize(d, pack: packSize, version: versionSize)))
                w.string(field: 1, d.policyName)
                w.string(field: 2, pack)
                w.string(field: 3, version)
                w.string(field: 4, d.description)
                w.string(field: 5, d.message)
                w.enumeration(field: 7, d.enforcementLevel.rawValue)
                w.string(field: 8, d.urn)
                w.enumeration(field: 9, d.severity.rawValue)
            }
            for n in notApplicable {
                w.tag(field: 3, lengthDelimited: true)
                w.varint(UInt64(notApplicableSize(n)))
                w.string(field: 1, n.policyName)
                w.string(field: 2, n.reason)
            }
            precondition(w.offset == total, "AnalyzeResponseWriter: measured \(total) bytes, wrote \(w.offset)")
            return total
        }
        return out
    }

    // MARK: sizes

    private static func diagnosticSize(_ d: DiagnosticResult, pack: Int, version: Int) -> Int {
        stringSize(d.policyName.utf8.count) + stringSize(pack) + stringSize(version) + stringSize(d.description.utf8.count)
            + stringSize(d.message.utf8.count) + enumSize(d.enforcementLevel.rawValue) + stringSize(d.urn.utf8.count)
            + enumSize(d.severity.rawValue)
    }

    private static func notApplicableSize(_ n: NotApplicableResult) -> Int {
        stringSize(n.policyName.utf8.count) + stringSize(n.reason.utf8.count)
    }

    /// A length-delimited field of `size` bytes with a one-byte tag (field numbers below 16); none when empty.
    private static func stringSize(_ size: Int) -> Int {
        size == 0 ? 0 : nested(field: 1, size: size)
    }

    private static func nested(field: Int, size: Int) -> Int {
        1 + varintSize(UInt64(size)) + size
    }

    /// An enum field (one-byte tag, its value as a varint — negative values as 64-bit two's complement,
    /// as protobuf writes int32); none when zero.
    private static func enumSize(_ value: Int) -> Int {
        value == 0 ? 0 : 1 + varintSize(UInt64(bitPattern: Int64(value)))
    }

    private static func varintSize(_ value: UInt64) -> Int {
        var value = value, size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    // MARK: writing

    /// Writes into memory sized beforehand (`frame` checks that it wrote exactly that much).
    private struct Writer {
        let base: UnsafeMutableRawPointer
        let end: Int
        var offset = 0

        mutating func byte(_ value: UInt8) {
            precondition(offset < end)
            base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }

        mutating func tag(field: Int, lengthDelimited: Bool) {
            byte(UInt8(field << 3 | (lengthDelimited ? 2 : 0)))
        }

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                byte(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            byte(UInt8(value))
        }

        mutating func string(field: Int, _ text: String) {
            var text = text
            text.withUTF8 { bytes in
                guard !bytes.isEmpty else { return }
                tag(field: field, lengthDelimited: true)
                varint(UInt64(bytes.count))
                precondition(bytes.count <= end - offset)
                (base + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                offset += bytes.count
            }
        }

        mutating func enumeration(field: Int, _ value: Int) {
            guard value != 0 else { return }
            tag(field: field, lengthDelimited: false)
            varint(UInt64(bitPattern: Int64(value)))
        }
    }
}
