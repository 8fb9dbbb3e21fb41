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
#include "server/udp_loop.hpp"

namespace gslb::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

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

/// Refuses a port another process already serves. SO_REUSEPORT would otherwise let a second
/// gslbd (of the same user) bind the same address and silently take half of the queries; a
/// bind without it fails while any socket holds the port.
void checkPortFree(const asio::ip::address& address, std::uint16_t port) {
    asio::io_context io;
    boost::system::error_code ec;
    udp::socket u(io);
    u.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (!ec && address.is_v6()) {
        u.set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) {
        u.bind(udp::endpoint(address, port), ec);
    }
    if (ec) {
        throw StartupError("cannot bind " + endpointText(address, port) + " udp (" + ec.message() +
                           ")");
    }
    tcp::acceptor t(io);
    t.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec && address.is_v6()) {
        t.set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) {
        t.set_option(asio::socket_base::reuse_address(true), ec);
        t.bind(tcp::endpoint(address, port), ec);
    }
    if (ec) {
        throw StartupError("cannot bind " + endpointText(address, port) + " tcp (" + ec.message() +
                           ")");
    }
}

}  // namespace

/// One worker: a UDP loop thread per listen address, and one thread running an io_context
/// for its TCP acceptors and connections. TCP code runs on that thread except construction
/// (control thread, before start) and stop().
class DnsServer::Worker {
public:
    Worker(DnsServer& server, const config::ServerConfig& cfg)
        : server_(server), cfg_(cfg), reader_(server.slot_) {}

    /// Opens this worker's UDP socket and TCP acceptor on `address`:`port`.
    void bind(const asio::ip::address& address, std::uint16_t port) {
        const std::string where = endpointText(address, port);
        udp_.push_back(std::make_unique<UdpLoop>(server_.slot_, cfg_, address, port));

        boost::system::error_code ec;
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
        reader_.refresh();
        for (auto& loop : udp_) {
            loop->start();
        }
        for (auto& acceptor : tcp_) {
            doAccept(*acceptor);
        }
        thread_ = std::thread([this] { io_.run(); });
    }

    void stop() {
        for (auto& loop : udp_) {
            loop->stop();
        }
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    /// Adds this worker's UDP and TCP counters to `total`.
    void addStats(ServerStats& total) const {
        total.add(stats_);
        for (const auto& loop : udp_) {
            total.add(loop->stats());
        }
    }

private:
    class TcpConnection;

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

    DnsServer& server_;
    const config::ServerConfig cfg_;
    WorkerStats stats_;
    unsigned tcp_open_ = 0;
    /// Open connections per client address; touched per connection, never per query.
    std::map<ClientKey, unsigned> tcp_per_client_;
    SnapshotReader reader_;
    RejectedLog rejected_;
    // Declared before the sockets so that they are destroyed first, and after the counters
    // that connection destructors still touch when the io_context drops their handlers.
    asio::io_context io_{1};
    std::vector<std::unique_ptr<UdpLoop>> udp_;
    std::vector<std::unique_ptr<tcp::acceptor>> tcp_;
    std::thread thread_;
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
        const std::size_t len = respond(worker_.reader_.refresh(), in_.data(), in_.size(),
                                        Transport::Tcp, peer_, out_.data() + 2, outcome);
        if (len == 0) {
            bump(worker_.stats_.dropped[1]);
            worker_.rejected_.note();
            doReadLength();
            return;
        }
        if (outcome.rcode == dns::RcodeFormErr) {
            worker_.rejected_.note();
        }
        worker_.stats_.count(Transport::Tcp, outcome);
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
        if (ep.port != 0) {
            checkPortFree(ep.address, ep.port);
        }
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
        std::lock_guard<std::mutex> lock(slot_.mutex);
        old = std::move(slot_.current);
        slot_.current = std::move(next);
        slot_.generation.fetch_add(1, std::memory_order_release);
    }
    // `old` is released here, outside the lock; workers may still hold it a little longer.
}

std::shared_ptr<const Snapshot> DnsServer::current() const {
    std::lock_guard<std::mutex> lock(slot_.mutex);
    return slot_.current;
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
        w->addStats(total);
    }
    return total;
}

}  // namespace gslb::server
