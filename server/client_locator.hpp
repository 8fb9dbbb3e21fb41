#pragma once

// Where a client is, for the distance policy: the EDNS Client Subnet address when the query has
// one (RFC 7871), else the source address, looked up first in `clients.networks` (longest
// prefix wins) and then in the MaxMind database. Built once per configuration; lookups run on
// the query path and allocate nothing.

#include <maxminddb.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace gslb::server {

/// A client address as far as it is known: `prefix` leading bits of `bytes` are meaningful.
struct ClientAddress {
    std::uint8_t family = 0;  ///< 0 unknown, 1 IPv4, 2 IPv6 (the ECS family numbers)
    std::uint8_t prefix = 0;
    std::array<std::uint8_t, 16> bytes{};
};

struct ClientLocation {
    enum class Kind : std::uint8_t { Unknown, Network, Geo };
    Kind kind = Kind::Unknown;
    /// For Network: the index into Config::clients.networks.
    std::uint32_t network = 0;
    /// For Geo: the database's coordinates.
    config::Location location;
    /// The prefix length that decided the location (RFC 7871 scope): the network's length, or
    /// the database's network length; 0 for Unknown.
    std::uint8_t scope = 0;
};

class ClientLocator {
public:
    /// Indexes the networks and opens the database, if any. Throws std::runtime_error when the
    /// database cannot be opened (the loader checked it, so only a file replaced since then).
    explicit ClientLocator(const config::ClientsConfig& clients);
    ~ClientLocator();
    ClientLocator(const ClientLocator&) = delete;
    ClientLocator& operator=(const ClientLocator&) = delete;

    /// Locates a client. Thread-safe, allocation-free.
    ClientLocation locate(const ClientAddress& client) const;

private:
    /// Networks of one prefix length, sorted by masked address for binary search.
    struct Level {
        unsigned length = 0;
        std::vector<std::pair<std::array<std::uint8_t, 16>, std::uint32_t>> entries;
    };

    bool lookupNetwork(const std::vector<Level>& levels,
                       const ClientAddress& client,
                       ClientLocation& out) const;
    bool lookupGeo(const ClientAddress& client, ClientLocation& out) const;

    std::vector<Level> v4_;  ///< longest length first
    std::vector<Level> v6_;
    MMDB_s db_{};
    bool have_db_ = false;
};

/// Sites closer than this to being equally far from a client are tied; ties take turns.
constexpr double TieKm = 0.001;

/// Great-circle distance in kilometres (haversine on a spherical Earth).
double greatCircleKm(const config::Location& a, const config::Location& b);

}  // namespace gslb::server
