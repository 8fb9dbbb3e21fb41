#include "server/udp_loop.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "config/log.hpp"

namespace gslb::server {

namespace {

std::uint64_t monotonicMs() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

}  // namespace

UdpLoop::UdpLoop(const SnapshotSlot& slot,
                 const config::ServerConfig& cfg,
                 const boost::asio::ip::address& address,
                 std::uint16_t port)
    : reader_(slot), limiter_(cfg) {
    // 1. The socket: IPv6 sockets take IPv6 only, so [::] and 0.0.0.0 can be listed together.
    const boost::asio::ip::udp::endpoint ep(address, port);
    fd_ = ::socket(address.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    bool ok = fd_ >= 0 && ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0;
    if (ok && address.is_v6()) {
        ok = ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0;
    }
    ok = ok && ::bind(fd_, ep.data(), static_cast<socklen_t>(ep.size())) == 0;
    if (!ok) {
        const std::string reason = std::strerror(errno);
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw StartupError("cannot bind " + endpointText(address, port) + " udp (" + reason + ")");
    }

    // 2. Message headers point at their buffers once and for all; only the lengths change.
    for (std::size_t i = 0; i < Batch; ++i) {
        in_iov_[i] = {in_buf_[i].data(), in_buf_[i].size()};
        in_msg_[i].msg_hdr.msg_name = &peer_[i];
        in_msg_[i].msg_hdr.msg_namelen = sizeof peer_[i];
        in_msg_[i].msg_hdr.msg_iov = &in_iov_[i];
        in_msg_[i].msg_hdr.msg_iovlen = 1;
        out_iov_[i].iov_base = out_buf_[i].data();
        out_msg_[i].msg_hdr.msg_iov = &out_iov_[i];
        out_msg_[i].msg_hdr.msg_iovlen = 1;
    }
}

UdpLoop::~UdpLoop() {
    stop();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void UdpLoop::start() {
    reader_.refresh();
    thread_ = std::thread([this] { run(); });
}

void UdpLoop::stop() {
    if (!thread_.joinable()) {
        return;
    }
    // shutdown() on a UDP socket wakes a blocked recvmmsg (it then returns 0), even though
    // the socket is not connected and the call itself reports ENOTCONN.
    stopping_.store(true);
    ::shutdown(fd_, SHUT_RD);
    thread_.join();
}

void UdpLoop::run() {
    std::size_t last = Batch;
    while (!stopping_.load(std::memory_order_relaxed)) {
        // 1. Wait for at least one datagram, then take what else is queued, up to Batch.
        for (std::size_t i = 0; i < last; ++i) {
            in_msg_[i].msg_hdr.msg_namelen = sizeof peer_[i];
        }
        const int got = ::recvmmsg(fd_, in_msg_.data(), Batch, MSG_WAITFORONE, nullptr);
        if (stopping_.load(std::memory_order_relaxed)) {
            break;  // after shutdown() the socket reports empty datagrams, not queries
        }
        if (got <= 0) {
            // 0 after shutdown at stop; EINTR; an error queued for an earlier datagram
            // (ICMP) belongs to that datagram, not to the loop.
            last = 0;
            continue;
        }
        last = static_cast<std::size_t>(got);

        // 2. Answer them from one snapshot, then 3. send the answers.
        sendBatch(answerBatch(got));
    }
}

std::size_t UdpLoop::answerBatch(int got) {
    const Snapshot& snap = reader_.refresh();
    const std::uint64_t now = limiter_.enabled() ? monotonicMs() : 0;
    std::size_t out = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
        const msghdr& h = in_msg_[i].msg_hdr;
        Outcome outcome;
        const std::size_t len =
            (h.msg_flags & MSG_TRUNC) != 0
                ? 0
                : respond(snap, in_buf_[i].data(), in_msg_[i].msg_len, Transport::Udp,
                          clientAddress(&peer_[i], h.msg_namelen), out_buf_[out].data(), outcome);
        if (len == 0) {
            bump(stats_.dropped[0]);
            rejected_.note();
            continue;
        }
        if (outcome.rcode == dns::RcodeFormErr) {
            rejected_.note();
        }
        stats_.count(Transport::Udp, outcome);
        const std::size_t send = limiter_.enabled() ? applyRateLimit(i, out, len, now) : len;
        if (send == 0) {
            continue;
        }
        out_iov_[out].iov_len = send;
        out_msg_[out].msg_hdr.msg_name = &peer_[i];
        out_msg_[out].msg_hdr.msg_namelen = h.msg_namelen;
        ++out;
    }
    return out;
}

std::size_t UdpLoop::applyRateLimit(std::size_t i,
                                    std::size_t out,
                                    std::size_t len,
                                    std::uint64_t now) {
    switch (limiter_.check(clientAddress(&peer_[i], in_msg_[i].msg_hdr.msg_namelen), now)) {
        case RateLimiter::Verdict::Send:
            return len;
        case RateLimiter::Verdict::Slip:
            bump(stats_.rate_limited_slipped);
            return truncateToQuestion(out_buf_[out].data(), len);
        case RateLimiter::Verdict::Drop:
            bump(stats_.rate_limited_dropped);
            return 0;
    }
    return 0;
}

void UdpLoop::sendBatch(std::size_t count) {
    // A full socket buffer drops the rest, as the kernel would; a peer that cannot be reached
    // fails only its own message.
    std::size_t sent = 0;
    while (sent < count) {
        const int n = ::sendmmsg(fd_, out_msg_.data() + sent, static_cast<unsigned>(count - sent),
                                 MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        sent += n > 0 ? static_cast<std::size_t>(n) : 1;
    }
}

}  // namespace gslb::server
