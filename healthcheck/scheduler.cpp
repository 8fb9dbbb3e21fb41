#include "healthcheck/scheduler.hpp"

namespace gslb::health {

std::uint64_t Scheduler::hash(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

Scheduler::Duration Scheduler::offset(std::string_view site,
                                      std::size_t index_in_site,
                                      std::size_t site_count,
                                      Duration interval) {
    if (interval.count() <= 0) {
        return Duration{0};
    }
    const auto span = static_cast<std::uint64_t>(interval.count());
    const std::uint64_t count = site_count == 0 ? 1 : site_count;
    const std::uint64_t base = hash(site) % span;
    const std::uint64_t step = span * (index_in_site % count) / count;
    return Duration{static_cast<Duration::rep>((base + step) % span)};
}

Scheduler::Clock::time_point Scheduler::nextDue(Clock::time_point epoch,
                                                Duration offset,
                                                Duration interval,
                                                Clock::time_point now) {
    const Clock::time_point first = epoch + offset;
    if (interval.count() <= 0) {
        return now > first ? now : first;
    }
    if (now < first) {
        return first;
    }
    const auto period = std::chrono::duration_cast<Clock::duration>(interval);
    const auto elapsed = now - first;
    return first + (elapsed / period + 1) * period;
}

}  // namespace gslb::health
