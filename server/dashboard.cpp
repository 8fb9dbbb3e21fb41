#include "server/dashboard.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>
#include <string_view>

#include "config/log.hpp"
#include "server/dashboard_page.hpp"

namespace gslb::server {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view JsonType = "application/json";
constexpr std::string_view MetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view SitesPrefix = "/api/v1/sites/";

/// Boost 1.74's Beast has its own string_view; these convert at the boundary.
boost::beast::string_view bsv(std::string_view s) {
    return {s.data(), s.size()};
}
std::string_view ssv(boost::beast::string_view s) {
    return {s.data(), s.size()};
}

HttpResponse response(http::status status, std::string_view type, std::string body) {
    HttpResponse res{status, 11};
    res.set(http::field::content_type, bsv(type));
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.body() = std::move(body);
    return res;
}

HttpResponse jsonError(http::status status, const std::string& message) {
    const nlohmann::json body = {{"error", message}};
    return response(status, JsonType,
                    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

HttpResponse notAllowed(std::string_view allow) {
    HttpResponse res = jsonError(http::status::method_not_allowed, "method not allowed");
    res.set(http::field::allow, bsv(allow));
    return res;
}

bool isRead(http::verb method) {
    return method == http::verb::get || method == http::verb::head;
}

/// The path of a request target, without its query string.
std::string_view pathOf(std::string_view target) {
    return target.substr(0, target.find('?'));
}

}  // namespace

Dashboard::Dashboard(Hooks hooks) : hooks_(std::move(hooks)) {}

void Dashboard::listen(boost::asio::io_context& io,
                       const boost::asio::ip::tcp::endpoint& endpoint) {
    listener_ = std::make_unique<HttpListener>(
        io, endpoint, [this](const HttpRequest& request) { return handle(request); });
    listener_->start();
    const auto bound = listener_->local();
    const std::string address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                        : bound.address().to_string();
    log::info("dashboard", "listening address=" + address + ":" + std::to_string(bound.port()) +
                               " proto=http write_api=" + (writeApi() ? "on" : "off"));
}

void Dashboard::stop() {
    if (listener_) {
        listener_->stop();
    }
}

HttpResponse Dashboard::handle(const HttpRequest& request) const {
    const std::string_view path = pathOf(ssv(request.target()));
    const http::verb method = request.method();
    if (path == "/" || path == "/index.html") {
        if (!isRead(method)) {
            return notAllowed("GET, HEAD");
        }
        HttpResponse res =
            response(http::status::ok, "text/html; charset=utf-8", std::string(dashboardPage()));
        // The page is self-contained: its own script and style, and fetches from this origin.
        res.set("Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'");
        return res;
    }
    if (path == "/api/v1/status") {
        if (!isRead(method)) {
            return notAllowed("GET, HEAD");
        }
        return response(http::status::ok, JsonType, hooks_.status() + "\n");
    }
    if (path == "/metrics") {
        if (!isRead(method)) {
            return notAllowed("GET, HEAD");
        }
        return response(http::status::ok, MetricsType, hooks_.metrics());
    }
    if (path.starts_with(SitesPrefix)) {
        const std::string_view rest = path.substr(SitesPrefix.size());
        const auto slash = rest.find('/');
        const std::string_view site = rest.substr(0, slash);
        const std::string_view action =
            slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (!site.empty() && (action == "drain" || action == "undrain")) {
            if (method != http::verb::post) {
                return notAllowed("POST");
            }
            return handleDrain(request, std::string(site), action == "drain");
        }
    }
    if (path.starts_with("/api/")) {
        return jsonError(http::status::not_found, "no such endpoint");
    }
    return response(http::status::not_found, "text/plain; charset=utf-8", "not found\n");
}

HttpResponse Dashboard::handleDrain(const HttpRequest& request,
                                    const std::string& site,
                                    bool drain) const {
    // 1. The write API exists only with dashboard.admin_token_file configured.
    if (!token_) {
        return jsonError(http::status::forbidden,
                         "the write api is off (no dashboard.admin_token_file configured)");
    }

    // 2. The token, before anything else: a client without it learns nothing, not even
    //    whether the site exists (RFC 6750 section 3 for the challenge).
    const auto header = request.find(http::field::authorization);
    if (header == request.end() || !token_->accepts(ssv(header->value()))) {
        HttpResponse res = jsonError(http::status::unauthorized, "a valid bearer token is needed");
        res.set(http::field::www_authenticate,
                header == request.end() ? R"(Bearer realm="gslbd")"
                                        : R"(Bearer realm="gslbd", error="invalid_token")");
        return res;
    }

    // 3. Apply and report.
    const DrainResult result = hooks_.drain(site, drain);
    switch (result.status) {
        case DrainResult::Status::UnknownSite:
            return jsonError(http::status::not_found, "no site named \"" + site + "\"");
        case DrainResult::Status::StoreFailed:
            return jsonError(http::status::internal_server_error,
                             "the state file could not be written; nothing changed");
        case DrainResult::Status::Done:
            break;
    }
    const nlohmann::json body = {
        {"site", site}, {"drained", drain}, {"changed", result.changed}, {"state", result.state}};
    return response(http::status::ok, JsonType,
                    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace gslb::server
