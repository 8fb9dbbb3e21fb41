#pragma once

// The static records of the served zone, as parsed from its master file. Names are kept in
// uncompressed wire format, lowercased, so the server can index them without ldns.

#include <cstdint>
#include <string>
#include <vector>

namespace gslb::config {

/// One resource record of class IN.
struct ZoneRecord {
    /// Owner name in lowercase uncompressed wire format (length-prefixed labels, ending in 0).
    std::string owner;
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    /// RDATA in uncompressed wire format, names inside it in their original case.
    std::string rdata;
    /// For NS, CNAME, DNAME, MX and SRV: the name the RDATA points at, lowercased wire format;
    /// empty otherwise. Used for CNAME chasing and additional-section glue.
    std::string target;
    /// Line in the zone file where the record starts (for diagnostics).
    unsigned line = 0;
};

struct ZoneData {
    /// Lowercase wire-format origin.
    std::string origin;
    std::uint32_t serial = 0;
    std::vector<ZoneRecord> records;
};

}  // namespace gslb::config
