#include "healthcheck/http_check.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "tests/healthcheck/http_stub.hpp"

namespace gslb::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

HttpResponse completed(long status, std::string body) {
    HttpResponse response;
    response.complete = true;
    response.status = status;
    response.body = std::move(body);
    return response;
}

TEST(HttpCheckTest, ExpectedStatusPasses) {
    const auto result = HttpCheck::evaluate(completed(200, ""), 200, "");
    EXPECT_TRUE(result.ok);
    EXPECT_EQ(result.reason, "status 200");
}

TEST(HttpCheckTest, OtherStatusFails) {
    const auto result = HttpCheck::evaluate(completed(503, ""), 200, "");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "status 503, expected 200");
    // A redirect is an answer like any other; it is never followed.
    EXPECT_EQ(HttpCheck::evaluate(completed(302, ""), 200, "").reason, "status 302, expected 200");
}

TEST(HttpCheckTest, NonDefaultExpectedStatus) {
    EXPECT_TRUE(HttpCheck::evaluate(completed(204, ""), 204, "").ok);
}

TEST(HttpCheckTest, BodyMustContainExpectBody) {
    EXPECT_TRUE(HttpCheck::evaluate(completed(200, "status: ok\n"), 200, "ok").ok);
    const auto result = HttpCheck::evaluate(completed(200, "degraded"), 200, "ok");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "status 200, body lacks \"ok\"");
}

TEST(HttpCheckTest, TransportErrorFailsWithItsReason) {
    HttpResponse response;
    response.error = "timeout after 1s";
    const auto result = HttpCheck::evaluate(response, 200, "");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "timeout after 1s");
}

// Integration: HttpCheck through CurlMulti against the in-test responder on 127.0.0.1.
class HttpCheckLiveTest : public ::testing::Test {
protected:
    config::CheckConfig httpCheck(const std::string& url,
                                  std::chrono::milliseconds timeout = 1000ms) {
        config::CheckConfig check;
        check.type = config::CheckType::Http;
        check.id = "local/0:http";
        check.url = url;
        check.timeout = timeout;
        return check;
    }

    asio::io_context io_;
    testing::HttpStub stub_{io_};
    CurlMulti curl_{io_};
};

TEST_F(HttpCheckLiveTest, Status200Passes) {
    HttpCheck check(httpCheck(stub_.url("/healthz")), curl_);
    std::optional<ProbeResult> result;
    check.run([&](ProbeResult r) { result = std::move(r); });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return result.has_value(); }));
    EXPECT_TRUE(result->ok) << result->reason;
    EXPECT_EQ(result->reason, "status 200");
    EXPECT_GT(result->latency.count(), 0);
    EXPECT_NE(stub_.lastRequest().find("GET /healthz HTTP/1.1"), std::string::npos);
}

TEST_F(HttpCheckLiveTest, Status503Fails) {
    stub_.respond(503, "maintenance");
    HttpCheck check(httpCheck(stub_.url("/")), curl_);
    std::optional<ProbeResult> result;
    check.run([&](ProbeResult r) { result = std::move(r); });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return result.has_value(); }));
    EXPECT_FALSE(result->ok);
    EXPECT_EQ(result->reason, "status 503, expected 200");
}

TEST_F(HttpCheckLiveTest, BodySubstringIsSearched) {
    stub_.respond(200, "{\"state\":\"serving\"}");
    auto settings = httpCheck(stub_.url("/"));
    settings.expect_body = "serving";
    HttpCheck good(settings, curl_);
    settings.expect_body = "idle";
    HttpCheck bad(settings, curl_);
    std::optional<ProbeResult> good_result;
    std::optional<ProbeResult> bad_result;
    good.run([&](ProbeResult r) { good_result = std::move(r); });
    bad.run([&](ProbeResult r) { bad_result = std::move(r); });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return good_result && bad_result; }));
    EXPECT_TRUE(good_result->ok) << good_result->reason;
    EXPECT_EQ(bad_result->reason, "status 200, body lacks \"idle\"");
}

TEST_F(HttpCheckLiveTest, RedirectIsNotFollowed) {
    stub_.respond(302, "", "Location: http://127.0.0.1:1/elsewhere\r\n");
    HttpCheck check(httpCheck(stub_.url("/")), curl_);
    std::optional<ProbeResult> result;
    check.run([&](ProbeResult r) { result = std::move(r); });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return result.has_value(); }));
    EXPECT_EQ(result->reason, "status 302, expected 200");
    EXPECT_EQ(stub_.requests(), 1U);
}

TEST_F(HttpCheckLiveTest, SilentServerTimesOutWhileAnotherCheckCompletesOnTime) {
    // Two responders on one io_context: one never answers. The silent one must fail at its
    // 300 ms timeout, and the answering one must not wait for it.
    testing::HttpStub silent(io_);
    silent.silent();
    HttpCheck slow(httpCheck(silent.url("/"), 300ms), curl_);
    HttpCheck fast(httpCheck(stub_.url("/"), 300ms), curl_);
    const auto start = std::chrono::steady_clock::now();
    std::optional<ProbeResult> slow_result;
    std::optional<ProbeResult> fast_result;
    std::chrono::steady_clock::duration fast_at{};
    slow.run([&](ProbeResult r) { slow_result = std::move(r); });
    fast.run([&](ProbeResult r) {
        fast_result = std::move(r);
        fast_at = std::chrono::steady_clock::now() - start;
    });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return slow_result && fast_result; }));
    const auto slow_at = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(fast_result->ok);
    EXPECT_LT(fast_at, 250ms);
    EXPECT_FALSE(slow_result->ok);
    EXPECT_EQ(slow_result->reason, "timeout after 300ms");
    EXPECT_GE(slow_at, 290ms);
    EXPECT_LT(slow_at, 1s);
    EXPECT_EQ(silent.requests(), 1U);
}

TEST_F(HttpCheckLiveTest, RefusedConnectionFails) {
    HttpCheck check(httpCheck("http://127.0.0.1:" + std::to_string(testing::closedPort(io_))),
                    curl_);
    std::optional<ProbeResult> result;
    check.run([&](ProbeResult r) { result = std::move(r); });
    ASSERT_TRUE(testing::runUntil(io_, [&] { return result.has_value(); }));
    EXPECT_FALSE(result->ok);
    EXPECT_NE(result->reason.find("connect"), std::string::npos) << result->reason;
}

TEST_F(HttpCheckLiveTest, DestroyedCheckCancelsItsRequest) {
    stub_.silent();
    bool called = false;
    {
        HttpCheck check(httpCheck(stub_.url("/"), 200ms), curl_);
        check.run([&](ProbeResult) { called = true; });
        testing::runUntil(io_, [&] { return stub_.requests() == 1; });
    }
    EXPECT_EQ(curl_.inFlight(), 0U);
    io_.run_for(300ms);
    EXPECT_FALSE(called);
}

}  // namespace
}  // namespace gslb::health
