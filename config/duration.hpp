#pragma once

// Durations as written in the YAML file: an unsigned integer and a unit, "500ms", "2s", "1m".

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/parse_result.hpp"

namespace gslb::config {

/// The longest duration accepted anywhere in the configuration. A day is far beyond any
/// sensible check interval or idle timeout, and keeps timer arithmetic far from overflow.
constexpr Duration MaxDuration{24 * 60 * 60 * 1000};

/// Parses "<digits><unit>" with unit ms, s or m. Zero is accepted here; callers that need a
/// positive value check it themselves. Rejects a missing unit ("2"), a sign ("-1s"),
/// fractions, spaces and values above MaxDuration. Never throws.
ParseResult<Duration> parseDuration(std::string_view text);

/// Writes `d` with the largest unit that represents it exactly: "1m", "90s", "1500ms".
std::string formatDuration(Duration d);

}  // namespace gslb::config
