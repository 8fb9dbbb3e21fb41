#include "healthcheck/haproxy_check.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <optional>

#include "healthcheck/haproxy_csv.hpp"
#include "tests/healthcheck/http_stub.hpp"

namespace gslb::health {
namespace {

using namespace std::chrono_literals;

constexpr const char* Csv =
    "# pxname,svname,status,\n"
    "web,w1,UP,\n"
    "web,w2,DOWN,\n"
    "web,BACKEND,UP,\n";

HttpResponse completed(long status, std::string body) {
    HttpResponse response;
    response.complete = true;
    response.status = status;
    response.body = std::move(body);
    return response;
}

TEST(HaproxyCheckTest, EvaluatesTheBackend) {
    EXPECT_TRUE(HaproxyCheck::evaluate(completed(200, Csv), "web", 1).ok);
    const auto result = HaproxyCheck::evaluate(completed(200, Csv), "web", 2);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "backend web has 1/2 servers up");
}

TEST(HaproxyCheckTest, StatsPageErrorStatusFails) {
    EXPECT_EQ(HaproxyCheck::evaluate(completed(401, "denied"), "web", 1).reason,
              "stats page status 401");
}

TEST(HaproxyCheckTest, TooLargeBodyFails) {
    HttpResponse response;
    response.body_too_large = true;
    response.error = "body too large";
    EXPECT_EQ(HaproxyCheck::evaluate(response, "web", 1).reason, "stats body too large");
}

TEST(HaproxyCheckTest, PasswordFileLosesTrailingLineBreaks) {
    const std::string path = ::testing::TempDir() + "haproxy_check_password";
    std::ofstream(path) << "s3cret\r\n\n";
    EXPECT_EQ(HaproxyCheck::readPasswordFile(path), "s3cret");
    std::remove(path.c_str());
    EXPECT_FALSE(HaproxyCheck::readPasswordFile(path));
}

TEST(HaproxyCheckTest, PasswordFileThatIsAFifoIsUnreadable) {
    // Regression: a FIFO in the password file's place blocked the control thread in open().
    const std::string path = ::testing::TempDir() + "haproxy_check_password_fifo";
    std::remove(path.c_str());
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    EXPECT_FALSE(HaproxyCheck::readPasswordFile(path));
    std::remove(path.c_str());
}

// Integration: the stats page served by the in-test responder on 127.0.0.1.
class HaproxyCheckLiveTest : public ::testing::Test {
protected:
    config::CheckConfig haproxyCheck() {
        config::CheckConfig check;
        check.type = config::CheckType::Haproxy;
        check.id = "local/0:haproxy";
        check.url = stub_.url("/stats;csv");
        check.backend = "web";
        check.min_up = 1;
        check.timeout = 1000ms;
        return check;
    }

    ProbeResult runOnce(HaproxyCheck& check) {
        std::optional<ProbeResult> result;
        check.run([&](ProbeResult r) { result = std::move(r); });
        EXPECT_TRUE(testing::runUntil(io_, [&] { return result.has_value(); }));
        return result.value_or(ProbeResult{});
    }

    boost::asio::io_context io_;
    testing::HttpStub stub_{io_};
    CurlMulti curl_{io_};
};

TEST_F(HaproxyCheckLiveTest, FetchesAndCountsServers) {
    stub_.respond(200, Csv);
    HaproxyCheck check(haproxyCheck(), curl_);
    const auto result = runOnce(check);
    EXPECT_TRUE(result.ok) << result.reason;
    EXPECT_EQ(result.reason, "backend web has 1/2 servers up");
    EXPECT_NE(stub_.lastRequest().find("GET /stats;csv "), std::string::npos);
}

TEST_F(HaproxyCheckLiveTest, SendsBasicAuthFromPasswordFile) {
    const std::string path = ::testing::TempDir() + "haproxy_live_password";
    std::ofstream(path) << "pw\n";
    stub_.respond(200, Csv);
    auto settings = haproxyCheck();
    settings.user = "admin";
    settings.password_file = path;
    HaproxyCheck check(settings, curl_);
    EXPECT_TRUE(runOnce(check).ok);
    // base64("admin:pw") = YWRtaW46cHc=
    EXPECT_NE(stub_.lastRequest().find("Authorization: Basic YWRtaW46cHc="), std::string::npos);
    std::remove(path.c_str());
}

TEST_F(HaproxyCheckLiveTest, UnreadablePasswordFileFails) {
    auto settings = haproxyCheck();
    settings.user = "admin";
    settings.password_file = "/nonexistent/password";
    HaproxyCheck check(settings, curl_);
    const auto result = runOnce(check);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "cannot read password_file /nonexistent/password");
    EXPECT_EQ(stub_.requests(), 0U);
}

TEST_F(HaproxyCheckLiveTest, OversizedStatsBodyIsCutOff) {
    stub_.respond(200, std::string(Csv) + std::string(HaproxyCsv::MaxBodySize, '\n'));
    HaproxyCheck check(haproxyCheck(), curl_);
    EXPECT_EQ(runOnce(check).reason, "stats body too large");
}

}  // namespace
}  // namespace gslb::health
