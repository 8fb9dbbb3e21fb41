// libFuzzer target: loadConfig, the code that reads operator files at start and on SIGHUP.
// Every input is tried twice: as the YAML file next to a fixed, valid zone, and as the zone
// file named by a fixed, valid YAML. Files go to a scratch directory, as loadConfig reads paths.
//
// Oracles: ASan and UBSan; loadConfig never throws; it returns a configuration iff it reported
// no diagnostic; every diagnostic names a file; and whatever it accepts renders into an answer
// table and a snapshot that answer a query for each service, as a reload would.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.hpp"
#include "server/answer_table.hpp"
#include "server/client_locator.hpp"
#include "server/responder.hpp"
#include "server/snapshot.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace gslb;

constexpr std::string_view FixedYaml = R"(
server: {listen: ["127.0.0.1:0"], workers: 1, identity: fuzz}
zone: {origin: example.com., file: example.com.zone}
health: {interval: 2s, timeout: 1s}
sites:
  madrid:
    location: {lat: 40.42, lon: -3.70}
    addresses: [192.0.2.10, "2001:db8:a::10"]
    checks:
      - {type: http, url: "http://192.0.2.10/healthz"}
  boston:
    location: {lat: 42.36, lon: -71.06}
    addresses: [192.0.2.20]
services:
  app.example.com.: {sites: [madrid, boston]}
  near.example.com.: {sites: [madrid, boston], policy: distance}
clients:
  networks:
    - {prefix: 198.51.100.0/24, location: {lat: 48.86, lon: 2.35}}
)";

constexpr std::string_view FixedZone = R"($ORIGIN example.com.
$TTL 3600
@      IN SOA   ns1 hostmaster 1 3600 900 1209600 300
       IN NS    ns1
ns1    IN A     192.0.2.53
www    IN CNAME app
*.user IN TXT   "wild"
)";

/// A query for `name` (presentation, ending in a dot) and `type`, without EDNS.
std::vector<std::uint8_t> query(const std::string& name, std::uint16_t type) {
    std::vector<std::uint8_t> p = {0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    std::size_t start = 0;
    while (start < name.size()) {
        const std::size_t dot = name.find('.', start);
        const std::size_t end = dot == std::string::npos ? name.size() : dot;
        p.push_back(static_cast<std::uint8_t>(end - start));
        p.insert(p.end(), name.begin() + static_cast<long>(start),
                 name.begin() + static_cast<long>(end));
        start = end + 1;
    }
    p.push_back(0);
    p.insert(p.end(),
             {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
    return p;
}

/// What a reload does with an accepted configuration: render it and answer from it.
void serve(const std::shared_ptr<const config::Config>& cfg) {
    auto table = std::make_shared<const server::AnswerTable>(*cfg);
    auto locator = std::make_shared<const server::ClientLocator>(cfg->clients);
    const auto snap =
        server::makeSnapshot(cfg, table, locator, std::vector<bool>(cfg->sites.size(), true));
    static std::vector<std::uint8_t> out(server::MaxTcpMessage);
    server::ClientAddress source;
    source.family = 1;
    source.prefix = 32;
    source.bytes = {198, 51, 100, 1};
    std::vector<std::string> names = {cfg->zone.origin, "www." + cfg->zone.origin};
    for (const auto& service : cfg->services) {
        names.push_back(service.name);
    }
    for (const std::string& name : names) {
        for (std::uint16_t type :
             {server::dns::TypeA, server::dns::TypeAaaa, server::dns::TypeAny}) {
            const auto q = query(name, type);
            server::Outcome outcome;
            server::respond(*snap, q.data(), q.size(), server::Transport::Udp, source, out.data(),
                            outcome);
        }
    }
}

void loadOnce(const std::string& path) {
    config::Diagnostics diags;
    std::shared_ptr<const config::Config> cfg;
    try {
        cfg = config::loadConfig(path, diags);
    } catch (...) {
        fuzz::require(false, "loadConfig threw");
    }
    fuzz::require((cfg != nullptr) == diags.empty(),
                  "a configuration returned with errors, or refused without one");
    for (const auto& d : diags.sorted()) {
        fuzz::require(!d.file.empty() && !d.message.empty(), "a diagnostic without file or text");
    }
    if (cfg) {
        serve(cfg);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Configuration files are small; bound the work per input.
    if (size > 64 * 1024) {
        return 0;
    }
    static const fuzz::ScratchDir dir;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // 1. Fuzzed YAML, fixed zone.
    dir.write("example.com.zone", FixedZone);
    loadOnce(dir.write("gslbd.yaml", text));

    // 2. Fixed YAML, fuzzed zone.
    dir.write("example.com.zone", text);
    loadOnce(dir.write("gslbd.yaml", FixedYaml));
    return 0;
}
