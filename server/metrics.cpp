#include "server/metrics.hpp"

#include <charconv>
#include <cstdio>
#include <set>

namespace gslb::server {

namespace {

const char* const ProtoNames[2] = {"udp", "tcp"};

/// Rcode mnemonics (RFC 6895 section 2.3); slot 16 is BADVERS, an extended rcode.
const char* rcodeName(std::size_t slot) {
    static const char* const Names[WorkerStats::RcodeSlots] = {
        "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI",
        "RCODE12",  "RCODE13", "RCODE14",  "RCODE15",  "BADVERS"};
    return Names[slot];
}

/// Rcodes always written, even at 0, so that rate() works from the first scrape.
bool alwaysShown(std::size_t slot) {
    return slot <= 5 || slot == 16;
}

std::string number(double value) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    return std::string(buf, r.ptr);
}

/// A histogram bound as people write it: "0.0005", "1", "2.5".
std::string bucketBound(double bound) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", bound);
    return buf;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

/// One sample line: name{labels} value. `labels` is already escaped (may be empty).
void sample(std::string& out,
            std::string_view name,
            const std::string& labels,
            std::string_view value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

void sample(std::string& out, std::string_view name, const std::string& labels, double value) {
    sample(out, name, labels, std::string_view(number(value)));
}

void sample(std::string& out,
            std::string_view name,
            const std::string& labels,
            std::uint64_t value) {
    sample(out, name, labels, std::string_view(std::to_string(value)));
}

std::string label(std::string_view key, std::string_view value) {
    return std::string(key) + "=\"" + escapeLabel(value) + "\"";
}

}  // namespace

std::string escapeLabel(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void Metrics::observeProbe(std::string_view site,
                           std::string_view check,
                           bool ok,
                           std::chrono::microseconds latency) {
    auto it = checks_.find(check);
    if (it == checks_.end()) {
        it = checks_.emplace(std::string(check), CheckSeries{}).first;
    }
    CheckSeries& series = it->second;
    series.site = site;
    ++(ok ? series.ok : series.failed);
    const double seconds = latency.count() / 1e6;
    for (std::size_t i = 0; i < LatencyBuckets.size(); ++i) {
        if (seconds <= LatencyBuckets[i]) {
            ++series.buckets[i];
            break;
        }
    }
    ++series.count;
    series.sum_seconds += seconds;
}

void Metrics::retainChecks(const config::Config& cfg) {
    std::set<std::string, std::less<>> ids;
    for (const auto& site : cfg.sites) {
        for (const auto& check : site.checks) {
            ids.insert(check.id);
        }
    }
    std::erase_if(checks_, [&](const auto& entry) { return !ids.contains(entry.first); });
}

void Metrics::countReload(bool ok) {
    ++(ok ? reloads_ok_ : reloads_error_);
}

void Metrics::rebaseServices(const config::Config& old_cfg, const ServerStats& dns) {
    const std::size_t n = std::min(old_cfg.services.size(), WorkerStats::MaxCountedServices);
    for (std::size_t i = 0; i < n; ++i) {
        service_base_[old_cfg.services[i].name] += dns.service_answers[i] - service_offset_[i];
    }
    service_offset_ = dns.service_answers;
}

std::string Metrics::render(const Input& in) const {
    std::string out;
    out.reserve(4096 + 512 * checks_.size());
    renderDns(out, in);
    renderChecks(out);
    renderSites(out, in);

    family(out, "gslbd_config_reloads_total", "counter",
           "SIGHUP reloads, applied (ok) or rejected with the old configuration kept (error).");
    sample(out, "gslbd_config_reloads_total", label("result", "ok"), reloads_ok_);
    sample(out, "gslbd_config_reloads_total", label("result", "error"), reloads_error_);
    family(out, "gslbd_config_generation", "gauge",
           "Configuration generation: 1 at start, one more at each applied reload.");
    sample(out, "gslbd_config_generation", "", in.generation);
    family(out, "gslbd_uptime_seconds", "gauge", "Seconds since gslbd started.");
    sample(out, "gslbd_uptime_seconds", "", in.uptime_seconds);
    family(out, "gslbd_build_info", "gauge", "Always 1; the labels name the build.");
    sample(out, "gslbd_build_info", label("version", in.version), std::uint64_t{1});
    return out;
}

void Metrics::renderDns(std::string& out, const Input& in) const {
    family(out, "gslbd_dns_answers_total", "counter", "DNS responses sent, by protocol and rcode.");
    for (std::size_t p = 0; p < 2; ++p) {
        for (std::size_t r = 0; r < WorkerStats::RcodeSlots; ++r) {
            const std::uint64_t n = in.dns.answers[p][r];
            if (n != 0 || alwaysShown(r)) {
                sample(out, "gslbd_dns_answers_total",
                       label("proto", ProtoNames[p]) + "," + label("rcode", rcodeName(r)), n);
            }
        }
    }
    family(out, "gslbd_dns_dropped_total", "counter",
           "DNS messages dropped without an answer (not even a header could be read).");
    for (std::size_t p = 0; p < 2; ++p) {
        sample(out, "gslbd_dns_dropped_total", label("proto", ProtoNames[p]), in.dns.dropped[p]);
    }
    family(out, "gslbd_dns_truncated_total", "counter",
           "DNS responses sent with TC set because the answer did not fit.");
    for (std::size_t p = 0; p < 2; ++p) {
        sample(out, "gslbd_dns_truncated_total", label("proto", ProtoNames[p]),
               in.dns.truncated[p]);
    }
    family(out, "gslbd_dns_rate_limited_total", "counter",
           "UDP answers held back by response rate limiting: dropped, or sent truncated (slip).");
    sample(out, "gslbd_dns_rate_limited_total", label("action", "drop"),
           in.dns.rate_limited_dropped);
    sample(out, "gslbd_dns_rate_limited_total", label("action", "slip"),
           in.dns.rate_limited_slipped);
    family(out, "gslbd_dns_service_answers_total", "counter",
           "DNS responses to a service name (any rcode and protocol), by service.");
    const auto& services = in.cfg->services;
    for (std::size_t i = 0; i < services.size() && i < WorkerStats::MaxCountedServices; ++i) {
        const auto base = service_base_.find(services[i].name);
        const std::uint64_t n = (base == service_base_.end() ? 0 : base->second) +
                                in.dns.service_answers[i] - service_offset_[i];
        sample(out, "gslbd_dns_service_answers_total", label("service", services[i].name), n);
    }
}

void Metrics::renderChecks(std::string& out) const {
    family(out, "gslbd_check_runs_total", "counter", "Health check probes, by result.");
    for (const auto& [id, series] : checks_) {
        const std::string base = label("site", series.site) + "," + label("check", id);
        sample(out, "gslbd_check_runs_total", base + "," + label("result", "ok"), series.ok);
        sample(out, "gslbd_check_runs_total", base + "," + label("result", "fail"), series.failed);
    }
    family(out, "gslbd_check_latency_seconds", "histogram",
           "Time each health check probe took, failures included.");
    for (const auto& [id, series] : checks_) {
        const std::string base = label("site", series.site) + "," + label("check", id);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < LatencyBuckets.size(); ++i) {
            cumulative += series.buckets[i];
            sample(out, "gslbd_check_latency_seconds_bucket",
                   base + "," + label("le", bucketBound(LatencyBuckets[i])), cumulative);
        }
        sample(out, "gslbd_check_latency_seconds_bucket", base + "," + label("le", "+Inf"),
               series.count);
        sample(out, "gslbd_check_latency_seconds_sum", base, series.sum_seconds);
        sample(out, "gslbd_check_latency_seconds_count", base, series.count);
    }
}

void Metrics::renderSites(std::string& out, const Input& in) const {
    family(out, "gslbd_site_up", "gauge",
           "1 when every health check of the site is up (drains aside), else 0.");
    for (const auto& site : in.sites) {
        sample(out, "gslbd_site_up", label("site", site.name),
               std::uint64_t{site.checks_up ? 1u : 0u});
    }
    family(out, "gslbd_site_drained", "gauge",
           "1 when the site is drained by hand and left out of answers, else 0.");
    for (const auto& site : in.sites) {
        sample(out, "gslbd_site_drained", label("site", site.name),
               std::uint64_t{site.drained ? 1u : 0u});
    }
}

}  // namespace gslb::server
