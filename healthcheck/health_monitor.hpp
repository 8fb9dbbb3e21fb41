#pragma once

// The health side of gslbd: runs every site's checks on the control io_context and tells the
// server which sites are up. Probes report raw pass/fail with a reason; the rise/fall state
// machine (health_state.hpp) alone decides up or down; a site is up iff all its checks are up.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace gslb::health {

/// What the dashboard and logs show about one check.
struct CheckStatus {
    std::string id;                        ///< CheckConfig::id, e.g. "madrid/1:http"
    std::size_t site = 0;                  ///< index into Config::sites
    bool up = false;                       ///< the rise/fall state
    bool last_ok = false;                  ///< the last probe's raw result
    std::string reason;                    ///< why the last probe failed, or "ok" / "status 200"
    std::chrono::microseconds latency{0};  ///< of the last probe
    /// How late the last probe started after its slot (scheduler and event loop delay).
    std::chrono::microseconds schedule_lag{0};
    std::chrono::system_clock::time_point last_change{};  ///< when `up` last flipped
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
};

class HealthMonitor {
public:
    /// Called on the control io_context after any site's up state changed, with one flag per
    /// index of the current Config::sites. It is posted, never called from inside a
    /// HealthMonitor method, so it may call reconfigure() or stop().
    using SitesChanged = std::function<void(const std::vector<bool>& site_up)>;

    /// Called on the control io_context with every probe result, once the check's status
    /// (last_ok, latency, runs...) includes it; `site` is the check's site name. It runs inside
    /// the monitor, so it must not call start(), reconfigure() or stop().
    using ProbeObserver = std::function<void(const CheckStatus& status, const std::string& site)>;

    /// `io` must be run by one thread; start(), reconfigure() and stop() are called on it.
    /// @throws std::runtime_error if libcurl cannot be initialised.
    HealthMonitor(boost::asio::io_context& io, SitesChanged on_change);
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor&) = delete;
    HealthMonitor& operator=(const HealthMonitor&) = delete;

    /// Starts checking `cfg`'s sites. The first round of every check fires at once; when each
    /// check has a result (bounded by its timeout), `first_round_done` is called once on the
    /// io_context, and the checks then continue on their intervals, spread over them.
    /// A check's first result counts as it is: a success makes it up, a failure down.
    void start(std::shared_ptr<const config::Config> cfg, std::function<void()> first_round_done);

    /// Switches to a new configuration. Checks whose id and settings are unchanged keep their
    /// state and schedule; new ones probe at once and count as up until their first result,
    /// which then counts as it is; removed ones stop. Calls on_change if the set of up sites
    /// differs afterwards.
    void reconfigure(std::shared_ptr<const config::Config> cfg);

    /// Sets (or, with nullptr, clears) the function told of every probe result. Control thread.
    void setProbeObserver(ProbeObserver observer);

    /// Cancels every probe and timer; no callback runs afterwards.
    void stop();

    /// One flag per site of the current config: every check of the site is up (a check with
    /// no result yet counts as up). Safe to call from any thread.
    std::vector<bool> siteUp() const;

    /// The state of every check, in config order. Safe to call from any thread.
    std::vector<CheckStatus> checks() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gslb::health
