#pragma once

// The UDP query path: one thread per UDP socket (per worker and listen address) in a loop of
// blocking recvmmsg, answer each datagram from the current Snapshot, sendmmsg. It is the one
// place UDP queries are served. It bypasses Asio on purpose: a readiness wakeup through the
// reactor costs more than answering the query (a mutex, an epoll_wait and an epoll_ctl per
// wakeup), while recvmmsg with MSG_WAITFORONE costs two system calls per batch. TCP, timers,
// health checks and the dashboard stay on Asio.

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <thread>

#include "config/config.hpp"
#include "server/rate_limiter.hpp"
#include "server/worker_stats.hpp"

namespace gslb::server {

class UdpLoop {
public:
    /// Opens a UDP socket with SO_REUSEPORT bound to `address`:`port`. Throws StartupError
    /// naming the address when it cannot. Control thread.
    UdpLoop(const SnapshotSlot& slot,
            const config::ServerConfig& cfg,
            const boost::asio::ip::address& address,
            std::uint16_t port);
    ~UdpLoop();
    UdpLoop(const UdpLoop&) = delete;
    UdpLoop& operator=(const UdpLoop&) = delete;

    /// Starts the loop's thread; the slot must hold a snapshot. Control thread, once.
    void start();

    /// Wakes the thread (shutdown of the socket's read side) and joins it. Idempotent.
    void stop();

    /// Counters of this loop, written only by its thread.
    const WorkerStats& stats() const { return stats_; }

private:
    /// Messages read and written per recvmmsg/sendmmsg call.
    static constexpr std::size_t Batch = 32;
    /// Largest UDP query accepted; longer ones are cut by the kernel and read as malformed.
    static constexpr std::size_t QueryBuffer = 4096;

    void run();
    /// Answers the first `got` received datagrams; returns how many answers to send.
    std::size_t answerBatch(int got);
    std::size_t applyRateLimit(std::size_t i, std::size_t out, std::size_t len, std::uint64_t now);
    void sendBatch(std::size_t count);

    int fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    SnapshotReader reader_;
    RateLimiter limiter_;
    WorkerStats stats_;
    RejectedLog rejected_;

    // Buffers, and message headers whose pointers are set once at construction.
    std::array<std::array<std::uint8_t, QueryBuffer>, Batch> in_buf_;
    std::array<std::array<std::uint8_t, QueryBuffer>, Batch> out_buf_;
    std::array<iovec, Batch> in_iov_{};
    std::array<iovec, Batch> out_iov_{};
    std::array<mmsghdr, Batch> in_msg_{};
    std::array<mmsghdr, Batch> out_msg_{};
    std::array<sockaddr_storage, Batch> peer_{};
};

}  // namespace gslb::server
