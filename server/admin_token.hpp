#pragma once

// The bearer token that guards the dashboard's write API (drain, undrain). It is read from
// `dashboard.admin_token_file` at start and at every reload, and never logged.

#include <optional>
#include <string>
#include <string_view>

namespace gslb::server {

/// Compares two strings in time that depends only on their lengths, never on where they first
/// differ, so a remote client cannot find a token byte by byte from response times.
bool constantTimeEqual(std::string_view a, std::string_view b);

class AdminToken {
public:
    /// Reads the token from `path`: the whole file with surrounding whitespace trimmed.
    /// Returns nullopt and sets `error` (without the token) when the file cannot be read, or
    /// when it holds nothing but whitespace. Control thread.
    static std::optional<AdminToken> load(const std::string& path, std::string& error);

    /// `token` must not be empty.
    explicit AdminToken(std::string token);

    /// Whether an `Authorization` header value carries this token, as `Bearer TOKEN`
    /// (RFC 6750 section 2.1; the scheme name is case-insensitive).
    bool accepts(std::string_view authorization) const;

private:
    std::string token_;
};

}  // namespace gslb::server
