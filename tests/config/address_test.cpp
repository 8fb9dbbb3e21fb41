#include "config/address.hpp"

#include <gtest/gtest.h>

namespace gslb::config {
namespace {

namespace ip = boost::asio::ip;

TEST(AddressTest, ParsesIpv4AndIpv6Literals) {
    EXPECT_EQ(parseAddress("192.0.2.10").value, ip::make_address("192.0.2.10"));
    EXPECT_EQ(parseAddress("2001:db8:a::10").value, ip::make_address("2001:db8:a::10"));
}

TEST(AddressTest, RejectsHostNamesAndJunk) {
    for (const char* text : {"localhost", "192.0.2.256", "192.0.2", "", "[::1]", "192.0.2.1:53"}) {
        const auto r = parseAddress(text);
        EXPECT_FALSE(r.value) << text;
        EXPECT_EQ(r.error, "is not an IP address (use 192.0.2.1 or 2001:db8::1)") << text;
    }
}

TEST(AddressTest, ParsesEndpoints) {
    const auto v4 = parseEndpoint("127.0.0.1:5300");
    ASSERT_TRUE(v4.value);
    EXPECT_EQ(v4.value->address, ip::make_address("127.0.0.1"));
    EXPECT_EQ(v4.value->port, 5300);
    EXPECT_EQ(v4.value->text, "127.0.0.1:5300");

    const auto v6 = parseEndpoint("[::1]:65535");
    ASSERT_TRUE(v6.value);
    EXPECT_EQ(v6.value->address, ip::make_address("::1"));
    EXPECT_EQ(v6.value->port, 65535);
}

TEST(AddressTest, AcceptsPortZero) {
    const auto r = parseEndpoint("127.0.0.1:0");
    ASSERT_TRUE(r.value);
    EXPECT_EQ(r.value->port, 0);
}

TEST(AddressTest, RejectsEndpointsWithoutValidPort) {
    EXPECT_EQ(parseEndpoint("127.0.0.1").error,
              "has no port (use 192.0.2.1:53 or [2001:db8::1]:53)");
    EXPECT_EQ(parseEndpoint("[::1]").error, "has no port (use 192.0.2.1:53 or [2001:db8::1]:53)");
    for (const char* text :
         {"127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:5x", "[::1]:99999999999"}) {
        EXPECT_EQ(parseEndpoint(text).error, "has no valid port (use 0..65535)") << text;
    }
}

TEST(AddressTest, RejectsUnbracketedIpv6Endpoint) {
    EXPECT_EQ(parseEndpoint("::1:5300").error,
              "needs brackets around an IPv6 address (use 192.0.2.1:53 or [2001:db8::1]:53)");
}

TEST(AddressTest, RejectsHostNameEndpoints) {
    const std::string expected =
        "does not start with an IP address (use 192.0.2.1:53 or [2001:db8::1]:53)";
    EXPECT_EQ(parseEndpoint("localhost:53").error, expected);
    EXPECT_EQ(parseEndpoint("[127.0.0.1]:53").error, expected);
    EXPECT_EQ(parseEndpoint("[::1:53").error,
              "has no closing ']' (use 192.0.2.1:53 or [2001:db8::1]:53)");
}

TEST(AddressTest, ParsesPrefixes) {
    const auto v4 = parsePrefix("198.51.100.0/24");
    ASSERT_TRUE(v4.value);
    EXPECT_EQ(v4.value->address, ip::make_address("198.51.100.0"));
    EXPECT_EQ(v4.value->length, 24u);

    const auto v6 = parsePrefix("2001:db8::/32");
    ASSERT_TRUE(v6.value);
    EXPECT_EQ(v6.value->length, 32u);

    EXPECT_TRUE(parsePrefix("0.0.0.0/0").value);
    EXPECT_TRUE(parsePrefix("192.0.2.7/32").value);
    EXPECT_TRUE(parsePrefix("198.51.100.128/25").value);
}

TEST(AddressTest, RejectsPrefixWithHostBitsAndNamesTheNetwork) {
    EXPECT_EQ(parsePrefix("198.51.100.1/24").error,
              "has host bits set past /24 (use 198.51.100.0/24)");
    EXPECT_EQ(parsePrefix("198.51.100.200/25").error,
              "has host bits set past /25 (use 198.51.100.128/25)");
    EXPECT_EQ(parsePrefix("2001:db8::1/32").error,
              "has host bits set past /32 (use 2001:db8::/32)");
}

TEST(AddressTest, RejectsBadPrefixes) {
    EXPECT_EQ(parsePrefix("198.51.100.0").error,
              "has no prefix length (use 198.51.100.0/24 or 2001:db8::/32)");
    EXPECT_EQ(parsePrefix("198.51.100.0/33").error, "has a bad prefix length (use 0..32)");
    EXPECT_EQ(parsePrefix("2001:db8::/129").error, "has a bad prefix length (use 0..128)");
    EXPECT_EQ(parsePrefix("198.51.100.0/").error, "has a bad prefix length (use 0..32)");
    EXPECT_EQ(parsePrefix("example.com/24").error,
              "is not an address prefix (use 198.51.100.0/24 or 2001:db8::/32)");
}

}  // namespace
}  // namespace gslb::config
