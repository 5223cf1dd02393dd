/* A native HTTP/2 client for sequential unary gRPC calls with a different body per call, for the
 * Remediate + Analyze benchmark of bench/serve_h2load.py (h2load sends one body for every call).
 * Prior-knowledge cleartext HTTP/2 on one connection, one stream at a time; request headers as
 * HPACK static-table indexes and literals without indexing; flow control honoured for what it
 * sends. Prints each call's latency in microseconds, one per line.
 *
 *     cc -O2 -o h2calls h2calls.c && ./h2calls PORT CALLS_FILE
 *
 * CALLS_FILE holds the calls in order, each as: path length (1 byte), path, body length (4 bytes,
 * big-endian), body (already gRPC-framed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8 };
enum { END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4 };

static int sock;
static int64_t send_window = 65535; /* the connection's, as the server grants it */
static uint8_t inbuf[1 << 20];
static size_t inlen;

static void die(const char *what) {
    fprintf(stderr, "h2calls: %s: %s\n", what, errno ? strerror(errno) : "protocol error");
    exit(1);
}

static void send_all(const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(sock, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        p += w;
        n -= (size_t)w;
    }
}

static void send_frame(int type, int flags, uint32_t stream, const uint8_t *payload, size_t n) {
    uint8_t head[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, (uint8_t)type, (uint8_t)flags,
                       (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8), (uint8_t)stream};
    send_all(head, 9);
    if (n) send_all(payload, n);
}

/* Reads one frame into the arguments; the payload stays valid until the next call. */
static void read_frame(int *type, int *flags, uint32_t *stream, const uint8_t **payload, size_t *n) {
    static size_t consumed;
    if (consumed) {
        memmove(inbuf, inbuf + consumed, inlen - consumed);
        inlen -= consumed;
        consumed = 0;
    }
    for (;;) {
        if (inlen >= 9) {
            size_t len = ((size_t)inbuf[0] << 16) | ((size_t)inbuf[1] << 8) | inbuf[2];
            if (len + 9 > sizeof inbuf) die("frame too large");
            if (inlen >= len + 9) {
                *type = inbuf[3];
                *flags = inbuf[4];
                *stream = ((uint32_t)(inbuf[5] & 0x7f) << 24) | ((uint32_t)inbuf[6] << 16) | ((uint32_t)inbuf[7] << 8) | inbuf[8];
                *payload = inbuf + 9;
                *n = len;
                consumed = len + 9;
                return;
            }
        }
        ssize_t r = recv(sock, inbuf + inlen, sizeof inbuf - inlen, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die("recv");
        inlen += (size_t)r;
    }
}

/* Handles a frame that is not the awaited stream's; returns 1 when `stream`'s response ended. */
static int handle(int type, int flags, uint32_t stream, const uint8_t *p, size_t n, uint32_t awaited) {
    switch (type) {
    case SETTINGS:
        if (!(flags & ACK)) send_frame(SETTINGS, ACK, 0, NULL, 0);
        return 0;
    case PING:
        if (!(flags & ACK)) send_frame(PING, ACK, 0, p, n);
        return 0;
    case WINDOW_UPDATE:
        if (stream == 0 && n == 4) send_window += ((int64_t)(p[0] & 0x7f) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
        return 0;
    case GOAWAY:
    case RST_STREAM:
        errno = 0;
        die(type == GOAWAY ? "the server sent GOAWAY" : "the server reset a stream");
        return 0;
    case HEADERS:
    case DATA:
        return stream == awaited && (flags & END_STREAM);
    default:
        return 0;
    }
}

static size_t literal(uint8_t *out, const char *name, const char *value) {
    size_t nl = strlen(name), vl = strlen(value);
    if (nl > 126 || vl > 126) die("header too long");
    out[0] = 0x00;
    out[1] = (uint8_t)nl;
    memcpy(out + 2, name, nl);
    out[2 + nl] = (uint8_t)vl;
    memcpy(out + 3 + nl, value, vl);
    return 3 + nl + vl;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: h2calls PORT CALLS_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) die(argv[2]);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *calls = malloc((size_t)size);
    if (!calls || fread(calls, 1, (size_t)size, f) != (size_t)size) die("read calls");
    fclose(f);

    sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    /* A large receive window: no response ever waits for a WINDOW_UPDATE of ours. */
    send_all((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    const uint8_t settings[6] = {0, 4, 0x7f, 0xff, 0xff, 0xff};
    send_frame(SETTINGS, 0, 0, settings, 6);
    uint32_t inc = 0x7fffffff - 65535;
    const uint8_t update[4] = {(uint8_t)(inc >> 24), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8), (uint8_t)inc};
    send_frame(WINDOW_UPDATE, 0, 0, update, 4);

    uint32_t stream = 1;
    for (long at = 0; at < size; stream += 2) {
        char path[128];
        size_t pl = calls[at++];
        memcpy(path, calls + at, pl);
        path[pl] = 0;
        at += (long)pl;
        size_t bl = ((size_t)calls[at] << 24) | ((size_t)calls[at + 1] << 16) | ((size_t)calls[at + 2] << 8) | calls[at + 3];
        at += 4;
        const uint8_t *body = calls + at;
        at += (long)bl;

        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        uint8_t block[512];
        size_t hl = 0;
        block[hl++] = 0x83; /* :method POST */
        block[hl++] = 0x86; /* :scheme http */
        hl += literal(block + hl, ":path", path);
        hl += literal(block + hl, ":authority", "127.0.0.1");
        hl += literal(block + hl, "content-type", "application/grpc");
        hl += literal(block + hl, "te", "trailers");
        send_frame(HEADERS, END_HEADERS | (bl == 0 ? END_STREAM : 0), stream, block, hl);
        size_t sent = 0;
        while (sent < bl) {
            int type, flags;
            uint32_t sid;
            const uint8_t *p;
            size_t n;
            while (send_window <= 0) {
                read_frame(&type, &flags, &sid, &p, &n);
                if (handle(type, flags, sid, p, n, stream)) die("answered before the request was sent");
            }
            size_t chunk = bl - sent;
            if (chunk > 16384) chunk = 16384;
            if ((int64_t)chunk > send_window) chunk = (size_t)send_window;
            send_frame(DATA, sent + chunk == bl ? END_STREAM : 0, stream, body + sent, chunk);
            send_window -= (int64_t)chunk;
            sent += chunk;
        }
        for (;;) {
            int type, flags;
            uint32_t sid;
            const uint8_t *p;
            size_t n;
            read_frame(&type, &flags, &sid, &p, &n);
            if (handle(type, flags, sid, p, n, stream)) break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3);
    }
    close(sock);
    free(calls);
    return 0;
}
