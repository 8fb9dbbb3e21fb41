#include "config/address.hpp"

#include <array>
#include <charconv>
#include <string>

namespace gslb::config {

namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view EndpointHint = " (use 192.0.2.1:53 or [2001:db8::1]:53)";
constexpr std::string_view PrefixHint = " (use 198.51.100.0/24 or 2001:db8::/32)";

/// Parses a decimal number made of digits only (no sign, no spaces) up to `max`.
std::optional<unsigned> parseDecimal(std::string_view text, unsigned max) {
    if (text.empty() || text.size() > 10) {
        return std::nullopt;
    }
    unsigned long long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > max) {
        return std::nullopt;
    }
    return static_cast<unsigned>(value);
}

/// Clears every bit of `bytes` past the first `length` bits; reports whether any was set.
template <std::size_t N>
bool clearHostBits(std::array<unsigned char, N>& bytes, unsigned length) {
    bool had_host_bits = false;
    for (std::size_t i = 0; i < N; ++i) {
        const unsigned first_bit = static_cast<unsigned>(i) * 8;
        unsigned keep = 0;
        if (length >= first_bit + 8) {
            keep = 8;
        } else if (length > first_bit) {
            keep = length - first_bit;
        }
        const auto mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xFFu << (8 - keep));
        had_host_bits = had_host_bits || (bytes[i] & ~mask) != 0;
        bytes[i] = static_cast<unsigned char>(bytes[i] & mask);
    }
    return had_host_bits;
}

}  // namespace

ParseResult<ip::address> parseAddress(std::string_view text) {
    boost::system::error_code ec;
    const ip::address address = ip::make_address(std::string(text), ec);
    if (ec) {
        return ParseResult<ip::address>::fail(
            "is not an IP address (use 192.0.2.1 or 2001:db8::1)");
    }
    return ParseResult<ip::address>{address, {}};
}

ParseResult<Endpoint> parseEndpoint(std::string_view text) {
    // Split host and port: "[v6]:port" or "v4:port". A bare IPv6 address is ambiguous ("::1:53"
    // is a valid address), so it must be bracketed.
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return ParseResult<Endpoint>::fail("has no closing ']'" + std::string(EndpointHint));
        }
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (rest.empty()) {
            return ParseResult<Endpoint>::fail("has no port" + std::string(EndpointHint));
        }
        if (rest.front() != ':') {
            return ParseResult<Endpoint>::fail("is not an address and port" +
                                               std::string(EndpointHint));
        }
        port = rest.substr(1);
    } else {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos) {
            return ParseResult<Endpoint>::fail("has no port" + std::string(EndpointHint));
        }
        if (text.find(':', colon + 1) != std::string_view::npos) {
            return ParseResult<Endpoint>::fail("needs brackets around an IPv6 address" +
                                               std::string(EndpointHint));
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }

    // Both halves must be literals.
    boost::system::error_code ec;
    const ip::address address = ip::make_address(std::string(host), ec);
    const bool bracketed = !text.empty() && text.front() == '[';
    if (ec || (bracketed && !address.is_v6())) {
        return ParseResult<Endpoint>::fail("does not start with an IP address" +
                                           std::string(EndpointHint));
    }
    const auto number = parseDecimal(port, 65535);
    if (!number) {
        return ParseResult<Endpoint>::fail("has no valid port (use 0..65535)");
    }
    return ParseResult<Endpoint>{
        Endpoint{address, static_cast<std::uint16_t>(*number), std::string(text)}, {}};
}

ParseResult<Prefix> parsePrefix(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return ParseResult<Prefix>::fail("has no prefix length" + std::string(PrefixHint));
    }
    boost::system::error_code ec;
    const ip::address address = ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) {
        return ParseResult<Prefix>::fail("is not an address prefix" + std::string(PrefixHint));
    }
    const unsigned max_length = address.is_v4() ? 32 : 128;
    const auto length = parseDecimal(text.substr(slash + 1), max_length);
    if (!length) {
        return ParseResult<Prefix>::fail("has a bad prefix length (use 0.." +
                                         std::to_string(max_length) + ")");
    }

    // Host bits past the length are most likely a typo for the network itself; name it.
    ip::address network;
    bool had_host_bits = false;
    if (address.is_v4()) {
        auto bytes = address.to_v4().to_bytes();
        had_host_bits = clearHostBits(bytes, *length);
        network = ip::address_v4(bytes);
    } else {
        auto bytes = address.to_v6().to_bytes();
        had_host_bits = clearHostBits(bytes, *length);
        network = ip::address_v6(bytes, address.to_v6().scope_id());
    }
    if (had_host_bits) {
        const std::string meant = network.to_string() + "/" + std::to_string(*length);
        return ParseResult<Prefix>::fail("has host bits set past /" + std::to_string(*length) +
                                         " (use " + meant + ")");
    }
    return ParseResult<Prefix>{Prefix{network, *length}, {}};
}

}  // namespace gslb::config
