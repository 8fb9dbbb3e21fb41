#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace gslb::config {
namespace {

TEST(DurationTest, ParsesEachUnit) {
    EXPECT_EQ(parseDuration("500ms").value, Duration{500});
    EXPECT_EQ(parseDuration("2s").value, Duration{2000});
    EXPECT_EQ(parseDuration("1m").value, Duration{60'000});
    EXPECT_EQ(parseDuration("0s").value, Duration{0});
    EXPECT_EQ(parseDuration("007s").value, Duration{7000});
}

TEST(DurationTest, AcceptsExactlyOneDay) {
    EXPECT_EQ(parseDuration("1440m").value, MaxDuration);
    EXPECT_EQ(parseDuration("86400000ms").value, MaxDuration);
}

TEST(DurationTest, RejectsMissingUnit) {
    const auto r = parseDuration("2");
    EXPECT_FALSE(r.value);
    EXPECT_EQ(r.error, "has no unit (use 500ms, 2s, 1m)");
}

TEST(DurationTest, RejectsUnknownUnitAndJunk) {
    for (const char* text : {"2x", "2h", "2S", "s", "", "2 s", "1.5s", "2sec", "ms"}) {
        const auto r = parseDuration(text);
        EXPECT_FALSE(r.value) << text;
        EXPECT_EQ(r.error, "is not a duration (use 500ms, 2s, 1m)") << text;
    }
}

TEST(DurationTest, RejectsSigns) {
    EXPECT_EQ(parseDuration("-1s").error, "is negative (use 500ms, 2s, 1m)");
    EXPECT_EQ(parseDuration("+1s").error, "has a sign (use 500ms, 2s, 1m)");
}

TEST(DurationTest, RejectsValuesPastOneDayWithoutOverflow) {
    // Each of these would wrap a 64-bit millisecond count if multiplied naively.
    for (const char* text : {"1441m", "86400001ms", "99999999999999999999s",
                             "18446744073709551616ms", "307445734561825861m"}) {
        const auto r = parseDuration(text);
        EXPECT_FALSE(r.value) << text;
        EXPECT_EQ(r.error, "is too long (at most 1440m)") << text;
    }
}

TEST(DurationTest, FormatsWithLargestExactUnit) {
    EXPECT_EQ(formatDuration(Duration{60'000}), "1m");
    EXPECT_EQ(formatDuration(Duration{90'000}), "90s");
    EXPECT_EQ(formatDuration(Duration{1500}), "1500ms");
    EXPECT_EQ(formatDuration(Duration{0}), "0ms");
}

}  // namespace
}  // namespace gslb::config
