#include "server/client_locator.hpp"

#include <gtest/gtest.h>

#include "server/snapshot.hpp"

namespace gslb::server {
namespace {

namespace ip = boost::asio::ip;

config::ClientNetwork net(const char* prefix, unsigned length, double lat) {
    return config::ClientNetwork{ip::make_address(prefix), length, config::Location{lat, 0}};
}

ClientAddress addr(const char* text, int prefix = -1) {
    ClientAddress a;
    const auto parsed = ip::make_address(text);
    if (parsed.is_v4()) {
        const auto b = parsed.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), a.bytes.begin());
        a.family = 1;
        a.prefix = static_cast<std::uint8_t>(prefix < 0 ? 32 : prefix);
    } else {
        const auto b = parsed.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), a.bytes.begin());
        a.family = 2;
        a.prefix = static_cast<std::uint8_t>(prefix < 0 ? 128 : prefix);
    }
    return a;
}

class ClientLocatorTest : public ::testing::Test {
protected:
    ClientLocatorTest() {
        clients_.networks = {
            net("0.0.0.0", 0, 0),          // 0: everything IPv4
            net("198.51.100.0", 24, 1),    // 1
            net("198.51.100.128", 25, 2),  // 2: nested, longer
            net("198.51.100.7", 32, 3),    // 3: one host
            net("2001:db8::", 32, 4),      // 4
            net("2001:db8:1::", 48, 5),    // 5: nested
            net("2001:db8:1::1", 128, 6),  // 6: one host
        };
    }
    ClientLocation locate(const ClientAddress& a) { return ClientLocator(clients_).locate(a); }

    config::ClientsConfig clients_;
};

TEST_F(ClientLocatorTest, LongestIpv4PrefixWins) {
    EXPECT_EQ(locate(addr("198.51.100.7")).network, 3u);
    EXPECT_EQ(locate(addr("198.51.100.7")).scope, 32);
    EXPECT_EQ(locate(addr("198.51.100.200")).network, 2u);
    EXPECT_EQ(locate(addr("198.51.100.200")).scope, 25);
    EXPECT_EQ(locate(addr("198.51.100.1")).network, 1u);
    EXPECT_EQ(locate(addr("203.0.113.9")).network, 0u);
    EXPECT_EQ(locate(addr("203.0.113.9")).scope, 0);
}

TEST_F(ClientLocatorTest, LongestIpv6PrefixWins) {
    EXPECT_EQ(locate(addr("2001:db8:1::1")).network, 6u);
    EXPECT_EQ(locate(addr("2001:db8:1::1")).scope, 128);
    EXPECT_EQ(locate(addr("2001:db8:1::2")).network, 5u);
    EXPECT_EQ(locate(addr("2001:db8:2::2")).network, 4u);
    EXPECT_EQ(locate(addr("2001:db9::1")).kind, ClientLocation::Kind::Unknown);
}

TEST_F(ClientLocatorTest, SubnetShorterThanANetworkDoesNotMatchIt) {
    // A /24 client subnet cannot be placed in a /25 inside it: the /24 entry answers.
    const ClientLocation where = locate(addr("198.51.100.128", 24));
    EXPECT_EQ(where.network, 1u);
    EXPECT_EQ(where.scope, 24);
}

TEST_F(ClientLocatorTest, ZeroSourcePrefixIsUnknown) {
    EXPECT_EQ(locate(addr("198.51.100.7", 0)).kind, ClientLocation::Kind::Unknown);
}

TEST_F(ClientLocatorTest, NoNetworksMeansUnknown) {
    clients_.networks.clear();
    EXPECT_EQ(locate(addr("198.51.100.7")).kind, ClientLocation::Kind::Unknown);
}

TEST_F(ClientLocatorTest, DatabasePlacesClientsNotInNetworks) {
    clients_.geoip_db = GSLBD_TEST_DATA "/geoip/test-city.mmdb";
    clients_.networks = {net("198.51.100.0", 24, 1)};
    const ClientLocation v4 = locate(addr("192.0.2.77"));
    ASSERT_EQ(v4.kind, ClientLocation::Kind::Geo);
    EXPECT_NEAR(v4.location.lat, 40.0, 1e-9);
    EXPECT_EQ(v4.scope, 25);
    const ClientLocation v6 = locate(addr("2001:db8:aa:1::1"));
    ASSERT_EQ(v6.kind, ClientLocation::Kind::Geo);
    EXPECT_NEAR(v6.location.lon, -71.0, 1e-9);
    EXPECT_EQ(v6.scope, 48);
    // Networks are consulted first.
    EXPECT_EQ(locate(addr("198.51.100.1")).kind, ClientLocation::Kind::Network);
    EXPECT_EQ(locate(addr("2001:db9::1")).kind, ClientLocation::Kind::Unknown);
}

TEST_F(ClientLocatorTest, UnreadableDatabaseThrows) {
    clients_.geoip_db = GSLBD_TEST_DATA "/geoip/make-test-city.pl";
    EXPECT_THROW(ClientLocator{clients_}, std::runtime_error);
}

TEST(GreatCircleTest, KnownDistances) {
    const config::Location madrid{40.42, -3.70};
    const config::Location boston{42.36, -71.06};
    const config::Location tokyo{35.68, 139.69};
    EXPECT_NEAR(greatCircleKm(madrid, boston), 5470, 30);
    EXPECT_NEAR(greatCircleKm(madrid, madrid), 0, 1e-9);
    // Across the antimeridian the short way round is taken.
    EXPECT_NEAR(greatCircleKm({0, 179}, {0, -179}), 222, 1);
    EXPECT_EQ(nearestFirst({48.86, 2.35}, {tokyo, boston, madrid}),
              (std::vector<std::size_t>{2, 1, 0}));
    EXPECT_EQ(nearestFirst({37.77, -122.42}, {madrid, boston, tokyo}),
              (std::vector<std::size_t>{1, 2, 0}));
}

}  // namespace
}  // namespace gslb::server
