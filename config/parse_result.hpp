#pragma once

#include <optional>
#include <string>
#include <utility>

namespace gslb::config {

/// The outcome of parsing one literal from the configuration: the value, or why the text was
/// rejected. `error` completes a sentence that starts with the quoted text, e.g. for "2x":
/// `is not a duration (use 500ms, 2s, 1m)`, so callers can prefix the key path and value.
template <typename T>
struct ParseResult {
    std::optional<T> value;
    std::string error;

    static ParseResult fail(std::string why) { return ParseResult{std::nullopt, std::move(why)}; }
};

}  // namespace gslb::config
