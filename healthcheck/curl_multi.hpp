#pragma once

// HTTP(S) fetches for the http, https and haproxy checks: libcurl's multi interface driven by the
// control io_context, so thousands of probes share one thread and no call ever blocks. Curl tells
// us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
// (CURLMOPT_TIMERFUNCTION); Asio does the waiting.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gslb::health {

/// One GET. Redirects are never followed, no proxy is used whatever the environment says, and
/// the whole transfer (connect, TLS, response) is bounded by `timeout`.
struct HttpRequest {
    std::string url;
    std::chrono::milliseconds timeout{1000};
    /// Verify the peer certificate and host name for https.
    bool tls_verify = true;
    /// Basic auth when `user` is not empty.
    std::string user;
    std::string password;
    /// Keep the body (up to max_body bytes); otherwise it is read and dropped.
    bool keep_body = false;
    /// A kept body longer than this stops the transfer with error "body too large".
    std::size_t max_body = 64 * 1024;
};

/// The outcome of one HttpRequest.
struct HttpResponse {
    /// A whole response arrived (whatever its status).
    bool complete = false;
    /// Why not: "timeout after 1s", "body too large", or curl's own message.
    std::string error;
    bool body_too_large = false;
    long status = 0;
    std::string body;
    /// From the start of the transfer to its end, success or not.
    std::chrono::microseconds latency{0};
};

/// Runs HttpRequests concurrently on one io_context. All methods, and every callback, run on the
/// thread that runs that io_context; the class is not thread-safe.
class CurlMulti {
public:
    using RequestId = std::uint64_t;
    using Callback = std::function<void(HttpResponse)>;

    /// @throws std::runtime_error if libcurl cannot be initialised (startup only).
    explicit CurlMulti(boost::asio::io_context& io);

    /// Aborts every transfer in flight; their callbacks are not called.
    ~CurlMulti();

    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    /// Starts `request`. `done` is called exactly once, later, from the io_context (never from
    /// inside fetch()), unless cancel() is called first. A request curl refuses to start (e.g.
    /// a malformed URL) completes with an error in the same way. Returns an id for cancel().
    RequestId fetch(const HttpRequest& request, Callback done);

    /// Aborts a transfer; its callback will not be called. Unknown or finished ids are ignored.
    void cancel(RequestId id);

    /// Transfers started and not yet finished or cancelled.
    std::size_t inFlight() const;

private:
    struct Impl;
    // Shared so that Asio handlers still queued after destruction can see it is gone.
    std::shared_ptr<Impl> impl_;
};

}  // namespace gslb::health
