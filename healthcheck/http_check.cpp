#include "healthcheck/http_check.hpp"

namespace gslb::health {

HttpCheck::HttpCheck(const config::CheckConfig& check, CurlMulti& curl)
    : curl_(curl), expect_status_(check.expect_status), expect_body_(check.expect_body) {
    request_.url = check.url;
    request_.timeout = check.timeout;
    request_.tls_verify = check.tls_verify;
    request_.keep_body = !check.expect_body.empty();
    request_.max_body = MaxBodySize;
}

HttpCheck::~HttpCheck() {
    cancel();
}

void HttpCheck::run(Done done) {
    // The callback runs only while this check lives: the destructor cancels the request.
    in_flight_ = curl_.fetch(request_, [this, done = std::move(done)](HttpResponse response) {
        in_flight_ = 0;
        done(evaluate(response, expect_status_, expect_body_));
    });
}

void HttpCheck::cancel() {
    if (in_flight_ != 0) {
        curl_.cancel(in_flight_);
        in_flight_ = 0;
    }
}

ProbeResult HttpCheck::evaluate(const HttpResponse& response,
                                int expect_status,
                                std::string_view expect_body) {
    ProbeResult result;
    result.latency = response.latency;
    if (!response.complete) {
        result.reason = response.error;
        return result;
    }
    const std::string status = "status " + std::to_string(response.status);
    if (response.status != expect_status) {
        result.reason = status + ", expected " + std::to_string(expect_status);
        return result;
    }
    if (!expect_body.empty() && response.body.find(expect_body) == std::string::npos) {
        result.reason = status + ", body lacks \"" + std::string(expect_body) + "\"";
        return result;
    }
    result.ok = true;
    result.reason = status;
    return result;
}

}  // namespace gslb::health
