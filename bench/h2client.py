"""A minimal HTTP/2 client for unary gRPC calls, for benchmarks that need a different body per call on one
connection (h2load sends one body): prior-knowledge cleartext HTTP/2, one stream at a time, request headers
as HPACK literals without Huffman coding, responses read to their END_STREAM. Its own cost is small and the
same for every server it measures.
"""
import socket
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def _literal(name, value):
    """HPACK: literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    def string(b):
        assert len(b) < 127
        return bytes([len(b)]) + b
    return b"\x00" + string(name.encode()) + string(value.encode())


def _frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


class Connection:
    def __init__(self, port, authority=None):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.authority = authority or f"127.0.0.1:{port}"
        self.buffer = b""
        self.stream = 1
        # A large receive window, so that no response ever waits for a WINDOW_UPDATE of ours.
        settings = struct.pack(">HI", 0x4, (1 << 31) - 1)
        self.sock.sendall(PREFACE + _frame(SETTINGS, 0, 0, settings)
                          + _frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", (1 << 31) - 1 - 65535)))

    def _read_frame(self):
        while len(self.buffer) < 9:
            self._fill()
        length = int.from_bytes(self.buffer[:3], "big")
        while len(self.buffer) < 9 + length:
            self._fill()
        kind, flags = self.buffer[3], self.buffer[4]
        stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
        payload = self.buffer[9:9 + length]
        self.buffer = self.buffer[9 + length:]
        return kind, flags, stream, payload

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def call(self, path, framed_body):
        """Sends one unary call; returns (seconds from the request's first byte to its END_STREAM, the
        response's DATA bytes). Raises when the call did not end with a message."""
        stream = self.stream
        self.stream += 2
        block = b"".join(_literal(n, v) for n, v in ((":method", "POST"), (":scheme", "http"), (":path", path),
                                                     (":authority", self.authority),
                                                     ("content-type", "application/grpc"), ("te", "trailers")))
        out = _frame(HEADERS, END_HEADERS, stream, block) + _frame(DATA, END_STREAM, stream, framed_body)
        started = time.perf_counter()
        self.sock.sendall(out)
        data = b""
        while True:
            kind, flags, sid, payload = self._read_frame()
            if kind == SETTINGS and not flags & ACK:
                self.sock.sendall(_frame(SETTINGS, ACK, 0, b""))
            elif kind == PING and not flags & ACK:
                self.sock.sendall(_frame(PING, ACK, 0, payload))
            elif kind in (RST_STREAM, GOAWAY) and sid in (stream, 0):
                raise ConnectionError(f"the server reset the call (frame type {kind})")
            elif sid == stream and kind == DATA:
                data += payload
                if flags & END_STREAM:
                    break
            elif sid == stream and kind == HEADERS and flags & END_STREAM:
                break
        elapsed = time.perf_counter() - started
        if not data:
            raise ConnectionError(f"{path}: the call ended without a message (an error status)")
        return elapsed, data

    def close(self):
        self.sock.close()
