#include "healthcheck/haproxy_check.hpp"

#include <filesystem>
#include <fstream>

#include "healthcheck/haproxy_csv.hpp"

namespace gslb::health {

namespace {

// A password file is a few bytes; anything this large is not one.
constexpr std::size_t MaxPasswordFileSize = 4096;

}  // namespace

HaproxyCheck::HaproxyCheck(const config::CheckConfig& check, CurlMulti& curl)
    : curl_(curl),
      password_file_(check.password_file),
      backend_(check.backend),
      min_up_(check.min_up) {
    request_.url = check.url;
    request_.timeout = check.timeout;
    request_.tls_verify = check.tls_verify;
    request_.user = check.user;
    request_.keep_body = true;
    request_.max_body = HaproxyCsv::MaxBodySize;
}

HaproxyCheck::~HaproxyCheck() {
    cancel();
}

void HaproxyCheck::run(Done done) {
    // The password is read at each probe, so rotating the file needs no reload.
    HttpRequest request = request_;
    if (!request.user.empty() && !password_file_.empty()) {
        std::optional<std::string> password = readPasswordFile(password_file_);
        if (!password) {
            // An unreachable URL makes CurlMulti fail asynchronously, keeping run()'s promise
            // that `done` is never called from inside it.
            request.url.clear();
        } else {
            request.password = std::move(*password);
        }
    }
    const bool unreadable = request.url.empty() && !request_.url.empty();
    in_flight_ =
        curl_.fetch(request, [this, unreadable, done = std::move(done)](HttpResponse response) {
            in_flight_ = 0;
            if (unreadable) {
                done(ProbeResult{false, "cannot read password_file " + password_file_, {}});
                return;
            }
            done(evaluate(response, backend_, min_up_));
        });
}

void HaproxyCheck::cancel() {
    if (in_flight_ != 0) {
        curl_.cancel(in_flight_);
        in_flight_ = 0;
    }
}

ProbeResult HaproxyCheck::evaluate(const HttpResponse& response,
                                   std::string_view backend,
                                   unsigned min_up) {
    ProbeResult result;
    result.latency = response.latency;
    if (response.body_too_large) {
        result.reason = "stats body too large";
        return result;
    }
    if (!response.complete) {
        result.reason = response.error;
        return result;
    }
    if (response.status != 200) {
        result.reason = "stats page status " + std::to_string(response.status);
        return result;
    }
    const HaproxyCsvResult csv = HaproxyCsv::evaluate(response.body, backend, min_up);
    result.ok = csv.ok;
    result.reason = csv.reason;
    return result;
}

std::optional<std::string> HaproxyCheck::readPasswordFile(const std::string& path) {
    // This runs on the control thread before every probe: a FIFO put in the file's place would
    // block the open until a writer came, and every check with it.
    std::error_code ec;
    if (std::filesystem::status(path, ec).type() != std::filesystem::file_type::regular) {
        return std::nullopt;
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return std::nullopt;
    }
    std::string content;
    content.resize(MaxPasswordFileSize + 1);
    file.read(content.data(), static_cast<std::streamsize>(content.size()));
    if (file.bad()) {
        return std::nullopt;
    }
    content.resize(static_cast<std::size_t>(file.gcount()));
    if (content.size() > MaxPasswordFileSize) {
        return std::nullopt;
    }
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
        content.pop_back();
    }
    return content;
}

}  // namespace gslb::health
