#pragma once

// Response rate limiting for UDP, in the style of BIND's and Knot's RRL: each client prefix
// (a /24 for IPv4 and a /56 for IPv6 by default) may receive `rate` answers per second; past
// that, every `slip`-th answer goes out truncated (TC=1, so a real client retries over TCP,
// which a spoofed source cannot) and the others are dropped. That keeps gslbd from being an
// amplifier for floods with forged source addresses.
//
// One RateLimiter per worker, used only by that worker's thread: a fixed table allocated once,
// no lock, no allocation per query. With several workers a client's queries spread over them,
// so the effective limit is up to `workers` times the rate.

#include <cstdint>
#include <vector>

#include "config/config.hpp"
#include "server/client_locator.hpp"

namespace gslb::server {

class RateLimiter {
public:
    enum class Verdict { Send, Slip, Drop };

    /// Disabled when cfg.rate_limit is 0. Allocates its table once.
    explicit RateLimiter(const config::ServerConfig& cfg);

    bool enabled() const { return rate_ != 0; }

    /// Charges one answer to `client`'s prefix at `now_ms` (a monotonic clock in ms).
    Verdict check(const ClientAddress& client, std::uint64_t now_ms);

private:
    struct Bucket {
        std::uint64_t key_hi = 0;
        std::uint64_t key_lo = 0;
        std::uint64_t last_ms = 0;
        /// Tokens in thousandths of an answer, so refills are exact in integers.
        std::uint64_t milli_tokens = 0;
        std::uint32_t over = 0;
        bool used = false;
    };

    std::uint64_t rate_ = 0;
    unsigned slip_ = 2;
    unsigned v4_prefix_ = 24;
    unsigned v6_prefix_ = 56;
    std::vector<Bucket> table_;
};

}  // namespace gslb::server
