#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "test_zone.hpp"

namespace gslb::server {
namespace {

constexpr const char* Zone = R"(
$ORIGIN example.com.
$TTL 3600
@   IN SOA ns1 hostmaster 7 3600 900 1209600 300
    IN NS  ns1
ns1 IN A   192.0.2.53
)";

std::string yaml(const std::string& services) {
    return R"(
server:
  listen: ["127.0.0.1:5300"]
zone:
  origin: example.com.
  file: example.com.zone
sites:
  madrid:
    addresses: [192.0.2.10]
    checks:
      - {type: tcp, address: "192.0.2.10:443"}
  boston:
    addresses: [192.0.2.20]
)" + services;
}

const std::string TwoServices = R"(
services:
  app.example.com.:
    sites: [madrid]
  www.example.com.:
    sites: [madrid]
)";

class MetricsTest : public ::testing::Test {
protected:
    void SetUp() override {
        cfg_ = testing::loadInline(yaml(TwoServices), Zone);
        ASSERT_TRUE(cfg_);
    }

    Metrics::Input input() const {
        Metrics::Input in;
        in.cfg = cfg_.get();
        in.dns = dns_;
        in.sites = {{"madrid", true, false}, {"bos\"ton", false, true}};
        in.generation = 3;
        in.uptime_seconds = 12.5;
        in.version = "0.1.0";
        return in;
    }

    /// The lines of the rendered page that start with `prefix`.
    std::vector<std::string> lines(const std::string& prefix) const {
        std::istringstream page(metrics_.render(input()));
        std::vector<std::string> out;
        for (std::string line; std::getline(page, line);) {
            if (line.rfind(prefix, 0) == 0) {
                out.push_back(line);
            }
        }
        return out;
    }

    std::shared_ptr<const config::Config> cfg_;
    ServerStats dns_;
    Metrics metrics_;
};

TEST(EscapeLabelTest, EscapesBackslashQuoteAndNewline) {
    EXPECT_EQ(escapeLabel("madrid"), "madrid");
    EXPECT_EQ(escapeLabel("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escapeLabel("tab\tstays"), "tab\tstays");
}

TEST_F(MetricsTest, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
    metrics_.observeProbe("madrid", "madrid/0:tcp", true, std::chrono::microseconds(700));
    std::istringstream page(metrics_.render(input()));
    std::string family;
    std::set<std::string> typed;
    for (std::string line; std::getline(page, line);) {
        ASSERT_FALSE(line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            family = line.substr(7, line.find(' ', 7) - 7);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            EXPECT_EQ(line.substr(7, family.size()), family) << line;
            typed.insert(family);
            continue;
        }
        // Samples belong to the family just announced (histograms add _bucket/_sum/_count).
        EXPECT_EQ(line.rfind(family, 0), 0u) << line << " after " << family;
    }
    for (const char* name :
         {"gslbd_dns_answers_total", "gslbd_dns_dropped_total", "gslbd_dns_truncated_total",
          "gslbd_dns_service_answers_total", "gslbd_check_runs_total",
          "gslbd_check_latency_seconds", "gslbd_site_up", "gslbd_site_drained",
          "gslbd_config_reloads_total", "gslbd_config_generation", "gslbd_uptime_seconds"}) {
        EXPECT_TRUE(typed.contains(name)) << name;
    }
}

TEST_F(MetricsTest, DnsCountersByProtoAndRcode) {
    dns_.answers[0][0] = 10;
    dns_.answers[1][3] = 2;
    dns_.answers[0][9] = 1;  // NOTAUTH: shown once non-zero
    dns_.dropped[1] = 4;
    dns_.truncated[0] = 5;
    const auto answers = lines("gslbd_dns_answers_total{");
    EXPECT_NE(std::find(answers.begin(), answers.end(),
                        R"(gslbd_dns_answers_total{proto="udp",rcode="NOERROR"} 10)"),
              answers.end());
    EXPECT_NE(std::find(answers.begin(), answers.end(),
                        R"(gslbd_dns_answers_total{proto="tcp",rcode="NXDOMAIN"} 2)"),
              answers.end());
    EXPECT_NE(std::find(answers.begin(), answers.end(),
                        R"(gslbd_dns_answers_total{proto="udp",rcode="NOTAUTH"} 1)"),
              answers.end());
    EXPECT_EQ(lines("gslbd_dns_dropped_total{"),
              (std::vector<std::string>{R"(gslbd_dns_dropped_total{proto="udp"} 0)",
                                        R"(gslbd_dns_dropped_total{proto="tcp"} 4)"}));
    EXPECT_EQ(lines("gslbd_dns_truncated_total{proto=\"udp\"}"),
              std::vector<std::string>{R"(gslbd_dns_truncated_total{proto="udp"} 5)"});
}

TEST_F(MetricsTest, LatencyHistogramIsCumulative) {
    using std::chrono::microseconds;
    metrics_.observeProbe("madrid", "madrid/0:tcp", true, microseconds(300));         // <= 0.5 ms
    metrics_.observeProbe("madrid", "madrid/0:tcp", true, microseconds(20'000));      // <= 25 ms
    metrics_.observeProbe("madrid", "madrid/0:tcp", false, microseconds(9'000'000));  // +Inf
    const std::string base = R"(site="madrid",check="madrid/0:tcp")";
    const auto buckets = lines("gslbd_check_latency_seconds_bucket{");
    ASSERT_EQ(buckets.size(), Metrics::LatencyBuckets.size() + 1);
    EXPECT_EQ(buckets.front(), "gslbd_check_latency_seconds_bucket{" + base + R"(,le="0.0005"} 1)");
    EXPECT_EQ(buckets[4], "gslbd_check_latency_seconds_bucket{" + base + R"(,le="0.01"} 1)");
    EXPECT_EQ(buckets[5], "gslbd_check_latency_seconds_bucket{" + base + R"(,le="0.025"} 2)");
    EXPECT_EQ(buckets[11], "gslbd_check_latency_seconds_bucket{" + base + R"(,le="2.5"} 2)");
    EXPECT_EQ(buckets.back(), "gslbd_check_latency_seconds_bucket{" + base + R"(,le="+Inf"} 3)");
    EXPECT_EQ(lines("gslbd_check_latency_seconds_count"),
              std::vector<std::string>{"gslbd_check_latency_seconds_count{" + base + "} 3"});
    EXPECT_EQ(lines("gslbd_check_latency_seconds_sum"),
              std::vector<std::string>{"gslbd_check_latency_seconds_sum{" + base + "} 9.0203"});
    EXPECT_EQ(
        lines("gslbd_check_runs_total{"),
        (std::vector<std::string>{"gslbd_check_runs_total{" + base + R"(,result="ok"} 2)",
                                  "gslbd_check_runs_total{" + base + R"(,result="fail"} 1)"}));
}

TEST_F(MetricsTest, SitesAreEscapedAndReportUpAndDrained) {
    EXPECT_EQ(lines("gslbd_site_up{"),
              (std::vector<std::string>{R"(gslbd_site_up{site="madrid"} 1)",
                                        R"(gslbd_site_up{site="bos\"ton"} 0)"}));
    EXPECT_EQ(lines("gslbd_site_drained{"),
              (std::vector<std::string>{R"(gslbd_site_drained{site="madrid"} 0)",
                                        R"(gslbd_site_drained{site="bos\"ton"} 1)"}));
    EXPECT_EQ(lines("gslbd_config_generation "),
              std::vector<std::string>{"gslbd_config_generation 3"});
    EXPECT_EQ(lines("gslbd_uptime_seconds "),
              std::vector<std::string>{"gslbd_uptime_seconds 12.5"});
}

TEST_F(MetricsTest, ReloadCountsAndRemovedChecksAreForgotten) {
    metrics_.observeProbe("gone", "gone/0:tcp", true, std::chrono::microseconds(1));
    metrics_.countReload(true);
    metrics_.countReload(false);
    metrics_.countReload(false);
    metrics_.retainChecks(*cfg_);
    EXPECT_TRUE(lines("gslbd_check_runs_total{").empty());
    EXPECT_EQ(lines("gslbd_config_reloads_total{"),
              (std::vector<std::string>{R"(gslbd_config_reloads_total{result="ok"} 1)",
                                        R"(gslbd_config_reloads_total{result="error"} 2)"}));
}

TEST_F(MetricsTest, ServiceAnswersFollowTheNameAcrossRenumbering) {
    // app is index 0 and www index 1; workers counted 5 and 7.
    dns_.service_answers[0] = 5;
    dns_.service_answers[1] = 7;
    EXPECT_EQ(lines("gslbd_dns_service_answers_total{"),
              (std::vector<std::string>{
                  R"(gslbd_dns_service_answers_total{service="app.example.com."} 5)",
                  R"(gslbd_dns_service_answers_total{service="www.example.com."} 7)"}));

    // A reload drops app: www becomes index 0 and keeps its 7, then counts 1 more there.
    metrics_.rebaseServices(*cfg_, dns_);
    cfg_ = testing::loadInline(yaml(R"(
services:
  www.example.com.:
    sites: [madrid]
)"),
                               Zone);
    dns_.service_answers[0] = 6;
    EXPECT_EQ(lines("gslbd_dns_service_answers_total{"),
              std::vector<std::string>{
                  R"(gslbd_dns_service_answers_total{service="www.example.com."} 8)"});
}

}  // namespace
}  // namespace gslb::server
