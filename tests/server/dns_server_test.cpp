#include "server/dns_server.hpp"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <atomic>
#include <thread>

#include "server/answer_table.hpp"
#include "tests/server/test_zone.hpp"

namespace gslb::server {
namespace {

struct ResolverDeleter {
    void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverDeleter>;

/// A DnsServer on 127.0.0.1 port 0 with two workers, queried through ldns's resolver.
class DnsServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        cfg_ = testing::loadInline(testing::exampleYaml(R"(
  app.example.com: {sites: [madrid, boston]}
)"),
                                   testing::ExampleZone);
        ASSERT_NE(cfg_, nullptr);
        auto server_cfg = cfg_->server;
        server_cfg.workers = 2;
        table_ = std::make_shared<const AnswerTable>(*cfg_);
        server_ = std::make_unique<DnsServer>(server_cfg);
        server_->start(makeSnapshot(cfg_, table_, nullptr, {true, true, true}));
    }

    ResolverPtr resolver(bool tcp) {
        ResolverPtr r(ldns_resolver_new());
        ldns_rdf* addr = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
        ldns_resolver_push_nameserver(r.get(), addr);
        ldns_rdf_deep_free(addr);
        ldns_resolver_set_port(r.get(), server_->ports().at(0));
        ldns_resolver_set_usevc(r.get(), tcp);
        ldns_resolver_set_recursive(r.get(), false);
        ldns_resolver_set_retry(r.get(), 1);
        ldns_resolver_set_timeout(r.get(), timeval{2, 0});
        return r;
    }

    /// The A addresses answered for app.example.com., or an empty list on no answer.
    std::vector<std::string> appAddresses(ldns_resolver* r) {
        ldns_rdf* name = ldns_dname_new_frm_str("app.example.com.");
        ldns_pkt* raw = nullptr;
        const ldns_status st =
            ldns_resolver_query_status(&raw, r, name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
        ldns_rdf_deep_free(name);
        testing::PktPtr pkt(raw);
        std::vector<std::string> out;
        if (st != LDNS_STATUS_OK || !pkt) {
            return out;
        }
        for (const std::string& rr : testing::rrStrings(ldns_pkt_answer(pkt.get()))) {
            out.push_back(rr.substr(rr.rfind('\t') + 1));
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::shared_ptr<const config::Config> cfg_;
    std::shared_ptr<const AnswerTable> table_;
    std::unique_ptr<DnsServer> server_;
};

TEST_F(DnsServerTest, AnswersOverUdpAndTcp) {
    const std::vector<std::string> all = {"192.0.2.10", "192.0.2.20", "192.0.2.21"};
    EXPECT_EQ(appAddresses(resolver(false).get()), all);
    EXPECT_EQ(appAddresses(resolver(true).get()), all);
}

TEST_F(DnsServerTest, PublishedSnapshotIsUsedByTheNextQuery) {
    auto r = resolver(false);
    server_->publish(makeSnapshot(cfg_, table_, nullptr, {false, true, true}));
    EXPECT_EQ(appAddresses(r.get()), (std::vector<std::string>{"192.0.2.20", "192.0.2.21"}));
    server_->publish(makeSnapshot(cfg_, table_, nullptr, {true, false, true}));
    EXPECT_EQ(appAddresses(r.get()), (std::vector<std::string>{"192.0.2.10"}));
}

TEST_F(DnsServerTest, QueriesKeepBeingAnsweredWhileSnapshotsChange) {
    // A client asks in a loop while the control side swaps the up set as fast as it can;
    // every query must get one of the two consistent answers, never none or a mix.
    std::atomic<bool> done{false};
    std::thread flapper([&] {
        bool up = false;
        while (!done.load()) {
            server_->publish(makeSnapshot(cfg_, table_, nullptr, {up, true, true}));
            up = !up;
        }
    });
    auto r = resolver(false);
    const std::vector<std::string> both = {"192.0.2.10", "192.0.2.20", "192.0.2.21"};
    const std::vector<std::string> boston = {"192.0.2.20", "192.0.2.21"};
    int answered = 0;
    for (int i = 0; i < 300; ++i) {
        const auto got = appAddresses(r.get());
        EXPECT_TRUE(got == both || got == boston) << "query " << i << " got " << got.size();
        answered += got.empty() ? 0 : 1;
    }
    done = true;
    flapper.join();
    EXPECT_EQ(answered, 300);
    const ServerStats stats = server_->stats();
    EXPECT_GE(stats.answers[0][0], 300u);
}

}  // namespace
}  // namespace gslb::server
