#pragma once

// The `http` and `https` checks: up iff the status equals `expect_status` within the timeout
// and, when `expect_body` is set, the body contains it.

#include <string_view>

#include "healthcheck/curl_multi.hpp"
#include "healthcheck/probe.hpp"

namespace gslb::health {

/// GETs `url` through the shared CurlMulti. Runs on the control io_context.
class HttpCheck : public Probe {
public:
    /// Bodies are searched for `expect_body` up to this size; a longer one fails the probe.
    static constexpr std::size_t MaxBodySize = 1024 * 1024;

    HttpCheck(const config::CheckConfig& check, CurlMulti& curl);
    ~HttpCheck() override;

    void run(Done done) override;
    void cancel() override;

    /// The verdict on one response: pure, so tests need no server.
    static ProbeResult evaluate(const HttpResponse& response,
                                int expect_status,
                                std::string_view expect_body);

private:
    CurlMulti& curl_;
    HttpRequest request_;
    int expect_status_;
    std::string expect_body_;
    CurlMulti::RequestId in_flight_ = 0;
};

}  // namespace gslb::health
