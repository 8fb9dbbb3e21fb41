#pragma once

// The body of GET /api/v1/status: what the dashboard page draws, and what scripts read. The
// schema is written in README.md ("Dashboard"); change both together.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "healthcheck/health_monitor.hpp"
#include "server/snapshot.hpp"

namespace gslb::server {

/// Everything the status document shows, gathered on the control thread.
struct StatusInput {
    /// The snapshot the DNS workers answer from now; its config is the one serving.
    std::shared_ptr<const Snapshot> snapshot;
    /// Per site of that config: the checks' verdict, and whether it is drained by hand.
    std::vector<bool> checks_up;
    std::vector<bool> drained;
    std::vector<health::CheckStatus> checks;
    std::uint64_t generation = 0;
    double uptime_seconds = 0;
    std::string version;
    bool write_api = false;
    std::chrono::system_clock::time_point now{};
};

/// Renders the status document as JSON. Strings that are not valid UTF-8 (a probe's reason
/// quoting a server's bytes, say) have the bad bytes replaced by U+FFFD rather than failing.
std::string renderStatus(const StatusInput& in);

/// "2026-12-04T16:05:31.123Z" (RFC 3339, UTC, milliseconds).
std::string rfc3339(std::chrono::system_clock::time_point t);

/// "up", "down" or "drained": drained wins, then the checks' verdict.
const char* siteState(bool checks_up, bool drained);

}  // namespace gslb::server
