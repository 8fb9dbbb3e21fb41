#pragma once

// When each check runs. Pure functions of the check's identity and a clock reading, so tests
// compute schedules without sleeping and a reload keeps every unchanged check on its slot.

#include <chrono>
#include <cstdint>
#include <string_view>

namespace gslb::health {

/// Spreads checks over their interval: each check owns one slot, `offset` after the start of
/// every interval counted from a common epoch.
class Scheduler {
public:
    using Clock = std::chrono::steady_clock;
    using Duration = std::chrono::milliseconds;

    /// The slot of check `index_in_site` (0-based) of `site_count` checks of site `site`:
    /// the site's checks sit evenly apart within the interval, and each site's first check is
    /// placed by a hash of the site name, so that sites do not all probe at the same instant.
    /// Returns a value in [0, interval); 0 for a non-positive interval.
    static Duration offset(std::string_view site,
                           std::size_t index_in_site,
                           std::size_t site_count,
                           Duration interval);

    /// The first slot strictly after `now`: epoch + offset + k * interval for the smallest k
    /// that makes it later than `now`. A probe that overruns its interval skips the slots it
    /// covered rather than firing twice in a row.
    static Clock::time_point nextDue(Clock::time_point epoch,
                                     Duration offset,
                                     Duration interval,
                                     Clock::time_point now);

    /// FNV-1a, 64 bits: stable across runs and compilers, unlike std::hash.
    static std::uint64_t hash(std::string_view text);
};

}  // namespace gslb::health
