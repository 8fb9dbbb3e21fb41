#include "server/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "server/responder.hpp"
#include "tests/server/test_zone.hpp"

namespace gslb::server {
namespace {

ClientAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    ClientAddress out;
    out.family = 1;
    out.prefix = 32;
    out.bytes[0] = a;
    out.bytes[1] = b;
    out.bytes[2] = c;
    out.bytes[3] = d;
    return out;
}

config::ServerConfig limited(unsigned rate, unsigned slip) {
    config::ServerConfig cfg;
    cfg.rate_limit = rate;
    cfg.rate_limit_slip = slip;
    return cfg;
}

TEST(RateLimiterTest, OffByDefaultSendsEverything) {
    RateLimiter rl{config::ServerConfig{}};
    EXPECT_FALSE(rl.enabled());
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(rl.check(v4(192, 0, 2, 1), 0), RateLimiter::Verdict::Send);
    }
}

TEST(RateLimiterTest, PrefixGetsRateThenSlipsEverySecondAnswer) {
    RateLimiter rl{limited(10, 2)};
    // Within one millisecond: the first 10 answers go out...
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(rl.check(v4(192, 0, 2, static_cast<std::uint8_t>(i)), 1000),
                  RateLimiter::Verdict::Send);
    }
    // ...then, for the same /24, every second one is truncated and the others dropped.
    EXPECT_EQ(rl.check(v4(192, 0, 2, 99), 1000), RateLimiter::Verdict::Drop);
    EXPECT_EQ(rl.check(v4(192, 0, 2, 99), 1000), RateLimiter::Verdict::Slip);
    EXPECT_EQ(rl.check(v4(192, 0, 2, 99), 1000), RateLimiter::Verdict::Drop);
    // Another /24 has its own allowance.
    EXPECT_EQ(rl.check(v4(198, 51, 100, 1), 1000), RateLimiter::Verdict::Send);
}

TEST(RateLimiterTest, AllowanceRefillsWithTime) {
    RateLimiter rl{limited(10, 0)};
    for (int i = 0; i < 10; ++i) {
        rl.check(v4(192, 0, 2, 1), 1000);
    }
    EXPECT_EQ(rl.check(v4(192, 0, 2, 1), 1000), RateLimiter::Verdict::Drop);
    // 100 ms at 10 answers per second is one answer.
    EXPECT_EQ(rl.check(v4(192, 0, 2, 1), 1100), RateLimiter::Verdict::Send);
    EXPECT_EQ(rl.check(v4(192, 0, 2, 1), 1100), RateLimiter::Verdict::Drop);
    // A long pause refills at most one second's worth.
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(rl.check(v4(192, 0, 2, 1), 60'000), RateLimiter::Verdict::Send);
    }
    EXPECT_EQ(rl.check(v4(192, 0, 2, 1), 60'000), RateLimiter::Verdict::Drop);
}

TEST(TruncateToQuestionTest, KeepsHeaderAndQuestionWithTc) {
    std::vector<std::uint8_t> msg = testing::makeQuery("app.example.com.", LDNS_RR_TYPE_A, 0);
    const std::size_t question_end = msg.size();
    msg[2] |= 0x80;  // a response
    msg[7] = 2;      // two answers follow
    msg.insert(msg.end(), 32, 0xAB);
    const std::size_t len = truncateToQuestion(msg.data(), msg.size());
    EXPECT_EQ(len, question_end);
    EXPECT_NE(msg[2] & 0x02, 0);
    EXPECT_EQ(msg[7], 0);
    EXPECT_EQ(truncateToQuestion(msg.data(), 10), 0u);
}

}  // namespace
}  // namespace gslb::server
