#include "config/config_loader.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace gslb::config {
namespace {

namespace fs = std::filesystem;
namespace ip = boost::asio::ip;
using Lines = std::vector<std::string>;

template <typename... Text>
Lines lines(const Text&... text) {
    return Lines{std::string(text)...};
}

// Line numbers matter: the cross-check tests name them (www A at 5, old CNAME at 6, v6 AAAA at
// 7, the lab delegation at 8).
constexpr const char* ZoneText = R"zone($ORIGIN example.com.
$TTL 3600
@      IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300
       IN NS  ns1.example.com.
www    IN A   192.0.2.80
old    IN CNAME www.example.com.
v6     IN AAAA 2001:db8::80
lab    IN NS  ns.lab.example.com.
ns.lab IN A   192.0.2.99
ns1    IN A   192.0.2.53
)zone";

// The smallest valid file; tests append sections or replace it whole.
constexpr const char* MinimalYaml = R"yaml(server:
  listen: ["127.0.0.1:0"]
zone:
  origin: example.com
  file: example.com.zone
sites:
  madrid:
    addresses: [192.0.2.10]
services:
  app.example.com:
    sites: [madrid]
)yaml";

class ConfigLoaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "gslbd-config-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        writeFile("example.com.zone", ZoneText);
    }

    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void writeFile(const std::string& name, const std::string& text) {
        fs::create_directories((dir_ / name).parent_path());
        std::ofstream(dir_ / name) << text;
    }

    /// Writes `yaml` as gslb.yaml in the temporary directory and loads it.
    std::shared_ptr<const Config> load(const std::string& yaml) {
        writeFile("gslb.yaml", yaml);
        return loadConfig(path(), diags_);
    }

    std::string path() const { return (dir_ / "gslb.yaml").string(); }

    /// The diagnostics in file order, formatted, with the temporary directory left out so
    /// that they read as if the user had named "gslb.yaml".
    std::vector<std::string> errors() const {
        const std::string prefix = dir_.string() + "/";
        std::vector<std::string> out;
        for (const Diagnostic& d : diags_.sorted()) {
            std::string line = format(d);
            if (line.rfind(prefix, 0) == 0) {
                line.erase(0, prefix.size());
            }
            out.push_back(line);
        }
        return out;
    }

    fs::path dir_;
    Diagnostics diags_;
};

// ---------------------------------------------------------------------------------------------
// Valid files.

TEST_F(ConfigLoaderTest, LoadsMinimalConfigWithDefaults) {
    const auto cfg = load(MinimalYaml);
    ASSERT_NE(cfg, nullptr) << ::testing::PrintToString(errors());
    EXPECT_TRUE(errors().empty());

    EXPECT_EQ(cfg->path, path());
    ASSERT_EQ(cfg->server.listen.size(), 1u);
    EXPECT_EQ(cfg->server.listen[0].address, ip::make_address("127.0.0.1"));
    EXPECT_EQ(cfg->server.listen[0].port, 0);
    // Left out, workers means one per core, as `workers: 0` does.
    EXPECT_EQ(cfg->server.workers, std::max(1u, std::thread::hardware_concurrency()));
    EXPECT_EQ(cfg->server.tcp_idle_timeout, Duration{10'000});
    EXPECT_EQ(cfg->server.tcp_max_connections, 256u);
    EXPECT_EQ(cfg->server.tcp_max_connections_per_client, 16u);
    EXPECT_EQ(cfg->server.rate_limit, 0u);
    EXPECT_EQ(cfg->zone.origin, "example.com.");
    EXPECT_EQ(cfg->zone.file, "example.com.zone");
    EXPECT_EQ(cfg->zone.resolved_file, (dir_ / "example.com.zone").string());
    EXPECT_EQ(cfg->health.interval, Duration{2000});
    EXPECT_EQ(cfg->health.timeout, Duration{1000});
    EXPECT_EQ(cfg->health.rise, 2u);
    EXPECT_EQ(cfg->health.fall, 3u);

    ASSERT_EQ(cfg->services.size(), 1u);
    const ServiceConfig& app = cfg->services[0];
    EXPECT_EQ(app.name, "app.example.com.");
    EXPECT_EQ(app.sites, std::vector<std::size_t>{0});
    EXPECT_EQ(app.policy, Policy::RoundRobin);
    EXPECT_EQ(app.ttl, 30u);
    EXPECT_EQ(app.max_answers, 8u);
    EXPECT_EQ(app.when_all_down, WhenAllDown::ServeAll);

    EXPECT_TRUE(cfg->clients.geoip_db.empty());
    EXPECT_FALSE(cfg->dashboard.listen);
    ASSERT_NE(cfg->zone_data, nullptr);
    EXPECT_EQ(cfg->zone_data->serial, 1u);
}

TEST_F(ConfigLoaderTest, ResolvesWorkersZeroToOnePerCore) {
    const auto explicit_zero = load(R"yaml(server: {listen: ["127.0.0.1:0"], workers: 0}
zone: {origin: example.com., file: example.com.zone}
)yaml");
    ASSERT_NE(explicit_zero, nullptr);
    EXPECT_EQ(explicit_zero->server.workers, std::max(1u, std::thread::hardware_concurrency()));
}

TEST_F(ConfigLoaderTest, DefaultsIdentityToHostName) {
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
    const auto cfg = load(MinimalYaml);
    ASSERT_NE(cfg, nullptr);
    EXPECT_EQ(cfg->server.identity, host);
}

TEST_F(ConfigLoaderTest, AcceptsZoneWithoutSitesOrServices) {
    const auto cfg = load(R"yaml(server: {listen: ["[::1]:5300"]}
zone: {origin: example.com., file: example.com.zone}
)yaml");
    ASSERT_NE(cfg, nullptr) << ::testing::PrintToString(errors());
    EXPECT_TRUE(cfg->sites.empty());
    EXPECT_TRUE(cfg->services.empty());
    EXPECT_EQ(cfg->server.listen[0].address, ip::make_address("::1"));
    EXPECT_EQ(cfg->server.listen[0].port, 5300);
}

TEST_F(ConfigLoaderTest, LoadsFullConfigWithTypedValues) {
    writeFile("secrets/stats.password", "s3cret\n");
    writeFile("admin.token", "token\n");
    const auto cfg = load(R"yaml(server:
  listen: ["127.0.0.1:5300", "[::1]:5300"]
  workers: 3
  identity: gslb-1
  tcp_idle_timeout: 15s
  tcp_max_connections: 100
zone:
  origin: Example.COM.
  file: example.com.zone
health:
  interval: 4s
  timeout: 1500ms
  rise: 3
  fall: 4
sites:
  madrid:
    location: {lat: 40.42, lon: -3.70}
    addresses: [192.0.2.10, "2001:db8:a::10", 192.0.2.11]
    checks:
      - {type: haproxy, url: "http://192.0.2.10:8404/stats;csv", backend: web, min_up: 2,
         user: stats, password_file: secrets/stats.password}
      - {type: http, url: "http://192.0.2.10/healthz", expect_status: 204, expect_body: ok,
         interval: 10s}
      - {type: https, url: "https://192.0.2.10/healthz", tls_verify: false}
      - {type: tcp, address: "[2001:db8:a::10]:443", timeout: 500ms, rise: 1, fall: 1}
  boston:
    addresses: ["2001:db8:b::10"]
services:
  App.Example.com:
    sites: [boston, madrid]
    policy: failover
    ttl: 0
    max_answers: 2
    when_all_down: servfail
  geo.example.com.:
    sites: [madrid]
    policy: distance
    ttl: 2147483647
clients:
  geoip_db: )yaml" GSLBD_TEST_DATA R"yaml(/geoip/test-city.mmdb
  networks:
    - {prefix: 198.51.100.0/24, location: {lat: 40.4, lon: -3.7}}
    - {prefix: "2001:db8:c::/48", location: {lat: -33.9, lon: 151.2}}
dashboard:
  listen: 127.0.0.1:8053
  admin_token_file: admin.token
  state_file: state/gslbd.state
)yaml");
    ASSERT_NE(cfg, nullptr) << ::testing::PrintToString(errors());

    EXPECT_EQ(cfg->server.listen.size(), 2u);
    EXPECT_EQ(cfg->server.listen[1].text, "[::1]:5300");
    EXPECT_EQ(cfg->server.workers, 3u);
    EXPECT_EQ(cfg->server.identity, "gslb-1");
    EXPECT_EQ(cfg->server.tcp_idle_timeout, Duration{15'000});
    EXPECT_EQ(cfg->server.tcp_max_connections, 100u);
    EXPECT_EQ(cfg->zone.origin, "example.com.");
    EXPECT_EQ(cfg->health.interval, Duration{4000});
    EXPECT_EQ(cfg->health.timeout, Duration{1500});

    // Sites keep file order; addresses split by family, in file order.
    ASSERT_EQ(cfg->sites.size(), 2u);
    const SiteConfig& madrid = cfg->sites[0];
    EXPECT_EQ(madrid.name, "madrid");
    ASSERT_TRUE(madrid.location);
    EXPECT_DOUBLE_EQ(madrid.location->lat, 40.42);
    EXPECT_DOUBLE_EQ(madrid.location->lon, -3.70);
    EXPECT_EQ(madrid.addresses_v4,
              (std::vector<ip::address_v4>{ip::make_address_v4("192.0.2.10"),
                                           ip::make_address_v4("192.0.2.11")}));
    EXPECT_EQ(madrid.addresses_v6,
              std::vector<ip::address_v6>{ip::make_address_v6("2001:db8:a::10")});
    EXPECT_FALSE(cfg->sites[1].location);
    EXPECT_TRUE(cfg->sites[1].addresses_v4.empty());
    EXPECT_TRUE(cfg->sites[1].checks.empty());

    // Checks: ids, per-type settings, `health` defaults unless overridden.
    ASSERT_EQ(madrid.checks.size(), 4u);
    const CheckConfig& haproxy = madrid.checks[0];
    EXPECT_EQ(haproxy.id, "madrid/0:haproxy");
    EXPECT_EQ(haproxy.type, CheckType::Haproxy);
    EXPECT_EQ(haproxy.url, "http://192.0.2.10:8404/stats;csv");
    EXPECT_EQ(haproxy.backend, "web");
    EXPECT_EQ(haproxy.min_up, 2u);
    EXPECT_EQ(haproxy.user, "stats");
    EXPECT_EQ(haproxy.password_file, (dir_ / "secrets/stats.password").string());
    EXPECT_EQ(haproxy.interval, Duration{4000});
    EXPECT_EQ(haproxy.timeout, Duration{1500});
    EXPECT_EQ(haproxy.rise, 3u);
    EXPECT_EQ(haproxy.fall, 4u);

    const CheckConfig& http = madrid.checks[1];
    EXPECT_EQ(http.id, "madrid/1:http");
    EXPECT_EQ(http.expect_status, 204);
    EXPECT_EQ(http.expect_body, "ok");
    EXPECT_TRUE(http.tls_verify);
    EXPECT_EQ(http.interval, Duration{10'000});
    EXPECT_EQ(http.timeout, Duration{1500});

    const CheckConfig& https = madrid.checks[2];
    EXPECT_EQ(https.id, "madrid/2:https");
    EXPECT_EQ(https.type, CheckType::Https);
    EXPECT_EQ(https.expect_status, 200);
    EXPECT_FALSE(https.tls_verify);

    const CheckConfig& tcp = madrid.checks[3];
    EXPECT_EQ(tcp.id, "madrid/3:tcp");
    EXPECT_EQ(tcp.address.address, ip::make_address("2001:db8:a::10"));
    EXPECT_EQ(tcp.address.port, 443);
    EXPECT_EQ(tcp.interval, Duration{4000});
    EXPECT_EQ(tcp.timeout, Duration{500});
    EXPECT_EQ(tcp.rise, 1u);
    EXPECT_EQ(tcp.fall, 1u);

    // Services: normalised names, site indices in preference order.
    ASSERT_EQ(cfg->services.size(), 2u);
    EXPECT_EQ(cfg->services[0].name, "app.example.com.");
    EXPECT_EQ(cfg->services[0].sites, (std::vector<std::size_t>{1, 0}));
    EXPECT_EQ(cfg->services[0].policy, Policy::Failover);
    EXPECT_EQ(cfg->services[0].ttl, 0u);
    EXPECT_EQ(cfg->services[0].max_answers, 2u);
    EXPECT_EQ(cfg->services[0].when_all_down, WhenAllDown::ServFail);
    EXPECT_EQ(cfg->services[1].policy, Policy::Distance);
    EXPECT_EQ(cfg->services[1].ttl, 2147483647u);

    // Clients and dashboard: absolute paths kept, relative ones resolved.
    EXPECT_EQ(cfg->clients.geoip_db, GSLBD_TEST_DATA "/geoip/test-city.mmdb");
    ASSERT_EQ(cfg->clients.networks.size(), 2u);
    EXPECT_EQ(cfg->clients.networks[0].prefix, ip::make_address("198.51.100.0"));
    EXPECT_EQ(cfg->clients.networks[0].length, 24u);
    EXPECT_DOUBLE_EQ(cfg->clients.networks[1].location.lat, -33.9);
    EXPECT_EQ(cfg->clients.networks[1].length, 48u);
    ASSERT_TRUE(cfg->dashboard.listen);
    EXPECT_EQ(cfg->dashboard.listen->port, 8053);
    EXPECT_EQ(cfg->dashboard.admin_token_file, (dir_ / "admin.token").string());
    EXPECT_EQ(cfg->dashboard.state_file, (dir_ / "state/gslbd.state").string());
}

// ---------------------------------------------------------------------------------------------
// File-level errors.

TEST_F(ConfigLoaderTest, ReportsFileThatCannotBeOpened) {
    EXPECT_EQ(loadConfig((dir_ / "missing.yaml").string(), diags_), nullptr);
    EXPECT_EQ(errors(), lines("missing.yaml: cannot open (No such file or directory)"));
}

TEST_F(ConfigLoaderTest, RejectsConfigFileThatIsNotARegularFile) {
    // Regression: a FIFO given as the config blocked the loader forever in open().
    const fs::path fifo = dir_ / "gslb.fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(loadConfig(fifo.string(), diags_), nullptr);
    EXPECT_EQ(errors(), lines("gslb.fifo: cannot open (not a regular file)"));
}

TEST_F(ConfigLoaderTest, TopLevelCommaAfterANodeIsReportedNotLoopedOn) {
    // Regression: a ',' after the first node made yaml-cpp's LoadAll yield empty documents
    // forever, so loading never returned and took memory until it ran out.
    EXPECT_EQ(load("[a, b], c"), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:1:1: the top level must be a map of sections (server, "
                              "zone, health, sites, services, clients, dashboard)",
                              "gslb.yaml:1:7: only one YAML document is allowed"));
    diags_ = Diagnostics();
    EXPECT_EQ(load(","), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:1:1: the file is empty (it needs at least server and "
                              "zone)"));
}

TEST_F(ConfigLoaderTest, ReportsYamlSyntaxErrorWithPosition) {
    EXPECT_EQ(load("server:\n  listen: [\"127.0.0.1:0\"\nzone: {}\n"), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:3:1: end of sequence flow not found"));
}

TEST_F(ConfigLoaderTest, RejectsEmptyFile) {
    EXPECT_EQ(load("# nothing yet\n"), nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:1:1: the file is empty (it needs at least server and zone)"));
}

TEST_F(ConfigLoaderTest, RejectsTopLevelThatIsNotAMap) {
    EXPECT_EQ(load("- server\n- zone\n"), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:1:1: the top level must be a map of sections "
                              "(server, zone, health, sites, services, clients, "
                              "dashboard)"));
}

TEST_F(ConfigLoaderTest, RejectsSecondYamlDocument) {
    EXPECT_EQ(load(std::string(MinimalYaml) + "---\nserver: {}\n"), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:13:1: only one YAML document is allowed"));
}

TEST_F(ConfigLoaderTest, RejectsMissingRequiredSectionsAndKeys) {
    EXPECT_EQ(load("health: {}\n"), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:1:1: missing required key \"server\"",
                              "gslb.yaml:1:1: missing required key \"zone\""));

    diags_ = Diagnostics();
    EXPECT_EQ(load("server:\n  workers: 2\nzone: {origin: example.com.}\n"), nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:2:3: server: missing required key \"listen\"",
                              "gslb.yaml:3:7: zone: missing required key \"file\""));
}

// ---------------------------------------------------------------------------------------------
// Keys and types.

TEST_F(ConfigLoaderTest, RejectsUnknownKeyWithPosition) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(healthh:
  interval: 2s
dashboard:
  listen: 127.0.0.1:8053
  token_file: admin.token
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:12:1: healthh: unknown key (allowed: server, zone, health, "
                    "sites, services, clients, dashboard)",
                    "gslb.yaml:16:3: dashboard.token_file: unknown key (allowed in "
                    "dashboard: listen, admin_token_file, state_file)"));
}

TEST_F(ConfigLoaderTest, RejectsKeysThatDoNotBelongToTheCheckType) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: tcp, address: "192.0.2.10:443", url: "http://192.0.2.10/"}
      - {type: http, url: "http://192.0.2.10/", tls_verify: false}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:7:48: sites.madrid.checks[0].url: unknown key (allowed in "
                              "sites.madrid.checks[0]: type, address, interval, timeout, rise, "
                              "fall)",
                              "gslb.yaml:8:49: sites.madrid.checks[1].tls_verify: unknown key "
                              "(allowed in sites.madrid.checks[1]: type, url, expect_status, "
                              "expect_body, interval, timeout, rise, fall)"));
}

TEST_F(ConfigLoaderTest, RejectsWrongTypes) {
    EXPECT_EQ(load(R"yaml(server:
  listen: {address: 127.0.0.1}
  workers: [2]
  identity: {name: x}
zone: {origin: example.com., file: [example.com.zone]}
health: 5
sites:
  madrid:
    addresses: 192.0.2.10
    checks:
      - tcp
services:
  app.example.com.:
    sites: madrid
    ttl:
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:2:11: server.listen: expected a list, got a map",
                    "gslb.yaml:3:12: server.workers: expected a whole number, got a list",
                    "gslb.yaml:4:13: server.identity: expected a string, got a map",
                    "gslb.yaml:5:36: zone.file: expected a file name, got a list",
                    "gslb.yaml:6:9: health: expected a map, got \"5\"",
                    "gslb.yaml:9:16: sites.madrid.addresses: expected a list, got \"192.0.2.10\"",
                    "gslb.yaml:11:9: sites.madrid.checks[0]: expected a map, got \"tcp\"",
                    "gslb.yaml:14:12: services.\"app.example.com.\".sites: expected a list, got "
                    "\"madrid\"",
                    "gslb.yaml:15:5: services.\"app.example.com.\".ttl: expected a whole number, "
                    "got nothing"));
}

TEST_F(ConfigLoaderTest, RejectsDuplicateYamlKeys) {
    // yaml-cpp 0.7 keeps both entries of a duplicated key and looks up the first; YAML forbids
    // duplicates, and silently using one of them would hide the operator's mistake.
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"], workers: 1, workers: 2}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
  madrid:
    addresses: [192.0.2.11]
services:
  app.example.com.:
    sites: [madrid]
  app.example.com.:
    sites: [madrid]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:1:47: server.workers: duplicate key (first at line 1)",
                              "gslb.yaml:6:3: sites.madrid: duplicate key (first at line 4)",
                              "gslb.yaml:11:3: services.\"app.example.com.\": duplicate key (first "
                              "at line 9)"));
}

TEST_F(ConfigLoaderTest, RejectsServicesDifferingOnlyInCaseOrTrailingDot) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(  App.Example.COM.:
    sites: [madrid]
  app.example.com.:
    sites: [madrid]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:12:3: services.\"App.Example.COM.\": the same name as "
                              "service \"app.example.com\" at line 10",
                              "gslb.yaml:14:3: services.\"app.example.com.\": the same name as "
                              "service \"app.example.com\" at line 10"));
}

// ---------------------------------------------------------------------------------------------
// Values.

TEST_F(ConfigLoaderTest, RejectsBadDurations) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"], tcp_idle_timeout: 0s}
zone: {origin: example.com., file: example.com.zone}
health:
  interval: 2
  timeout: -1s
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: tcp, address: "192.0.2.10:443"}
      - {type: tcp, address: "192.0.2.10:443", timeout: 2x}
      - {type: tcp, address: "192.0.2.10:443", interval: 99999999999999999999m}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:1:53: server.tcp_idle_timeout: \"0s\" must be longer than zero",
                    "gslb.yaml:4:13: health.interval: \"2\" has no unit (use 500ms, 2s, 1m)",
                    "gslb.yaml:5:12: health.timeout: \"-1s\" is negative (use 500ms, 2s, 1m)",
                    "gslb.yaml:11:57: sites.madrid.checks[1].timeout: \"2x\" is not a duration "
                    "(use 500ms, 2s, 1m)",
                    "gslb.yaml:12:58: sites.madrid.checks[2].interval: \"99999999999999999999m\" "
                    "is too long (at most 1440m)"));
}

TEST_F(ConfigLoaderTest, RejectsTimeoutLongerThanInterval) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
health: {interval: 500ms}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: tcp, address: "192.0.2.10:443"}
      - {type: tcp, address: "192.0.2.10:443", interval: 5s, timeout: 6s}
      - {type: tcp, address: "192.0.2.10:443", interval: 5s, timeout: 5s}
  boston:
    addresses: [192.0.2.20]
    checks:
      - {type: tcp, address: "192.0.2.20:443", interval: 900ms}
)yaml"),
              nullptr);
    // The first madrid check inherits the bad defaults, already reported under health; a
    // timeout equal to the interval is fine; boston's own interval is still too short for the
    // default timeout.
    EXPECT_EQ(errors(),
              lines("gslb.yaml:3:20: health.interval: 500ms is shorter than the timeout 1s",
                    "gslb.yaml:9:71: sites.madrid.checks[1].timeout: 6s is longer than the "
                    "interval 5s",
                    "gslb.yaml:14:58: sites.boston.checks[0].interval: 900ms is shorter than the "
                    "timeout 1s"));
}

TEST_F(ConfigLoaderTest, RejectsOutOfRangeNumbers) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"], workers: 5000, tcp_max_connections: 0}
zone: {origin: example.com., file: example.com.zone}
health: {rise: 0, fall: -1}
sites:
  madrid:
    location: {lat: 91, lon: east}
    addresses: [192.0.2.10]
    checks:
      - {type: http, url: "http://192.0.2.10/", expect_status: 600}
      - {type: haproxy, url: "http://192.0.2.10/", backend: web, min_up: 0}
services:
  app.example.com.: {sites: [madrid], ttl: 2147483648, max_answers: 0}
)yaml"),
              nullptr);
    EXPECT_EQ(
        errors(),
        lines("gslb.yaml:1:44: server.workers: \"5000\" is out of range (use 0..1024)",
              "gslb.yaml:1:71: server.tcp_max_connections: \"0\" is out of range (use 1..65535)",
              "gslb.yaml:3:16: health.rise: \"0\" is out of range (use 1..65535)",
              "gslb.yaml:3:25: health.fall: \"-1\" is not a whole number (use 1..65535)",
              "gslb.yaml:6:21: sites.madrid.location.lat: \"91\" is out of range (use -90..90)",
              "gslb.yaml:6:30: sites.madrid.location.lon: \"east\" is not a number (use "
              "-180..180)",
              "gslb.yaml:9:64: sites.madrid.checks[0].expect_status: \"600\" is out of range (use "
              "100..599)",
              "gslb.yaml:10:74: sites.madrid.checks[1].min_up: \"0\" is out of range (use "
              "1..65535)",
              "gslb.yaml:12:44: services.\"app.example.com.\".ttl: \"2147483648\" is out of range "
              "(use 0..2147483647)",
              "gslb.yaml:12:69: services.\"app.example.com.\".max_answers: \"0\" is out of range "
              "(use 1..65535)"));
}

TEST_F(ConfigLoaderTest, RejectsBadChoices) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: icmp}
      - {type: https, url: "https://192.0.2.10/", tls_verify: maybe}
services:
  app.example.com.: {sites: [madrid], policy: random, when_all_down: nxdomain}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:7:16: sites.madrid.checks[0].type: \"icmp\" is not a check type "
                    "(use haproxy, http, https, tcp)",
                    "gslb.yaml:8:63: sites.madrid.checks[1].tls_verify: \"maybe\" is not a "
                    "boolean (use true or false)",
                    "gslb.yaml:10:47: services.\"app.example.com.\".policy: \"random\" is not a "
                    "policy (use round-robin, distance, failover)",
                    "gslb.yaml:10:70: services.\"app.example.com.\".when_all_down: \"nxdomain\" "
                    "is not a when_all_down value (use serve-all, servfail)"));
}

TEST_F(ConfigLoaderTest, RejectsBadListenEndpoints) {
    EXPECT_EQ(load(R"yaml(server:
  listen:
    - 127.0.0.1
    - "::1:5300"
    - localhost:53
    - 127.0.0.1:65536
    - "[::1]:5300"
    - "[::1]:5300"
zone: {origin: example.com., file: example.com.zone}
dashboard: {listen: "[::1]:5300"}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:3:7: server.listen[0]: \"127.0.0.1\" has no port (use "
                    "192.0.2.1:53 or [2001:db8::1]:53)",
                    "gslb.yaml:4:7: server.listen[1]: \"::1:5300\" needs brackets around an IPv6 "
                    "address (use 192.0.2.1:53 or [2001:db8::1]:53)",
                    "gslb.yaml:5:7: server.listen[2]: \"localhost:53\" does not start with an IP "
                    "address (use 192.0.2.1:53 or [2001:db8::1]:53)",
                    "gslb.yaml:6:7: server.listen[3]: \"127.0.0.1:65536\" has no valid port (use "
                    "0..65535)",
                    "gslb.yaml:8:7: server.listen[5]: \"[::1]:5300\" is listed twice (first as "
                    "\"[::1]:5300\")",
                    "gslb.yaml:10:21: dashboard.listen: \"[::1]:5300\" is also in server.listen"));
}

TEST_F(ConfigLoaderTest, RejectsEmptyListenList) {
    EXPECT_EQ(load("server: {listen: []}\nzone: {origin: example.com., file: example.com.zone}\n"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:1:18: server.listen: needs at least one address "
                              "(e.g. 127.0.0.1:5300)"));
}

TEST_F(ConfigLoaderTest, RejectsBadSiteAddresses) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.300, "2001:db8::g", 192.0.2.10, 192.0.2.10, [1]]
  boston:
    addresses: []
  paris:
    location: {lat: 48.86, lon: 2.35}
  "new york": {addresses: [192.0.2.40]}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:5:17: sites.madrid.addresses[0]: \"192.0.2.300\" is not an IP "
                    "address (use 192.0.2.1 or 2001:db8::1)",
                    "gslb.yaml:5:30: sites.madrid.addresses[1]: \"2001:db8::g\" is not an IP "
                    "address (use 192.0.2.1 or 2001:db8::1)",
                    "gslb.yaml:5:57: sites.madrid.addresses[3]: \"192.0.2.10\" is listed twice",
                    "gslb.yaml:5:69: sites.madrid.addresses[4]: expected an IP address, got a "
                    "list",
                    "gslb.yaml:7:16: sites.boston.addresses: a site needs at least one address",
                    "gslb.yaml:9:5: sites.paris: missing required key \"addresses\" (the site's "
                    "floating IPs)",
                    "gslb.yaml:10:3: sites.\"new york\": \"new york\" is not a site name (use 1 "
                    "to 63 letters, digits, '-', '_' or '.')"));
}

TEST_F(ConfigLoaderTest, RejectsBadLocation) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    location: {lat: 40.4, lng: -3.7}
    addresses: [192.0.2.10]
  boston:
    location: [42.36, -71.06]
    addresses: [192.0.2.20]
  paris:
    location: {lat: .nan, lon: 1e999}
    addresses: [192.0.2.30]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:5:15: sites.madrid.location: missing required key \"lon\"",
                    "gslb.yaml:5:27: sites.madrid.location.lng: unknown key (allowed in "
                    "sites.madrid.location: lat, lon)",
                    "gslb.yaml:8:15: sites.boston.location: expected a map, got a list",
                    "gslb.yaml:11:21: sites.paris.location.lat: \".nan\" is not a number (use "
                    "-90..90)",
                    "gslb.yaml:11:32: sites.paris.location.lon: \"1e999\" is not a number (use "
                    "-180..180)"));
}

TEST_F(ConfigLoaderTest, RejectsMissingKeysPerCheckType) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: haproxy, url: "http://192.0.2.10:8404/stats;csv"}
      - {type: http}
      - {type: https}
      - {type: tcp}
      - {url: "http://192.0.2.10/"}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:7:9: sites.madrid.checks[0]: missing required key "
                              "\"backend\" (for type haproxy)",
                              "gslb.yaml:8:9: sites.madrid.checks[1]: missing required key \"url\" "
                              "(for type http)",
                              "gslb.yaml:9:9: sites.madrid.checks[2]: missing required key \"url\" "
                              "(for type https)",
                              "gslb.yaml:10:9: sites.madrid.checks[3]: missing required key "
                              "\"address\" (for type tcp)",
                              "gslb.yaml:11:9: sites.madrid.checks[4]: missing required key "
                              "\"type\" (haproxy, http, https or tcp)"));
}

TEST_F(ConfigLoaderTest, RejectsUrlWithWrongScheme) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: haproxy, url: "ftp://192.0.2.10/stats", backend: web}
      - {type: http, url: "https://192.0.2.10/healthz"}
      - {type: https, url: "http://192.0.2.10/healthz"}
      - {type: https, url: "HTTPS://192.0.2.10/healthz"}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:7:30: sites.madrid.checks[0].url: \"ftp://192.0.2.10/stats\" "
                    "must start with http:// or https://",
                    "gslb.yaml:8:27: sites.madrid.checks[1].url: "
                    "\"https://192.0.2.10/healthz\" must start with http:// (use type "
                    "https for TLS)",
                    "gslb.yaml:9:28: sites.madrid.checks[2].url: "
                    "\"http://192.0.2.10/healthz\" must start with https://"));
}

TEST_F(ConfigLoaderTest, RejectsBadTcpCheckAddress) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: tcp, address: "www.example.com:443"}
      - {type: tcp, address: "192.0.2.10:0"}
      - {type: tcp, address: "192.0.2.10"}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:7:30: sites.madrid.checks[0].address: "
                    "\"www.example.com:443\" does not start with an IP address (use "
                    "192.0.2.1:53 or [2001:db8::1]:53)",
                    "gslb.yaml:8:30: sites.madrid.checks[1].address: \"192.0.2.10:0\" has "
                    "port 0, which cannot be connected to",
                    "gslb.yaml:9:30: sites.madrid.checks[2].address: \"192.0.2.10\" has no "
                    "port (use 192.0.2.1:53 or [2001:db8::1]:53)"));
}

TEST_F(ConfigLoaderTest, RejectsUnpairedOrUnreadableBasicAuth) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: haproxy, url: "http://192.0.2.10/", backend: web, user: stats}
      - {type: haproxy, url: "http://192.0.2.10/", backend: web, user: s, password_file: nope}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:7:72: sites.madrid.checks[0].user: user and password_file "
                    "must be set together",
                    "gslb.yaml:8:90: sites.madrid.checks[1].password_file: \"nope\" cannot "
                    "be opened (No such file or directory)"));
}

TEST_F(ConfigLoaderTest, RejectsReferencedFileThatIsNotARegularFile) {
    // Regression: a FIFO named as password_file blocked the loader forever in open().
    ASSERT_EQ(mkfifo((dir_ / "pass.fifo").c_str(), 0600), 0);
    fs::create_directories(dir_ / "passdir");
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: haproxy, url: "http://192.0.2.10/", backend: web, user: s, password_file: pass.fifo}
      - {type: haproxy, url: "http://192.0.2.10/", backend: web, user: s, password_file: passdir}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:7:90: sites.madrid.checks[0].password_file: \"pass.fifo\" is not "
                    "a regular file",
                    "gslb.yaml:8:90: sites.madrid.checks[1].password_file: \"passdir\" is not "
                    "a regular file"));
}

// ---------------------------------------------------------------------------------------------
// Names and references.

TEST_F(ConfigLoaderTest, RejectsRelativeAndInvalidServiceNames) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(  app:
    sites: [madrid]
  a..example.com:
    sites: [madrid]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:12:3: services.app: \"app\" is not a fully qualified name "
                              "(write it in full, e.g. app.example.com.)",
                              "gslb.yaml:14:3: services.\"a..example.com\": \"a..example.com\" is "
                              "not a valid domain name (labels of 1 to 63 characters, 255 "
                              "characters in all)"));
}

TEST_F(ConfigLoaderTest, RejectsUnknownAndRepeatedSitesInService) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid: {addresses: [192.0.2.10]}
  boston: {addresses: [192.0.2.20]}
services:
  app.example.com.: {sites: [madrid, bostn, madrid]}
  api.example.com.: {sites: []}
  web.example.com.: {policy: failover}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:7:38: services.\"app.example.com.\".sites[1]: unknown site "
                    "\"bostn\" (sites: madrid, boston)",
                    "gslb.yaml:7:45: services.\"app.example.com.\".sites[2]: site \"madrid\" is "
                    "listed twice",
                    "gslb.yaml:8:29: services.\"api.example.com.\".sites: a service needs at "
                    "least one site",
                    "gslb.yaml:9:21: services.\"web.example.com.\": missing required key "
                    "\"sites\""));
}

TEST_F(ConfigLoaderTest, RejectsServiceWithoutAnySiteDefined) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
services:
  app.example.com.: {sites: [madrid]}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:4:30: services.\"app.example.com.\".sites[0]: "
                              "unknown site \"madrid\" (no site is defined)"));
}

TEST_F(ConfigLoaderTest, RejectsDistanceServiceWithSiteWithoutLocation) {
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid: {addresses: [192.0.2.10], location: {lat: 40.42, lon: -3.70}}
  boston: {addresses: [192.0.2.20]}
services:
  app.example.com.: {sites: [madrid, boston], policy: distance}
  rr.example.com.: {sites: [madrid, boston]}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:7:38: services.\"app.example.com.\".sites[1]: "
                              "site \"boston\" has no location, which policy distance "
                              "needs"));
}

TEST_F(ConfigLoaderTest, RejectsServiceOutsideZone) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(  app.example.org.:
    sites: [madrid]
  badexample.com.:
    sites: [madrid]
  example.com.:
    sites: [madrid]
)yaml"),
              nullptr);
    // The apex itself is inside the zone; a name that merely ends in the same text is not.
    EXPECT_EQ(errors(), lines("gslb.yaml:12:3: services.\"app.example.org.\": app.example.org. is "
                              "outside the zone example.com.",
                              "gslb.yaml:14:3: services.\"badexample.com.\": badexample.com. is "
                              "outside the zone example.com."));
}

TEST_F(ConfigLoaderTest, RejectsWildcardServiceName) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(  "*.example.com.":
    sites: [madrid]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("gslb.yaml:12:3: services.\"*.example.com.\": \"*.example.com.\" is "
                              "a wildcard; a service answers for one exact name"));
}

TEST_F(ConfigLoaderTest, RejectsZoneFileThatIsADirectory) {
    // Regression: a directory opened as the zone file made the ldns reader loop forever.
    fs::create_directories(dir_ / "zonedir");
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: zonedir}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(), lines("zonedir: cannot read zone file (not a regular file)"));
}

TEST_F(ConfigLoaderTest, RejectsServiceWithStaticAddressRecords) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(  WWW.example.com:
    sites: [madrid]
  v6.example.com.:
    sites: [madrid]
  old.example.com.:
    sites: [madrid]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:12:3: services.\"WWW.example.com\": www.example.com. also "
                    "has a static A record (example.com.zone line 5); remove it or "
                    "rename the service",
                    "gslb.yaml:14:3: services.\"v6.example.com.\": v6.example.com. also "
                    "has a static AAAA record (example.com.zone line 7); remove it or "
                    "rename the service",
                    "gslb.yaml:16:3: services.\"old.example.com.\": old.example.com. also "
                    "has a static CNAME record (example.com.zone line 6); remove it or "
                    "rename the service"));
}

TEST_F(ConfigLoaderTest, RejectsServiceAtOrBelowDelegation) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(  lab.example.com.:
    sites: [madrid]
  app.lab.example.com.:
    sites: [madrid]
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:12:3: services.\"lab.example.com.\": lab.example.com. is at "
                    "or below the delegation lab.example.com. (example.com.zone line 8)",
                    "gslb.yaml:14:3: services.\"app.lab.example.com.\": "
                    "app.lab.example.com. is at or below the delegation lab.example.com. "
                    "(example.com.zone line 8)"));
}

// ---------------------------------------------------------------------------------------------
// clients.

TEST_F(ConfigLoaderTest, RejectsBadClientNetworks) {
    EXPECT_EQ(load(std::string(MinimalYaml) + R"yaml(clients:
  networks:
    - {prefix: 198.51.100.0/24, location: {lat: 40.4, lon: -3.7}}
    - {prefix: 198.51.100.7/24, location: {lat: 40.4, lon: -3.7}}
    - {prefix: 198.51.100.0, location: {lat: 40.4, lon: -3.7}}
    - {prefix: "2001:db8::/129", location: {lat: 40.4, lon: -3.7}}
    - {prefix: 198.51.100.0/24, location: {lat: 1, lon: 1}}
    - {prefix: 203.0.113.0/24}
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:15:16: clients.networks[1].prefix: \"198.51.100.7/24\" has host "
                    "bits set past /24 (use 198.51.100.0/24)",
                    "gslb.yaml:16:16: clients.networks[2].prefix: \"198.51.100.0\" has no prefix "
                    "length (use 198.51.100.0/24 or 2001:db8::/32)",
                    "gslb.yaml:17:16: clients.networks[3].prefix: \"2001:db8::/129\" has a bad "
                    "prefix length (use 0..128)",
                    "gslb.yaml:18:16: clients.networks[4].prefix: \"198.51.100.0/24\" is listed "
                    "twice (first at line 14)",
                    "gslb.yaml:19:7: clients.networks[5]: missing required key \"location\""));
}

// ---------------------------------------------------------------------------------------------
// All at once.

TEST_F(ConfigLoaderTest, ReportsEveryErrorInOneGo) {
    EXPECT_EQ(load(R"yaml(server:
  listen: ["127.0.0.1"]
  worker: 2
zone:
  origin: example.com.
  file: example.com.zone
sites:
  madrid:
    location: {lat: 40.42, lon: -3.70}
    addresses: [192.0.2.10]
    checks:
      - {type: http, url: "http://192.0.2.10/healthz", timeout: 2x}
services:
  www.example.com.:
    sites: [madrid, boston]
    policy: nearest
)yaml"),
              nullptr);
    EXPECT_EQ(errors(),
              lines("gslb.yaml:2:12: server.listen[0]: \"127.0.0.1\" has no port (use "
                    "192.0.2.1:53 or [2001:db8::1]:53)",
                    "gslb.yaml:3:3: server.worker: unknown key (allowed in server: listen, "
                    "workers, identity, tcp_idle_timeout, tcp_max_connections, "
                    "tcp_max_connections_per_client, rate_limit)",
                    "gslb.yaml:12:65: sites.madrid.checks[0].timeout: \"2x\" is not a duration "
                    "(use 500ms, 2s, 1m)",
                    "gslb.yaml:14:3: services.\"www.example.com.\": www.example.com. also has a "
                    "static A record (example.com.zone line 5); remove it or rename the service",
                    "gslb.yaml:15:21: services.\"www.example.com.\".sites[1]: unknown site "
                    "\"boston\" (sites: madrid)",
                    "gslb.yaml:16:13: services.\"www.example.com.\".policy: \"nearest\" is not a "
                    "policy (use round-robin, distance, failover)"));
}

TEST_F(ConfigLoaderTest, ReportsYamlErrorsWhenZoneFailsToLoad) {
    writeFile("broken.zone", "$ORIGIN example.com.\n@ IN A 192.0.2.1\n");
    EXPECT_EQ(load(R"yaml(server: {listen: ["127.0.0.1:0"], workers: many}
zone: {origin: example.com., file: broken.zone}
)yaml"),
              nullptr);
    const Lines found = errors();
    const std::string yaml_error =
        "gslb.yaml:1:44: server.workers: \"many\" is not a whole number (use 0..1024)";
    EXPECT_NE(std::find(found.begin(), found.end(), yaml_error), found.end());
    EXPECT_TRUE(std::any_of(found.begin(), found.end(),
                            [](const std::string& l) { return l.rfind("broken.zone:", 0) == 0; }));
}

TEST_F(ConfigLoaderTest, ReportsMissingZoneFileUnderItsWrittenName) {
    EXPECT_EQ(load("server: {listen: [\"127.0.0.1:0\"]}\n"
                   "zone: {origin: example.com., file: zones/none.zone}\n"),
              nullptr);
    const Lines found = errors();
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].rfind("zones/none.zone: ", 0), 0u) << found[0];
}

}  // namespace
}  // namespace gslb::config

namespace gslb::config {
namespace {

TEST(ConfigLoaderRateLimitTest, ReadsRateLimitAndTcpCaps) {
    char pattern[] = "/tmp/gslbd-config-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    const fs::path dir(pattern);
    std::ofstream(dir / "example.com.zone") << ZoneText;
    std::ofstream(dir / "gslb.yaml") << R"yaml(server:
  listen: ["127.0.0.1:0"]
  tcp_max_connections_per_client: 4
  rate_limit: {responses_per_second: 50, slip: 3, ipv4_prefix: 32, ipv6_prefix: 64}
zone: {origin: example.com., file: example.com.zone}
)yaml";
    Diagnostics diags;
    const auto cfg = loadConfig((dir / "gslb.yaml").string(), diags);
    fs::remove_all(dir);
    ASSERT_NE(cfg, nullptr);
    EXPECT_EQ(cfg->server.tcp_max_connections_per_client, 4u);
    EXPECT_EQ(cfg->server.rate_limit, 50u);
    EXPECT_EQ(cfg->server.rate_limit_slip, 3u);
    EXPECT_EQ(cfg->server.rate_limit_ipv4_prefix, 32u);
    EXPECT_EQ(cfg->server.rate_limit_ipv6_prefix, 64u);
}

}  // namespace
}  // namespace gslb::config

namespace gslb::config {
namespace {

TEST(ConfigLoaderUrlTest, RejectsUrlsTheProbeCouldNeverFetch) {
    // Regression: "http://192.0.2.1:99999/" passed --check-config and then failed at every
    // probe. ("http:///nohost" is left alone: curl reads it as host "nohost".)
    char pattern[] = "/tmp/gslbd-config-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    const fs::path dir(pattern);
    std::ofstream(dir / "example.com.zone") << ZoneText;
    std::ofstream(dir / "gslb.yaml") << R"yaml(server: {listen: ["127.0.0.1:0"]}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: http, url: "http://192.0.2.1:99999/"}
      - {type: http, url: "http:///nohost"}
      - {type: http, url: "http://192.0.2.1:8080/ok"}
)yaml";
    Diagnostics diags;
    EXPECT_EQ(loadConfig((dir / "gslb.yaml").string(), diags), nullptr);
    std::vector<std::string> got;
    for (const Diagnostic& d : diags.sorted()) {
        got.push_back(std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message);
    }
    fs::remove_all(dir);
    EXPECT_EQ(got, (std::vector<std::string>{
                       "7:27: sites.madrid.checks[0].url: \"http://192.0.2.1:99999/\" is not a "
                       "valid URL (a host is needed, and a port up to 65535)"}));
}

}  // namespace
}  // namespace gslb::config
