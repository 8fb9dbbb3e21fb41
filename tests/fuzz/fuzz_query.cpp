// libFuzzer target: one whole message through respond(), the query path every DNS worker runs,
// over UDP and over TCP, against snapshots of a small zone with round-robin, failover and
// distance services (clients.networks and a GeoIP database) in several health states.
//
// Oracles, beyond ASan and UBSan: every response is a DNS message an independent parser (ldns)
// reads, it carries the query's id, and a UDP response fits the size the client allowed.

// ldns/common.h defines `bool` as a macro unless <stdbool.h> came first, which breaks libstdc++
// under clang; so stdbool.h goes first, out of clang-format's sorted order.
// clang-format off
#include <stdbool.h>
#include <ldns/ldns.h>
// clang-format on

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "config/config_loader.hpp"
#include "server/answer_table.hpp"
#include "server/client_locator.hpp"
#include "server/responder.hpp"
#include "server/snapshot.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace gslb;

constexpr const char* Zone = R"($ORIGIN example.com.
$TTL 3600
@        IN SOA   ns1 hostmaster 1 3600 900 1209600 300
         IN NS    ns1
         IN NS    ns2.example.net.
         IN MX    10 mail
ns1      IN A     192.0.2.53
ns1      IN AAAA  2001:db8::53
mail     IN A     192.0.2.25
www      IN CNAME app
far      IN CNAME near
docs     IN CNAME static
static   IN A     192.0.2.80
loop1    IN CNAME loop2
loop2    IN CNAME loop1
dangling IN CNAME missing
*.user   IN TXT   "wild"
*.svc    IN CNAME app
a.b.ent  IN A     192.0.2.1
lab      IN NS    ns.lab
ns.lab   IN A     192.0.2.99
_dns._udp IN SRV  0 0 53 ns1
big      IN TXT   "0123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "1123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "2123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "3123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "4123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "5123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "6123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT   "7123456789012345678901234567890123456789012345678901234567890123456789"
)";

std::string yaml() {
    return std::string(R"(
server: {listen: ["127.0.0.1:0"], workers: 1, identity: fuzz-identity}
zone: {origin: example.com., file: example.com.zone}
sites:
  madrid:
    location: {lat: 40.42, lon: -3.70}
    addresses: [192.0.2.10, 192.0.2.11, "2001:db8:a::10"]
  boston:
    location: {lat: 42.36, lon: -71.06}
    addresses: [192.0.2.20, "2001:db8:b::20", "2001:db8:b::21"]
  tokyo:
    location: {lat: 35.68, lon: 139.69}
    addresses: [192.0.2.30]
  twin:
    location: {lat: 40.42, lon: -3.70}
    addresses: [192.0.2.40, "2001:db8:c::40"]
services:
  app.example.com.: {sites: [madrid, boston, tokyo, twin], ttl: 30}
  one.example.com.: {sites: [madrid, boston, tokyo], max_answers: 1}
  primary.example.com.: {sites: [boston, madrid], policy: failover, when_all_down: servfail}
  near.example.com.: {sites: [madrid, boston, tokyo, twin], policy: distance, max_answers: 3}
clients:
  geoip_db: )") +
           GSLBD_TEST_DATA + R"(/geoip/test-city.mmdb
  networks:
    - {prefix: 198.51.100.0/24, location: {lat: 48.86, lon: 2.35}}
    - {prefix: 198.51.100.128/25, location: {lat: 40.71, lon: -74.01}}
    - {prefix: "2001:db8:1::/48", location: {lat: 35.0, lon: 139.0}}
)";
}

struct World {
    std::shared_ptr<const config::Config> cfg;
    std::vector<std::shared_ptr<const server::Snapshot>> snapshots;
    std::vector<server::ClientAddress> sources;
};

server::ClientAddress address(std::uint8_t family, std::initializer_list<std::uint8_t> bytes) {
    server::ClientAddress a;
    a.family = family;
    a.prefix = family == 1 ? 32 : family == 2 ? 128 : 0;
    std::size_t i = 0;
    for (std::uint8_t b : bytes) {
        a.bytes[i++] = b;
    }
    return a;
}

World makeWorld() {
    World w;
    const fuzz::ScratchDir dir;
    dir.write("example.com.zone", Zone);
    const std::string path = dir.write("gslbd.yaml", yaml());
    config::Diagnostics diags;
    w.cfg = config::loadConfig(path, diags);
    if (!w.cfg) {
        diags.print(std::cerr);
        fuzz::require(false, "the fuzz configuration does not load");
    }
    auto table = std::make_shared<const server::AnswerTable>(*w.cfg);
    auto locator = std::make_shared<const server::ClientLocator>(w.cfg->clients);

    // Health states: all up, one down, only the farthest up, all down (serve-all / servfail).
    const std::vector<std::vector<bool>> states = {
        {true, true, true, true},
        {false, true, true, true},
        {false, false, true, false},
        {false, false, false, false},
    };
    for (const auto& up : states) {
        w.snapshots.push_back(server::makeSnapshot(w.cfg, table, locator, up));
    }

    // Sources: a listed network, a longer listed prefix, a listed IPv6 network, the GeoIP
    // database's IPv4 and IPv6 networks, an unknown address, and no address at all.
    w.sources = {
        address(1, {198, 51, 100, 7}),
        address(1, {198, 51, 100, 200}),
        address(2, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
        address(1, {192, 0, 2, 5}),
        address(2, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}),
        address(1, {10, 1, 2, 3}),
        address(0, {}),
        address(1, {198, 18, 0, 1}),
    };
    return w;
}

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};

/// The UDP size the client allowed (RFC 6891 section 6.2.5), capped at what gslbd sends.
std::size_t udpLimit(const std::uint8_t* data, std::size_t size) {
    server::Query q;
    if (server::readQuery(data, size, q) != server::QueryStatus::Ok || !q.edns) {
        return gslb::server::dns::MinUdpPayload;
    }
    return std::clamp<std::size_t>(q.edns_payload, server::dns::MinUdpPayload,
                                   server::dns::MaxUdpPayload);
}

void check(const std::uint8_t* in,
           std::size_t in_size,
           const std::uint8_t* out,
           std::size_t out_size,
           std::size_t limit) {
    if (out_size == 0) {
        return;
    }
    fuzz::require(out_size <= limit, "response larger than the transport allows");
    fuzz::require(out_size >= server::dns::HeaderSize, "response shorter than a header");
    fuzz::require(in_size >= 2 && out[0] == in[0] && out[1] == in[1], "response id differs");
    fuzz::require((out[2] & 0x80) != 0, "response without QR");
    ldns_pkt* raw = nullptr;
    const ldns_status status = ldns_wire2pkt(&raw, out, out_size);
    std::unique_ptr<ldns_pkt, PktFree> pkt(raw);
    fuzz::require(status == LDNS_STATUS_OK, "ldns cannot parse the response");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const World world = makeWorld();

    // The query id picks the health state and the source, so the fuzzer can steer both
    // without a framing byte, and real queries work as seeds unchanged.
    const std::size_t id = size >= 2 ? (data[0] << 8 | data[1]) : 0;
    const auto& snap = *world.snapshots[id % world.snapshots.size()];
    const auto& source = world.sources[(id / world.snapshots.size()) % world.sources.size()];

    // Output buffers as the workers size them; heap-allocated so ASan sees every overrun.
    static std::vector<std::uint8_t> out(server::MaxTcpMessage);
    server::Outcome outcome;
    std::size_t len =
        server::respond(snap, data, size, server::Transport::Udp, source, out.data(), outcome);
    check(data, size, out.data(), len, udpLimit(data, size));
    len = server::respond(snap, data, size, server::Transport::Tcp, source, out.data(), outcome);
    check(data, size, out.data(), len, server::MaxTcpMessage);
    fuzz::require(!outcome.truncated, "a TCP response is truncated");
    return 0;
}
