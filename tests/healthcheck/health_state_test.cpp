#include "healthcheck/health_state.hpp"

#include <gtest/gtest.h>

namespace gslb::health {
namespace {

using Transition = HealthState::Transition;
using Value = HealthState::Value;

class HealthStateTest : public ::testing::Test {
protected:
    // rise 2, fall 3: the defaults of the `health` section.
    HealthState state_{2, 3};
};

TEST_F(HealthStateTest, StartsUnknownAndCountsAsUp) {
    EXPECT_EQ(state_.value(), Value::Unknown);
    EXPECT_TRUE(state_.countsAsUp());
}

TEST_F(HealthStateTest, FirstSuccessCountsAsItIs) {
    // One success is below rise=2, but a first result is taken as it is.
    EXPECT_EQ(state_.submitResult(true), Transition::WentUp);
    EXPECT_EQ(state_.value(), Value::Up);
}

TEST_F(HealthStateTest, FirstFailureCountsAsItIs) {
    // One failure is below fall=3, but a first result is taken as it is.
    EXPECT_EQ(state_.submitResult(false), Transition::WentDown);
    EXPECT_EQ(state_.value(), Value::Down);
    EXPECT_FALSE(state_.countsAsUp());
}

TEST_F(HealthStateTest, GoesDownAfterFallFailures) {
    state_.submitResult(true);  // first result: up
    // Failures 1 and 2 of fall=3: still up.
    EXPECT_EQ(state_.submitResult(false), Transition::None);
    EXPECT_EQ(state_.submitResult(false), Transition::None);
    EXPECT_EQ(state_.value(), Value::Up);
    EXPECT_EQ(state_.streak(), 2U);
    // Failure 3: down.
    EXPECT_EQ(state_.submitResult(false), Transition::WentDown);
    EXPECT_EQ(state_.value(), Value::Down);
    // More failures change nothing.
    EXPECT_EQ(state_.submitResult(false), Transition::None);
    EXPECT_EQ(state_.value(), Value::Down);
}

TEST_F(HealthStateTest, GoesUpAfterRiseSuccesses) {
    state_.submitResult(false);  // first result: down
    // Success 1 of rise=2: still down.
    EXPECT_EQ(state_.submitResult(true), Transition::None);
    EXPECT_EQ(state_.value(), Value::Down);
    // Success 2: up.
    EXPECT_EQ(state_.submitResult(true), Transition::WentUp);
    EXPECT_EQ(state_.value(), Value::Up);
}

TEST_F(HealthStateTest, InterruptedFailuresRestartTheCount) {
    state_.submitResult(true);   // up
    state_.submitResult(false);  // fail 1
    state_.submitResult(false);  // fail 2
    // A success in between resets the failure streak.
    EXPECT_EQ(state_.submitResult(true), Transition::None);
    EXPECT_EQ(state_.submitResult(false), Transition::None);  // fail 1 again
    EXPECT_EQ(state_.submitResult(false), Transition::None);  // fail 2
    EXPECT_EQ(state_.value(), Value::Up);
    EXPECT_EQ(state_.submitResult(false), Transition::WentDown);  // fail 3: down
}

TEST_F(HealthStateTest, InterruptedSuccessesRestartTheCount) {
    state_.submitResult(false);                               // down
    EXPECT_EQ(state_.submitResult(true), Transition::None);   // success 1
    EXPECT_EQ(state_.submitResult(false), Transition::None);  // streak broken
    EXPECT_EQ(state_.submitResult(true), Transition::None);   // success 1 again
    EXPECT_EQ(state_.value(), Value::Down);
    EXPECT_EQ(state_.submitResult(true), Transition::WentUp);  // success 2: up
}

TEST_F(HealthStateTest, RiseAndFallOfOneFlipAtEveryChange) {
    HealthState state(1, 1);
    EXPECT_EQ(state.submitResult(true), Transition::WentUp);
    EXPECT_EQ(state.submitResult(false), Transition::WentDown);
    EXPECT_EQ(state.submitResult(true), Transition::WentUp);
    EXPECT_EQ(state.submitResult(true), Transition::None);
}

TEST_F(HealthStateTest, ZeroRiseAndFallBehaveAsOne) {
    HealthState state(0, 0);
    state.submitResult(true);
    EXPECT_EQ(state.submitResult(false), Transition::WentDown);
    EXPECT_EQ(state.submitResult(true), Transition::WentUp);
}

TEST_F(HealthStateTest, NamesValuesForLogs) {
    EXPECT_STREQ(toString(Value::Up), "up");
    EXPECT_STREQ(toString(Value::Down), "down");
    EXPECT_STREQ(toString(Value::Unknown), "unknown");
}

}  // namespace
}  // namespace gslb::health
