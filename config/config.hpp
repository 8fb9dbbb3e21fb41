#pragma once

// Typed, immutable configuration. The loader (config_loader.hpp) builds one Config from the YAML
// file and the zone file it names; once built it is shared read-only by every thread through
// std::shared_ptr<const Config>, and a reload builds a whole new one.

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/zone_data.hpp"

namespace gslb::config {

using Duration = std::chrono::milliseconds;

/// An address and port to listen on or to connect to, with the text the user wrote.
struct Endpoint {
    boost::asio::ip::address address;
    std::uint16_t port = 0;
    std::string text;
};

/// A point on the globe in degrees: lat in [-90, 90], lon in [-180, 180].
struct Location {
    double lat = 0;
    double lon = 0;
};

struct ServerConfig {
    std::vector<Endpoint> listen;
    /// Worker threads answering DNS; 0 (the default) means one per core, resolved by the loader.
    unsigned workers = 0;
    /// NSID payload and CHAOS TXT answer; empty means the host name.
    std::string identity;
    Duration tcp_idle_timeout{10'000};
    /// Open TCP connections allowed per worker; past it new connections are closed at once.
    unsigned tcp_max_connections = 256;
    /// Open TCP connections one client address may hold per worker.
    unsigned tcp_max_connections_per_client = 16;
    /// Response rate limiting for UDP (in the style of BIND and Knot RRL): answers per second
    /// per client prefix; 0 turns it off (the default). Past the rate, every `slip`-th
    /// answer is sent truncated (TC=1, so a real client retries over TCP) and the rest are
    /// dropped; slip 0 drops them all.
    unsigned rate_limit = 0;
    unsigned rate_limit_slip = 2;
    unsigned rate_limit_ipv4_prefix = 24;
    unsigned rate_limit_ipv6_prefix = 56;
};

struct ZoneConfig {
    /// Lowercase, absolute (trailing dot), e.g. "example.com.".
    std::string origin;
    /// Path as written in the YAML file (used in diagnostics).
    std::string file;
    /// Path resolved relative to the YAML file's directory (used to open the file).
    std::string resolved_file;
};

/// The `health` section: defaults each check inherits unless it overrides them.
struct HealthDefaults {
    Duration interval{2000};
    Duration timeout{1000};
    unsigned rise = 2;
    unsigned fall = 3;
};

enum class CheckType { Haproxy, Http, Https, Tcp };

/// One entry of `sites.NAME.checks`, with the `health` defaults already applied.
struct CheckConfig {
    CheckType type = CheckType::Tcp;
    /// Stable identity of the check, "SITE/INDEX:TYPE" (e.g. "madrid/1:http"), used in logs,
    /// the dashboard and to carry state across reloads.
    std::string id;
    /// haproxy, http, https: the URL fetched.
    std::string url;
    /// haproxy: the backend (pxname) whose server rows are counted, and how many must serve.
    std::string backend;
    unsigned min_up = 1;
    /// haproxy: optional basic auth; the password is read from password_file (resolved path).
    std::string user;
    std::string password_file;
    /// http, https: expected status and optional body substring.
    int expect_status = 200;
    std::string expect_body;
    /// https (and haproxy over https): verify the peer certificate and host name.
    bool tls_verify = true;
    /// tcp: where to connect.
    Endpoint address;

    Duration interval{2000};
    Duration timeout{1000};
    unsigned rise = 2;
    unsigned fall = 3;
};

struct SiteConfig {
    std::string name;
    std::optional<Location> location;
    std::vector<boost::asio::ip::address_v4> addresses_v4;
    std::vector<boost::asio::ip::address_v6> addresses_v6;
    std::vector<CheckConfig> checks;
};

enum class Policy { RoundRobin, Distance, Failover };
enum class WhenAllDown { ServeAll, ServFail };

struct ServiceConfig {
    /// Lowercase, absolute, inside the zone.
    std::string name;
    /// Indices into Config::sites, in preference order.
    std::vector<std::size_t> sites;
    Policy policy = Policy::RoundRobin;
    std::uint32_t ttl = 30;
    unsigned max_answers = 8;
    WhenAllDown when_all_down = WhenAllDown::ServeAll;
};

struct ClientNetwork {
    boost::asio::ip::address prefix;
    unsigned length = 0;
    Location location;
};

struct ClientsConfig {
    /// Resolved path of the MaxMind database, empty when not configured.
    std::string geoip_db;
    std::vector<ClientNetwork> networks;
};

struct DashboardConfig {
    std::optional<Endpoint> listen;
    /// Resolved paths; empty when not configured.
    std::string admin_token_file;
    std::string state_file;
};

/// A whole, validated configuration together with its zone.
struct Config {
    /// The YAML path as the user named it.
    std::string path;
    ServerConfig server;
    ZoneConfig zone;
    HealthDefaults health;
    std::vector<SiteConfig> sites;
    std::vector<ServiceConfig> services;
    ClientsConfig clients;
    DashboardConfig dashboard;
    /// The parsed zone file (never null in a loaded Config).
    std::shared_ptr<const ZoneData> zone_data;
};

}  // namespace gslb::config
