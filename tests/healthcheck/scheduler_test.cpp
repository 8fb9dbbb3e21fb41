#include "healthcheck/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace gslb::health {
namespace {

using std::chrono::milliseconds;
using Clock = Scheduler::Clock;

// A fixed clock reading: the scheduler is pure, so no test sleeps.
const Clock::time_point Epoch = Clock::time_point{} + std::chrono::hours(1);

TEST(SchedulerTest, OffsetStaysInsideTheInterval) {
    for (int site = 0; site < 200; ++site) {
        for (std::size_t i = 0; i < 3; ++i) {
            const auto offset =
                Scheduler::offset("site" + std::to_string(site), i, 3, milliseconds(2000));
            EXPECT_GE(offset.count(), 0);
            EXPECT_LT(offset.count(), 2000);
        }
    }
}

TEST(SchedulerTest, ChecksOfOneSiteAreEvenlyApart) {
    // Three checks of madrid at 3 s: one second apart, around the circle.
    const milliseconds interval(3000);
    std::vector<long> offsets;
    for (std::size_t i = 0; i < 3; ++i) {
        offsets.push_back(Scheduler::offset("madrid", i, 3, interval).count());
    }
    std::sort(offsets.begin(), offsets.end());
    EXPECT_EQ(offsets[1] - offsets[0], 1000);
    EXPECT_EQ(offsets[2] - offsets[1], 1000);
}

TEST(SchedulerTest, OffsetIsStableForTheSameCheck) {
    // A reload recomputes offsets; unchanged checks must land on the same slot.
    EXPECT_EQ(Scheduler::offset("boston", 1, 2, milliseconds(2000)),
              Scheduler::offset("boston", 1, 2, milliseconds(2000)));
    EXPECT_EQ(Scheduler::hash("madrid"), Scheduler::hash("madrid"));
    EXPECT_NE(Scheduler::hash("madrid"), Scheduler::hash("boston"));
}

TEST(SchedulerTest, ManySitesSpreadOverTheInterval) {
    // 2,000 single-check sites at 1 s: no 10 ms bucket should hold more than a few times the
    // mean of 20, i.e. sites do not fire together.
    std::vector<int> buckets(100, 0);
    for (int site = 0; site < 2000; ++site) {
        const auto offset =
            Scheduler::offset("site-" + std::to_string(site), 0, 1, milliseconds(1000));
        ++buckets[static_cast<std::size_t>(offset.count() / 10)];
    }
    EXPECT_LE(*std::max_element(buckets.begin(), buckets.end()), 60);
    EXPECT_GE(*std::min_element(buckets.begin(), buckets.end()), 2);
}

TEST(SchedulerTest, ZeroIntervalGivesZeroOffset) {
    EXPECT_EQ(Scheduler::offset("a", 0, 1, milliseconds(0)).count(), 0);
    EXPECT_EQ(Scheduler::offset("a", 5, 0, milliseconds(100)).count() < 100, true);
}

TEST(SchedulerTest, NextDueIsTheFirstSlotBeforeStart) {
    const auto due = Scheduler::nextDue(Epoch, milliseconds(300), milliseconds(1000), Epoch);
    EXPECT_EQ(due, Epoch + milliseconds(300));
}

TEST(SchedulerTest, NextDueIsStrictlyAfterNow) {
    const milliseconds offset(300);
    const milliseconds interval(1000);
    // Just after the first slot: the next one, a whole interval later.
    EXPECT_EQ(Scheduler::nextDue(Epoch, offset, interval, Epoch + milliseconds(301)),
              Epoch + milliseconds(1300));
    // Exactly on a slot: the following one, so a probe never fires twice for one slot.
    EXPECT_EQ(Scheduler::nextDue(Epoch, offset, interval, Epoch + milliseconds(1300)),
              Epoch + milliseconds(2300));
}

TEST(SchedulerTest, OverrunSkipsMissedSlots) {
    // A probe that finished 3.5 intervals late resumes on the next slot, not in a burst.
    const auto now = Epoch + milliseconds(3800);
    EXPECT_EQ(Scheduler::nextDue(Epoch, milliseconds(300), milliseconds(1000), now),
              Epoch + milliseconds(4300));
}

TEST(SchedulerTest, SlotsKeepTheirPhaseOverManyRounds) {
    // Walking the schedule 1,000 rounds: every slot is offset + k * interval, no drift.
    const milliseconds offset(123);
    const milliseconds interval(2000);
    Clock::time_point now = Epoch;
    std::set<long> phases;
    for (int round = 0; round < 1000; ++round) {
        now = Scheduler::nextDue(Epoch, offset, interval, now) + milliseconds(7);
        phases.insert(std::chrono::duration_cast<milliseconds>(now - Epoch).count() % 2000);
    }
    EXPECT_EQ(phases, std::set<long>{130});
}

}  // namespace
}  // namespace gslb::health
