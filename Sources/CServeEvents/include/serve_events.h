// epoll, eventfd and accept4 for `serve`'s own I/O threads (Sources/PolicyServer/ServeReactor.swift),
// behind functions of our own: Swift's Glibc module leaves these headers out, and including them
// in a module next to CPython's headers breaks the build (the two disagree about `fd_set`), so this
// header includes nothing of libc's beyond fixed-width integers.
#ifndef POLICY_HOST_SERVE_EVENTS_H
#define POLICY_HOST_SERVE_EVENTS_H

#include <stdint.h>

#define PH_EVENT_IN 0x001u
#define PH_EVENT_OUT 0x004u
#define PH_EVENT_ERR 0x008u
#define PH_EVENT_HUP 0x010u
#define PH_EVENT_RDHUP 0x2000u

/// One ready descriptor: what happened and the token it was armed with.
typedef struct ph_event {
    uint32_t events;
    uint64_t token;
} ph_event;

/// A close-on-exec epoll set; -1 and errno on failure.
int ph_epoll_create(void);
/// Arms `fd` one-shot for `events` with `token` (EPOLL_CTL_ADD when `add`, else MOD); 0 or -1.
int ph_epoll_arm(int epoll, int fd, uint64_t token, uint32_t events, int add);
/// Removes `fd` from the set.
int ph_epoll_forget(int epoll, int fd);
/// Waits up to `timeout` ms (-1: no limit) for at most `capacity` (≤ 64) events; their count, or -1.
int ph_epoll_wait(int epoll, ph_event *events, int capacity, int timeout);
/// A non-blocking, close-on-exec eventfd.
int ph_eventfd(void);
/// Accepts a connection non-blocking and close-on-exec, with TCP_NODELAY; -1 and errno when none.
int ph_accept(int listener);
/// Names the calling thread (at most 15 bytes are kept).
void ph_name_thread(const char *name);

#endif
