#pragma once

// Helpers for server tests: load a configuration written inline, and decode responses with
// ldns (an independent DNS implementation) so assertions do not trust our own encoder.

#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/config_loader.hpp"

namespace gslb::testing {

/// Writes `yaml` and `zone` to a fresh temporary directory and loads them; fails the test
/// with every diagnostic when the configuration does not load.
inline std::shared_ptr<const config::Config> loadInline(const std::string& yaml,
                                                        const std::string& zone) {
    char tmpl[] = "/tmp/gslbd-test-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    const std::filesystem::path base(dir);
    std::ofstream(base / "gslbd.yaml") << yaml;
    std::ofstream(base / "example.com.zone") << zone;
    config::Diagnostics diags;
    auto cfg = config::loadConfig((base / "gslbd.yaml").string(), diags);
    for (const auto& d : diags.sorted()) {
        ADD_FAILURE() << config::format(d);
    }
    std::filesystem::remove_all(base);
    return cfg;
}

struct PktDeleter {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

/// Builds a query with ldns; `edns_size` 0 means no OPT record.
inline std::vector<std::uint8_t> makeQuery(const std::string& name,
                                           ldns_rr_type type,
                                           std::uint16_t edns_size = 1232,
                                           ldns_rr_class klass = LDNS_RR_CLASS_IN) {
    ldns_pkt* raw = nullptr;
    EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, name.c_str(), type, klass, 0), LDNS_STATUS_OK);
    PktPtr pkt(raw);
    ldns_pkt_set_id(pkt.get(), 0x1234);
    if (edns_size != 0) {
        ldns_pkt_set_edns_udp_size(pkt.get(), edns_size);
        ldns_pkt_set_edns_do(pkt.get(), false);
        // ldns writes an OPT record only when some EDNS field is set; the size is.
    }
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
    std::vector<std::uint8_t> out(wire, wire + size);
    std::free(wire);
    return out;
}

inline PktPtr parse(const std::uint8_t* data, std::size_t size) {
    ldns_pkt* raw = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&raw, data, size), LDNS_STATUS_OK);
    return PktPtr(raw);
}

/// The records of one section as presentation text, one per element.
inline std::vector<std::string> rrStrings(const ldns_rr_list* list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; list != nullptr && i < ldns_rr_list_rr_count(list); ++i) {
        char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
        std::string line(s);
        std::free(s);
        while (!line.empty() && line.back() == '\n') {
            line.pop_back();
        }
        out.push_back(line);
    }
    return out;
}

constexpr const char* ExampleZone = R"(
$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1 hostmaster 1 3600 900 1209600 300
        IN NS   ns1
ns1     IN A    192.0.2.53
www     IN CNAME app
docs    IN CNAME static
static  IN A    192.0.2.80
loop1   IN CNAME loop2
loop2   IN CNAME loop1
dangling IN CNAME missing
*.user  IN TXT  "wild"
a.b.ent IN A    192.0.2.1
lab     IN NS   ns.lab
ns.lab  IN A    192.0.2.99
)";

inline std::string exampleYaml(const std::string& services) {
    return R"(
server: {listen: ["127.0.0.1:0"], workers: 1, identity: test-id}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid: {addresses: [192.0.2.10, "2001:db8::10"]}
  boston: {addresses: [192.0.2.20, 192.0.2.21]}
  tokyo:  {addresses: [192.0.2.30]}
services:
)" + services;
}

}  // namespace gslb::testing
