// SPDX-License-Identifier: MIT
// FileCache: open files and their response fields kept across requests, like
// nginx's open_file_cache or lighttpd's stat cache. No Python counterpart
// (http.server opens every file anew).
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sockhost/sdk/posix/unique_fd.hpp>

namespace sockhost::plugins::files {

class OpenFile;

/// One regular file as the cache holds it: read-only once built, shared by
/// every request that serves it (on any thread). Owns its fd: the fd is
/// closed when the last std::shared_ptr to it goes, so a request still
/// sending the file keeps it open after the cache has dropped the entry.
struct CachedFile {
    CachedFile(sdk::posix::UniqueFd fd, const struct stat& st);

    /// The open file for sendfile; none for an inline file (its `body` is
    /// all that is ever sent, so the fd is closed as soon as it is read).
    sdk::posix::UniqueFd fd;
    struct stat st {};
    // The response fields, formatted once.
    std::string last_modified;          // IMF-fixdate of st_mtim
    std::optional<std::string> etag;    // make_etag(st), when etags are on
    std::string content_type;           // MimeTypes::system().content_type(name)
    std::string content_length;         // st_size in decimal
    /// The whole content, for files of at most FileCache::Settings::inline_max
    /// bytes; nullopt otherwise (sent from `fd`).
    std::optional<std::string> body;
};

/// The open-file cache of one server: path -> CachedFile, shared by all the
/// server's handlers on any thread (a mutex guards the map; files are opened
/// and read outside it). Only successful opens of regular files are cached,
/// never errors, directories or other file types.
///
/// Freshness: an entry is served without touching the file system for
/// `valid` seconds after it was (re)validated. The next open after that runs
/// the caller's opener again (the full containment-checked open + fstat);
/// when (st_dev, st_ino, st_size, st_mtim, st_ctim) are unchanged the old
/// entry, inline body included, is kept and its clock restarted, otherwise
/// the new file replaces it; a failed open drops it. So within `valid`
/// seconds a changed, deleted or swapped file may still be served as it was.
///
/// Bound: at most `max_entries` entries; a new one beyond that first drops
/// the expired entries (at most one sweep per `valid` period), else the
/// least recently used entry.
class FileCache {
public:
    using Clock = std::chrono::steady_clock;

    struct Settings {
        std::size_t max_entries = 1000;   // > 0
        double valid = 1.0;               // seconds, > 0
        std::size_t inline_max = 16384;   // files up to this size are held in memory
        bool etag = true;                 // compute CachedFile::etag
    };

    /// Opens the file at the path the cache was asked for into `file`:
    /// 0 or an errno. Must apply the same policy as an uncached open.
    using Opener = std::function<int(OpenFile& file)>;

    /// `now` is the clock (tests pass a fake one).
    explicit FileCache(Settings settings, Clock::time_point (*now)() = &steady_now);
    ~FileCache();
    FileCache(const FileCache&) = delete;
    FileCache& operator=(const FileCache&) = delete;

    /// Opens `key` (the lexical, normalised path) for one request:
    ///  - a fresh entry: `out` is set, nothing is opened, returns 0;
    ///  - else `open_file(file)` runs. On an error the entry is dropped and
    ///    the errno returned. A regular file is stored (or the unchanged old
    ///    entry refreshed), `out` set and `file` left closed. Anything else
    ///    (a directory, a FIFO) stays open in `file`, the entry is dropped
    ///    and `out` is null.
    /// `name` picks the Content-Type of a new entry. Thread-safe.
    int open(const std::string& key, std::string_view name, const Opener& open_file, OpenFile& file,
             std::shared_ptr<const CachedFile>& out);

    /// Drops the entry for `key`, if any. Thread-safe.
    void erase(const std::string& key);
    /// Entries held now (fresh or expired). Thread-safe.
    std::size_t size() const;
    const Settings& settings() const { return settings_; }

    static Clock::time_point steady_now() { return Clock::now(); }

private:
    struct Entry {
        std::string key;
        std::shared_ptr<const CachedFile> file;
        Clock::time_point validated;
    };
    using List = std::list<Entry>;   // most recently used first

    std::shared_ptr<const CachedFile> build(sdk::posix::UniqueFd fd, const struct stat& st,
                                            std::string_view name) const;
    /// Inserts or replaces `key`, evicting when full; what it lets go of
    /// goes to `dropped`, to be released (fds closed) after unlocking.
    /// Mutex held.
    void put_locked(const std::string& key, std::shared_ptr<const CachedFile> file, Clock::time_point now,
                    std::vector<std::shared_ptr<const CachedFile>>& dropped);

    const Settings settings_;
    const Clock::duration valid_;
    Clock::time_point (*const now_)();

    mutable std::mutex mutex_;
    List lru_;
    std::unordered_map<std::string_view, List::iterator> index_;   // views of Entry::key
    Clock::time_point last_sweep_{};
};

/// True when `a` and `b` describe the same, unchanged file: st_dev, st_ino,
/// st_size, st_mtim and st_ctim all equal.
bool same_file_version(const struct stat& a, const struct stat& b);

}  // namespace sockhost::plugins::files
