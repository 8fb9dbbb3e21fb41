#pragma once

// Test helper: a tiny HTTP/1.1 responder on 127.0.0.1 (port 0), run by the test's own
// io_context. It answers every request with the configured status and body, holds the
// connection open without answering (to make the client time out), or misbehaves in the ways
// a failing health endpoint does: a body sent one byte at a time, or a connection reset in the
// middle of the body. Configure it before its io_context runs on another thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gslb::health::testing {

class HttpStub {
public:
    explicit HttpStub(boost::asio::io_context& io)
        : acceptor_(io, {boost::asio::ip::address_v4::loopback(), 0}) {
        doAccept();
    }
    ~HttpStub() { close(); }

    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    /// Every later request gets this status and body.
    void respond(int status, std::string body, std::string headers = {}) {
        status_ = status;
        body_ = std::move(body);
        headers_ = std::move(headers);
        mode_ = Mode::Answer;
    }
    /// Later requests are read and never answered.
    void silent() { mode_ = Mode::Silent; }
    /// Later requests get the whole response (status `status`, `body`) one byte every `every`.
    void trickle(int status, std::string body, std::chrono::milliseconds every) {
        respond(status, std::move(body));
        every_ = every;
        mode_ = Mode::Trickle;
    }
    /// Later requests get the headers (announcing all of `body`) and half the body, then a TCP
    /// reset: the connection is closed with SO_LINGER 0.
    void resetMidBody(int status, std::string body) {
        respond(status, std::move(body));
        mode_ = Mode::Reset;
    }

    std::size_t requests() const { return requests_; }
    const std::string& lastRequest() const { return last_request_; }

    void close() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& connection : connections_) {
            connection->timer.cancel();
            connection->socket.close(ignored);
        }
    }

private:
    enum class Mode { Answer, Silent, Trickle, Reset };

    struct Connection {
        explicit Connection(boost::asio::ip::tcp::socket s)
            : socket(std::move(s)), timer(socket.get_executor()) {}
        boost::asio::ip::tcp::socket socket;
        boost::asio::steady_timer timer;
        boost::asio::streambuf buffer;
        std::string reply;
        std::size_t sent = 0;
    };

    void doAccept() {
        acceptor_.async_accept(
            [this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
                if (ec) {
                    return;
                }
                auto connection = std::make_shared<Connection>(std::move(socket));
                connections_.push_back(connection);
                doRead(connection);
                doAccept();
            });
    }

    void doRead(const std::shared_ptr<Connection>& connection) {
        boost::asio::async_read_until(
            connection->socket, connection->buffer, "\r\n\r\n",
            [this, connection](const boost::system::error_code& ec, std::size_t size) {
                if (ec) {
                    return;
                }
                onRequest(connection, size);
            });
    }

    void onRequest(const std::shared_ptr<Connection>& connection, std::size_t size) {
        ++requests_;
        const auto data = connection->buffer.data();
        last_request_.assign(boost::asio::buffers_begin(data),
                             boost::asio::buffers_begin(data) + static_cast<long>(size));
        connection->buffer.consume(size);
        if (mode_ == Mode::Silent) {
            return;
        }
        connection->reply = "HTTP/1.1 " + std::to_string(status_) +
                            " Stub\r\nContent-Length: " + std::to_string(body_.size()) + "\r\n" +
                            headers_ + "Connection: close\r\n\r\n";
        const std::size_t head = connection->reply.size();
        connection->reply += body_;
        if (mode_ == Mode::Trickle) {
            doTrickle(connection);
            return;
        }
        std::size_t length = connection->reply.size();
        if (mode_ == Mode::Reset) {
            length = head + body_.size() / 2;
        }
        boost::asio::async_write(
            connection->socket, boost::asio::buffer(connection->reply.data(), length),
            [this, connection](const boost::system::error_code&, std::size_t) {
                boost::system::error_code ignored;
                if (mode_ == Mode::Reset) {
                    connection->socket.set_option(boost::asio::socket_base::linger(true, 0),
                                                  ignored);
                    connection->socket.close(ignored);
                    return;
                }
                connection->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
            });
    }

    // One byte, then a pause of every_, until the reply is out or the client hangs up.
    void doTrickle(const std::shared_ptr<Connection>& connection) {
        if (connection->sent == connection->reply.size()) {
            boost::system::error_code ignored;
            connection->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
            return;
        }
        boost::asio::async_write(
            connection->socket, boost::asio::buffer(connection->reply.data() + connection->sent, 1),
            [this, connection](const boost::system::error_code& ec, std::size_t) {
                if (ec) {
                    return;
                }
                ++connection->sent;
                connection->timer.expires_after(every_);
                connection->timer.async_wait(
                    [this, connection](const boost::system::error_code& e) {
                        if (!e) {
                            doTrickle(connection);
                        }
                    });
            });
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = acceptor_.local_endpoint().port();
    std::vector<std::shared_ptr<Connection>> connections_;
    int status_ = 200;
    std::string body_ = "ok\n";
    std::string headers_;
    Mode mode_ = Mode::Answer;
    std::chrono::milliseconds every_{100};
    std::size_t requests_ = 0;
    std::string last_request_;
};

/// Runs `io` until `done()` holds or `limit` passes; returns done(). Integration tests only:
/// it waits on real sockets, bounded by `limit`.
inline bool runUntil(boost::asio::io_context& io,
                     const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return done();
}

/// A loopback port with nothing listening (bound, then closed at once).
inline std::uint16_t closedPort(boost::asio::io_context& io) {
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::address_v4::loopback(), 0});
    return acceptor.local_endpoint().port();
}

}  // namespace gslb::health::testing
