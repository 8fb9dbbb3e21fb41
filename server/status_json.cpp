#include "server/status_json.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace gslb::server {

namespace {

using nlohmann::json;

const char* typeName(config::CheckType type) {
    switch (type) {
        case config::CheckType::Haproxy:
            return "haproxy";
        case config::CheckType::Http:
            return "http";
        case config::CheckType::Https:
            return "https";
        case config::CheckType::Tcp:
            return "tcp";
    }
    return "unknown";
}

const char* policyName(config::Policy policy) {
    switch (policy) {
        case config::Policy::RoundRobin:
            return "round-robin";
        case config::Policy::Distance:
            return "distance";
        case config::Policy::Failover:
            return "failover";
    }
    return "unknown";
}

/// What a check probes, for people: the URL, or the address of a tcp check. A password
/// written in the URL ("http://user:secret@host/") is masked: the status API needs no token.
std::string target(const config::CheckConfig& check) {
    if (check.type == config::CheckType::Tcp) {
        return check.address.text;
    }
    std::string url = check.url;
    const std::size_t scheme = url.find("://");
    if (scheme == std::string::npos) {
        return url;
    }
    const std::size_t host_start = scheme + 3;
    const std::size_t path = url.find('/', host_start);
    const std::size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
    if (at == std::string::npos || at < host_start) {
        return url;
    }
    const std::size_t colon = url.find(':', host_start);
    if (colon != std::string::npos && colon < at) {
        url.replace(colon + 1, at - colon - 1, "****");
    }
    return url;
}

/// The addresses of one family a service answers with, in preference order before rotation
/// (and before distance ordering, which depends on the client).
json answerAddresses(const config::Config& cfg,
                     const config::ServiceConfig& service,
                     const std::vector<bool>& site_up,
                     bool v6) {
    json out = json::array();
    for (const std::size_t s : eligibleSites(service, site_up)) {
        const config::SiteConfig& site = cfg.sites[s];
        if (v6) {
            for (const auto& a : site.addresses_v6) {
                out.push_back(a.to_string());
            }
        } else {
            for (const auto& a : site.addresses_v4) {
                out.push_back(a.to_string());
            }
        }
    }
    return out;
}

json checkJson(const config::CheckConfig& check, const health::CheckStatus* status) {
    json j = {{"id", check.id}, {"type", typeName(check.type)}, {"target", target(check)}};
    const bool ran = status != nullptr && status->runs > 0;
    j["up"] = status == nullptr || status->up;
    j["state"] = !ran ? "pending" : (status->up ? "up" : "down");
    j["last_ok"] = ran ? json(status->last_ok) : json(nullptr);
    j["reason"] = ran ? json(status->reason) : json(nullptr);
    j["latency_ms"] =
        ran ? json(static_cast<double>(status->latency.count()) / 1000.0) : json(nullptr);
    const bool changed = status != nullptr && status->last_change.time_since_epoch().count() != 0;
    j["last_change"] = changed ? json(rfc3339(status->last_change)) : json(nullptr);
    j["runs"] = status == nullptr ? 0 : status->runs;
    j["failures"] = status == nullptr ? 0 : status->failures;
    return j;
}

json sitesJson(const StatusInput& in) {
    const config::Config& cfg = *in.snapshot->config;
    std::unordered_map<std::string, const health::CheckStatus*> by_id;
    for (const auto& status : in.checks) {
        by_id.emplace(status.id, &status);
    }
    json sites = json::array();
    for (std::size_t s = 0; s < cfg.sites.size(); ++s) {
        const config::SiteConfig& site = cfg.sites[s];
        const bool checks_up = s < in.checks_up.size() ? bool(in.checks_up[s]) : true;
        const bool drained = s < in.drained.size() && in.drained[s];
        json addresses = json::array();
        for (const auto& a : site.addresses_v4) {
            addresses.push_back(a.to_string());
        }
        for (const auto& a : site.addresses_v6) {
            addresses.push_back(a.to_string());
        }
        json checks = json::array();
        for (const auto& check : site.checks) {
            const auto it = by_id.find(check.id);
            checks.push_back(checkJson(check, it == by_id.end() ? nullptr : it->second));
        }
        json j = {{"name", site.name},
                  {"state", siteState(checks_up, drained)},
                  {"drained", drained},
                  {"checks_up", checks_up},
                  {"in_answers", checks_up && !drained},
                  {"addresses", std::move(addresses)},
                  {"checks", std::move(checks)}};
        j["location"] = site.location
                            ? json{{"lat", site.location->lat}, {"lon", site.location->lon}}
                            : json(nullptr);
        sites.push_back(std::move(j));
    }
    return sites;
}

json servicesJson(const Snapshot& snap) {
    const config::Config& cfg = *snap.config;
    json services = json::array();
    for (std::size_t i = 0; i < cfg.services.size(); ++i) {
        const config::ServiceConfig& service = cfg.services[i];
        const ServiceAnswers& answers = snap.services[i];
        json sites = json::array();
        for (std::size_t s : service.sites) {
            sites.push_back(cfg.sites[s].name);
        }
        json a = json::array();
        json aaaa = json::array();
        if (!answers.servfail) {
            a = answerAddresses(cfg, service, snap.site_up, false);
            aaaa = answerAddresses(cfg, service, snap.site_up, true);
        }
        services.push_back(
            {{"name", service.name},
             {"policy", policyName(service.policy)},
             {"ttl", service.ttl},
             {"max_answers", service.max_answers},
             {"when_all_down",
              service.when_all_down == config::WhenAllDown::ServFail ? "servfail" : "serve-all"},
             {"sites", std::move(sites)},
             {"all_down", answers.all_down},
             {"servfail", answers.servfail},
             {"answers", {{"A", std::move(a)}, {"AAAA", std::move(aaaa)}}}});
    }
    return services;
}

}  // namespace

const char* siteState(bool checks_up, bool drained) {
    if (drained) {
        return "drained";
    }
    return checks_up ? "up" : "down";
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    return std::string(buf, n) + frac;
}

std::string renderStatus(const StatusInput& in) {
    const Snapshot& snap = *in.snapshot;
    const config::Config& cfg = *snap.config;
    json doc;
    doc["server"] = {{"identity", snap.identity},
                     {"version", in.version},
                     {"uptime_seconds", in.uptime_seconds},
                     {"now", rfc3339(in.now)},
                     {"config_generation", in.generation},
                     {"config_path", cfg.path},
                     {"zone", {{"origin", cfg.zone.origin}, {"serial", cfg.zone_data->serial}}},
                     {"write_api", in.write_api}};
    doc["sites"] = sitesJson(in);
    doc["services"] = servicesJson(snap);
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace gslb::server
