#pragma once

// The rise/fall state machine of one check: the single place that turns raw probe results into
// up or down (probes only report pass/fail).

#include <cstdint>

namespace gslb::health {

/// Up/down state of one check under its `rise` and `fall` settings.
///
/// A check with no result yet is Unknown (it counts as up for its site). The first result counts
/// as it is; afterwards the state flips only after `fall` consecutive failures (up -> down) or
/// `rise` consecutive successes (down -> up). Not thread-safe: owned by the control io_context.
class HealthState {
public:
    enum class Value { Unknown, Up, Down };

    /// What one result did to the state.
    enum class Transition { None, WentUp, WentDown };

    /// `rise` and `fall` below 1 are treated as 1 (the loader rejects them anyway).
    HealthState(unsigned rise, unsigned fall);

    /// Feeds one probe result and returns the transition it caused, if any. A first result
    /// from Unknown always causes a transition.
    Transition submitResult(bool ok);

    Value value() const { return value_; }

    /// Up or not yet known: what the site's state uses.
    bool countsAsUp() const { return value_ != Value::Down; }

    /// Consecutive successes (when the last result passed) or failures (when it failed).
    unsigned streak() const { return streak_; }
    bool lastOk() const { return last_ok_; }

private:
    unsigned rise_;
    unsigned fall_;
    Value value_ = Value::Unknown;
    bool last_ok_ = false;
    unsigned streak_ = 0;
};

/// "up", "down" or "unknown", as written in logs and the dashboard.
const char* toString(HealthState::Value value);

}  // namespace gslb::health
