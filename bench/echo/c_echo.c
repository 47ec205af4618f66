/* SPDX-License-Identifier: MIT
 * c_echo: a bare C epoll echo server, the loopback limit for bench/echo_bench.sh.
 *
 *   c_echo tcp  PORT  [THREADS]   127.0.0.1:PORT, stream
 *   c_echo unix PATH  [THREADS]   Unix stream socket at PATH
 *   c_echo udp  PORT  [THREADS]   127.0.0.1:PORT, datagrams
 *
 * THREADS (default 1) event loops; tcp and udp give each its own socket bound
 * with SO_REUSEPORT (the kernel spreads connections/datagrams), unix shares one
 * listening socket registered with EPOLLEXCLUSIVE in every loop.
 * Prints "ready" on stdout once listening. Stops on SIGTERM/SIGINT (default
 * action). No error recovery beyond closing the connection: it is a yardstick.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum mode { TCP, UNIX_STREAM, UDP };
static enum mode g_mode;
static int g_port;
static const char *g_path;
static int g_shared_listener = -1; /* unix: one listener for every loop */

static void die(const char *what) { perror(what); exit(1); }

static int listener(void) {
    int one = 1, fd;
    if (g_mode == UNIX_STREAM) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) die("socket");
        strncpy(a.sun_path, g_path, sizeof a.sun_path - 1);
        unlink(g_path);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(g_port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, (g_mode == UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
        if (fd < 0) die("socket");
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    }
    if (g_mode != UDP && listen(fd, 4096) < 0) die("listen");
    return fd;
}

/* ---- stream (tcp, unix): accept, then read and write back what arrived ---- */
static void *stream_loop(void *arg) {
    int lfd = arg ? *(int *)arg : g_shared_listener;
    int ep = epoll_create1(0), one = 1;
    struct epoll_event ev = {.events = EPOLLIN | (g_mode == UNIX_STREAM ? EPOLLEXCLUSIVE : 0), .data.fd = lfd};
    struct epoll_event evs[256];
    static __thread char buf[65536];
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll");
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (g_mode == TCP) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            for (;;) { /* request/response load: the reply fits the socket buffer */
                ssize_t r = read(fd, buf, sizeof buf), off = 0;
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { close(fd); break; }
                if (r < 0) break;
                while (off < r) {
                    ssize_t w = write(fd, buf + off, r - off);
                    if (w < 0 && errno == EAGAIN) continue; /* rare: spin, it's a yardstick */
                    if (w <= 0) { close(fd); goto next; }
                    off += w;
                }
                if (r < (ssize_t)sizeof buf) break;
            }
        next:;
        }
    }
    return NULL;
}

/* ---- udp: one reply per datagram ---- */
static void *udp_loop(void *arg) {
    int fd = *(int *)arg, ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, evs[1];
    static __thread char buf[65536];
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll");
    for (;;) {
        if (epoll_wait(ep, evs, 1, -1) <= 0) continue;
        for (;;) {
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (r < 0) break;
            sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s tcp|unix|udp PORT|PATH [THREADS]\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "tcp")) g_mode = TCP;
    else if (!strcmp(argv[1], "unix")) g_mode = UNIX_STREAM;
    else if (!strcmp(argv[1], "udp")) g_mode = UDP;
    else { fprintf(stderr, "unknown mode %s\n", argv[1]); return 2; }
    if (g_mode == UNIX_STREAM) g_path = argv[2]; else g_port = atoi(argv[2]);
    int nthreads = argc > 3 ? atoi(argv[3]) : 1;
    if (nthreads < 1 || nthreads > 64) nthreads = 1;
    signal(SIGPIPE, SIG_IGN);

    int fds[64];
    if (g_mode == UNIX_STREAM) g_shared_listener = listener();
    else for (int i = 0; i < nthreads; i++) fds[i] = listener();
    printf("ready\n");
    fflush(stdout);
    pthread_t t;
    for (int i = 1; i < nthreads; i++)
        pthread_create(&t, NULL, g_mode == UDP ? udp_loop : stream_loop, g_mode == UNIX_STREAM ? NULL : &fds[i]);
    if (g_mode == UDP) udp_loop(&fds[0]);
    else stream_loop(g_mode == UNIX_STREAM ? NULL : &fds[0]);
    return 0;
}
