#include "healthcheck/health_state.hpp"

#include <algorithm>
#include <limits>

namespace gslb::health {

HealthState::HealthState(unsigned rise, unsigned fall)
    : rise_(std::max(rise, 1U)), fall_(std::max(fall, 1U)) {}

HealthState::Transition HealthState::submitResult(bool ok) {
    // Count the streak of equal results; it restarts at 1 whenever the result flips.
    if (streak_ == 0 || ok != last_ok_) {
        streak_ = 1;
    } else if (streak_ < std::numeric_limits<unsigned>::max()) {
        ++streak_;
    }
    last_ok_ = ok;

    // The first result counts as it is, whatever rise and fall say.
    if (value_ == Value::Unknown) {
        value_ = ok ? Value::Up : Value::Down;
        return ok ? Transition::WentUp : Transition::WentDown;
    }

    if (value_ == Value::Up && !ok && streak_ >= fall_) {
        value_ = Value::Down;
        return Transition::WentDown;
    }
    if (value_ == Value::Down && ok && streak_ >= rise_) {
        value_ = Value::Up;
        return Transition::WentUp;
    }
    return Transition::None;
}

const char* toString(HealthState::Value value) {
    switch (value) {
        case HealthState::Value::Up:
            return "up";
        case HealthState::Value::Down:
            return "down";
        case HealthState::Value::Unknown:
            return "unknown";
    }
    return "unknown";
}

}  // namespace gslb::health
