#include "config/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

namespace gslb::log {

namespace {

std::atomic<int> current_level{static_cast<int>(Level::Info)};

constexpr std::string_view levelName(Level level) {
    switch (level) {
        case Level::Error:
            return "error";
        case Level::Warning:
            return "warning";
        case Level::Info:
            return "info";
        case Level::Debug:
            return "debug";
    }
    return "?";
}

std::string timestamp() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t secs = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(millis));
    out += frac;
    return out;
}

}  // namespace

void setLevel(Level level) {
    current_level.store(static_cast<int>(level));
}

bool enabled(Level level) {
    return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, std::string_view message) {
    if (!enabled(level)) {
        return;
    }
    std::string line = timestamp();
    line += ' ';
    line += levelName(level);
    line += ' ';
    line += component;
    line += ": ";
    line += message;
    line += '\n';
    // One write(2) per line keeps lines whole across threads; a failed write to stderr has
    // nowhere to be reported, so its result is ignored on purpose.
    const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace gslb::log
