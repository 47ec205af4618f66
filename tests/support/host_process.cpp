// SPDX-License-Identifier: MIT
#include "support/host_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace sockhost::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

bool wait_readable(int fd, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        return r > 0;
    }
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

pid_t spawn(const std::vector<std::string>& args, int out_fd, int err_fd, int max_open_files = 0,
            const Launch* launch = nullptr) {
    std::vector<char*> argv;
    std::string binary = launch && !launch->binary.empty() ? launch->binary : std::string(SOCKHOST_BINARY);
    argv.push_back(binary.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // The environment, made before fork (the child may only do
    // async-signal-safe work): ours, plus the launch's, plus socket
    // activation's variables; LISTEN_PID's digits are written in the child.
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
    char listen_pid[32] = "LISTEN_PID=";
    const std::size_t passed = launch ? launch->listen_fds.size() : 0;
    if (launch) {
        for (const auto& [key, value] : launch->env) env_text.push_back(key + "=" + value);
        if (passed > 0) {
            std::string names;
            for (const auto& [fd, name] : launch->listen_fds) names += (names.empty() ? "" : ":") + name;
            env_text.push_back("LISTEN_FDS=" + std::to_string(passed));
            env_text.push_back("LISTEN_FDNAMES=" + names);
        }
    }
    std::vector<char*> envp;
    for (auto& e : env_text) envp.push_back(e.data());
    if (passed > 0) envp.push_back(listen_pid);
    envp.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        if (passed > 0) {
            // The sockets go to 3, 4, ... (out of the way first), inheritable.
            std::vector<int> high;
            for (const auto& [fd, name] : launch->listen_fds) high.push_back(::fcntl(fd, F_DUPFD, 100));
            for (std::size_t i = 0; i < passed; ++i) ::dup2(high[i], 3 + static_cast<int>(i));
            for (int fd : high) ::close(fd);
            // LISTEN_PID=<this pid>, without allocating.
            char digits[16];
            int n = 0;
            for (pid_t v = ::getpid(); v > 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
            char* out = listen_pid + 11;
            while (n > 0) *out++ = digits[--n];
            *out = '\0';
        }
        // Its own process group: the test can stop everything it started
        // (workers, forked children) and nothing else.
        ::setpgid(0, 0);
        ::dup2(out_fd, STDOUT_FILENO);
        ::dup2(err_fd, STDERR_FILENO);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
        if (max_open_files > 0) {
            rlimit rl{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}
}  // namespace

// --- TempDir ---------------------------------------------------------------

TempDir::TempDir() {
    std::string tmpl = "/tmp/skh-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) fail("mkdtemp");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    // Make everything removable first (tests create unreadable files).
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (!it->is_symlink()) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(path_, ec);
}

fs::path TempDir::write(std::string_view name, std::string_view content, bool executable) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    if (executable)
        fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    return p;
}

ScopedEnv::ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
}

std::string host_section(std::string_view log_level, std::string_view plugins_dir) {
    std::string dir = plugins_dir.empty() ? std::string(SOCKHOST_PLUGIN_DIR) : std::string(plugins_dir);
    return "[host]\nplugins_dir = \"" + dir + "\"\nlog_level = \"" + std::string(log_level) + "\"\n";
}

// --- run_sockhost ----------------------------------------------------------

RunResult run_sockhost(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) fail("pipe2");
    pid_t pid = spawn(args, out[1], err[1]);
    ::close(out[1]);
    ::close(err[1]);
    RunResult r;
    auto deadline = Clock::now() + timeout;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
        int n = ::poll(p, 2, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;   // timeout
        char buf[4096];
        for (int i = 0; i < 2; ++i) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t k = ::read(p[i].fd, buf, sizeof buf);
            if (k <= 0) {
                (i == 0 ? out_open : err_open) = false;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(k));
            }
        }
    }
    ::close(out[0]);
    ::close(err[0]);
    int status = 0;
    for (;;) {
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (Clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    r.exit_code = decode_status(status);
    return r;
}

// --- HostProcess -----------------------------------------------------------

HostProcess::HostProcess(const TempDir& dir, std::string_view config_text,
                         std::vector<std::string> extra_args, int max_open_files)
    : HostProcess(dir, config_text, Launch{std::move(extra_args), max_open_files, {}, {}, {}}) {}

HostProcess::HostProcess(const TempDir& dir, std::string_view config_text, const Launch& launch) {
    fs::path config = dir.write("servers.toml", config_text);
    std::vector<std::string> args = {"--config", config.string()};
    args.insert(args.end(), launch.extra_args.begin(), launch.extra_args.end());
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) fail("pipe2");
    pid_ = spawn(args, p[1], p[1], launch.max_open_files, &launch);
    ::close(p[1]);
    reader_ = std::thread([this, fd = p[0]] { reader_loop(fd); });
}

HostProcess::~HostProcess() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    // Whatever the host started (and left) dies with it: its process group.
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
    stop_reader_ = true;
    if (reader_.joinable()) reader_.join();
}

void HostProcess::reader_loop(int fd) {
    std::string partial;
    char buf[4096];
    for (;;) {
        // Polled, so the destructor can stop us even if a straggler still
        // holds the pipe's write end.
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, 100);
        if (r == 0) {
            if (stop_reader_) break;
            continue;
        }
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        partial.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        std::lock_guard lock(mutex_);
        while ((nl = partial.find('\n')) != std::string::npos) {
            lines_.push_back(partial.substr(0, nl));
            partial.erase(0, nl + 1);
        }
        cv_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mutex_);
    if (!partial.empty()) lines_.push_back(partial);
    eof_ = true;
    cv_.notify_all();
}

std::string HostProcess::url(std::string_view server_name, std::chrono::milliseconds timeout) {
    std::string needle = "server " + std::string(server_name) + " listening on ";
    std::unique_lock lock(mutex_);
    std::string found;
    bool ok = cv_.wait_for(lock, timeout, [&] {
        for (const auto& l : lines_) {
            auto at = l.find(needle);
            if (at != std::string::npos) {
                found = l.substr(at + needle.size());
                auto sp = found.find(' ');
                if (sp != std::string::npos) found.resize(sp);
                return true;
            }
        }
        return eof_;
    });
    if (!ok || found.empty()) {
        std::string all;
        for (const auto& l : lines_) all += l + "\n";
        throw std::runtime_error("server " + std::string(server_name) +
                                 " did not report its address; log:\n" + all);
    }
    return found;
}

std::uint16_t HostProcess::port(std::string_view server_name, std::chrono::milliseconds timeout) {
    std::string u = url(server_name, timeout);
    return static_cast<std::uint16_t>(std::stoi(u.substr(u.rfind(':') + 1)));
}

bool HostProcess::wait_for_log(std::string_view needle, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] {
        for (const auto& l : lines_)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    });
}

std::string HostProcess::log() const {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all;
}

std::optional<int> HostProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t w = ::waitpid(pid_, &status, WNOHANG);
        if (w == pid_) {
            status_ = decode_status(status);
            // Its last lines may still be in the pipe: let the reader reach
            // end of file (bounded: a child it forked may hold the pipe).
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, 2s, [&] { return eof_; });
            return status_;
        }
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
}

std::optional<int> HostProcess::stop(int sig, std::chrono::milliseconds timeout) {
    if (status_) return status_;
    ::kill(pid_, sig);
    return wait_exit(timeout);
}

bool HostProcess::running() { return !wait_exit(0ms).has_value(); }

pid_t HostProcess::serving_pid(std::chrono::milliseconds timeout) const {
    // The supervisor's one worker (workers = 1, the default); the host
    // itself when it has no child (workers = 0). Once a server listens: the
    // process that checks the plugins at start has exited by then.
    const_cast<HostProcess*>(this)->wait_for_log(" listening on ", timeout);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const std::vector<pid_t> children = live_children(pid_);
        if (children.size() == 1) return children[0];
        if (children.empty() || std::chrono::steady_clock::now() >= deadline) return pid_;
        std::this_thread::sleep_for(10ms);
    }
}

std::chrono::milliseconds HostProcess::cpu_time() const {
    std::ifstream in("/proc/" + std::to_string(serving_pid()) + "/stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) return 0ms;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    long long utime = 0, stime = 0;
    // Fields after ')' start at 3 (state); utime is field 14, stime 15.
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoll(field);
        if (i == 15) stime = std::stoll(field);
    }
    long ticks = ::sysconf(_SC_CLK_TCK);
    return std::chrono::milliseconds((utime + stime) * 1000 / (ticks > 0 ? ticks : 100));
}

// --- Socket ----------------------------------------------------------------

Socket::~Socket() { close(); }

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

void Socket::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void Socket::send_all(std::string_view data) const {
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("send");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string Socket::read_some(std::chrono::milliseconds timeout) const {
    if (!wait_readable(fd_, Clock::now() + timeout)) return {};
    char buf[65536];
    for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return {};
        return std::string(buf, static_cast<std::size_t>(n));
    }
}

std::string Socket::read_all(std::chrono::milliseconds timeout) const {
    std::string out;
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (wait_readable(fd_, deadline)) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string Socket::read_exactly(std::size_t want, std::chrono::milliseconds timeout) const {
    std::string out;
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (out.size() < want && wait_readable(fd_, deadline)) {
        ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, want - out.size()), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string Socket::read_until(std::string_view needle, std::chrono::milliseconds timeout) const {
    std::string out;
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (out.find(needle) == std::string::npos && wait_readable(fd_, deadline)) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

void Socket::shutdown_write() const { ::shutdown(fd_, SHUT_WR); }

bool Socket::peer_closed(std::chrono::milliseconds timeout) const {
    auto deadline = Clock::now() + timeout;
    char buf[4096];
    while (wait_readable(fd_, deadline)) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
    }
    return false;
}

// --- connecting ------------------------------------------------------------

std::optional<SegmentsIn> segments_received(const Socket& s) {
    // glibc's struct tcp_info stops at tcpi_total_retrans; after it come
    // four __u64 (pacing rates, bytes acked and received), then segs_out,
    // segs_in, notsent_bytes, min_rtt and data_segs_in.
    constexpr std::size_t kSegsIn = offsetof(tcp_info, tcpi_total_retrans) + 4 + 4 * 8 + 4;
    constexpr std::size_t kDataSegsIn = kSegsIn + 12;
    static_assert(kSegsIn == 140);
    unsigned char info[256] = {};
    socklen_t len = sizeof info;
    if (::getsockopt(s.fd(), IPPROTO_TCP, TCP_INFO, info, &len) != 0 || len < kDataSegsIn + 4)
        return std::nullopt;
    std::uint32_t all, data;
    std::memcpy(&all, info + kSegsIn, sizeof all);
    std::memcpy(&data, info + kDataSegsIn, sizeof data);
    return SegmentsIn{static_cast<long>(all), static_cast<long>(data)};
}

Socket connect_tcp(std::uint16_t port, std::string_view host) {
    std::string h(host);
    sockaddr_storage ss{};
    socklen_t len;
    int family;
    if (h.find(':') != std::string::npos) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, h.c_str(), &in6->sin6_addr) != 1) throw std::invalid_argument(h);
        len = sizeof *in6;
        family = AF_INET6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&ss);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        if (inet_pton(AF_INET, h.c_str(), &in->sin_addr) != 1) throw std::invalid_argument(h);
        len = sizeof *in;
        family = AF_INET;
    }
    Socket s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) fail("socket");
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&ss), len) < 0) fail("connect " + h);
    return s;
}

namespace {
socklen_t unix_addr(const fs::path& path, sockaddr_un& un) {
    un = {};
    un.sun_family = AF_UNIX;
    std::string p = path.string();
    if (p.size() >= sizeof un.sun_path) throw std::invalid_argument("unix path too long: " + p);
    std::memcpy(un.sun_path, p.c_str(), p.size() + 1);
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + p.size() + 1);
}

struct ParsedUrl {
    std::string scheme, host, path;
    std::uint16_t port = 0;
};

ParsedUrl parse_url(std::string_view url) {
    ParsedUrl u;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) throw std::invalid_argument(std::string(url));
    u.scheme = url.substr(0, sep);
    std::string_view rest = url.substr(sep + 3);
    if (u.scheme == "unix" || u.scheme == "unixgram") {
        u.path = rest;
        return u;
    }
    auto colon = rest.rfind(':');
    std::string_view host = rest.substr(0, colon);
    if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
    u.host = host;
    u.port = static_cast<std::uint16_t>(std::stoi(std::string(rest.substr(colon + 1))));
    return u;
}
}  // namespace

Socket connect_unix(const fs::path& path) {
    sockaddr_un un;
    socklen_t len = unix_addr(path, un);
    Socket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) fail("socket");
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&un), len) < 0) fail("connect " + path.string());
    return s;
}

Socket connect_stream(std::string_view url) {
    ParsedUrl u = parse_url(url);
    if (u.scheme == "unix") return connect_unix(u.path);
    if (u.host == "0.0.0.0") u.host = "127.0.0.1";
    if (u.host == "::") u.host = "::1";
    return connect_tcp(u.port, u.host);
}

Socket datagram_client(std::string_view url, const fs::path& client_dir) {
    ParsedUrl u = parse_url(url);
    if (u.scheme == "unixgram") {
        static std::atomic<int> counter{0};
        Socket s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!s) fail("socket");
        sockaddr_un me;
        fs::path mine = client_dir / ("c" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove(mine);
        socklen_t mlen = unix_addr(mine, me);
        if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&me), mlen) < 0) fail("bind " + mine.string());
        sockaddr_un srv;
        socklen_t slen = unix_addr(u.path, srv);
        if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&srv), slen) < 0) fail("connect " + u.path);
        return s;
    }
    bool v6 = u.host.find(':') != std::string::npos;
    Socket s(::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) fail("socket");
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(u.port);
        inet_pton(AF_INET6, u.host.c_str(), &in6->sin6_addr);
        len = sizeof *in6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&ss);
        in->sin_family = AF_INET;
        in->sin_port = htons(u.port);
        inet_pton(AF_INET, u.host.c_str(), &in->sin_addr);
        len = sizeof *in;
    }
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&ss), len) < 0) fail("connect udp");
    return s;
}

std::string datagram_roundtrip(const Socket& s, std::string_view payload,
                               std::chrono::milliseconds timeout) {
    if (::send(s.fd(), payload.data(), payload.size(), 0) < 0) fail("send datagram");
    if (!wait_readable(s.fd(), Clock::now() + timeout)) return {};
    std::string buf(65536, '\0');
    ssize_t n = ::recv(s.fd(), buf.data(), buf.size(), 0);
    if (n < 0) return {};
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

// --- /proc -----------------------------------------------------------------

namespace {
template <class Pred>
int count_children_where(pid_t parent, Pred pred) {
    int count = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        // pid (comm) state ppid ...: comm may contain spaces, so parse after ')'.
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent && pred(state)) ++count;
    }
    return count;
}
}  // namespace

int count_zombie_children(pid_t pid) {
    return count_children_where(pid, [](char s) { return s == 'Z'; });
}

int zombies_after(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    int zombies = count_zombie_children(pid);
    while (zombies != 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
        zombies = count_zombie_children(pid);
    }
    return zombies;
}

int count_children(pid_t pid) {
    return count_children_where(pid, [](char s) { return s != 'Z'; });
}

std::vector<pid_t> live_children(pid_t parent) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent && state != 'Z') out.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return out;
}

int count_open_fds(pid_t pid) {
    int n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

std::vector<TcpSocketState> tcp_sockets_on_port(std::uint16_t port) {
    std::vector<TcpSocketState> out;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);   // the header
        while (std::getline(in, line)) {
            // "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 ..."
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues;
            fields >> slot >> local >> remote >> state >> queues;
            const auto colon = local.rfind(':');
            if (colon == std::string::npos) continue;
            if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
            TcpSocketState s;
            s.state = static_cast<int>(std::stoul(state, nullptr, 16));
            const auto q = queues.find(':');
            if (q != std::string::npos) s.send_queue = std::stoul(queues.substr(0, q), nullptr, 16);
            if (s.state != 0x0A) out.push_back(s);   // not LISTEN
        }
    }
    return out;
}

}  // namespace sockhost::testing
