#include "server/snapshot.hpp"

#include <algorithm>
#include <cmath>

#include "config/zone_loader.hpp"
#include "server/query.hpp"

namespace gslb::server {

namespace {

/// The site's addresses of one family as RDATA.
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

/// What renderVariants needs to know about one service and family.
struct Family {
    const config::ServiceConfig& service;
    std::uint16_t type;
    const std::string& name_wire;
};

/// Renders each candidate address list (already in answer order) as one variant, keeping at
/// most max_answers records. All variants must have the same record count; a list of one
/// variant is the common case.
AddressVariants renderLists(const std::vector<std::vector<std::string>>& lists, const Family& f) {
    AddressVariants v;
    if (lists.empty() || lists.front().empty()) {
        return v;
    }
    const std::size_t keep = std::min<std::size_t>(lists.front().size(), f.service.max_answers);
    v.count = static_cast<std::uint16_t>(keep);
    v.variants = lists.size();
    for (const auto& list : lists) {
        for (std::size_t j = 0; j < keep; ++j) {
            writeRecord(v.direct, {}, f.type, f.service.ttl, list[j]);
            writeRecord(v.named, f.name_wire, f.type, f.service.ttl, list[j]);
        }
    }
    v.direct_size = v.direct.size() / v.variants;
    v.named_size = v.named.size() / v.variants;
    return v;
}

/// Round-robin: variant i is the address list rotated by i, so over any run of as many answers
/// as there are addresses each address leads, and is included, equally often.
AddressVariants renderRotations(const config::Config& cfg,
                                const std::vector<std::size_t>& sites,
                                const Family& f) {
    std::vector<std::string> all;
    for (std::size_t s : sites) {
        const auto a = siteAddresses(cfg.sites[s], f.type == dns::TypeAaaa);
        all.insert(all.end(), a.begin(), a.end());
    }
    std::vector<std::vector<std::string>> lists;
    const std::size_t n = f.service.policy == config::Policy::Failover ? 1 : all.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::string> rotated;
        for (std::size_t j = 0; j < all.size(); ++j) {
            rotated.push_back(all[(i + j) % all.size()]);
        }
        lists.push_back(std::move(rotated));
    }
    return renderLists(lists, f);
}

/// Distance from one known place: sites nearest first; sites at the same distance take turns
/// leading, one variant per turn.
AddressVariants renderNearest(const config::Config& cfg,
                              const std::vector<std::size_t>& sites,
                              const config::Location& from,
                              const Family& f) {
    std::vector<config::Location> locations;
    for (std::size_t s : sites) {
        locations.push_back(cfg.sites[s].location.value_or(config::Location{}));
    }
    const std::vector<std::size_t> order = nearestFirst(from, locations);

    // Groups of tied sites, in order.
    std::vector<std::vector<std::size_t>> groups;
    double last = -1;
    for (std::size_t i : order) {
        const double d = greatCircleKm(from, locations[i]);
        if (groups.empty() || std::fabs(d - last) > TieKm) {
            groups.emplace_back();
        }
        groups.back().push_back(sites[i]);
        last = d;
    }
    std::size_t turns = 1;
    for (const auto& g : groups) {
        turns = std::max(turns, g.size());
    }
    std::vector<std::vector<std::string>> lists;
    for (std::size_t t = 0; t < turns; ++t) {
        std::vector<std::string> list;
        for (const auto& g : groups) {
            for (std::size_t k = 0; k < g.size(); ++k) {
                const auto a =
                    siteAddresses(cfg.sites[g[(k + t) % g.size()]], f.type == dns::TypeAaaa);
                list.insert(list.end(), a.begin(), a.end());
            }
        }
        lists.push_back(std::move(list));
    }
    // Tied sites with different address counts would give variants of different sizes; the
    // first order then serves alone.
    for (const auto& list : lists) {
        if (list.size() != lists.front().size()) {
            lists.resize(1);
            break;
        }
    }
    return renderLists(lists, f);
}

std::vector<SiteRecords> renderSites(const config::Config& cfg,
                                     const std::vector<std::size_t>& sites,
                                     const Family& f) {
    std::vector<SiteRecords> out;
    for (std::size_t s : sites) {
        SiteRecords r;
        r.location = cfg.sites[s].location.value_or(config::Location{});
        for (const std::string& a : siteAddresses(cfg.sites[s], f.type == dns::TypeAaaa)) {
            writeRecord(r.direct, {}, f.type, f.service.ttl, a);
            writeRecord(r.named, f.name_wire, f.type, f.service.ttl, a);
            ++r.count;
        }
        if (r.count > 0) {
            out.push_back(std::move(r));
        }
    }
    return out;
}

}  // namespace

std::vector<std::size_t> eligibleSites(const config::ServiceConfig& service,
                                       const std::vector<bool>& site_up) {
    bool any_up = false;
    for (std::size_t s : service.sites) {
        any_up = any_up || site_up[s];
    }
    std::vector<std::size_t> out;
    for (std::size_t s : service.sites) {
        if (any_up && !site_up[s]) {
            continue;
        }
        out.push_back(s);
        if (service.policy == config::Policy::Failover) {
            break;
        }
    }
    return out;
}

std::vector<std::size_t> nearestFirst(const config::Location& from,
                                      const std::vector<config::Location>& locations) {
    std::vector<std::size_t> order(locations.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return greatCircleKm(from, locations[a]) + TieKm < greatCircleKm(from, locations[b]);
    });
    return order;
}

std::shared_ptr<const Snapshot> makeSnapshot(std::shared_ptr<const config::Config> cfg,
                                             std::shared_ptr<const AnswerTable> table,
                                             std::shared_ptr<const ClientLocator> locator,
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
        answers.distance = service.policy == config::Policy::Distance;
        answers.max_answers = static_cast<std::uint16_t>(std::min(service.max_answers, 65535u));

        const std::string name = config::nameToWire(service.name);
        const Family v4{service, dns::TypeA, name};
        const Family v6{service, dns::TypeAaaa, name};
        const std::vector<std::size_t> sites = eligibleSites(service, site_up);
        answers.v4 = renderRotations(*cfg, sites, v4);
        answers.v6 = renderRotations(*cfg, sites, v6);
        if (!answers.distance) {
            continue;
        }
        for (const config::ClientNetwork& net : cfg->clients.networks) {
            answers.near_v4.push_back(renderNearest(*cfg, sites, net.location, v4));
            answers.near_v6.push_back(renderNearest(*cfg, sites, net.location, v6));
        }
        answers.sites_v4 = renderSites(*cfg, sites, v4);
        answers.sites_v6 = renderSites(*cfg, sites, v6);
    }
    snap->identity = cfg->server.identity;
    snap->site_up = std::move(site_up);
    snap->table = std::move(table);
    snap->locator = std::move(locator);
    snap->config = std::move(cfg);
    return snap;
}

}  // namespace gslb::server
