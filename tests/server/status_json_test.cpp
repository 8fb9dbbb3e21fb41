#include "server/status_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/answer_table.hpp"
#include "test_zone.hpp"

namespace gslb::server {
namespace {

using nlohmann::json;

constexpr const char* Zone = R"(
$ORIGIN example.com.
$TTL 3600
@   IN SOA ns1 hostmaster 2026120401 3600 900 1209600 300
    IN NS  ns1
ns1 IN A   192.0.2.53
)";

constexpr const char* Yaml = R"(
server:
  listen: ["127.0.0.1:5300"]
  identity: "gslb \"one\""
zone:
  origin: example.com.
  file: example.com.zone
sites:
  madrid:
    location: {lat: 40.42, lon: -3.70}
    addresses: [192.0.2.10, "2001:db8:a::10"]
    checks:
      - {type: http, url: "http://192.0.2.10/healthz"}
      - {type: tcp, address: "192.0.2.10:443"}
  boston:
    addresses: [192.0.2.20]
    checks:
      - {type: http, url: "http://admin:s3cret@192.0.2.20:8404/stats@x"}
  tokyo:
    addresses: [192.0.2.30]
services:
  app.example.com.:
    sites: [madrid, boston, tokyo]
    ttl: 20
  primary.example.com.:
    sites: [boston, madrid]
    policy: failover
    when_all_down: servfail
  strict.example.com.:
    sites: [madrid]
    when_all_down: servfail
)";

class StatusJsonTest : public ::testing::Test {
protected:
    void SetUp() override {
        cfg_ = testing::loadInline(Yaml, Zone);
        ASSERT_TRUE(cfg_);
        table_ = std::make_shared<const AnswerTable>(*cfg_);
    }

    /// Renders with madrid's checks down, boston drained and tokyo up, and parses it back.
    json render(std::vector<health::CheckStatus> checks) {
        StatusInput in;
        in.checks_up = {false, true, true};
        in.drained = {false, true, false};
        in.snapshot = makeSnapshot(cfg_, table_, nullptr, {false, false, true});
        in.checks = std::move(checks);
        in.generation = 4;
        in.uptime_seconds = 61.5;
        in.version = "9.9.9";
        in.write_api = true;
        in.now =
            std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'864'000'250));
        const std::string text = renderStatus(in);
        const json doc = json::parse(text, nullptr, false);
        EXPECT_FALSE(doc.is_discarded()) << text;
        return doc;
    }

    std::shared_ptr<const config::Config> cfg_;
    std::shared_ptr<const AnswerTable> table_;
};

health::CheckStatus failedHttp() {
    health::CheckStatus s;
    s.id = "madrid/0:http";
    s.site = 0;
    s.up = false;
    s.last_ok = false;
    // Quotes, a backslash, control characters and a byte that is not UTF-8, as a server
    // might send them back in a status line.
    s.reason = std::string("status 503 \"busy\\\" \x01\n\xff end");
    s.latency = std::chrono::microseconds(1500);
    s.last_change = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'864'000));
    s.runs = 10;
    s.failures = 4;
    return s;
}

TEST(Rfc3339Test, WritesUtcWithMilliseconds) {
    const auto t =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'864'000'007));
    EXPECT_EQ(rfc3339(t), "2025-12-04T16:00:00.007Z");
}

TEST(SiteStateTest, DrainedWinsOverTheChecks) {
    EXPECT_STREQ(siteState(true, false), "up");
    EXPECT_STREQ(siteState(false, false), "down");
    EXPECT_STREQ(siteState(true, true), "drained");
    EXPECT_STREQ(siteState(false, true), "drained");
}

TEST_F(StatusJsonTest, ServerSectionNamesIdentityGenerationAndZone) {
    const json doc = render({});
    const json& server = doc["server"];
    EXPECT_EQ(server["identity"], "gslb \"one\"");
    EXPECT_EQ(server["version"], "9.9.9");
    EXPECT_EQ(server["config_generation"], 4);
    EXPECT_EQ(server["uptime_seconds"], 61.5);
    EXPECT_EQ(server["zone"]["origin"], "example.com.");
    EXPECT_EQ(server["zone"]["serial"], 2026120401u);
    EXPECT_EQ(server["now"], "2025-12-04T16:00:00.250Z");
    EXPECT_EQ(server["write_api"], true);
}

TEST_F(StatusJsonTest, EscapesReasonsAndReplacesInvalidUtf8) {
    const json doc = render({failedHttp()});
    const json& check = doc["sites"][0]["checks"][0];
    EXPECT_EQ(check["id"], "madrid/0:http");
    EXPECT_EQ(check["type"], "http");
    EXPECT_EQ(check["target"], "http://192.0.2.10/healthz");
    // Regression: a password in a check URL was shown to anyone who could read the status.
    EXPECT_EQ(doc["sites"][1]["checks"][0]["target"], "http://admin:****@192.0.2.20:8404/stats@x");
    EXPECT_EQ(check["state"], "down");
    EXPECT_EQ(check["up"], false);
    EXPECT_EQ(check["last_ok"], false);
    EXPECT_EQ(check["reason"], "status 503 \"busy\\\" \x01\n\xEF\xBF\xBD end");
    EXPECT_EQ(check["latency_ms"], 1.5);
    EXPECT_EQ(check["last_change"], "2025-12-04T16:00:00.000Z");
    EXPECT_EQ(check["runs"], 10);
    EXPECT_EQ(check["failures"], 4);

    // The second check has no result yet.
    const json& pending = doc["sites"][0]["checks"][1];
    EXPECT_EQ(pending["state"], "pending");
    EXPECT_EQ(pending["target"], "192.0.2.10:443");
    EXPECT_TRUE(pending["last_ok"].is_null());
    EXPECT_TRUE(pending["last_change"].is_null());
    EXPECT_EQ(pending["runs"], 0);
}

TEST_F(StatusJsonTest, SitesCarryStateDrainAndAddresses) {
    const json sites = render({})["sites"];
    ASSERT_EQ(sites.size(), 3u);
    EXPECT_EQ(sites[0]["name"], "madrid");
    EXPECT_EQ(sites[0]["state"], "down");
    EXPECT_EQ(sites[0]["addresses"], json({"192.0.2.10", "2001:db8:a::10"}));
    EXPECT_EQ(sites[0]["location"]["lat"], 40.42);
    EXPECT_EQ(sites[1]["state"], "drained");
    EXPECT_EQ(sites[1]["drained"], true);
    EXPECT_EQ(sites[1]["checks_up"], true);
    EXPECT_EQ(sites[1]["in_answers"], false);
    EXPECT_TRUE(sites[1]["location"].is_null());
    EXPECT_EQ(sites[2]["state"], "up");
    EXPECT_EQ(sites[2]["in_answers"], true);
}

TEST_F(StatusJsonTest, ServicesShowTheirCurrentAnswers) {
    const json services = render({})["services"];
    ASSERT_EQ(services.size(), 3u);
    EXPECT_EQ(services[0]["name"], "app.example.com.");
    EXPECT_EQ(services[0]["policy"], "round-robin");
    EXPECT_EQ(services[0]["ttl"], 20);
    EXPECT_EQ(services[0]["answers"]["A"], json({"192.0.2.30"}));
    EXPECT_EQ(services[0]["answers"]["AAAA"], json::array());
    EXPECT_EQ(services[0]["all_down"], false);

    // boston (drained) and madrid (down): every site is out, and servfail answers nothing.
    EXPECT_EQ(services[1]["policy"], "failover");
    EXPECT_EQ(services[1]["all_down"], true);
    EXPECT_EQ(services[1]["servfail"], true);
    EXPECT_EQ(services[1]["answers"]["A"], json::array());
    EXPECT_EQ(services[1]["when_all_down"], "servfail");
}

}  // namespace
}  // namespace gslb::server
