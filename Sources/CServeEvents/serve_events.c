#define _GNU_SOURCE
#include "serve_events.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

int ph_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int ph_epoll_arm(int epoll, int fd, uint64_t token, uint32_t events, int add) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = events | EPOLLONESHOT;
    event.data.u64 = token;
    return epoll_ctl(epoll, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event);
}

int ph_epoll_forget(int epoll, int fd) { return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL); }

int ph_epoll_wait(int epoll, ph_event *events, int capacity, int timeout) {
    struct epoll_event ready[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epoll, ready, capacity, timeout);
    for (int i = 0; i < count; i++) {
        events[i].events = ready[i].events;
        events[i].token = ready[i].data.u64;
    }
    return count;
}

int ph_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int ph_accept(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

void ph_name_thread(const char *name) {
    char short_name[16];
    strncpy(short_name, name, sizeof short_name - 1);
    short_name[sizeof short_name - 1] = 0;
    (void)pthread_setname_np(pthread_self(), short_name);
}
