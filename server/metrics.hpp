#pragma once

// The /metrics page in Prometheus text format (version 0.0.4). DNS counters come from the
// workers' own counters, summed at scrape time; check results and latencies are recorded here
// on the control thread from every probe result; the rest is read from the daemon's state.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "server/dns_server.hpp"

namespace gslb::server {

/// Escapes a label value for the text format: backslash, double quote and line feed.
std::string escapeLabel(std::string_view value);

/// Counters and histograms that only the control thread updates and reads. Not thread-safe.
class Metrics {
public:
    /// Upper bounds of the check latency histogram, in seconds (+Inf is implicit).
    static constexpr std::array<double, 12> LatencyBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

    /// What render() reads besides the recorded series.
    struct SiteSample {
        std::string name;
        bool checks_up = true;  ///< the checks' verdict, drains aside
        bool drained = false;
    };
    struct Input {
        const config::Config* cfg = nullptr;  ///< the configuration now serving (not null)
        ServerStats dns;
        std::vector<SiteSample> sites;
        std::uint64_t generation = 0;
        double uptime_seconds = 0;
        std::string version;
    };

    /// Records one probe result of `check` (a CheckConfig::id) of `site`.
    void observeProbe(std::string_view site,
                      std::string_view check,
                      bool ok,
                      std::chrono::microseconds latency);

    /// Forgets the series of checks that `cfg` no longer has (after a reload).
    void retainChecks(const config::Config& cfg);

    /// Counts one SIGHUP reload, applied (`ok`) or rejected.
    void countReload(bool ok);

    /// Called just before a reload replaces `old_cfg`: the per-worker answer counters are kept
    /// per service index, so the totals so far are credited to each service's name, and later
    /// counts are read relative to `dns`. Services may be renumbered by the new configuration.
    void rebaseServices(const config::Config& old_cfg, const ServerStats& dns);

    /// The whole page.
    std::string render(const Input& in) const;

private:
    struct CheckSeries {
        std::string site;
        std::uint64_t ok = 0;
        std::uint64_t failed = 0;
        std::array<std::uint64_t, LatencyBuckets.size()> buckets{};  // non-cumulative
        std::uint64_t count = 0;
        double sum_seconds = 0;
    };

    void renderDns(std::string& out, const Input& in) const;
    void renderChecks(std::string& out) const;
    void renderSites(std::string& out, const Input& in) const;

    std::map<std::string, CheckSeries, std::less<>> checks_;
    std::uint64_t reloads_ok_ = 0;
    std::uint64_t reloads_error_ = 0;
    /// Answers credited to a service name by earlier configurations.
    std::map<std::string, std::uint64_t> service_base_;
    /// Per service index: the worker total at the last rebase.
    std::array<std::uint64_t, WorkerStats::MaxCountedServices> service_offset_{};
};

}  // namespace gslb::server
