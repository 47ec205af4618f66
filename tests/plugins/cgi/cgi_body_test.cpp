// SPDX-License-Identifier: MIT
// SpooledBody: a chunked request body held whole before its script starts,
// in memory up to a threshold, then in a temporary file nobody can open.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

#include "cgi/cgi_body.hpp"
#include "support/host_process.hpp"

namespace cg = sockhost::plugins::cgi;
namespace fs = std::filesystem;
using sockhost::testing::TempDir;

namespace {

std::string read_back(const cg::SpooledBody& body, std::size_t piece) {
    std::string out;
    std::string buf(piece, '\0');
    while (std::size_t n = body.read_at(out.size(), buf.data(), buf.size())) out.append(buf.data(), n);
    return out;
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

TEST(SpooledBody, StaysInMemoryUpToTheThreshold) {
    TempDir dir;
    cg::SpooledBody body(10, dir.path());
    body.append("hello");
    body.append("world");
    EXPECT_FALSE(body.in_file());
    EXPECT_EQ(body.size(), 10u);
    EXPECT_EQ(read_back(body, 3), "helloworld");
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(SpooledBody, BeyondItMovesToAFileWithoutAName) {
    TempDir dir;
    const std::string data = pattern(300000);
    cg::SpooledBody body(16 * 1024, dir.path());
    for (std::size_t i = 0; i < data.size(); i += 7000) body.append(std::string_view(data).substr(i, 7000));
    ASSERT_TRUE(body.in_file());
    EXPECT_EQ(body.size(), data.size());
    EXPECT_TRUE(read_back(body, 65536) == data);
    // Unlinked: no entry in the directory, no link count; only this fd has it.
    EXPECT_TRUE(fs::is_empty(dir.path()));
    struct stat st {};
    ASSERT_EQ(::fstat(body.file_fd(), &st), 0);
    EXPECT_EQ(st.st_nlink, 0u);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), data.size());
    const fs::path link = fs::read_symlink("/proc/self/fd/" + std::to_string(body.file_fd()));
    EXPECT_EQ(link.string().rfind(fs::canonical(dir.path()).string() + "/", 0), 0u) << link;
}

TEST(SpooledBody, AThresholdOfZeroSpoolsEveryByte) {
    TempDir dir;
    cg::SpooledBody body(0, dir.path());
    body.append("x");
    EXPECT_TRUE(body.in_file());
    EXPECT_EQ(read_back(body, 10), "x");
    cg::SpooledBody empty(0, dir.path());
    EXPECT_FALSE(empty.in_file());   // nothing appended: no file made
    EXPECT_EQ(empty.size(), 0u);
}

TEST(SpooledBody, AMissingDirectoryIsAnError) {
    cg::SpooledBody body(4, "/nonexistent/sockhost-spool");
    body.append("1234");
    EXPECT_THROW(body.append("5"), std::system_error);
}

TEST(SpooledBody, DefaultTempDirIsTmpdirWhenAbsolute) {
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old ? old : "";
    ::setenv("TMPDIR", "/var/tmp", 1);
    EXPECT_EQ(cg::default_temp_dir(), "/var/tmp");
    ::setenv("TMPDIR", "relative", 1);
    EXPECT_EQ(cg::default_temp_dir(), "/tmp");
    ::unsetenv("TMPDIR");
    EXPECT_EQ(cg::default_temp_dir(), "/tmp");
    if (old) ::setenv("TMPDIR", saved.c_str(), 1);
}

}  // namespace
