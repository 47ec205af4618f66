// SPDX-License-Identifier: MIT
// echo_load: request/response load generator for echo servers (bench/echo_bench.sh).
//
//   echo_load [-c CONNS] [-s BYTES] [-d SECONDS] [-w WARMUP] [-t THREADS] [-T TIMEOUT_MS] URL
//     URL = tcp://HOST:PORT | unix://PATH | udp://HOST:PORT   (HOST numeric IPv4)
//
// Stream (tcp, unix): CONNS connections; each sends a BYTES-byte message, waits
// until all BYTES are echoed back, and sends the next (one message in flight per
// connection). UDP: CONNS connected sockets, each sends one BYTES-byte datagram
// (an 8-byte sequence number first) and waits for its reply; after TIMEOUT_MS
// (default 200) the datagram counts as lost and the next one is sent; a reply
// that arrives after that is "late" and ignored.
//
// The connections are spread over THREADS epoll loops (default 1). Round trips
// completing during the WARMUP seconds (default 1) are not counted; then DURATION
// seconds (default 5) are. Prints a human summary and one machine line:
//   RESULT transport=tcp conns=64 size=64 seconds=5.000 roundtrips=N rps=R p50_us=A p99_us=B
//          max_us=C errors=E starved=S lost=L late=T
// starved = connections that completed no round trip in the measured window
// (e.g. a server that holds a thread per connection and has fewer threads).
// No dependencies: g++ -std=c++20 -O2 -pthread echo_load.cpp -o echo_load
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
enum class Kind { tcp, unix_stream, udp };

struct Options {
    Kind kind = Kind::tcp;
    std::string url, host, path;
    int port = 0;
    int conns = 64;
    int size = 64;
    double duration = 5.0;
    double warmup = 1.0;
    int threads = 1;
    int timeout_ms = 200;
};

struct Conn {
    int fd = -1;
    size_t out_off = 0;   // bytes of the current message written
    size_t in_got = 0;    // bytes of the reply received
    bool want_out = false;
    uint64_t seq = 0;     // udp
    Clock::time_point sent_at;
    uint64_t counted = 0; // round trips in the measured window
    bool dead = false;
};

struct Stats {
    std::vector<uint32_t> lat_ns;   // capped at ~4.29 s
    uint64_t errors = 0, lost = 0, late = 0, starved = 0;
    uint32_t max_ns = 0;
};

[[noreturn]] void usage(const char* msg) {
    if (msg) std::fprintf(stderr, "echo_load: %s\n", msg);
    std::fprintf(stderr,
                 "usage: echo_load [-c CONNS] [-s BYTES] [-d SECONDS] [-w WARMUP] [-t THREADS] "
                 "[-T TIMEOUT_MS] tcp://HOST:PORT|unix://PATH|udp://HOST:PORT\n");
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> const char* {
            if (i + 1 >= argc) usage(("missing value after " + a).c_str());
            return argv[++i];
        };
        if (a == "-c") o.conns = std::atoi(val());
        else if (a == "-s") o.size = std::atoi(val());
        else if (a == "-d") o.duration = std::atof(val());
        else if (a == "-w") o.warmup = std::atof(val());
        else if (a == "-t") o.threads = std::atoi(val());
        else if (a == "-T") o.timeout_ms = std::atoi(val());
        else if (a == "-h" || a == "--help") usage(nullptr);
        else if (!a.empty() && a[0] == '-') usage(("unknown option " + a).c_str());
        else o.url = a;
    }
    if (o.url.empty()) usage("no URL");
    if (o.conns < 1 || o.size < 1 || o.size > (1 << 20) || o.duration <= 0 || o.threads < 1 ||
        o.warmup < 0 || o.timeout_ms < 1)
        usage("bad numbers");
    auto hostport = [&](std::string rest) {
        auto colon = rest.rfind(':');
        if (colon == std::string::npos) usage("URL needs HOST:PORT");
        o.host = rest.substr(0, colon);
        o.port = std::atoi(rest.c_str() + colon + 1);
    };
    if (o.url.rfind("tcp://", 0) == 0) { o.kind = Kind::tcp; hostport(o.url.substr(6)); }
    else if (o.url.rfind("udp://", 0) == 0) { o.kind = Kind::udp; hostport(o.url.substr(6)); }
    else if (o.url.rfind("unix://", 0) == 0) { o.kind = Kind::unix_stream; o.path = o.url.substr(7); }
    else usage("URL must start with tcp://, udp:// or unix://");
    if (o.kind == Kind::udp && o.size < 8) usage("udp messages need at least 8 bytes (sequence number)");
    o.threads = std::min(o.threads, o.conns);
    return o;
}

int open_conn(const Options& o) {
    int fd;
    if (o.kind == Kind::unix_stream) {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (o.path.size() >= sizeof a.sun_path) usage("unix path too long");
        std::memcpy(a.sun_path, o.path.c_str(), o.path.size() + 1);
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return -1;
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(o.port));
        if (::inet_pton(AF_INET, o.host.c_str(), &a.sin_addr) != 1) usage("HOST must be numeric IPv4");
        fd = ::socket(AF_INET, (o.kind == Kind::udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return -1;
        if (o.kind == Kind::tcp) {
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

struct Worker {
    const Options* o;
    std::vector<Conn> conns;
    Clock::time_point t_begin, t_end;   // measured window
    Stats st;
    std::vector<char> msg, buf;
    int ep = -1;

    void set_out(Conn& c, bool on) {
        if (c.want_out == on) return;
        c.want_out = on;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? static_cast<uint32_t>(EPOLLOUT) : 0u);
        ev.data.ptr = &c;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
    }
    void fail(Conn& c) {
        if (c.dead) return;
        ++st.errors;
        c.dead = true;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    }
    void start_msg(Conn& c) {
        c.out_off = 0;
        c.in_got = 0;
        c.sent_at = Clock::now();
        if (o->kind == Kind::udp) {
            ++c.seq;
            std::memcpy(msg.data(), &c.seq, 8);
            ssize_t w = ::send(c.fd, msg.data(), msg.size(), 0);
            if (w < 0 && errno != EAGAIN && errno != ECONNREFUSED) fail(c);
            return;   // EAGAIN/refused: it will time out and count as lost
        }
        write_more(c);
    }
    void write_more(Conn& c) {
        while (c.out_off < msg.size()) {
            ssize_t w = ::send(c.fd, msg.data() + c.out_off, msg.size() - c.out_off, MSG_NOSIGNAL);
            if (w > 0) { c.out_off += static_cast<size_t>(w); continue; }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EAGAIN) { set_out(c, true); return; }
            fail(c);
            return;
        }
        set_out(c, false);
    }
    void done(Conn& c, Clock::time_point now) {
        if (now >= t_begin && now < t_end) {
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sent_at).count();
            uint32_t v = ns > 0xffffffffLL ? 0xffffffffu : static_cast<uint32_t>(ns);
            st.lat_ns.push_back(v);
            st.max_ns = std::max(st.max_ns, v);
            ++c.counted;
        }
        start_msg(c);
    }
    void on_readable(Conn& c) {
        for (;;) {
            ssize_t r = ::recv(c.fd, buf.data(), buf.size(), 0);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == ECONNREFUSED)) return;
            if (r <= 0) { fail(c); return; }
            auto now = Clock::now();
            if (o->kind == Kind::udp) {
                uint64_t seq;
                std::memcpy(&seq, buf.data(), 8);
                if (seq == c.seq && r == static_cast<ssize_t>(msg.size())) {
                    done(c, now);
                    return;   // next datagram sent; a stale reply would still be queued, epoll says so
                }
                ++st.late;
                continue;
            }
            c.in_got += static_cast<size_t>(r);
            if (c.in_got > msg.size()) { fail(c); return; }   // echoed more than sent
            if (c.in_got == msg.size() && c.out_off == msg.size()) {
                done(c, now);   // sends the next message; nothing more can be pending
                return;
            }
        }
    }
    void run() {
        msg.assign(static_cast<size_t>(o->size), 'x');
        buf.resize(std::max<size_t>(65536, msg.size()));
        ep = ::epoll_create1(EPOLL_CLOEXEC);
        for (auto& c : conns) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = &c;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        }
        for (auto& c : conns) start_msg(c);
        std::vector<epoll_event> evs(256);
        auto last_scan = Clock::now();
        const auto timeout = std::chrono::milliseconds(o->timeout_ms);
        for (;;) {
            int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 5);
            for (int i = 0; i < n; ++i) {
                auto& c = *static_cast<Conn*>(evs[i].data.ptr);
                if (c.dead) continue;
                if (evs[i].events & EPOLLOUT) write_more(c);
                if (!c.dead && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(c);
            }
            auto now = Clock::now();
            if (now >= t_end) break;
            if (o->kind == Kind::udp && now - last_scan >= std::chrono::milliseconds(1)) {
                last_scan = now;
                for (auto& c : conns)
                    if (!c.dead && now - c.sent_at >= timeout) {
                        if (now >= t_begin) ++st.lost;
                        start_msg(c);
                    }
            }
        }
        for (auto& c : conns) {
            if (c.counted == 0) ++st.starved;
            ::close(c.fd);
        }
        ::close(ep);
    }
};

}  // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }

    std::vector<Worker> workers(static_cast<size_t>(o.threads));
    for (int i = 0; i < o.conns; ++i) {
        int fd = open_conn(o);
        if (fd < 0) {
            std::fprintf(stderr, "echo_load: connection %d to %s: %s\n", i, o.url.c_str(), std::strerror(errno));
            return 1;
        }
        Conn c;
        c.fd = fd;
        workers[static_cast<size_t>(i % o.threads)].conns.push_back(c);
    }
    auto t0 = Clock::now();
    auto t_begin = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
    auto t_end = t_begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
    std::vector<std::thread> threads;
    for (auto& w : workers) {
        w.o = &o;
        w.t_begin = t_begin;
        w.t_end = t_end;
        threads.emplace_back([&w] { w.run(); });
    }
    for (auto& t : threads) t.join();

    Stats all;
    for (auto& w : workers) {
        all.lat_ns.insert(all.lat_ns.end(), w.st.lat_ns.begin(), w.st.lat_ns.end());
        all.errors += w.st.errors;
        all.lost += w.st.lost;
        all.late += w.st.late;
        all.starved += w.st.starved;
        all.max_ns = std::max(all.max_ns, w.st.max_ns);
    }
    const double secs = o.duration;
    const size_t n = all.lat_ns.size();
    auto pct = [&](double p) -> double {
        if (n == 0) return 0;
        size_t k = std::min(n - 1, static_cast<size_t>(p * static_cast<double>(n)));
        std::nth_element(all.lat_ns.begin(), all.lat_ns.begin() + static_cast<long>(k), all.lat_ns.end());
        return all.lat_ns[k] / 1000.0;
    };
    const double p50 = pct(0.50), p90 = pct(0.90), p99 = pct(0.99);
    const char* kind = o.kind == Kind::tcp ? "tcp" : o.kind == Kind::udp ? "udp" : "unix";
    std::printf("target %s: %d %s, %d-byte messages, %.2f s measured after %.2f s warm-up, %d client thread(s)\n",
                o.url.c_str(), o.conns, o.kind == Kind::udp ? "sockets" : "connections", o.size, secs,
                o.warmup, o.threads);
    std::printf("round trips %zu (%.0f/s)  latency p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n", n,
                static_cast<double>(n) / secs, p50, p90, p99, all.max_ns / 1000.0);
    std::printf("errors %llu  starved %llu/%d", static_cast<unsigned long long>(all.errors),
                static_cast<unsigned long long>(all.starved), o.conns);
    if (o.kind == Kind::udp)
        std::printf("  lost %llu (%.3f%%)  late %llu", static_cast<unsigned long long>(all.lost),
                    n + all.lost ? 100.0 * static_cast<double>(all.lost) / static_cast<double>(n + all.lost) : 0.0,
                    static_cast<unsigned long long>(all.late));
    std::printf("\nRESULT transport=%s conns=%d size=%d seconds=%.3f roundtrips=%zu rps=%.1f p50_us=%.1f "
                "p99_us=%.1f max_us=%.1f errors=%llu starved=%llu lost=%llu late=%llu\n",
                kind, o.conns, o.size, secs, n, static_cast<double>(n) / secs, p50, p99, all.max_ns / 1000.0,
                static_cast<unsigned long long>(all.errors), static_cast<unsigned long long>(all.starved),
                static_cast<unsigned long long>(all.lost), static_cast<unsigned long long>(all.late));
    return n == 0 ? 1 : 0;
}
