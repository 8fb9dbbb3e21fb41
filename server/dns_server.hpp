#pragma once

// The DNS listeners. Each worker thread owns its own io_context and, for every configured
// address, its own UDP socket and TCP acceptor bound with SO_REUSEPORT, so the kernel spreads
// queries over workers and no two threads ever touch the same socket. Workers answer from
// the current Snapshot, which the control thread replaces with publish().

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "config/config.hpp"
#include "server/responder.hpp"
#include "server/snapshot.hpp"

namespace gslb::server {

/// Thrown when the server cannot start (an address cannot be bound).
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Per-worker counters. Only the owning worker writes them (load, add, store: no contended
/// atomic read-modify-write on the query path); readers sum them across workers.
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
    /// snapshot the worker answered from.
    std::array<std::atomic<std::uint64_t>, MaxCountedServices> service_answers{};
};

/// Totals over every worker, for the dashboard and metrics.
struct ServerStats {
    std::array<std::array<std::uint64_t, WorkerStats::RcodeSlots>, 2> answers{};
    std::array<std::uint64_t, 2> dropped{};
    std::array<std::uint64_t, 2> truncated{};
    std::uint64_t rate_limited_dropped = 0;
    std::uint64_t rate_limited_slipped = 0;
    std::array<std::uint64_t, WorkerStats::MaxCountedServices> service_answers{};
};

class DnsServer {
public:
    /// Binds every `listen` address, UDP and TCP, once per worker. An address with port 0
    /// gets one port free for both UDP and TCP, shared by every worker.
    /// Throws StartupError naming the address when a bind fails. Logs one line per listener.
    explicit DnsServer(const config::ServerConfig& cfg);
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    /// Starts the worker threads answering from `first`. Called once, on the control thread.
    void start(std::shared_ptr<const Snapshot> first);

    /// Makes `next` the snapshot every worker answers from. Workers pick it up before their
    /// next batch of queries; the previous one is freed once no worker holds it. Control thread.
    void publish(std::shared_ptr<const Snapshot> next);

    /// The snapshot currently published (control thread).
    std::shared_ptr<const Snapshot> current() const;

    /// Stops and joins the workers; queries in flight are dropped. Idempotent.
    void stop();

    /// Sums every worker's counters (relaxed loads; each counter is exact, the set of them
    /// is not one instant). Any thread.
    ServerStats stats() const;

    /// The port bound for each `listen` entry, in order (useful when the config said 0).
    const std::vector<std::uint16_t>& ports() const { return ports_; }

private:
    class Worker;
    friend class Worker;

    /// The snapshot and its generation; workers compare generations lock-free and take the
    /// mutex only when it changed.
    mutable std::mutex snapshot_mutex_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::atomic<std::uint64_t> generation_{0};
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::uint16_t> ports_;
    bool running_ = false;
};

}  // namespace gslb::server
