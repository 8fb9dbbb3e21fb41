#pragma once

// IP literals as written in the YAML file: bare addresses, "address:port" endpoints and
// "address/length" client prefixes. Host names are never resolved here: the configuration must
// mean the same thing whatever DNS says at load time.

#include <boost/asio/ip/address.hpp>
#include <string_view>

#include "config/config.hpp"
#include "config/parse_result.hpp"

namespace gslb::config {

/// An address prefix, "198.51.100.0/24" or "2001:db8::/32", with no host bit set.
struct Prefix {
    boost::asio::ip::address address;
    unsigned length = 0;
};

/// Parses an IPv4 or IPv6 literal, without brackets or port. Never throws.
ParseResult<boost::asio::ip::address> parseAddress(std::string_view text);

/// Parses "192.0.2.1:53" or "[2001:db8::1]:53". The port is required, 0..65535; whether 0 is
/// acceptable is the caller's decision. Endpoint::text keeps `text`. Never throws.
ParseResult<Endpoint> parseEndpoint(std::string_view text);

/// Parses "address/length" with length at most 32 (IPv4) or 128 (IPv6) and every bit past the
/// length zero; the error for stray host bits names the network that was probably meant.
/// Never throws.
ParseResult<Prefix> parsePrefix(std::string_view text);

}  // namespace gslb::config
