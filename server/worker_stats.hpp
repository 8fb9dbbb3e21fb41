#pragma once

// What the query path shares with the control thread: the published Snapshot and the counters.
// Both are built so that a query takes no lock and makes no contended write.

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "server/responder.hpp"
#include "server/snapshot.hpp"

namespace gslb::server {

/// "192.0.2.1:53" or "[2001:db8::1]:53", as listeners are named in logs and errors.
std::string endpointText(const boost::asio::ip::address& address, std::uint16_t port);

/// Thrown when the server cannot start (an address cannot be bound).
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Per-thread counters. Only the owning thread writes them (load, add, store: no contended
/// atomic read-modify-write on the query path); readers sum them across threads.
struct WorkerStats {
    static constexpr std::size_t RcodeSlots = 17;  // 0..15, and 16 for BADVERS
    /// Services counted one by one (Config::services index); answers for services past this
    /// index are not counted per service.
    static constexpr std::size_t MaxCountedServices = 1024;
    std::array<std::array<std::atomic<std::uint64_t>, RcodeSlots>, 2> answers{};
    std::array<std::atomic<std::uint64_t>, 2> dropped{};
    std::array<std::atomic<std::uint64_t>, 2> truncated{};
    /// UDP answers withheld by response rate limiting, and those sent truncated instead.
    std::atomic<std::uint64_t> rate_limited_dropped{0};
    std::atomic<std::uint64_t> rate_limited_slipped{0};
    /// Answers to a service name, any rcode and protocol, by the index of the service in the
    /// snapshot the thread answered from.
    std::array<std::atomic<std::uint64_t>, MaxCountedServices> service_answers{};

    /// Counts one answer; owner thread only.
    void count(Transport t, const Outcome& outcome);
};

/// Totals over every thread, for the dashboard and metrics.
struct ServerStats {
    std::array<std::array<std::uint64_t, WorkerStats::RcodeSlots>, 2> answers{};
    std::array<std::uint64_t, 2> dropped{};
    std::array<std::uint64_t, 2> truncated{};
    std::uint64_t rate_limited_dropped = 0;
    std::uint64_t rate_limited_slipped = 0;
    std::array<std::uint64_t, WorkerStats::MaxCountedServices> service_answers{};

    void add(const WorkerStats& s);
};

/// Adds one to a counter owned by the calling thread.
inline void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

/// The published Snapshot and its generation. publish() swaps under the mutex and bumps the
/// generation; readers compare generations without the lock and take it only on a change.
struct SnapshotSlot {
    mutable std::mutex mutex;
    std::shared_ptr<const Snapshot> current;
    std::atomic<std::uint64_t> generation{0};
};

/// One thread's view of a SnapshotSlot: holds the snapshot it answers from, so an old one
/// lives until every thread has moved on.
class SnapshotReader {
public:
    explicit SnapshotReader(const SnapshotSlot& slot) : slot_(slot) {}

    /// The newest snapshot; lock-free unless it changed since the last call.
    const Snapshot& refresh() {
        const std::uint64_t gen = slot_.generation.load(std::memory_order_acquire);
        if (gen != generation_) {
            std::lock_guard<std::mutex> lock(slot_.mutex);
            snapshot_ = slot_.current;
            generation_ = slot_.generation.load(std::memory_order_relaxed);
        }
        return *snapshot_;
    }

private:
    const SnapshotSlot& slot_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::uint64_t generation_ = ~std::uint64_t{0};
};

/// Logs malformed input at most once per interval per thread, with a count, so a flood of
/// garbage cannot flood the log.
class RejectedLog {
public:
    void note();

private:
    std::uint64_t rejected_ = 0;
    std::chrono::steady_clock::time_point next_warning_{};
};

}  // namespace gslb::server
