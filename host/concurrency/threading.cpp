// SPDX-License-Identifier: MIT
// ThreadingMixIn: a thread per request, with daemon_threads and
// block_on_close as in Python, plus a cap on live threads (max_threads) so a
// flood of connections waits in the listen backlog instead of exhausting the
// host.
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "host/concurrency/concurrency.hpp"

namespace sockhost::host {

namespace {

class ThreadingMixIn final : public ConcurrencyModel {
public:
    explicit ThreadingMixIn(const ServerConfig& config)
        : max_threads_(static_cast<std::size_t>(config.max_threads)),
          daemon_threads_(config.daemon_threads),
          block_on_close_(config.block_on_close) {}

    ~ThreadingMixIn() override {
        // Threads still running here were given up at the deadline; the host
        // exits without returning through them.
        std::lock_guard lock(mutex_);
        for (auto& [id, t] : threads_)
            if (t.joinable()) t.detach();
    }

    std::string_view name() const override { return "threading"; }

    void process_request(RequestSink& server, PendingRequest& request) override {
        reap();
        std::unique_lock lock(mutex_);
        if (live_ >= max_threads_) {
            if (!warned_) {
                server.log(sdk::LogLevel::warning,
                           "max_threads (" + std::to_string(max_threads_) +
                               ") requests running; new ones wait");
                warned_ = true;
            }
            // Backpressure: the loop stops accepting until a thread is free.
            // Sliced, so a shutdown() from another thread is noticed promptly.
            while (live_ >= max_threads_ && !server.stopping())
                cv_.wait_for(lock, std::chrono::milliseconds(100));
            if (live_ >= max_threads_) {
                server.shutdown_request(request);
                return;
            }
        }
        ++live_;
        std::thread t([this, &server, req = std::move(request)]() mutable {
            server.process_request_inline(req);
            std::lock_guard done(mutex_);
            --live_;
            if (!daemon_threads_) finished_.push_back(std::this_thread::get_id());
            cv_.notify_all();
        });
        // Inserted under the lock the thread needs to finish, so it is always
        // found by reap().
        if (daemon_threads_) t.detach();
        else threads_.emplace(t.get_id(), std::move(t));
    }

    void service_actions(RequestSink&) override { reap(); }

    std::size_t server_close(RequestSink&, std::chrono::steady_clock::time_point deadline) override {
        std::unique_lock lock(mutex_);
        cv_.notify_all();   // a loop waiting for a free slot sees stopping()
        if (block_on_close_ && !daemon_threads_) {
            cv_.wait_until(lock, deadline, [&] { return live_ == 0; });
        }
        std::size_t still = live_;
        lock.unlock();
        reap();
        return daemon_threads_ ? 0 : still;   // daemon threads never hold up exit
    }

private:
    /// Joins threads that have finished (never blocks for long: they have
    /// returned from the request).
    void reap() {
        std::vector<std::thread> done;
        {
            std::lock_guard lock(mutex_);
            for (auto id : finished_) {
                auto it = threads_.find(id);
                if (it != threads_.end()) {
                    done.push_back(std::move(it->second));
                    threads_.erase(it);
                }
            }
            finished_.clear();
        }
        for (auto& t : done) t.join();
    }

    const std::size_t max_threads_;
    const bool daemon_threads_;
    const bool block_on_close_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t live_ = 0;
    bool warned_ = false;
    std::map<std::thread::id, std::thread> threads_;
    std::vector<std::thread::id> finished_;
};

}  // namespace

std::unique_ptr<ConcurrencyModel> make_threading_model(const ServerConfig& config) {
    return std::make_unique<ThreadingMixIn>(config);
}

}  // namespace sockhost::host
