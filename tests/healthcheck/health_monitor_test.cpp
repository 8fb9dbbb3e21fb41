#include "healthcheck/health_monitor.hpp"

#include <gtest/gtest.h>

#include "tests/healthcheck/http_stub.hpp"

namespace gslb::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// Integration: the whole monitor on one io_context against real loopback listeners. Intervals
// are long (10 s) unless a test is about later rounds, so only the first round runs.
class HealthMonitorTest : public ::testing::Test {
protected:
    config::CheckConfig tcpCheck(const std::string& id, std::uint16_t port) {
        config::CheckConfig check;
        check.type = config::CheckType::Tcp;
        check.id = id;
        check.address.address = asio::ip::address_v4::loopback();
        check.address.port = port;
        check.interval = 10s;
        check.timeout = 300ms;
        return check;
    }

    config::CheckConfig httpCheck(const std::string& id, const std::string& url) {
        config::CheckConfig check = tcpCheck(id, 0);
        check.type = config::CheckType::Http;
        check.url = url;
        return check;
    }

    static config::SiteConfig site(const std::string& name,
                                   std::vector<config::CheckConfig> checks) {
        config::SiteConfig site;
        site.name = name;
        site.checks = std::move(checks);
        return site;
    }

    static std::shared_ptr<const config::Config> configOf(std::vector<config::SiteConfig> sites) {
        auto cfg = std::make_shared<config::Config>();
        cfg->sites = std::move(sites);
        return cfg;
    }

    // Starts the monitor and runs until the first round is done.
    bool startAndWait(const std::shared_ptr<const config::Config>& cfg) {
        monitor_.start(cfg, [this] { first_round_done_ = true; });
        return testing::runUntil(io_, [this] { return first_round_done_; });
    }

    const CheckStatus* status(const std::string& id) {
        statuses_ = monitor_.checks();
        for (const auto& check : statuses_) {
            if (check.id == id) {
                return &check;
            }
        }
        return nullptr;
    }

    asio::io_context io_;
    asio::ip::tcp::acceptor listening_{io_, {asio::ip::address_v4::loopback(), 0}};
    std::uint16_t open_port_ = listening_.local_endpoint().port();
    std::uint16_t closed_port_ = testing::closedPort(io_);
    testing::HttpStub stub_{io_};
    std::vector<std::vector<bool>> changes_;
    HealthMonitor monitor_{io_, [this](const std::vector<bool>& up) { changes_.push_back(up); }};
    bool first_round_done_ = false;
    std::vector<CheckStatus> statuses_;
};

TEST_F(HealthMonitorTest, FirstRoundDecidesEverySite) {
    const auto cfg = configOf({
        site("madrid", {tcpCheck("madrid/0:tcp", open_port_),
                        httpCheck("madrid/1:http", stub_.url("/healthz"))}),
        site("boston",
             {tcpCheck("boston/0:tcp", open_port_), tcpCheck("boston/1:tcp", closed_port_)}),
        site("empty", {}),
    });
    ASSERT_TRUE(startAndWait(cfg));
    // madrid: both up; boston: one check failed its first (and only) probe; empty: no checks.
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{true, false, true}));
    const CheckStatus* failed = status("boston/1:tcp");
    ASSERT_NE(failed, nullptr);
    EXPECT_FALSE(failed->up);
    EXPECT_EQ(failed->site, 1U);
    EXPECT_EQ(failed->runs, 1U);
    EXPECT_EQ(failed->failures, 1U);
    EXPECT_EQ(status("madrid/1:http")->reason, "status 200");
    // Every site starts up, so boston's failure is reported as a change.
    testing::runUntil(
        io_, [this] { return !changes_.empty(); }, 200ms);
    ASSERT_FALSE(changes_.empty());
    EXPECT_EQ(changes_.back(), (std::vector<bool>{true, false, true}));
}

TEST_F(HealthMonitorTest, NoChecksFinishesTheFirstRoundAtOnce) {
    ASSERT_TRUE(startAndWait(configOf({site("empty", {})})));
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{true}));
}

TEST_F(HealthMonitorTest, SilentServerBoundsTheFirstRoundByItsTimeout) {
    testing::HttpStub silent(io_);
    silent.silent();
    const auto cfg = configOf({
        site("slow", {httpCheck("slow/0:http", silent.url("/"))}),
        site("fast", {tcpCheck("fast/0:tcp", open_port_)}),
    });
    const auto start = std::chrono::steady_clock::now();
    monitor_.start(cfg, [this] { first_round_done_ = true; });
    // The fast check has its result long before the slow one times out.
    ASSERT_TRUE(testing::runUntil(io_, [this] { return status("fast/0:tcp")->runs == 1; }));
    EXPECT_EQ(status("slow/0:http")->runs, 0U);
    EXPECT_FALSE(first_round_done_);
    ASSERT_TRUE(testing::runUntil(io_, [this] { return first_round_done_; }));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, 290ms);
    EXPECT_LT(elapsed, 1s);
    EXPECT_EQ(status("slow/0:http")->reason, "timeout after 300ms");
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{false, true}));
}

TEST_F(HealthMonitorTest, LaterRoundsApplyRiseAndFall) {
    // interval 50 ms, fall 2, rise 2: the stub flips from 200 to 503 and back.
    auto check = httpCheck("flip/0:http", stub_.url("/"));
    check.interval = 50ms;
    check.rise = 2;
    check.fall = 2;
    ASSERT_TRUE(startAndWait(configOf({site("flip", {check})})));
    EXPECT_TRUE(status("flip/0:http")->up);

    // Failing: the first failure is not enough (fall 2), the second takes the site down.
    stub_.respond(503, "");
    const std::uint64_t runs = status("flip/0:http")->runs;
    ASSERT_TRUE(testing::runUntil(io_, [&] { return status("flip/0:http")->runs == runs + 1; }));
    EXPECT_TRUE(status("flip/0:http")->up);
    ASSERT_TRUE(testing::runUntil(io_, [&] { return !status("flip/0:http")->up; }));
    EXPECT_EQ(status("flip/0:http")->runs, runs + 2);
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{false}));

    // Passing again: up after two successes.
    stub_.respond(200, "ok");
    ASSERT_TRUE(testing::runUntil(io_, [&] { return status("flip/0:http")->up; }));
    EXPECT_EQ(status("flip/0:http")->runs, runs + 4);
    testing::runUntil(
        io_, [this] { return changes_.size() >= 2; }, 200ms);
    ASSERT_GE(changes_.size(), 2U);
    EXPECT_EQ(changes_[changes_.size() - 2], (std::vector<bool>{false}));
    EXPECT_EQ(changes_.back(), (std::vector<bool>{true}));
}

TEST_F(HealthMonitorTest, ReconfigureKeepsUnchangedChecksAndProbesNewOnes) {
    const auto kept = tcpCheck("a/0:tcp", closed_port_);
    ASSERT_TRUE(startAndWait(configOf({site("a", {kept})})));
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{false}));
    const auto change_time = status("a/0:tcp")->last_change;

    // Same check (state kept: still down, one run) plus a new site whose check probes at once.
    monitor_.reconfigure(
        configOf({site("b", {tcpCheck("b/0:tcp", open_port_)}), site("a", {kept})}));
    // Until its first result the new check counts as up.
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{true, false}));
    EXPECT_EQ(status("a/0:tcp")->runs, 1U);
    EXPECT_EQ(status("a/0:tcp")->site, 1U);
    EXPECT_EQ(status("a/0:tcp")->last_change, change_time);
    ASSERT_TRUE(testing::runUntil(io_, [this] { return status("b/0:tcp")->runs == 1; }));
    EXPECT_TRUE(status("b/0:tcp")->up);
    // The site vector changed shape, so the server was told.
    testing::runUntil(
        io_, [this] { return !changes_.empty(); }, 200ms);
    EXPECT_EQ(changes_.back(), (std::vector<bool>{true, false}));
}

TEST_F(HealthMonitorTest, ReconfigureWithChangedSettingsStartsOver) {
    auto check = tcpCheck("a/0:tcp", closed_port_);
    ASSERT_TRUE(startAndWait(configOf({site("a", {check})})));
    check.address.port = open_port_;
    monitor_.reconfigure(configOf({site("a", {check})}));
    EXPECT_EQ(status("a/0:tcp")->runs, 0U);
    ASSERT_TRUE(testing::runUntil(io_, [this] { return status("a/0:tcp")->runs == 1; }));
    EXPECT_TRUE(status("a/0:tcp")->up);
}

TEST_F(HealthMonitorTest, RemovedCheckInFlightIsCancelledSafely) {
    testing::HttpStub silent(io_);
    silent.silent();
    monitor_.start(configOf({site("s", {httpCheck("s/0:http", silent.url("/"))})}),
                   [this] { first_round_done_ = true; });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return silent.requests() == 1; }));
    // The only check disappears while its request hangs: the first round is then complete.
    monitor_.reconfigure(configOf({site("s", {})}));
    EXPECT_TRUE(monitor_.checks().empty());
    ASSERT_TRUE(testing::runUntil(
        io_, [this] { return first_round_done_; }, 500ms));
    io_.run_for(400ms);  // past the removed check's timeout: nothing may fire
    EXPECT_EQ(monitor_.siteUp(), (std::vector<bool>{true}));
}

TEST_F(HealthMonitorTest, StopSilencesEveryCallback) {
    testing::HttpStub silent(io_);
    silent.silent();
    monitor_.start(configOf({site("s", {httpCheck("s/0:http", silent.url("/"))})}),
                   [this] { first_round_done_ = true; });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return silent.requests() == 1; }));
    monitor_.stop();
    io_.run_for(400ms);
    EXPECT_FALSE(first_round_done_);
    EXPECT_TRUE(changes_.empty());
}

}  // namespace
}  // namespace gslb::health
