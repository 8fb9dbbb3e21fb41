#include "config/duration.hpp"

#include <cstdint>

namespace gslb::config {

namespace {

constexpr std::string_view Hint = " (use 500ms, 2s, 1m)";

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

ParseResult<Duration> parseDuration(std::string_view text) {
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        const bool negative = text.front() == '-';
        return ParseResult<Duration>::fail(std::string(negative ? "is negative" : "has a sign") +
                                           std::string(Hint));
    }

    // The number: digits only, accumulated with a bound so that no input can overflow.
    std::size_t pos = 0;
    std::uint64_t number = 0;
    bool too_big = false;
    while (pos < text.size() && isDigit(text[pos])) {
        number = number * 10 + static_cast<std::uint64_t>(text[pos] - '0');
        if (number > static_cast<std::uint64_t>(MaxDuration.count())) {
            too_big = true;
            number = static_cast<std::uint64_t>(MaxDuration.count()) + 1;
        }
        ++pos;
    }
    if (pos == 0) {
        return ParseResult<Duration>::fail("is not a duration" + std::string(Hint));
    }

    // The unit, which must end the text.
    const std::string_view unit = text.substr(pos);
    std::uint64_t scale = 0;
    if (unit == "ms") {
        scale = 1;
    } else if (unit == "s") {
        scale = 1000;
    } else if (unit == "m") {
        scale = 60'000;
    } else if (unit.empty()) {
        return ParseResult<Duration>::fail("has no unit" + std::string(Hint));
    } else {
        return ParseResult<Duration>::fail("is not a duration" + std::string(Hint));
    }

    const auto max = static_cast<std::uint64_t>(MaxDuration.count());
    if (too_big || number > max / scale) {
        return ParseResult<Duration>::fail("is too long (at most " + formatDuration(MaxDuration) +
                                           ")");
    }
    return ParseResult<Duration>{Duration(static_cast<Duration::rep>(number * scale)), {}};
}

std::string formatDuration(Duration d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 60'000 == 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms != 0 && ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

}  // namespace gslb::config
