#include "cgzip.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int cgzip_deflate(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen, int level) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t cap = deflateBound(&s, (uLong)len) + 64;
    unsigned char *buf = malloc(cap);
    if (!buf) { deflateEnd(&s); return -1; }
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)len;
    s.next_out = buf;
    s.avail_out = (uInt)cap;
    int rc = deflate(&s, Z_FINISH);
    if (rc != Z_STREAM_END) { free(buf); deflateEnd(&s); return -1; }
    *outlen = s.total_out;
    *out = buf;
    deflateEnd(&s);
    return 0;
}

int cgzip_inflate(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen, size_t max_out) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 15 + 32) != Z_OK) return -1;
    size_t cap = len * 4 + 1024;
    if (cap > max_out + 1) cap = max_out + 1;
    unsigned char *buf = malloc(cap);
    if (!buf) { inflateEnd(&s); return -1; }
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)len;
    int rc;
    for (;;) {
        s.next_out = buf + s.total_out;
        s.avail_out = (uInt)(cap - s.total_out);
        rc = inflate(&s, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) { free(buf); inflateEnd(&s); return -1; }
        if (s.total_out > max_out) { free(buf); inflateEnd(&s); return -2; }
        if (s.avail_out == 0) {
            if (cap > max_out) { free(buf); inflateEnd(&s); return -2; }
            size_t ncap = cap * 2;
            if (ncap > max_out + 1) ncap = max_out + 1;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) { free(buf); inflateEnd(&s); return -1; }
            buf = nb;
            cap = ncap;
        } else if (rc == Z_BUF_ERROR) {
            free(buf); inflateEnd(&s); return -1;  // truncated input
        }
    }
    if (s.total_out > max_out) { free(buf); inflateEnd(&s); return -2; }
    *outlen = s.total_out;
    *out = buf;
    inflateEnd(&s);
    return 0;
}

void cgzip_free(void *p) { free(p); }
