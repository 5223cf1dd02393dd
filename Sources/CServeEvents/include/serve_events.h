// The system calls of `serve`'s own I/O threads (Sources/PolicyServer/ServeReactor.swift and
// ServeConnection.swift), behind functions of our own: Swift's Glibc module leaves epoll and eventfd
// out, and Swift code in a module that also sees CPython's headers must not use libc's socket
// declarations directly (the two module graphs disagree about `fd_set`, and which one a build meets
// first depends on the build order). So this header includes nothing of libc's beyond fixed-width
// integers, and errors come back as the values below, not through errno.
#ifndef POLICY_HOST_SERVE_EVENTS_H
#define POLICY_HOST_SERVE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define PH_EVENT_IN 0x001u
#define PH_EVENT_OUT 0x004u
#define PH_EVENT_ERR 0x008u
#define PH_EVENT_HUP 0x010u
#define PH_EVENT_RDHUP 0x2000u

/// I/O results below zero.
#define PH_WOULD_BLOCK (-1)
#define PH_BROKEN (-2)
/// accept: try again at once (interrupted, or the peer left before it was accepted).
#define PH_RETRY (-3)
/// accept: out of descriptors or memory (try again later).
#define PH_EXHAUSTED (-4)

/// One ready descriptor: what happened and the token it was armed with.
typedef struct ph_event {
    uint32_t events;
    uint64_t token;
} ph_event;

/// A non-blocking, close-on-exec IPv4 listening socket on `host:port` (port 0: any free port; the
/// port it got in `*bound_port`). The descriptor, or -1 with `message` (of `capacity` bytes) saying why.
int ph_listen_ipv4(const char *host, int port, int backlog, int *bound_port, char *message, size_t capacity);
/// A close-on-exec epoll set, or -1.
int ph_epoll_create(void);
/// Arms `fd` one-shot for `events` with `token` (EPOLL_CTL_ADD when `add`, else MOD); 0 or -1.
int ph_epoll_arm(int epoll, int fd, uint64_t token, uint32_t events, int add);
/// Removes `fd` from the set.
int ph_epoll_forget(int epoll, int fd);
/// Waits up to `timeout` ms (-1: no limit) for at most `capacity` (≤ 64) events: their count (0 when
/// interrupted), or -1 when the set is unusable.
int ph_epoll_wait(int epoll, ph_event *events, int capacity, int timeout);
/// A non-blocking, close-on-exec eventfd, or -1.
int ph_eventfd(void);
/// Adds one to an eventfd (wakes a waiter).
void ph_eventfd_signal(int fd);
/// Resets an eventfd.
void ph_eventfd_drain(int fd);
/// Accepts a connection, non-blocking and close-on-exec, with TCP_NODELAY: its descriptor, or
/// PH_WOULD_BLOCK, PH_RETRY, PH_EXHAUSTED, PH_BROKEN.
int ph_accept(int listener);
/// Reads into `buffer`: the count (0 at the end of the stream), PH_WOULD_BLOCK or PH_BROKEN.
long ph_recv(int fd, void *buffer, size_t capacity);
/// Sends without blocking and without SIGPIPE: the count sent, PH_WOULD_BLOCK or PH_BROKEN.
long ph_send(int fd, const void *bytes, size_t count);
/// Stops a listening socket from accepting (it keeps its number until `ph_close`).
void ph_shutdown(int fd);
void ph_close(int fd);
/// For tests: a connection to 127.0.0.1:`port` with a receive buffer of `receive_buffer` bytes (0: the
/// default), made non-blocking once connected; its descriptor, or -1.
int ph_connect_ipv4(int port, int receive_buffer);
/// Names the calling thread (at most 15 bytes are kept).
void ph_name_thread(const char *name);
/// The connection loop the calling thread serves (an opaque, unretained pointer), or NULL: a C
/// thread-local, read on every `inEventLoop` and set twice per turn (NIO's `ThreadSpecificVariable`
/// boxes and retains on each).
const void *ph_served_loop(void);
void ph_set_served_loop(const void *loop);

#endif
