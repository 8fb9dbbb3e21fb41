#include "server/http_listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <iterator>
#include <list>
#include <optional>
#include <string>

#include "config/log.hpp"

namespace gslb::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

/// State shared by the listener and its sessions, so that a session outliving the listener
/// (its handlers still queued on the io_context) finds everything it touches alive.
struct HttpListener::Shared {
    Shared(asio::io_context& context, Handler h, HttpLimits l)
        : io(context), acceptor(context), handler(std::move(h)), limits(l) {}

    asio::io_context& io;
    tcp::acceptor acceptor;
    Handler handler;
    HttpLimits limits;
    bool stopped = false;
    /// Open sessions, so that stop() can close them; each removes itself when it ends.
    std::list<std::weak_ptr<Session>> sessions;
};

namespace {

HttpResponse plainError(http::status status, unsigned version, const std::string& text) {
    HttpResponse res{status, version};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = text + "\n";
    res.keep_alive(false);
    res.prepare_payload();
    return res;
}

}  // namespace

/// One client connection: read a request, answer it, and again while keep-alive holds.
class HttpListener::Session : public std::enable_shared_from_this<Session> {
public:
    Session(std::shared_ptr<Shared> shared, tcp::socket socket)
        : shared_(std::move(shared)), stream_(std::move(socket)) {}

    ~Session() { shared_->sessions.erase(self_); }

    void start(std::list<std::weak_ptr<Session>>::iterator self) {
        self_ = self;
        doRead();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

private:
    void doRead() {
        const HttpLimits& limits = shared_->limits;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(limits.header_bytes));
        parser_->body_limit(limits.body_bytes);
        stream_.expires_after(limits.idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->onReadHeader(ec);
                                });
    }

    void onReadHeader(beast::error_code ec) {
        if (ec) {
            onReadError(ec);
            return;
        }
        const auto& header = parser_->get();
        const auto fields = static_cast<std::size_t>(std::distance(header.begin(), header.end()));
        if (fields > shared_->limits.header_fields) {
            send(plainError(http::status::request_header_fields_too_large, header.version(),
                            "too many header fields"));
            return;
        }
        if (parser_->is_done()) {
            onRequest();
            return;
        }
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec2, std::size_t) {
                             if (ec2) {
                                 self->onReadError(ec2);
                             } else {
                                 self->onRequest();
                             }
                         });
    }

    /// A request that could not be read: answer the ones worth an answer, then close.
    void onReadError(beast::error_code ec) {
        if (ec == http::error::header_limit) {
            send(plainError(http::status::request_header_fields_too_large, 11,
                            "request headers too large"));
        } else if (ec == http::error::body_limit) {
            send(plainError(http::status::payload_too_large, 11, "request body too large"));
        } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
            send(plainError(http::status::bad_request, 11, "malformed request"));
        } else {
            close();  // the peer closed, reset, or stayed idle past the timeout
        }
    }

    void onRequest() {
        HttpRequest request = parser_->release();
        const bool head = request.method() == http::verb::head;
        HttpResponse res;
        try {
            res = shared_->handler(request);
        } catch (const std::exception& e) {
            log::warning("dashboard", std::string("request failed (") + e.what() + ")");
            res = plainError(http::status::internal_server_error, request.version(),
                             "internal error");
        }
        res.version(request.version());
        res.keep_alive(request.keep_alive() && res.keep_alive());
        if (head) {
            const std::size_t length = res.body().size();
            res.body().clear();
            res.content_length(length);
        } else {
            res.prepare_payload();
        }
        send(std::move(res));
    }

    void send(HttpResponse res) {
        response_ = std::move(res);
        stream_.expires_after(shared_->limits.idle_timeout);
        http::async_write(
            stream_, response_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onWrite(ec); });
    }

    void onWrite(beast::error_code ec) {
        if (ec || !response_.keep_alive() || shared_->stopped) {
            close();
            return;
        }
        doRead();
    }

    std::shared_ptr<Shared> shared_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    HttpResponse response_;
    std::list<std::weak_ptr<Session>>::iterator self_;
};

HttpListener::HttpListener(asio::io_context& io,
                           const tcp::endpoint& endpoint,
                           Handler handler,
                           HttpLimits limits)
    : shared_(std::make_shared<Shared>(io, std::move(handler), limits)) {
    tcp::acceptor& acceptor = shared_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    if (endpoint.address().is_v6()) {
        acceptor.set_option(asio::ip::v6_only(true));
    }
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
}

HttpListener::~HttpListener() {
    stop();
}

void HttpListener::start() {
    doAccept();
}

void HttpListener::stop() {
    if (shared_->stopped) {
        return;
    }
    shared_->stopped = true;
    beast::error_code ignored;
    shared_->acceptor.close(ignored);
    // Closing cancels each session's pending read or write; its handler then ends it.
    for (const auto& weak : shared_->sessions) {
        if (const auto session = weak.lock()) {
            session->close();
        }
    }
}

tcp::endpoint HttpListener::local() const {
    return shared_->acceptor.local_endpoint();
}

void HttpListener::doAccept() {
    shared_->acceptor.async_accept(
        [shared = shared_, this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || shared->stopped) {
                return;
            }
            if (!ec) {
                if (shared->sessions.size() >= shared->limits.connections) {
                    // Over the cap: close at once rather than hold a slot for the client.
                    log::debug("dashboard", "connection refused (connection limit reached)");
                    socket.close(ec);
                } else {
                    auto session = std::make_shared<Session>(shared, std::move(socket));
                    shared->sessions.push_front(session);
                    session->start(shared->sessions.begin());
                }
            }
            doAccept();
        });
}

}  // namespace gslb::server
