#include "healthcheck/probe.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "healthcheck/curl_multi.hpp"
#include "healthcheck/haproxy_csv.hpp"
#include "tests/healthcheck/http_stub.hpp"

namespace gslb::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

TEST(ProbeTest, DurationsAreWrittenAsInTheConfig) {
    EXPECT_EQ(formatDuration(1000ms), "1s");
    EXPECT_EQ(formatDuration(1500ms), "1500ms");
    EXPECT_EQ(formatDuration(0ms), "0ms");
}

// Probes against endpoints that fail in the ways real ones do: a server that accepts and never
// answers, a huge body, a body sent one byte at a time, a reset in the middle of the body, a
// stats page of a million rows. Each must end as a failure with a reason that says what went
// wrong, within its timeout, without holding more of the body than the check's cap, and
// without delaying a healthy check started at the same instant on the same CurlMulti.
//
// The endpoints run on their own thread, so the control loop under test (io_) does nothing but
// probe, as in gslbd. Time bounds derive from the configured timeouts, with generous slack.
class ProbeFaultTest : public ::testing::Test {
protected:
    static constexpr auto FaultyTimeout = 2000ms;
    static constexpr auto FastTimeout = 1000ms;

    ~ProbeFaultTest() override { stopEndpoints(); }

    // Call once the endpoints are configured: from then on only their own thread touches them.
    void startEndpoints() {
        endpoint_thread_ = std::thread([this] { endpoint_io_.run(); });
    }
    void stopEndpoints() {
        endpoint_io_.stop();
        if (endpoint_thread_.joinable()) {
            endpoint_thread_.join();
        }
    }

    config::CheckConfig httpCheck(const std::string& url, std::chrono::milliseconds timeout) {
        config::CheckConfig check;
        check.type = config::CheckType::Http;
        check.id = "site/0:http";
        check.url = url;
        check.timeout = timeout;
        return check;
    }

    config::CheckConfig haproxyCheck(const std::string& url) {
        config::CheckConfig check;
        check.type = config::CheckType::Haproxy;
        check.id = "site/0:haproxy";
        check.url = url;
        check.backend = "web";
        check.timeout = FaultyTimeout;
        return check;
    }

    struct Finished {
        ProbeResult result;
        Clock::duration after{};
    };

    // Starts `faulty` against the faulty endpoint and a plain http check against the healthy
    // one at the same instant, and runs the control loop until both report.
    void runBoth(const config::CheckConfig& faulty) {
        startEndpoints();
        const auto faulty_probe = Probe::create(faulty, io_, curl_);
        const auto fast_probe = Probe::create(httpCheck(good_.url("/"), FastTimeout), io_, curl_);
        const Clock::time_point start = Clock::now();
        faulty_probe->run([&](ProbeResult r) { faulty_ = Finished{r, Clock::now() - start}; });
        fast_probe->run([&](ProbeResult r) { fast_ = Finished{r, Clock::now() - start}; });
        const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(faulty.timeout +
                                                                                 FastTimeout + 5s);
        ASSERT_TRUE(testing::runUntil(
            io_, [&] { return faulty_ && fast_; }, limit));
        stopEndpoints();
    }

    // The healthy check passed, and within its own timeout: had the faulty probe held up the
    // control loop, it would have failed with "timeout after 1s" instead.
    void expectFastCheckOnTime() {
        ASSERT_TRUE(fast_);
        EXPECT_TRUE(fast_->result.ok) << fast_->result.reason;
        EXPECT_LT(fast_->after, FastTimeout);
    }

    // The faulty probe failed for `reason`, and no later than twice its timeout.
    void expectFailure(const std::string& reason, std::chrono::milliseconds timeout) {
        ASSERT_TRUE(faulty_);
        EXPECT_FALSE(faulty_->result.ok);
        EXPECT_EQ(faulty_->result.reason, reason);
        EXPECT_LT(faulty_->after, 2 * timeout);
    }

    asio::io_context endpoint_io_;
    testing::HttpStub bad_{endpoint_io_};
    testing::HttpStub good_{endpoint_io_};
    std::thread endpoint_thread_;

    asio::io_context io_;
    CurlMulti curl_{io_};
    std::optional<Finished> faulty_;
    std::optional<Finished> fast_;
};

constexpr std::size_t TenMegabytes = 10 * 1024 * 1024;

TEST_F(ProbeFaultTest, AcceptedButNeverAnsweredTimesOut) {
    bad_.silent();
    runBoth(httpCheck(bad_.url("/healthz"), FaultyTimeout));
    expectFailure("timeout after 2s", FaultyTimeout);
    EXPECT_GE(faulty_->after, FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, TenMegabyteStatsPageIsRefusedAtTheCap) {
    bad_.respond(200, std::string(TenMegabytes, 'x'));
    runBoth(haproxyCheck(bad_.url("/stats;csv")));
    expectFailure("stats body too large", FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, TenMegabyteBodyWithExpectBodyIsRefusedAtTheCap) {
    bad_.respond(200, std::string(TenMegabytes, 'x'));
    auto check = httpCheck(bad_.url("/healthz"), FaultyTimeout);
    check.expect_body = "ok";
    runBoth(check);
    expectFailure("body too large", FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, TenMegabyteBodyOfAStatusOnlyCheckIsDroppedAsItArrives) {
    // Without expect_body the body is read and dropped, never kept: the check is judged by its
    // status, within its timeout, whatever the body's size.
    bad_.respond(200, std::string(TenMegabytes, 'x'));
    runBoth(httpCheck(bad_.url("/healthz"), FaultyTimeout));
    ASSERT_TRUE(faulty_);
    EXPECT_TRUE(faulty_->result.ok) << faulty_->result.reason;
    EXPECT_EQ(faulty_->result.reason, "status 200");
    EXPECT_LT(faulty_->after, FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, BodyOneBytePerTenthOfASecondTimesOut) {
    // The status line alone needs about 2 s at this pace; the whole response far longer.
    bad_.trickle(200, "ok\n", 100ms);
    runBoth(httpCheck(bad_.url("/healthz"), FaultyTimeout));
    expectFailure("timeout after 2s", FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, ResetInTheMiddleOfTheBodyFails) {
    bad_.resetMidBody(200, std::string(256 * 1024, 'x'));
    auto check = httpCheck(bad_.url("/healthz"), FaultyTimeout);
    check.expect_body = "ok";
    runBoth(check);
    ASSERT_TRUE(faulty_);
    EXPECT_FALSE(faulty_->result.ok);
    // Curl reports the reset, or the bytes that never came when the reset arrives late.
    const std::string& reason = faulty_->result.reason;
    EXPECT_TRUE(reason.find("reset") != std::string::npos ||
                reason.find("bytes remaining") != std::string::npos)
        << reason;
    EXPECT_LT(faulty_->after, 2 * FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, MillionRowStatsPageIsRefusedAtTheCap) {
    std::string csv = "# pxname,svname,status\n";
    for (int i = 0; i < 1'000'000; ++i) {
        csv += "web,server" + std::to_string(i) + ",UP\n";
    }
    ASSERT_GT(csv.size(), HaproxyCsv::MaxBodySize);
    bad_.respond(200, std::move(csv));
    runBoth(haproxyCheck(bad_.url("/stats;csv")));
    expectFailure("stats body too large", FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, MillionRowStatsPageUnderTheCapIsReadWithinTheTimeout) {
    // A million rows of three empty fields fit under the cap, so this one is parsed in full,
    // on the control thread; it must still end well within the check's timeout.
    std::string csv = "# pxname,svname,status\n";
    for (int i = 0; i < 1'000'000; ++i) {
        csv += ",,\n";
    }
    csv += "web,server1,UP\n";
    ASSERT_LT(csv.size(), HaproxyCsv::MaxBodySize);
    bad_.respond(200, std::move(csv));
    runBoth(haproxyCheck(bad_.url("/stats;csv")));
    ASSERT_TRUE(faulty_);
    EXPECT_TRUE(faulty_->result.ok) << faulty_->result.reason;
    EXPECT_EQ(faulty_->result.reason, "backend web has 1/1 servers up");
    EXPECT_LT(faulty_->after, FaultyTimeout);
    expectFastCheckOnTime();
}

TEST_F(ProbeFaultTest, KeptBodyNeverGrowsPastItsCap) {
    bad_.respond(200, std::string(TenMegabytes, 'x'));
    startEndpoints();
    HttpRequest request;
    request.url = bad_.url("/");
    request.timeout = FaultyTimeout;
    request.keep_body = true;
    request.max_body = 64 * 1024;
    std::optional<HttpResponse> response;
    curl_.fetch(request, [&](HttpResponse r) { response = std::move(r); });
    ASSERT_TRUE(testing::runUntil(
        io_, [&] { return response.has_value(); }, 2 * FaultyTimeout));
    EXPECT_FALSE(response->complete);
    EXPECT_TRUE(response->body_too_large);
    EXPECT_EQ(response->error, "body too large");
    EXPECT_LE(response->body.size(), request.max_body);
    EXPECT_EQ(curl_.inFlight(), 0U);
}

}  // namespace
}  // namespace gslb::health
