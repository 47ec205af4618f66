// SPDX-License-Identifier: MIT
// The event model's ready list: connections epoll reported, oldest first.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sockhost::host::event {

/// Ids of connections ready to run, oldest first. A pool thread puts its
/// whole epoll_wait batch here, so every thread can take from it (none waits
/// behind a long turn while another is free). Stale ids (connections closed
/// since) are skipped by the taker. All but size() under the model's mutex.
class ReadyList {
public:
    void push(std::uint64_t id) {
        ids_.push_back(id);
        count_.store(ids_.size() - head_, std::memory_order_relaxed);
    }
    std::optional<std::uint64_t> pop() {
        if (head_ == ids_.size()) return std::nullopt;
        const std::uint64_t id = ids_[head_++];
        if (head_ == ids_.size()) {
            ids_.clear();
            head_ = 0;
        }
        count_.store(ids_.size() - head_, std::memory_order_relaxed);
        return id;
    }
    /// Without the lock: a hint, exact only under it.
    std::size_t size() const { return count_.load(std::memory_order_relaxed); }

private:
    std::vector<std::uint64_t> ids_;
    std::size_t head_ = 0;
    std::atomic<std::size_t> count_{0};
};

}  // namespace sockhost::host::event
