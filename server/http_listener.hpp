#pragma once

// A small HTTP/1.1 server for the dashboard, on the control thread's io_context (Boost.Beast).
// It is built for a handful of operators and scrapers, not for the Internet at large, and
// bounds what one client can hold: request header and body sizes, header count, open
// connections and idle time. Keep-alive is supported; requests on one connection are answered
// in order.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace gslb::server {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// Limits on what clients may send and hold.
struct HttpLimits {
    std::size_t header_bytes = 8 * 1024;  ///< request line and headers; more gets 431
    std::size_t header_fields = 64;       ///< header lines; more gets 431
    std::size_t body_bytes = 1024;        ///< request body; more gets 413
    std::size_t connections = 64;         ///< open at once; more are closed on accept
    /// A connection that sends no complete request for this long is closed; it also bounds
    /// the time to read one request and to write one response.
    std::chrono::milliseconds idle_timeout{10'000};
};

class HttpListener {
public:
    /// Answers one complete request. Runs on the io_context thread. It may throw: the listener
    /// answers 500 instead and keeps serving. For HEAD it returns the GET response; the
    /// listener sends its headers (with the GET Content-Length) and no body.
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    /// Binds and listens on `endpoint` (port 0 picks a free port). Throws
    /// boost::system::system_error when the address cannot be bound.
    HttpListener(boost::asio::io_context& io,
                 const boost::asio::ip::tcp::endpoint& endpoint,
                 Handler handler,
                 HttpLimits limits = {});
    ~HttpListener();
    HttpListener(const HttpListener&) = delete;
    HttpListener& operator=(const HttpListener&) = delete;

    /// Starts accepting. io_context thread.
    void start();

    /// Stops accepting and closes every open connection. Idempotent; io_context thread.
    void stop();

    /// The bound address and port.
    boost::asio::ip::tcp::endpoint local() const;

private:
    struct Shared;
    class Session;

    void doAccept();

    std::shared_ptr<Shared> shared_;
};

}  // namespace gslb::server
