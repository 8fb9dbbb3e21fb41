#include "server/responder.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>
#include <vector>

#include "server/answer_table.hpp"
#include "tests/server/test_zone.hpp"

namespace gslb::server {
namespace {

using testing::makeQuery;
using testing::rrStrings;

class ResponderTest : public ::testing::Test {
protected:
    void load(const std::string& services, const std::string& zone = testing::ExampleZone) {
        cfg_ = testing::loadInline(testing::exampleYaml(services), zone);
        ASSERT_NE(cfg_, nullptr);
        table_ = std::make_shared<const AnswerTable>(*cfg_);
        setUp({true, true, true});
    }

    void setUp(std::vector<bool> up) { snap_ = makeSnapshot(cfg_, table_, nullptr, std::move(up)); }

    testing::PktPtr ask(const std::vector<std::uint8_t>& query,
                        Transport t = Transport::Udp,
                        Outcome* outcome = nullptr) {
        Outcome o;
        const std::size_t len =
            respond(*snap_, query.data(), query.size(), t, source_, out_.data(), o);
        if (outcome != nullptr) {
            *outcome = o;
        }
        last_size_ = len;
        return len == 0 ? nullptr : testing::parse(out_.data(), len);
    }

    testing::PktPtr ask(const std::string& name, ldns_rr_type type) {
        return ask(makeQuery(name, type));
    }

    std::shared_ptr<const config::Config> cfg_;
    std::shared_ptr<const AnswerTable> table_;
    std::shared_ptr<const Snapshot> snap_;
    std::vector<std::uint8_t> out_ = std::vector<std::uint8_t>(MaxTcpMessage);
    std::size_t last_size_ = 0;
    ClientAddress source_;
};

constexpr const char* RoundRobin = R"(
  app.example.com: {sites: [madrid, boston, tokyo], ttl: 30}
)";

TEST_F(ResponderTest, ServiceAnswersWithEveryUpSiteAndServiceTtl) {
    load(RoundRobin);
    auto pkt = ask("app.example.com.", LDNS_RR_TYPE_A);
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    const auto an = rrStrings(ldns_pkt_answer(pkt.get()));
    ASSERT_EQ(an.size(), 4u);
    for (const std::string& rr : an) {
        EXPECT_EQ(rr.rfind("app.example.com.\t30\tIN\tA\t", 0), 0u) << rr;
    }
}

TEST_F(ResponderTest, RoundRobinLeadsAndIncludesEachAddressEquallyOften) {
    load(R"(
  app.example.com: {sites: [madrid, boston, tokyo], max_answers: 2}
)");
    std::map<std::string, int> leads;
    std::map<std::string, int> included;
    for (int i = 0; i < 4 * 25; ++i) {
        auto pkt = ask("app.example.com.", LDNS_RR_TYPE_A);
        const auto an = rrStrings(ldns_pkt_answer(pkt.get()));
        ASSERT_EQ(an.size(), 2u);
        ++leads[an[0]];
        for (const auto& rr : an) {
            ++included[rr];
        }
    }
    ASSERT_EQ(leads.size(), 4u);
    for (const auto& [rr, n] : leads) {
        EXPECT_EQ(n, 25) << rr;
        EXPECT_EQ(included[rr], 50) << rr;
    }
}

TEST_F(ResponderTest, DownSiteLeavesTheAnswer) {
    load(RoundRobin);
    setUp({true, false, true});
    const auto an = rrStrings(ldns_pkt_answer(ask("app.example.com.", LDNS_RR_TYPE_A).get()));
    ASSERT_EQ(an.size(), 2u);
    for (const auto& rr : an) {
        EXPECT_EQ(rr.find("192.0.2.2"), std::string::npos) << rr;
    }
}

TEST_F(ResponderTest, FailoverServesOnlyTheFirstUpSite) {
    load(R"(
  app.example.com: {sites: [boston, madrid], policy: failover}
)");
    auto an = rrStrings(ldns_pkt_answer(ask("app.example.com.", LDNS_RR_TYPE_A).get()));
    ASSERT_EQ(an.size(), 2u);
    EXPECT_NE(an[0].find("192.0.2.20"), std::string::npos);
    EXPECT_NE(an[1].find("192.0.2.21"), std::string::npos);
    setUp({true, false, true});
    an = rrStrings(ldns_pkt_answer(ask("app.example.com.", LDNS_RR_TYPE_A).get()));
    ASSERT_EQ(an.size(), 1u);
    EXPECT_NE(an[0].find("192.0.2.10"), std::string::npos);
}

TEST_F(ResponderTest, AllDownWithServeAllAnswersEverySite) {
    load(R"(
  app.example.com: {sites: [madrid, boston], when_all_down: serve-all}
)");
    setUp({false, false, true});
    EXPECT_EQ(ldns_pkt_ancount(ask("app.example.com.", LDNS_RR_TYPE_A).get()), 3);
}

TEST_F(ResponderTest, AllDownWithServfailAnswersServfail) {
    load(R"(
  app.example.com: {sites: [madrid, boston], when_all_down: servfail}
)");
    setUp({false, false, true});
    auto pkt = ask("app.example.com.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_SERVFAIL);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
}

TEST_F(ResponderTest, ServiceWithoutThatFamilyUpIsNodata) {
    load(R"(
  app.example.com: {sites: [madrid, boston]}
)");
    setUp({false, true, true});
    auto pkt = ask("app.example.com.", LDNS_RR_TYPE_AAAA);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(pkt.get()), 1);
}

TEST_F(ResponderTest, ServiceQueriedForOtherTypeIsNodata) {
    load(RoundRobin);
    auto pkt = ask("app.example.com.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
    const auto ns = rrStrings(ldns_pkt_authority(pkt.get()));
    ASSERT_EQ(ns.size(), 1u);
    // Negative TTL: min(SOA TTL 3600, SOA minimum 300).
    EXPECT_EQ(ns[0].rfind("example.com.\t300\tIN\tSOA\t", 0), 0u) << ns[0];
}

TEST_F(ResponderTest, CnameToServiceIsFollowed) {
    load(RoundRobin);
    const auto an = rrStrings(ldns_pkt_answer(ask("www.example.com.", LDNS_RR_TYPE_A).get()));
    ASSERT_EQ(an.size(), 5u);
    EXPECT_EQ(an[0], "www.example.com.\t3600\tIN\tCNAME\tapp.example.com.");
    EXPECT_EQ(an[1].rfind("app.example.com.\t30\tIN\tA\t", 0), 0u) << an[1];
}

TEST_F(ResponderTest, CnameToMissingNameIsNxdomainWithTheCname) {
    load(RoundRobin);
    auto pkt = ask("dangling.example.com.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 1);
    EXPECT_EQ(ldns_pkt_nscount(pkt.get()), 1);
}

TEST_F(ResponderTest, CnameLoopStopsWithTheChainSoFar) {
    load(RoundRobin);
    auto pkt = ask("loop1.example.com.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
}

TEST_F(ResponderTest, WildcardAnswersWithTheQuestionAsOwner) {
    load(RoundRobin);
    const auto an =
        rrStrings(ldns_pkt_answer(ask("Someone.user.example.com.", LDNS_RR_TYPE_TXT).get()));
    ASSERT_EQ(an.size(), 1u);
    EXPECT_EQ(an[0], "Someone.user.example.com.\t3600\tIN\tTXT\t\"wild\"");
}

TEST_F(ResponderTest, EmptyNonTerminalIsNodataNotWildcardOrNxdomain) {
    load(RoundRobin);
    for (const char* name : {"user.example.com.", "b.ent.example.com.", "ent.example.com."}) {
        auto pkt = ask(name, LDNS_RR_TYPE_TXT);
        EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR) << name;
        EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0) << name;
    }
}

TEST_F(ResponderTest, MissingNameIsNxdomainWithSoa) {
    load(RoundRobin);
    auto pkt = ask("nope.example.com.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    const auto ns = rrStrings(ldns_pkt_authority(pkt.get()));
    ASSERT_EQ(ns.size(), 1u);
    EXPECT_NE(ns[0].find("SOA"), std::string::npos);
}

TEST_F(ResponderTest, NameBelowDelegationGetsReferralWithGlue) {
    load(RoundRobin);
    for (const char* name : {"lab.example.com.", "host.lab.example.com.", "ns.lab.example.com."}) {
        auto pkt = ask(name, LDNS_RR_TYPE_A);
        EXPECT_FALSE(ldns_pkt_aa(pkt.get())) << name;
        EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0) << name;
        EXPECT_EQ(rrStrings(ldns_pkt_authority(pkt.get())),
                  std::vector<std::string>{"lab.example.com.\t3600\tIN\tNS\tns.lab.example.com."});
        EXPECT_EQ(rrStrings(ldns_pkt_additional(pkt.get())),
                  std::vector<std::string>{"ns.lab.example.com.\t3600\tIN\tA\t192.0.2.99"});
    }
}

TEST_F(ResponderTest, DsAtDelegationIsAnsweredByTheParent) {
    load(RoundRobin);
    auto pkt = ask("lab.example.com.", LDNS_RR_TYPE_DS);
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(pkt.get()), 1);
}

TEST_F(ResponderTest, NameOutsideZoneIsRefused) {
    load(RoundRobin);
    for (const char* name : {"example.org.", "com.", "xexample.com."}) {
        auto pkt = ask(name, LDNS_RR_TYPE_A);
        EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_REFUSED) << name;
    }
}

TEST_F(ResponderTest, AnyGetsOneRrset) {
    load(RoundRobin);
    auto pkt = ask("example.com.", LDNS_RR_TYPE_ANY);
    const auto an = rrStrings(ldns_pkt_answer(pkt.get()));
    ASSERT_FALSE(an.empty());
    EXPECT_NE(an[0].find("\tNS\t"), std::string::npos);
    for (const auto& rr : an) {
        EXPECT_NE(rr.find("\tNS\t"), std::string::npos) << rr;
    }
}

TEST_F(ResponderTest, QuestionCaseIsKept) {
    load(RoundRobin);
    auto pkt = ask("ApP.ExAmPlE.CoM.", LDNS_RR_TYPE_A);
    const auto q = rrStrings(ldns_pkt_question(pkt.get()));
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].rfind("ApP.ExAmPlE.CoM.", 0), 0u);
}

TEST_F(ResponderTest, OversizedUdpAnswerIsTruncatedAndWholeOverTcp) {
    std::string zone = testing::ExampleZone;
    for (int i = 0; i < 20; ++i) {
        zone += "big IN TXT \"" + std::string(100, static_cast<char>('a' + i)) + "\"\n";
    }
    load(RoundRobin, zone);
    Outcome o;
    auto udp = ask(makeQuery("big.example.com.", LDNS_RR_TYPE_TXT), Transport::Udp, &o);
    EXPECT_TRUE(ldns_pkt_tc(udp.get()));
    EXPECT_TRUE(o.truncated);
    EXPECT_LE(last_size_, 1232u);
    auto tcp = ask(makeQuery("big.example.com.", LDNS_RR_TYPE_TXT), Transport::Tcp);
    EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
    EXPECT_EQ(ldns_pkt_ancount(tcp.get()), 20);
}

TEST_F(ResponderTest, UdpWithoutEdnsIsLimitedTo512) {
    std::string zone = testing::ExampleZone;
    for (int i = 0; i < 6; ++i) {
        zone += "mid IN TXT \"" + std::string(100, static_cast<char>('a' + i)) + "\"\n";
    }
    load(RoundRobin, zone);
    auto plain = ask(makeQuery("mid.example.com.", LDNS_RR_TYPE_TXT, 0));
    EXPECT_TRUE(ldns_pkt_tc(plain.get()));
    EXPECT_LE(last_size_, 512u);
    auto edns = ask(makeQuery("mid.example.com.", LDNS_RR_TYPE_TXT, 1232));
    EXPECT_FALSE(ldns_pkt_tc(edns.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(edns.get()), 1232);
}

TEST_F(ResponderTest, ChaosIdServerGivesIdentity) {
    load(RoundRobin);
    auto pkt = ask(makeQuery("id.server.", LDNS_RR_TYPE_TXT, 0, LDNS_RR_CLASS_CH));
    const auto an = rrStrings(ldns_pkt_answer(pkt.get()));
    ASSERT_EQ(an.size(), 1u);
    EXPECT_EQ(an[0], "id.server.\t0\tCH\tTXT\t\"test-id\"");
}

TEST_F(ResponderTest, GarbageGetsNoAnswerOrFormErr) {
    load(RoundRobin);
    EXPECT_EQ(ask(std::vector<std::uint8_t>{1, 2, 3}), nullptr);
    std::vector<std::uint8_t> junk(40, 0xFF);
    junk[2] = 0x01;  // a query, QR clear
    Outcome o;
    ask(junk, Transport::Udp, &o);
    EXPECT_EQ(o.rcode, dns::RcodeFormErr);
}

}  // namespace
}  // namespace gslb::server

namespace gslb::server {
namespace {

/// Distance answers: madrid (Europe), boston (America), tokyo (Asia); clients placed by
/// clients.networks.
class DistanceTest : public ResponderTest {
protected:
    void SetUp() override {
        cfg_ = testing::loadInline(R"(
server: {listen: ["127.0.0.1:0"], workers: 1, identity: test-id}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid: {addresses: [192.0.2.10], location: {lat: 40.42, lon: -3.70}}
  boston: {addresses: [192.0.2.20], location: {lat: 42.36, lon: -71.06}}
  tokyo:  {addresses: [192.0.2.30], location: {lat: 35.68, lon: 139.69}}
services:
  near.example.com: {sites: [madrid, boston, tokyo], policy: distance}
  rr.example.com: {sites: [madrid, boston, tokyo]}
clients:
  networks:
    - {prefix: 198.51.100.0/24, location: {lat: 48.86, lon: 2.35}}
    - {prefix: 203.0.113.0/24, location: {lat: 37.77, lon: -122.42}}
)",
                                   testing::ExampleZone);
        ASSERT_NE(cfg_, nullptr);
        table_ = std::make_shared<const AnswerTable>(*cfg_);
        locator_ = std::make_shared<const ClientLocator>(cfg_->clients);
        setUp({true, true, true});
    }
    void setUp(std::vector<bool> up) {
        snap_ = makeSnapshot(cfg_, table_, locator_, std::move(up));
    }

    /// Asks with ECS for `subnet`/`prefix` (IPv4); returns the answer's addresses in order
    /// and the ECS scope returned.
    std::pair<std::vector<std::string>, int> askFrom(const std::string& name,
                                                     std::array<std::uint8_t, 3> subnet,
                                                     std::uint8_t prefix = 24) {
        std::vector<std::uint8_t> q = makeQuery(name, LDNS_RR_TYPE_A, 0);
        q[11] = 1;
        const std::vector<std::uint8_t> opt = {0, 0,      41, 0x04,      0xD0,      0,        0, 0,
                                               0, 0,      11, 0,         8,         0,        7, 0,
                                               1, prefix, 0,  subnet[0], subnet[1], subnet[2]};
        q.insert(q.end(), opt.begin(), opt.end());
        auto pkt = ask(q);
        std::vector<std::string> out;
        for (const std::string& rr : rrStrings(ldns_pkt_answer(pkt.get()))) {
            out.push_back(rr.substr(rr.rfind('\t') + 1));
        }
        int scope = -1;
        // The ECS option is the last 11 bytes of the OPT RDATA: scope is its 8th byte.
        if (last_size_ >= 8) {
            scope = out_[last_size_ - 4];
        }
        return {out, scope};
    }

    std::shared_ptr<const ClientLocator> locator_;
};

TEST_F(DistanceTest, ClientSubnetsInTwoNetworksGetTwoOrders) {
    const auto paris = askFrom("near.example.com.", {198, 51, 100});
    EXPECT_EQ(paris.first, (std::vector<std::string>{"192.0.2.10", "192.0.2.20", "192.0.2.30"}));
    EXPECT_EQ(paris.second, 24);
    const auto sf = askFrom("near.example.com.", {203, 0, 113});
    EXPECT_EQ(sf.first, (std::vector<std::string>{"192.0.2.20", "192.0.2.30", "192.0.2.10"}));
    EXPECT_EQ(sf.second, 24);
}

TEST_F(DistanceTest, SourceAddressDecidesWithoutClientSubnet) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0xCB007105);  // 203.0.113.5
    source_ = clientAddress(&sin, sizeof sin);
    const auto an = rrStrings(ldns_pkt_answer(ask("near.example.com.", LDNS_RR_TYPE_A).get()));
    ASSERT_EQ(an.size(), 3u);
    EXPECT_NE(an[0].find("192.0.2.20"), std::string::npos);
}

TEST_F(DistanceTest, FailedNearestSiteIsSkipped) {
    setUp({false, true, true});
    const auto paris = askFrom("near.example.com.", {198, 51, 100});
    EXPECT_EQ(paris.first, (std::vector<std::string>{"192.0.2.20", "192.0.2.30"}));
}

TEST_F(DistanceTest, UnknownClientGetsRoundRobinWithItsOwnPrefixAsScope) {
    std::map<std::string, int> leads;
    for (int i = 0; i < 3; ++i) {
        const auto r = askFrom("near.example.com.", {192, 0, 2});
        ASSERT_EQ(r.first.size(), 3u);
        ++leads[r.first[0]];
        EXPECT_EQ(r.second, 24);
    }
    EXPECT_EQ(leads.size(), 3u);
}

TEST_F(DistanceTest, ScopeIsZeroWhenTheAnswerDoesNotDependOnTheClient) {
    EXPECT_EQ(askFrom("rr.example.com.", {198, 51, 100}).second, 0);
}

}  // namespace
}  // namespace gslb::server

namespace gslb::server {
namespace {

TEST(AnswerTableTest, RrsetTooLargeForAnyMessageIsRejectedWithItsLine) {
    // Regression: 5000 A records at one name loaded, then answered TC=1 with no records even
    // over TCP, where the answer can never fit.
    std::string zone = testing::ExampleZone;
    for (int i = 0; i < 5000; ++i) {
        zone += "many IN AAAA 2001:db8::" + std::to_string(i + 1) + "\n";
    }
    const auto cfg = testing::loadInline(testing::exampleYaml(R"(
  app.example.com: {sites: [madrid]}
)"),
                                         zone);
    ASSERT_NE(cfg, nullptr);
    try {
        AnswerTable table(*cfg);
        FAIL() << "a 140 KB AAAA RRset was accepted";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("example.com.zone:"), std::string::npos) << what;
        EXPECT_NE(what.find(": many.example.com.: an answer of "), std::string::npos) << what;
        EXPECT_NE(what.find("does not fit in a DNS message"), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace gslb::server
