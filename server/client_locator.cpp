#include "server/client_locator.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

namespace gslb::server {

namespace {

using Key = std::array<std::uint8_t, 16>;

/// Clears every bit past `length`.
Key masked(const std::array<std::uint8_t, 16>& bytes, unsigned length) {
    Key out{};
    for (unsigned i = 0; i < 16; ++i) {
        if (length >= (i + 1) * 8) {
            out[i] = bytes[i];
        } else if (length > i * 8) {
            out[i] = static_cast<std::uint8_t>(bytes[i] & (0xFF << (8 - (length - i * 8))));
        }
    }
    return out;
}

Key toKey(const boost::asio::ip::address& a) {
    Key k{};
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), k.begin());
    } else {
        const auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), k.begin());
    }
    return k;
}

constexpr double EarthRadiusKm = 6371.0;
constexpr double Pi = 3.14159265358979323846;

}  // namespace

double greatCircleKm(const config::Location& a, const config::Location& b) {
    const double rad = Pi / 180.0;
    const double dlat = (b.lat - a.lat) * rad;
    const double dlon = (b.lon - a.lon) * rad;
    const double h =
        std::sin(dlat / 2) * std::sin(dlat / 2) +
        std::cos(a.lat * rad) * std::cos(b.lat * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * EarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

ClientLocator::ClientLocator(const config::ClientsConfig& clients) {
    std::map<unsigned, Level, std::greater<>> v4;
    std::map<unsigned, Level, std::greater<>> v6;
    for (std::uint32_t i = 0; i < clients.networks.size(); ++i) {
        const config::ClientNetwork& n = clients.networks[i];
        Level& level = n.prefix.is_v4() ? v4[n.length] : v6[n.length];
        level.length = n.length;
        level.entries.emplace_back(masked(toKey(n.prefix), n.length), i);
    }
    for (auto* side : {&v4, &v6}) {
        for (auto& [length, level] : *side) {
            std::sort(level.entries.begin(), level.entries.end());
            (side == &v4 ? v4_ : v6_).push_back(std::move(level));
        }
    }
    if (!clients.geoip_db.empty()) {
        const int status = MMDB_open(clients.geoip_db.c_str(), MMDB_MODE_MMAP, &db_);
        if (status != MMDB_SUCCESS) {
            throw std::runtime_error("cannot open " + clients.geoip_db + " (" +
                                     MMDB_strerror(status) + ")");
        }
        have_db_ = true;
    }
}

ClientLocator::~ClientLocator() {
    if (have_db_) {
        MMDB_close(&db_);
    }
}

ClientLocation ClientLocator::locate(const ClientAddress& client) const {
    ClientLocation out;
    if (client.family == 0 || client.prefix == 0) {
        return out;  // nothing known (RFC 7871 section 7.1.2: source prefix 0 asks for this)
    }
    const auto& levels = client.family == 1 ? v4_ : v6_;
    if (lookupNetwork(levels, client, out)) {
        return out;
    }
    if (have_db_ && lookupGeo(client, out)) {
        return out;
    }
    return out;
}

bool ClientLocator::lookupNetwork(const std::vector<Level>& levels,
                                  const ClientAddress& client,
                                  ClientLocation& out) const {
    for (const Level& level : levels) {
        // A network longer than what the client revealed cannot be matched with confidence.
        if (level.length > client.prefix) {
            continue;
        }
        const Key key = masked(client.bytes, level.length);
        const auto it =
            std::lower_bound(level.entries.begin(), level.entries.end(), key,
                             [](const auto& entry, const Key& k) { return entry.first < k; });
        if (it != level.entries.end() && it->first == key) {
            out.kind = ClientLocation::Kind::Network;
            out.network = it->second;
            out.scope = static_cast<std::uint8_t>(level.length);
            return true;
        }
    }
    return false;
}

bool ClientLocator::lookupGeo(const ClientAddress& client, ClientLocation& out) const {
    sockaddr_storage ss{};
    if (client.family == 1) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, client.bytes.data(), 4);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, client.bytes.data(), 16);
    }
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(&db_, reinterpret_cast<const sockaddr*>(&ss), &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS || !result.found_entry) {
        return false;
    }
    MMDB_entry_data_s lat{};
    MMDB_entry_data_s lon{};
    if (MMDB_get_value(&result.entry, &lat, "location", "latitude", nullptr) != MMDB_SUCCESS ||
        MMDB_get_value(&result.entry, &lon, "location", "longitude", nullptr) != MMDB_SUCCESS ||
        !lat.has_data || !lon.has_data || lat.type != MMDB_DATA_TYPE_DOUBLE ||
        lon.type != MMDB_DATA_TYPE_DOUBLE) {
        return false;
    }
    out.kind = ClientLocation::Kind::Geo;
    out.location = config::Location{lat.double_value, lon.double_value};
    // An IPv4 address sits 96 bits deep in an IPv6 database's tree.
    unsigned netmask = result.netmask;
    if (client.family == 1 && db_.metadata.ip_version == 6 && netmask >= 96) {
        netmask -= 96;
    }
    out.scope = static_cast<std::uint8_t>(netmask);
    return true;
}

}  // namespace gslb::server
