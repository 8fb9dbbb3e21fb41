#include "server/dashboard.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace gslb::server {
namespace {

namespace http = boost::beast::http;

class DashboardTest : public ::testing::Test {
protected:
    DashboardTest()
        : dashboard_(
              {[] { return std::string(R"({"sites":[]})"); },
               [] { return std::string("gslbd_uptime_seconds 1\n"); },
               [this](const std::string& site, bool drain) {
                   calls_.push_back((drain ? "drain " : "undrain ") + site);
                   if (site == "nowhere") {
                       return DrainResult{DrainResult::Status::UnknownSite, false, ""};
                   }
                   if (site == "readonly") {
                       return DrainResult{DrainResult::Status::StoreFailed, false, ""};
                   }
                   return DrainResult{DrainResult::Status::Done, true, drain ? "drained" : "up"};
               }}) {
        dashboard_.setToken(AdminToken("s3cret"));
    }

    HttpResponse get(http::verb method, const std::string& target, const char* auth = nullptr) {
        HttpRequest req{method, target, 11};
        if (auth != nullptr) {
            req.set(http::field::authorization, auth);
        }
        return dashboard_.handle(req);
    }

    static std::string header(const HttpResponse& res, http::field field) {
        const auto it = res.find(field);
        return it == res.end() ? "" : std::string(it->value());
    }

    std::vector<std::string> calls_;
    Dashboard dashboard_;
};

TEST_F(DashboardTest, ReadEndpointsAnswerWithTheirContentTypes) {
    const auto page = get(http::verb::get, "/");
    EXPECT_EQ(page.result(), http::status::ok);
    EXPECT_EQ(header(page, http::field::content_type), "text/html; charset=utf-8");
    EXPECT_NE(page.body().find("/api/v1/status"), std::string::npos);

    const auto status = get(http::verb::get, "/api/v1/status?pretty");
    EXPECT_EQ(status.result(), http::status::ok);
    EXPECT_EQ(header(status, http::field::content_type), "application/json");
    EXPECT_EQ(status.body(), "{\"sites\":[]}\n");

    const auto metrics = get(http::verb::head, "/metrics");
    EXPECT_EQ(metrics.result(), http::status::ok);
    EXPECT_EQ(header(metrics, http::field::content_type),
              "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(DashboardTest, UnknownPathsAre404AndWrongMethods405WithAllow) {
    EXPECT_EQ(get(http::verb::get, "/nope").result(), http::status::not_found);
    EXPECT_EQ(get(http::verb::get, "/api/v1/nope").result(), http::status::not_found);
    EXPECT_EQ(get(http::verb::post, "/api/v1/sites/madrid/explode", "Bearer s3cret").result(),
              http::status::not_found);
    const auto post = get(http::verb::post, "/metrics");
    EXPECT_EQ(post.result(), http::status::method_not_allowed);
    EXPECT_EQ(header(post, http::field::allow), "GET, HEAD");
    const auto drain = get(http::verb::get, "/api/v1/sites/madrid/drain");
    EXPECT_EQ(drain.result(), http::status::method_not_allowed);
    EXPECT_EQ(header(drain, http::field::allow), "POST");
    EXPECT_TRUE(calls_.empty());
}

TEST_F(DashboardTest, DrainNeedsTheBearerToken) {
    const auto none = get(http::verb::post, "/api/v1/sites/madrid/drain");
    EXPECT_EQ(none.result(), http::status::unauthorized);
    EXPECT_EQ(header(none, http::field::www_authenticate), R"(Bearer realm="gslbd")");
    const auto wrong = get(http::verb::post, "/api/v1/sites/madrid/drain", "Bearer s3cre");
    EXPECT_EQ(wrong.result(), http::status::unauthorized);
    EXPECT_NE(header(wrong, http::field::www_authenticate).find("invalid_token"),
              std::string::npos);
    // An unknown site without a token is 401 too: the site list is not revealed.
    EXPECT_EQ(get(http::verb::post, "/api/v1/sites/nowhere/drain").result(),
              http::status::unauthorized);
    EXPECT_TRUE(calls_.empty());

    const auto ok = get(http::verb::post, "/api/v1/sites/madrid/drain", "Bearer s3cret");
    EXPECT_EQ(ok.result(), http::status::ok);
    EXPECT_EQ(ok.body(), R"({"changed":true,"drained":true,"site":"madrid","state":"drained"})"
                         "\n");
    EXPECT_EQ(get(http::verb::post, "/api/v1/sites/madrid/undrain", "Bearer s3cret").result(),
              http::status::ok);
    EXPECT_EQ(calls_, (std::vector<std::string>{"drain madrid", "undrain madrid"}));
}

TEST_F(DashboardTest, UnknownSiteIs404AndFailedSaveIs500) {
    EXPECT_EQ(get(http::verb::post, "/api/v1/sites/nowhere/drain", "Bearer s3cret").result(),
              http::status::not_found);
    EXPECT_EQ(get(http::verb::post, "/api/v1/sites/readonly/drain", "Bearer s3cret").result(),
              http::status::internal_server_error);
}

TEST_F(DashboardTest, WriteApiIsForbiddenWithoutATokenFile) {
    dashboard_.setToken(std::nullopt);
    EXPECT_EQ(get(http::verb::post, "/api/v1/sites/madrid/drain", "Bearer s3cret").result(),
              http::status::forbidden);
    EXPECT_TRUE(calls_.empty());
}

}  // namespace
}  // namespace gslb::server
