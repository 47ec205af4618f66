// SPDX-License-Identifier: MIT
// FileCache: the open-file cache of one server.
#include "file_cache.hpp"

#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include <sockhost/sdk/http/date.hpp>
#include <sockhost/sdk/http/etag.hpp>

#include "open_file.hpp"
#include "static_files.hpp"

namespace sockhost::plugins::files {

CachedFile::CachedFile(sdk::posix::UniqueFd fd_in, const struct stat& st_in)
    : fd(std::move(fd_in)), st(st_in) {}

bool same_file_version(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

FileCache::FileCache(Settings settings, Clock::time_point (*now)())
    : settings_(settings),
      valid_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settings.valid))),
      now_(now) {}

FileCache::~FileCache() = default;

namespace {

/// Reads exactly `size` bytes from the start of `fd`; nullopt when the file
/// ends early or a read fails (the entry is then served from the fd).
std::optional<std::string> read_whole(int fd, std::size_t size) {
    std::string data(size, '\0');
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::pread(fd, data.data() + got, size - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        got += static_cast<std::size_t>(n);
    }
    return data;
}

}  // namespace

std::shared_ptr<const CachedFile> FileCache::build(sdk::posix::UniqueFd fd, const struct stat& st,
                                                   std::string_view name) const {
    auto file = std::make_shared<CachedFile>(std::move(fd), st);
    file->last_modified = sdk::http::format_http_date(st.st_mtim.tv_sec);
    if (settings_.etag) file->etag = sdk::http::make_etag(st);
    file->content_type = MimeTypes::system().content_type(name);
    file->content_length = std::to_string(st.st_size);
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size <= settings_.inline_max) {
        file->body = read_whole(file->fd.get(), size);
        if (file->body) file->fd.reset();   // only the body is ever sent: hold no fd for it
    }
    return file;
}

int FileCache::open(const std::string& key, std::string_view name, const Opener& open_file,
                    OpenFile& file, std::shared_ptr<const CachedFile>& out) {
    out.reset();
    const Clock::time_point now = now_();
    std::shared_ptr<const CachedFile> old;
    {
        std::lock_guard lock(mutex_);
        if (auto it = index_.find(key); it != index_.end()) {
            Entry& entry = *it->second;
            if (now - entry.validated < valid_) {
                lru_.splice(lru_.begin(), lru_, it->second);
                out = entry.file;
                return 0;
            }
            old = entry.file;
        }
    }
    // Expired or missing: the full open, with the caller's containment
    // checks, exactly as without a cache. Errors are never cached.
    if (int err = open_file(file); err != 0) {
        if (old) erase(key);
        return err;
    }
    if (!file.is_regular()) {
        if (old) erase(key);
        return 0;
    }
    std::shared_ptr<const CachedFile> fresh;
    if (old && same_file_version(old->st, file.stat())) {
        fresh = std::move(old);   // unchanged: keep the entry (and its inline body)
        file.close();
    } else {
        const struct stat st = file.stat();
        fresh = build(file.release(), st, name);
    }
    std::vector<std::shared_ptr<const CachedFile>> dropped;   // released after unlocking
    {
        std::lock_guard lock(mutex_);
        put_locked(key, fresh, now, dropped);
    }
    out = std::move(fresh);
    return 0;
}

void FileCache::put_locked(const std::string& key, std::shared_ptr<const CachedFile> file,
                           Clock::time_point now, std::vector<std::shared_ptr<const CachedFile>>& dropped) {
    if (auto it = index_.find(key); it != index_.end()) {
        Entry& entry = *it->second;
        if (entry.file != file) dropped.push_back(std::exchange(entry.file, std::move(file)));
        entry.validated = now;
        lru_.splice(lru_.begin(), lru_, it->second);
        return;
    }
    if (index_.size() >= settings_.max_entries) {
        // Expired entries go first, swept at most once per validity period so
        // a cache full of fresh entries costs no scan per insert.
        if (now - last_sweep_ >= valid_) {
            last_sweep_ = now;
            for (auto i = lru_.begin(); i != lru_.end();) {
                if (now - i->validated >= valid_) {
                    dropped.push_back(std::move(i->file));
                    index_.erase(i->key);
                    i = lru_.erase(i);
                } else {
                    ++i;
                }
            }
        }
        while (index_.size() >= settings_.max_entries && !lru_.empty()) {
            auto last = std::prev(lru_.end());
            dropped.push_back(std::move(last->file));
            index_.erase(last->key);
            lru_.erase(last);
        }
    }
    lru_.push_front(Entry{key, std::move(file), now});
    index_.emplace(lru_.front().key, lru_.begin());
}

void FileCache::erase(const std::string& key) {
    std::shared_ptr<const CachedFile> dropped;   // its fd closes after unlocking
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
        dropped = std::move(it->second->file);
        List::iterator entry = it->second;
        index_.erase(it);
        lru_.erase(entry);
    }
}

std::size_t FileCache::size() const {
    std::lock_guard lock(mutex_);
    return index_.size();
}

}  // namespace sockhost::plugins::files
