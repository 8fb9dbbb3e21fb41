#include "healthcheck/probe.hpp"

#include "healthcheck/haproxy_check.hpp"
#include "healthcheck/http_check.hpp"
#include "healthcheck/tcp_check.hpp"

namespace gslb::health {

std::unique_ptr<Probe> Probe::create(const config::CheckConfig& check,
                                     boost::asio::io_context& io,
                                     CurlMulti& curl) {
    switch (check.type) {
        case config::CheckType::Haproxy:
            return std::make_unique<HaproxyCheck>(check, curl);
        case config::CheckType::Http:
        case config::CheckType::Https:
            return std::make_unique<HttpCheck>(check, curl);
        case config::CheckType::Tcp:
            return std::make_unique<TcpCheck>(check, io);
    }
    return std::make_unique<TcpCheck>(check, io);
}

std::string formatDuration(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    if (ms != 0 && ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

}  // namespace gslb::health
