// gzip in memory, over zlib. Kept behind its own header so that Swift never sees zlib.h.
#ifndef POLICY_HOST_CGZIP_H
#define POLICY_HOST_CGZIP_H
#include <stddef.h>

/// Compresses `len` bytes into a gzip stream; `*out` is malloc'ed (free with cgzip_free). 0 on success.
int cgzip_deflate(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen, int level);

/// Decompresses a gzip (or zlib) stream. Fails with -2 when the output would exceed `max_out` bytes,
/// -1 on corrupt input. `*out` is malloc'ed (free with cgzip_free). 0 on success.
int cgzip_inflate(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen, size_t max_out);

void cgzip_free(void *p);
#endif
