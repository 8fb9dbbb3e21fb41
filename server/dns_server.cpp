#include "server/dns_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "config/log.hpp"
#include "server/rate_limiter.hpp"

namespace gslb::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

/// Messages read and written per recvmmsg/sendmmsg call.
constexpr std::size_t UdpBatch = 32;
/// Largest UDP query accepted; longer ones are cut by the kernel and read as malformed.
constexpr std::size_t UdpQueryBuffer = 4096;
/// Batches handled before yielding to the worker's other sockets and timers.
constexpr int BatchesPerWakeup = 8;
/// At most one warning about malformed input per worker in this interval.
constexpr std::chrono::seconds RejectedWarningInterval{10};

void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

std::string endpointText(const asio::ip::address& a, std::uint16_t port) {
    return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(port)
                     : a.to_string() + ":" + std::to_string(port);
}

template <typename Socket>
void setReusePort(Socket& s) {
    const int one = 1;
    if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        throw StartupError(std::string("cannot set SO_REUSEPORT (") + std::strerror(errno) + ")");
    }
}

/// For a configured port 0: a port free for both UDP and TCP on `address`. The kernel picks a
/// UDP port, which TCP may already use (an outgoing probe's source port, say), so a few
/// candidates are tried. The probe sockets close before the real binds, a window too small to
/// matter for the tests and tools that use port 0.
std::uint16_t pickFreePort(const asio::ip::address& address) {
    asio::io_context io;
    for (int attempt = 0; attempt < 64; ++attempt) {
        boost::system::error_code ec;
        udp::socket u(io);
        u.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
        if (!ec) {
            u.bind(udp::endpoint(address, 0), ec);
        }
        if (ec) {
            throw StartupError("cannot bind " + endpointText(address, 0) + " udp (" + ec.message() +
                               ")");
        }
        const std::uint16_t port = u.local_endpoint().port();
        tcp::acceptor t(io);
        t.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
        if (!ec) {
            t.set_option(asio::socket_base::reuse_address(true), ec);
            t.bind(tcp::endpoint(address, port), ec);
        }
        if (!ec) {
            return port;
        }
    }
    throw StartupError("cannot find a port free for udp and tcp on " + address.to_string());
}

}  // namespace

/// One thread, one io_context, its own sockets. Everything here runs on the worker's thread
/// except construction (control thread, before start) and stop().
class DnsServer::Worker {
public:
    Worker(DnsServer& server, const config::ServerConfig& cfg)
        : server_(server), cfg_(cfg), limiter_(cfg) {}

    /// Opens this worker's UDP socket and TCP acceptor on `address`:`port`.
    void bind(const asio::ip::address& address, std::uint16_t port) {
        const std::string where = endpointText(address, port);
        boost::system::error_code ec;
        auto sock = std::make_unique<udp::socket>(io_);
        sock->open(address.is_v6() ? udp::v6() : udp::v4(), ec);
        if (address.is_v6() && !ec) {
            sock->set_option(asio::ip::v6_only(true), ec);
        }
        if (!ec) {
            setReusePort(*sock);
            sock->bind(udp::endpoint(address, port), ec);
        }
        if (ec) {
            throw StartupError("cannot bind " + where + " udp (" + ec.message() + ")");
        }
        sock->non_blocking(true);
        udp_.push_back(std::move(sock));

        auto acceptor = std::make_unique<tcp::acceptor>(io_);
        acceptor->open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
        if (address.is_v6() && !ec) {
            acceptor->set_option(asio::ip::v6_only(true), ec);
        }
        if (!ec) {
            acceptor->set_option(asio::socket_base::reuse_address(true), ec);
            setReusePort(*acceptor);
            acceptor->bind(tcp::endpoint(address, port), ec);
        }
        if (!ec) {
            acceptor->listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            throw StartupError("cannot bind " + where + " tcp (" + ec.message() + ")");
        }
        tcp_.push_back(std::move(acceptor));
    }

    void start() {
        refresh();
        for (auto& sock : udp_) {
            waitUdp(*sock);
        }
        for (auto& acceptor : tcp_) {
            doAccept(*acceptor);
        }
        thread_ = std::thread([this] { io_.run(); });
    }

    void stop() {
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    const WorkerStats& stats() const { return stats_; }

private:
    class TcpConnection;

    /// Takes the newest snapshot if the generation moved; lock-free when it did not.
    const Snapshot& refresh() {
        const std::uint64_t gen = server_.generation_.load(std::memory_order_acquire);
        if (gen != generation_) {
            std::lock_guard<std::mutex> lock(server_.snapshot_mutex_);
            snapshot_ = server_.snapshot_;
            generation_ = server_.generation_.load(std::memory_order_relaxed);
        }
        return *snapshot_;
    }

    void waitUdp(udp::socket& sock) {
        sock.async_wait(udp::socket::wait_read, [this, &sock](boost::system::error_code ec) {
            if (ec) {
                return;  // operation_aborted at stop
            }
            onUdpReadable(sock);
            waitUdp(sock);
        });
    }

    /// Drains the socket in batches: recvmmsg, answer each, sendmmsg.
    void onUdpReadable(udp::socket& sock) {
        const int fd = sock.native_handle();
        for (int round = 0; round < BatchesPerWakeup; ++round) {
            // 1. Receive up to UdpBatch datagrams without blocking.
            for (std::size_t i = 0; i < UdpBatch; ++i) {
                in_iov_[i] = {in_buf_[i].data(), in_buf_[i].size()};
                in_msg_[i] = {};
                in_msg_[i].msg_hdr.msg_name = &peer_[i];
                in_msg_[i].msg_hdr.msg_namelen = sizeof peer_[i];
                in_msg_[i].msg_hdr.msg_iov = &in_iov_[i];
                in_msg_[i].msg_hdr.msg_iovlen = 1;
            }
            const int got = ::recvmmsg(fd, in_msg_.data(), UdpBatch, MSG_DONTWAIT, nullptr);
            if (got <= 0) {
                return;  // EAGAIN: drained; other errors (e.g. ICMP-reported) are per packet
            }

            // 2. Answer each from one snapshot.
            const Snapshot& snap = refresh();
            const std::uint64_t now_ms = limiter_.enabled() ? monotonicMs() : 0;
            std::size_t out_count = 0;
            for (int i = 0; i < got; ++i) {
                Outcome outcome;
                const bool cut = (in_msg_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
                const std::size_t len =
                    cut ? 0
                        : respond(snap, in_buf_[i].data(), in_msg_[i].msg_len, Transport::Udp,
                                  clientAddress(&peer_[i], in_msg_[i].msg_hdr.msg_namelen),
                                  out_buf_[out_count].data(), outcome);
                if (len == 0) {
                    bump(stats_.dropped[0]);
                    noteRejected();
                    continue;
                }
                count(Transport::Udp, outcome);
                std::size_t send_len = len;
                if (limiter_.enabled()) {
                    send_len = rateLimit(peer_[i], in_msg_[i].msg_hdr.msg_namelen,
                                         out_buf_[out_count].data(), len, now_ms);
                    if (send_len == 0) {
                        continue;
                    }
                }
                out_iov_[out_count] = {out_buf_[out_count].data(), send_len};
                out_msg_[out_count] = {};
                out_msg_[out_count].msg_hdr.msg_name = &peer_[i];
                out_msg_[out_count].msg_hdr.msg_namelen = in_msg_[i].msg_hdr.msg_namelen;
                out_msg_[out_count].msg_hdr.msg_iov = &out_iov_[out_count];
                out_msg_[out_count].msg_hdr.msg_iovlen = 1;
                ++out_count;
            }

            // 3. Send the answers; a full socket buffer drops the rest, as the kernel would.
            std::size_t sent = 0;
            while (sent < out_count) {
                const int n = ::sendmmsg(fd, out_msg_.data() + sent,
                                         static_cast<unsigned>(out_count - sent), MSG_DONTWAIT);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR) {
                        continue;
                    }
                    // A peer that cannot be reached fails only its own message; skip it.
                    ++sent;
                    continue;
                }
                sent += static_cast<std::size_t>(n);
            }
            if (static_cast<std::size_t>(got) < UdpBatch) {
                return;
            }
        }
    }

    /// Applies response rate limiting to an answer; returns the length to send (0: drop).
    std::size_t rateLimit(const sockaddr_storage& peer,
                          socklen_t peer_len,
                          std::uint8_t* answer,
                          std::size_t len,
                          std::uint64_t now_ms) {
        switch (limiter_.check(clientAddress(&peer, peer_len), now_ms)) {
            case RateLimiter::Verdict::Send:
                return len;
            case RateLimiter::Verdict::Slip:
                bump(stats_.rate_limited_slipped);
                return truncateToQuestion(answer, len);
            case RateLimiter::Verdict::Drop:
                bump(stats_.rate_limited_dropped);
                return 0;
        }
        return 0;
    }

    static std::uint64_t monotonicMs() {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
    }

    void count(Transport t, const Outcome& outcome) {
        if (outcome.rcode == dns::RcodeFormErr) {
            noteRejected();
        }
        const auto proto = static_cast<std::size_t>(t);
        const std::size_t slot = std::min<std::size_t>(outcome.rcode, WorkerStats::RcodeSlots - 1);
        bump(stats_.answers[proto][slot]);
        if (outcome.service < WorkerStats::MaxCountedServices) {
            bump(stats_.service_answers[outcome.service]);
        }
        if (outcome.truncated) {
            bump(stats_.truncated[proto]);
        }
    }

    void doAccept(tcp::acceptor& acceptor);

    using ClientKey = std::array<std::uint8_t, 17>;
    static ClientKey clientKey(const ClientAddress& a) {
        ClientKey k{};
        k[0] = a.family;
        std::copy(a.bytes.begin(), a.bytes.end(), k.begin() + 1);
        return k;
    }

    /// Whether the peer of `sock` may open one more connection on this worker.
    bool admitClient(tcp::socket& sock) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (::getpeername(sock.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
            return false;
        }
        const auto it = tcp_per_client_.find(clientKey(clientAddress(&ss, len)));
        return it == tcp_per_client_.end() || it->second < cfg_.tcp_max_connections_per_client;
    }

    void releaseClient(const ClientAddress& a) {
        const auto it = tcp_per_client_.find(clientKey(a));
        if (it != tcp_per_client_.end() && --it->second == 0) {
            tcp_per_client_.erase(it);
        }
    }

    /// Counts a malformed or dropped message and logs at most one warning per interval, so
    /// a flood of garbage cannot flood the log. Only malformed input reaches this.
    void noteRejected() {
        ++rejected_;
        const auto now = std::chrono::steady_clock::now();
        if (now < next_warning_) {
            return;
        }
        log::warning("server", "malformed messages answered FORMERR or dropped count=" +
                                   std::to_string(rejected_) + " since the last warning");
        rejected_ = 0;
        next_warning_ = now + RejectedWarningInterval;
    }

    DnsServer& server_;
    const config::ServerConfig cfg_;
    WorkerStats stats_;
    unsigned tcp_open_ = 0;
    /// Open connections per client address; touched per connection, never per query.
    std::map<ClientKey, unsigned> tcp_per_client_;
    RateLimiter limiter_;
    // Declared before the sockets so that they are destroyed first, and after the counters
    // that connection destructors still touch when the io_context drops their handlers.
    asio::io_context io_{1};
    std::vector<std::unique_ptr<udp::socket>> udp_;
    std::vector<std::unique_ptr<tcp::acceptor>> tcp_;
    std::thread thread_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::uint64_t generation_ = ~std::uint64_t{0};
    std::uint64_t rejected_ = 0;
    std::chrono::steady_clock::time_point next_warning_{};

    std::array<std::array<std::uint8_t, UdpQueryBuffer>, UdpBatch> in_buf_{};
    std::array<std::array<std::uint8_t, UdpQueryBuffer>, UdpBatch> out_buf_{};
    std::array<iovec, UdpBatch> in_iov_{};
    std::array<iovec, UdpBatch> out_iov_{};
    std::array<mmsghdr, UdpBatch> in_msg_{};
    std::array<mmsghdr, UdpBatch> out_msg_{};
    std::array<sockaddr_storage, UdpBatch> peer_{};
};

/// One DNS-over-TCP connection (RFC 7766): 2-octet length then message, answered in order;
/// the connection closes after tcp_idle_timeout without a complete query.
class DnsServer::Worker::TcpConnection : public std::enable_shared_from_this<TcpConnection> {
public:
    TcpConnection(Worker& worker, tcp::socket sock)
        : worker_(worker), sock_(std::move(sock)), idle_(worker.io_) {
        ++worker_.tcp_open_;
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (::getpeername(sock_.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
            peer_ = clientAddress(&ss, len);
        }
        ++worker_.tcp_per_client_[clientKey(peer_)];
    }
    ~TcpConnection() {
        --worker_.tcp_open_;
        worker_.releaseClient(peer_);
    }

    void start() { doReadLength(); }

private:
    void armIdle() {
        idle_.expires_after(worker_.cfg_.tcp_idle_timeout);
        idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                boost::system::error_code ignored;
                self->sock_.close(ignored);
            }
        });
    }

    void doReadLength() {
        armIdle();
        asio::async_read(sock_, asio::buffer(length_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->onReadLength(ec);
                         });
    }

    void onReadLength(boost::system::error_code ec) {
        if (ec) {
            idle_.cancel();
            return;  // closed by the peer or by the idle timer
        }
        const std::size_t size = (std::size_t{length_[0]} << 8) | length_[1];
        in_.resize(size);
        asio::async_read(sock_, asio::buffer(in_),
                         [self = shared_from_this()](boost::system::error_code ec2, std::size_t) {
                             self->onReadQuery(ec2);
                         });
    }

    void onReadQuery(boost::system::error_code ec) {
        idle_.cancel();
        if (ec) {
            return;
        }
        Outcome outcome;
        out_.resize(2 + MaxTcpMessage);
        const std::size_t len = respond(worker_.refresh(), in_.data(), in_.size(), Transport::Tcp,
                                        peer_, out_.data() + 2, outcome);
        if (len == 0) {
            bump(worker_.stats_.dropped[1]);
            worker_.noteRejected();
            doReadLength();
            return;
        }
        worker_.count(Transport::Tcp, outcome);
        out_[0] = static_cast<std::uint8_t>(len >> 8);
        out_[1] = static_cast<std::uint8_t>(len & 0xFF);
        // The same timer bounds the write: a client that stops reading cannot hold the slot.
        armIdle();
        asio::async_write(sock_, asio::buffer(out_.data(), len + 2),
                          [self = shared_from_this()](boost::system::error_code ec2, std::size_t) {
                              if (!ec2) {
                                  self->doReadLength();
                              }
                          });
    }

    Worker& worker_;
    tcp::socket sock_;
    asio::steady_timer idle_;
    std::array<std::uint8_t, 2> length_{};
    ClientAddress peer_;
    std::vector<std::uint8_t> in_;
    std::vector<std::uint8_t> out_;
};

void DnsServer::Worker::doAccept(tcp::acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](boost::system::error_code ec, tcp::socket sock) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        if (!ec) {
            if (tcp_open_ >= cfg_.tcp_max_connections || !admitClient(sock)) {
                // Over the cap: close at once rather than queue (RFC 7766 section 6.2.2).
                sock.close(ec);
            } else {
                std::make_shared<TcpConnection>(*this, std::move(sock))->start();
            }
        }
        doAccept(acceptor);
    });
}

DnsServer::DnsServer(const config::ServerConfig& cfg) {
    const unsigned count = std::max(1u, cfg.workers);
    for (unsigned i = 0; i < count; ++i) {
        workers_.push_back(std::make_unique<Worker>(*this, cfg));
    }
    for (const config::Endpoint& ep : cfg.listen) {
        const std::uint16_t port = ep.port != 0 ? ep.port : pickFreePort(ep.address);
        ports_.push_back(port);
        for (auto& worker : workers_) {
            worker->bind(ep.address, port);
        }
        const std::string where = endpointText(ep.address, port);
        log::info("server",
                  "listening address=" + where + " proto=udp workers=" + std::to_string(count));
        log::info("server",
                  "listening address=" + where + " proto=tcp workers=" + std::to_string(count));
    }
}

DnsServer::~DnsServer() {
    stop();
}

void DnsServer::start(std::shared_ptr<const Snapshot> first) {
    publish(std::move(first));
    for (auto& w : workers_) {
        w->start();
    }
    running_ = true;
}

void DnsServer::publish(std::shared_ptr<const Snapshot> next) {
    std::shared_ptr<const Snapshot> old;
    {
        std::lock_guard<std::mutex> lock(snapshot_mutex_);
        old = std::move(snapshot_);
        snapshot_ = std::move(next);
        generation_.fetch_add(1, std::memory_order_release);
    }
    // `old` is released here, outside the lock; workers may still hold it a little longer.
}

std::shared_ptr<const Snapshot> DnsServer::current() const {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return snapshot_;
}

void DnsServer::stop() {
    for (auto& w : workers_) {
        w->stop();
    }
    running_ = false;
}

ServerStats DnsServer::stats() const {
    ServerStats total;
    for (const auto& w : workers_) {
        const WorkerStats& s = w->stats();
        for (std::size_t p = 0; p < 2; ++p) {
            for (std::size_t r = 0; r < WorkerStats::RcodeSlots; ++r) {
                total.answers[p][r] += s.answers[p][r].load(std::memory_order_relaxed);
            }
            total.dropped[p] += s.dropped[p].load(std::memory_order_relaxed);
            total.truncated[p] += s.truncated[p].load(std::memory_order_relaxed);
        }
        total.rate_limited_dropped += s.rate_limited_dropped.load(std::memory_order_relaxed);
        total.rate_limited_slipped += s.rate_limited_slipped.load(std::memory_order_relaxed);
        for (std::size_t i = 0; i < WorkerStats::MaxCountedServices; ++i) {
            total.service_answers[i] += s.service_answers[i].load(std::memory_order_relaxed);
        }
    }
    return total;
}

}  // namespace gslb::server
