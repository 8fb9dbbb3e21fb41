#include "server/rate_limiter.hpp"

#include <algorithm>

namespace gslb::server {

namespace {

/// Buckets in each worker's table; a colliding prefix takes the slot over, which at worst
/// gives a flooding prefix a fresh allowance, never blocks an innocent one for long.
constexpr std::size_t TableSize = 1u << 16;

std::uint64_t load64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

std::uint64_t maskBits(std::uint64_t v, unsigned keep) {
    if (keep >= 64) {
        return v;
    }
    if (keep == 0) {
        return 0;
    }
    return v & ~((std::uint64_t{1} << (64 - keep)) - 1);
}

}  // namespace

RateLimiter::RateLimiter(const config::ServerConfig& cfg)
    : rate_(cfg.rate_limit),
      slip_(cfg.rate_limit_slip),
      v4_prefix_(cfg.rate_limit_ipv4_prefix),
      v6_prefix_(cfg.rate_limit_ipv6_prefix) {
    if (rate_ != 0) {
        table_.resize(TableSize);
    }
}

RateLimiter::Verdict RateLimiter::check(const ClientAddress& client, std::uint64_t now_ms) {
    if (rate_ == 0 || client.family == 0) {
        return Verdict::Send;
    }

    // 1. The client's prefix as a 128-bit key (IPv4 in the top 32 bits, with the family).
    const unsigned bits = client.family == 1 ? v4_prefix_ : v6_prefix_;
    std::uint64_t hi = load64(client.bytes.data());
    std::uint64_t lo = load64(client.bytes.data() + 8);
    hi = maskBits(hi, std::min(bits, 64u));
    lo = maskBits(lo, bits > 64 ? bits - 64 : 0);
    if (client.family == 1) {
        hi = maskBits(hi, std::min(bits, 32u));
        lo = 1;  // keeps 0.0.0.0/n apart from ::/n
    }

    // 2. Its bucket, refilled at `rate` answers per second up to one second's worth.
    const std::uint64_t h = (hi * 0x9E3779B97F4A7C15ull) ^ (lo * 0xC2B2AE3D27D4EB4Full);
    Bucket& b = table_[(h >> 20) & (TableSize - 1)];
    const std::uint64_t full = rate_ * 1000;
    if (!b.used || b.key_hi != hi || b.key_lo != lo) {
        b = Bucket{hi, lo, now_ms, full, 0, true};
    } else if (now_ms > b.last_ms) {
        b.milli_tokens = std::min(full, b.milli_tokens + (now_ms - b.last_ms) * rate_);
        b.last_ms = now_ms;
    }

    // 3. Spend a token, or slip every slip-th answer over the limit and drop the rest.
    if (b.milli_tokens >= 1000) {
        b.milli_tokens -= 1000;
        b.over = 0;
        return Verdict::Send;
    }
    ++b.over;
    if (slip_ != 0 && b.over % slip_ == 0) {
        return Verdict::Slip;
    }
    return Verdict::Drop;
}

}  // namespace gslb::server
