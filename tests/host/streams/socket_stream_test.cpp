// SPDX-License-Identifier: MIT
// The host's byte streams over socketpairs: partial sends, queueing instead
// of waiting, the queue limit, file ranges, a peer that goes away.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <system_error>
#include <thread>

#include <sockhost/sdk/errors.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>

#include "host/streams/socket_stream.hpp"

namespace sockhost::host {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A connected pair: `ours` non-blocking (as the event model's) or not.
struct Pair {
    sdk::posix::UniqueFd ours;
    sdk::posix::UniqueFd peer;
    explicit Pair(bool nonblocking) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        ours.reset(fds[0]);
        peer.reset(fds[1]);
        ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) & ~O_NONBLOCK);   // the peer blocks
        const int small = 4096;   // the kernel doubles it; still small
        ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    /// Everything the peer can read now (non-blocking).
    std::string drain_peer() {
        std::string out;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(peer.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0) return out;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

/// Sends the queue as the event model does: flush while the peer reads.
std::string flush_all(DeferringSocketStream& stream, Pair& pair) {
    std::string got;
    for (int i = 0; i < 10000 && !stream.flush_pending(); ++i) got += pair.drain_peer();
    return got + pair.drain_peer();
}

TEST(DeferringSocketStream, QueuesWhatTheSocketCannotTakeInsteadOfWaiting) {
    Pair pair(true);
    DeferringSocketStream stream(pair.ours.get(), 5s);
    const std::string data = pattern(100 * 1024);
    const auto start = Clock::now();
    stream.write(data.substr(0, 60 * 1024), data.substr(60 * 1024));
    EXPECT_LT(Clock::now() - start, 1s) << "a write with a slow reader returns";
    EXPECT_TRUE(stream.pending());
    stream.write("tail");   // behind the queue, in order
    const std::string got = flush_all(stream, pair);
    EXPECT_EQ(got.size(), data.size() + 4);
    EXPECT_TRUE(got == data + "tail");
    EXPECT_FALSE(stream.pending());
}

TEST(DeferringSocketStream, AQueueAtItsLimitMakesTheNextWriteWaitBoundedByTheTimeout) {
    Pair pair(true);
    DeferringSocketStream stream(pair.ours.get(), 200ms);
    stream.write(pattern(DeferringSocketStream::max_queued()));
    ASSERT_TRUE(stream.pending());
    const auto start = Clock::now();
    EXPECT_THROW(stream.write(pattern(64 * 1024)), sdk::TimeoutError);   // nobody reads
    EXPECT_GE(Clock::now() - start, 150ms);
}

TEST(DeferringSocketStream, QueuesAFileRangeAsADescriptorAndSendsItLater) {
    char name[] = "/tmp/sockhost-stream-XXXXXX";
    sdk::posix::UniqueFd file(::mkstemp(name));
    ASSERT_TRUE(file);
    ::unlink(name);
    const std::string content = pattern(300 * 1024);
    ASSERT_EQ(::write(file.get(), content.data(), content.size()), static_cast<ssize_t>(content.size()));
    Pair pair(true);
    DeferringSocketStream stream(pair.ours.get(), 5s);
    stream.write_more("head:");
    stream.send_file(file.get(), 1000, 200 * 1024);
    file.reset();   // the stream holds its own descriptor for the queued range
    EXPECT_TRUE(stream.pending());
    const std::string got = flush_all(stream, pair);
    EXPECT_EQ(got.size(), 5 + 200 * 1024u);
    EXPECT_TRUE(got == "head:" + content.substr(1000, 200 * 1024));
}

TEST(DeferringSocketStream, AReadThatMustWaitSendsTheQueueFirst) {
    Pair pair(true);
    DeferringSocketStream stream(pair.ours.get(), 5s);
    const std::string data = pattern(80 * 1024);
    stream.write(data);
    ASSERT_TRUE(stream.pending());
    std::string got;
    std::thread peer([&] {
        // The peer reads the answer, then sends its next request.
        while (got.size() < data.size()) {
            char buf[65536];
            const ssize_t n = ::recv(pair.peer.get(), buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        ::send(pair.peer.get(), "next", 4, MSG_NOSIGNAL);
    });
    char buf[16];
    const std::size_t n = stream.read_some(buf, sizeof buf);
    peer.join();
    EXPECT_EQ(std::string(buf, n), "next");
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
    EXPECT_FALSE(stream.pending());
}

TEST(DeferringSocketStream, ReadNowaitTellsNothingYetDataAndEndOfStream) {
    Pair pair(true);
    DeferringSocketStream stream(pair.ours.get(), 5s);
    char buf[4];
    EXPECT_EQ(stream.read_nowait(buf, sizeof buf), std::nullopt);
    EXPECT_FALSE(stream.may_have_more());
    ASSERT_EQ(::send(pair.peer.get(), "abcdef", 6, 0), 6);
    ASSERT_EQ(stream.read_nowait(buf, sizeof buf), 4u);
    EXPECT_TRUE(stream.may_have_more()) << "the read filled its room";
    ASSERT_EQ(stream.read_nowait(buf, sizeof buf), 2u);
    EXPECT_FALSE(stream.may_have_more());
    pair.peer.reset();
    EXPECT_EQ(stream.read_nowait(buf, sizeof buf), 0u);
}

TEST(DeferringSocketStream, APeerGoneWhileOutputIsQueuedFailsTheFlush) {
    Pair pair(true);
    DeferringSocketStream stream(pair.ours.get(), 5s);
    stream.write(pattern(100 * 1024));
    ASSERT_TRUE(stream.pending());
    pair.peer.reset();
    EXPECT_THROW(while (!stream.flush_pending()) {}, std::system_error);
}

TEST(SocketStream, WaitsForInputBoundedByItsTimeout) {
    Pair pair(false);
    SocketStream stream(pair.ours.get(), 100ms);
    char buf[8];
    EXPECT_EQ(stream.read_nowait(buf, sizeof buf), std::nullopt);
    const auto start = Clock::now();
    EXPECT_THROW(stream.read_some(buf, sizeof buf), sdk::TimeoutError);
    EXPECT_GE(Clock::now() - start, 80ms);
    ASSERT_EQ(::send(pair.peer.get(), "x", 1, 0), 1);
    EXPECT_EQ(stream.read_some(buf, sizeof buf), 1u);
}

TEST(SocketStream, AWriteTheReaderNeverTakesTimesOut) {
    Pair pair(false);
    SocketStream stream(pair.ours.get(), 150ms);
    EXPECT_THROW(stream.write(pattern(1 << 20)), sdk::TimeoutError);
}

}  // namespace
}  // namespace sockhost::host
