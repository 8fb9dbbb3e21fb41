#pragma once

// The common shape of the check kinds (http_check, haproxy_check, tcp_check): one probe reports
// raw pass/fail with a reason and its latency. Whether that makes a check up or down is decided
// elsewhere, by HealthState.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace gslb::health {

class CurlMulti;

/// The raw outcome of one probe.
struct ProbeResult {
    bool ok = false;
    /// "status 200", "connected", "backend web has 2/2 servers up", or why it failed.
    std::string reason;
    std::chrono::microseconds latency{0};
};

/// One kind of check bound to its settings. Runs on the control io_context thread.
class Probe {
public:
    using Done = std::function<void(ProbeResult)>;

    virtual ~Probe() = default;

    /// Starts one probe, bounded by the check's timeout. `done` is called exactly once, later,
    /// from the io_context (never inside run()), unless cancel() is called first.
    /// Precondition: no probe of this object is in flight.
    virtual void run(Done done) = 0;

    /// Abandons the probe in flight, if any; its `done` is not called. Destructors call it.
    virtual void cancel() = 0;

    /// Builds the probe for `check.type`. `curl` must outlive the probe.
    static std::unique_ptr<Probe> create(const config::CheckConfig& check,
                                         boost::asio::io_context& io,
                                         CurlMulti& curl);
};

/// "1s", "1500ms": how durations are written in reasons and logs, as in the config file.
std::string formatDuration(std::chrono::milliseconds duration);

}  // namespace gslb::health
