#include "server/snapshot.hpp"

#include <algorithm>

#include "config/zone_loader.hpp"
#include "server/query.hpp"

namespace gslb::server {

namespace {

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xFF);
}

void appendAddress(std::string& out,
                   const std::string& owner,
                   std::uint16_t type,
                   std::uint32_t ttl,
                   const std::string& rdata) {
    if (owner.empty()) {
        put16(out, 0xC00C);
    } else {
        out += owner;
    }
    put16(out, type);
    put16(out, dns::ClassIn);
    put16(out, static_cast<std::uint16_t>(ttl >> 16));
    put16(out, static_cast<std::uint16_t>(ttl & 0xFFFF));
    put16(out, static_cast<std::uint16_t>(rdata.size()));
    out += rdata;
}

std::vector<std::string> siteAddresses(const config::SiteConfig& site, bool v6) {
    std::vector<std::string> out;
    if (v6) {
        for (const auto& a : site.addresses_v6) {
            const auto bytes = a.to_bytes();
            out.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        }
    } else {
        for (const auto& a : site.addresses_v4) {
            const auto bytes = a.to_bytes();
            out.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        }
    }
    return out;
}

/// Renders one variant per rotation: variant i starts at the i-th address and keeps at most
/// max_answers, so over any run of `variants` answers each address leads, and is included,
/// equally often.
AddressVariants renderVariants(const std::vector<std::string>& addresses,
                               const config::ServiceConfig& service,
                               std::uint16_t type,
                               const std::string& name_wire) {
    AddressVariants v;
    if (addresses.empty()) {
        return v;
    }
    const std::size_t n = addresses.size();
    const std::size_t keep = std::min<std::size_t>(n, service.max_answers);
    v.count = static_cast<std::uint16_t>(keep);
    v.variants = service.policy == config::Policy::Failover ? 1 : n;
    for (std::size_t i = 0; i < v.variants; ++i) {
        for (std::size_t j = 0; j < keep; ++j) {
            appendAddress(v.direct, {}, type, service.ttl, addresses[(i + j) % n]);
            appendAddress(v.named, name_wire, type, service.ttl, addresses[(i + j) % n]);
        }
    }
    v.direct_size = v.direct.size() / v.variants;
    v.named_size = v.named.size() / v.variants;
    return v;
}

}  // namespace

std::vector<std::string> serviceAddresses(const config::Config& cfg,
                                          const config::ServiceConfig& service,
                                          const std::vector<bool>& site_up,
                                          bool v6) {
    bool any_up = false;
    for (std::size_t s : service.sites) {
        any_up = any_up || site_up[s];
    }
    std::vector<std::string> out;
    for (std::size_t s : service.sites) {
        if (any_up && !site_up[s]) {
            continue;
        }
        const auto addresses = siteAddresses(cfg.sites[s], v6);
        out.insert(out.end(), addresses.begin(), addresses.end());
        // failover: only the first up site (or, all being down, the first site).
        if (service.policy == config::Policy::Failover) {
            break;
        }
    }
    return out;
}

std::shared_ptr<const Snapshot> makeSnapshot(std::shared_ptr<const config::Config> cfg,
                                             std::shared_ptr<const AnswerTable> table,
                                             std::vector<bool> site_up) {
    auto snap = std::make_shared<Snapshot>();
    snap->service_count = cfg->services.size();
    snap->services = std::make_unique<ServiceAnswers[]>(snap->service_count);
    for (std::size_t i = 0; i < cfg->services.size(); ++i) {
        const config::ServiceConfig& service = cfg->services[i];
        ServiceAnswers& answers = snap->services[i];
        bool any_up = false;
        for (std::size_t s : service.sites) {
            any_up = any_up || site_up[s];
        }
        answers.all_down = !any_up;
        answers.servfail = !any_up && service.when_all_down == config::WhenAllDown::ServFail;
        const std::string name = config::nameToWire(service.name);
        // TODO(server): the distance policy answers in round-robin order until client
        // locations (EDNS Client Subnet, clients.networks, GeoIP) are implemented.
        answers.v4 = renderVariants(serviceAddresses(*cfg, service, site_up, false), service,
                                    dns::TypeA, name);
        answers.v6 = renderVariants(serviceAddresses(*cfg, service, site_up, true), service,
                                    dns::TypeAaaa, name);
    }
    snap->identity = cfg->server.identity;
    snap->site_up = std::move(site_up);
    snap->table = std::move(table);
    snap->config = std::move(cfg);
    return snap;
}

}  // namespace gslb::server
