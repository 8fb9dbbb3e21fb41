#pragma once

#include <memory>
#include <string>

#include "config/diagnostics.hpp"
#include "config/zone_data.hpp"

namespace gslb::config {

/// Parses the RFC 1035 master file at `resolved_path` with ldns, for the zone `origin`
/// (text, absolute). Checks that it has exactly one SOA, at the origin, at least one NS at the
/// origin, no record outside the zone and no other class than IN, no CNAME beside other data.
///
/// Problems are reported in `diags` under `file_as_named`, with the zone file's line and
/// column 1 (ldns gives only lines). Returns nullptr when any problem was found.
std::shared_ptr<const ZoneData> loadZone(const std::string& file_as_named,
                                         const std::string& resolved_path,
                                         const std::string& origin,
                                         Diagnostics& diags);

/// Converts a presentation-format domain name ("App.Example.com." or relative to nothing) to
/// lowercase uncompressed wire format. Returns an empty string when the name is not valid.
std::string nameToWire(const std::string& text);

/// Converts a wire-format name back to lowercase presentation format with the trailing dot.
std::string wireToName(const std::string& wire);

}  // namespace gslb::config
