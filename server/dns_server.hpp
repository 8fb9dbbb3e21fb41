#pragma once

// The DNS listeners. Each worker owns, for every configured address, its own UDP socket and
// TCP acceptor bound with SO_REUSEPORT, so the kernel spreads queries over workers and no two
// threads ever touch the same socket. UDP is served by a thread per socket in a batched
// recvmmsg/sendmmsg loop (udp_loop.hpp); TCP by the worker's io_context. All answer from the
// current Snapshot, which the control thread replaces with publish().

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
#include "server/worker_stats.hpp"

namespace gslb::server {

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

    /// The snapshot every thread answers from.
    SnapshotSlot slot_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::uint16_t> ports_;
    bool running_ = false;
};

}  // namespace gslb::server
