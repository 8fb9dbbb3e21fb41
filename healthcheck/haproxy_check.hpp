#pragma once

// The `haproxy` check: fetch HAProxy's stats CSV and require `min_up` serving servers in
// `backend` (see HaproxyCsv for what counts as serving).

#include <optional>
#include <string>

#include "healthcheck/curl_multi.hpp"
#include "healthcheck/probe.hpp"

namespace gslb::health {

/// GETs the stats URL through the shared CurlMulti. Runs on the control io_context.
class HaproxyCheck : public Probe {
public:
    HaproxyCheck(const config::CheckConfig& check, CurlMulti& curl);
    ~HaproxyCheck() override;

    void run(Done done) override;
    void cancel() override;

    /// The verdict on one stats response: pure, so tests need no server.
    static ProbeResult evaluate(const HttpResponse& response,
                                std::string_view backend,
                                unsigned min_up);

    /// The file's content without its trailing line breaks, or nullopt if it cannot be read or
    /// is not a regular file.
    static std::optional<std::string> readPasswordFile(const std::string& path);

private:
    CurlMulti& curl_;
    HttpRequest request_;
    std::string password_file_;
    std::string backend_;
    unsigned min_up_;
    CurlMulti::RequestId in_flight_ = 0;
};

}  // namespace gslb::health
