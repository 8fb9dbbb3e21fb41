#pragma once

// The health dashboard's HTTP side (contract "Dashboard (HTTP)"): routes requests to the page,
// the status JSON, the Prometheus metrics and the drain/undrain write API, and checks the
// admin token. What each answer contains is produced by the daemon through Hooks; this class
// owns methods, status codes, content types and authorization.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/admin_token.hpp"
#include "server/http_listener.hpp"

namespace gslb::server {

/// The result of a drain or undrain request.
struct DrainResult {
    enum class Status {
        Done,         ///< applied (or already so): 200
        UnknownSite,  ///< no such site in the configuration: 404
        StoreFailed,  ///< the state file could not be written; nothing changed: 500
    };
    Status status = Status::Done;
    bool changed = false;  ///< false when the site already was in the asked state
    std::string state;     ///< the site's state afterwards: "up", "down" or "drained"
};

class Dashboard {
public:
    struct Hooks {
        /// The body of GET /api/v1/status (JSON).
        std::function<std::string()> status;
        /// The body of GET /metrics (Prometheus text format).
        std::function<std::string()> metrics;
        /// Drains (`drain` true) or undrains `site`; called only with a valid token.
        std::function<DrainResult(const std::string& site, bool drain)> drain;
    };

    /// Every hook must be set. Control thread.
    explicit Dashboard(Hooks hooks);

    /// Sets the token the write API requires; nullopt turns the write API off (403).
    void setToken(std::optional<AdminToken> token) { token_ = std::move(token); }
    bool writeApi() const { return token_.has_value(); }

    /// Starts serving on `endpoint` and logs "listening address=... proto=http". Throws
    /// boost::system::system_error when it cannot bind. Control thread.
    void listen(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint);

    /// Stops listening and closes the open connections. Idempotent.
    void stop();

    /// Answers one request (used by the listener; public for tests). Never throws for a
    /// request it can route, but a hook may throw (the listener answers 500).
    HttpResponse handle(const HttpRequest& request) const;

private:
    HttpResponse handleDrain(const HttpRequest& request, const std::string& site, bool drain) const;

    Hooks hooks_;
    std::optional<AdminToken> token_;
    std::unique_ptr<HttpListener> listener_;
};

}  // namespace gslb::server
