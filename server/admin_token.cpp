#include "server/admin_token.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace gslb::server {

namespace {

constexpr std::string_view Whitespace = " \t\r\n\f\v";

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(Whitespace);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(Whitespace);
    return s.substr(first, last - first + 1);
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) {
            return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool constantTimeEqual(std::string_view a, std::string_view b) {
    // Every byte position up to the longer length is visited, and differences are collected
    // with OR rather than returned early; a length difference alone makes the result false.
    const std::size_t n = std::max(a.size(), b.size());
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        diff |= static_cast<unsigned>(x ^ y);
    }
    return diff == 0;
}

std::optional<AdminToken> AdminToken::load(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot be opened (" + std::strerror(errno) + ")";
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        error = path + ": cannot be read";
        return std::nullopt;
    }
    const std::string content = text.str();
    const std::string_view token = trim(content);
    if (token.empty()) {
        error = path + ": the token file is empty";
        return std::nullopt;
    }
    return AdminToken(std::string(token));
}

AdminToken::AdminToken(std::string token) : token_(std::move(token)) {}

bool AdminToken::accepts(std::string_view authorization) const {
    const std::string_view value = trim(authorization);
    const auto space = value.find(' ');
    if (space == std::string_view::npos || !equalsIgnoreCase(value.substr(0, space), "bearer")) {
        return false;
    }
    return constantTimeEqual(trim(value.substr(space + 1)), token_);
}

}  // namespace gslb::server
