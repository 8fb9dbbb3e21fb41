// Load benchmark of the health checker: N checks at a short interval against local HAProxy and
// nginx on loopback addresses, reporting the checker's CPU share and how late probes start.
// run_health_bench.sh starts the servers and calls this program; see its header for usage.

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/log.hpp"
#include "healthcheck/health_monitor.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using gslb::config::CheckConfig;
using gslb::config::CheckType;

struct Options {
    unsigned checks = 2000;
    unsigned checks_per_site = 4;
    std::chrono::milliseconds interval{1000};
    std::chrono::milliseconds timeout{1000};
    std::chrono::seconds duration{20};
    std::chrono::seconds warmup{3};
    // nginx answers /healthz on every one of these addresses, on nginx_port.
    std::vector<std::string> addresses{"127.0.0.2"};
    unsigned nginx_port = 18580;
    std::string haproxy_url = "http://127.0.0.10:18581/stats;csv";
    std::string haproxy_backend = "web";
};

std::chrono::microseconds cpuTime() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto micros = [](const timeval& tv) {
        return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    };
    return micros(usage.ru_utime) + micros(usage.ru_stime);
}

std::vector<std::string> splitList(std::string_view text) {
    std::vector<std::string> items;
    while (!text.empty()) {
        const auto comma = text.find(',');
        items.emplace_back(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    return items;
}

bool parseOptions(int argc, char** argv, Options& options) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view key = argv[i];
        const std::string value = argv[i + 1];
        if (key == "--checks") {
            options.checks = static_cast<unsigned>(std::stoul(value));
        } else if (key == "--interval-ms") {
            options.interval = std::chrono::milliseconds(std::stol(value));
        } else if (key == "--timeout-ms") {
            options.timeout = std::chrono::milliseconds(std::stol(value));
        } else if (key == "--duration-s") {
            options.duration = std::chrono::seconds(std::stol(value));
        } else if (key == "--addresses") {
            options.addresses = splitList(value);
        } else if (key == "--nginx-port") {
            options.nginx_port = static_cast<unsigned>(std::stoul(value));
        } else if (key == "--haproxy-url") {
            options.haproxy_url = value;
        } else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return false;
        }
    }
    return !options.addresses.empty();
}

// Check k of a site: haproxy stats, http /healthz, tcp, http again; spread over the addresses.
CheckConfig makeCheck(const Options& options, const std::string& site, unsigned k, unsigned n) {
    CheckConfig check;
    const std::string& address = options.addresses[n % options.addresses.size()];
    const std::string port = std::to_string(options.nginx_port);
    switch (k % 4) {
        case 0:
            check.type = CheckType::Haproxy;
            check.url = options.haproxy_url;
            check.backend = options.haproxy_backend;
            break;
        case 2:
            check.type = CheckType::Tcp;
            check.address.address = asio::ip::make_address(address);
            check.address.port = static_cast<std::uint16_t>(options.nginx_port);
            break;
        default:
            check.type = CheckType::Http;
            check.url = "http://" + address + ":" + port + "/healthz";
            break;
    }
    static constexpr const char* TypeNames[] = {"haproxy", "http", "tcp", "http"};
    check.id = site + "/" + std::to_string(k) + ":" + TypeNames[k % 4];
    check.interval = options.interval;
    check.timeout = options.timeout;
    check.rise = 2;
    check.fall = 3;
    return check;
}

std::shared_ptr<const gslb::config::Config> makeConfig(const Options& options) {
    auto cfg = std::make_shared<gslb::config::Config>();
    unsigned made = 0;
    for (unsigned s = 0; made < options.checks; ++s) {
        gslb::config::SiteConfig site;
        site.name = "site" + std::to_string(s);
        for (unsigned k = 0; k < options.checks_per_site && made < options.checks; ++k, ++made) {
            site.checks.push_back(makeCheck(options, site.name, k, made));
        }
        cfg->sites.push_back(std::move(site));
    }
    return cfg;
}

double percentile(std::vector<double>& values, double p) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    return values[index];
}

// Samples every check's status a few times per interval and keeps the schedule lag of each
// probe seen for the first time.
struct Sampler {
    std::vector<std::uint64_t> last_runs;
    std::vector<std::uint64_t> last_failures;
    std::vector<double> lags_ms;
    std::uint64_t results = 0;
    std::uint64_t failures = 0;
    std::string last_failure;

    void sample(const std::vector<gslb::health::CheckStatus>& statuses, bool record) {
        last_runs.resize(statuses.size(), 0);
        last_failures.resize(statuses.size(), 0);
        for (std::size_t i = 0; i < statuses.size(); ++i) {
            const auto& status = statuses[i];
            if (status.runs != last_runs[i] && record) {
                results += status.runs - last_runs[i];
                failures += status.failures - last_failures[i];
                lags_ms.push_back(static_cast<double>(status.schedule_lag.count()) / 1000.0);
                if (!status.last_ok) {
                    last_failure = status.id + ": " + status.reason;
                }
            }
            last_runs[i] = status.runs;
            last_failures[i] = status.failures;
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parseOptions(argc, argv, options)) {
        std::fprintf(stderr,
                     "usage: health_bench [--checks N] [--interval-ms MS] [--timeout-ms MS] "
                     "[--duration-s S] [--addresses A,B] [--nginx-port P] [--haproxy-url URL]\n");
        return 2;
    }
    gslb::log::setLevel(gslb::log::Level::Warning);

    asio::io_context io;
    const auto cfg = makeConfig(options);
    std::size_t site_changes = 0;
    gslb::health::HealthMonitor monitor(io, [&](const std::vector<bool>&) { ++site_changes; });

    // 1. First round, timed on its own.
    const auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration first_round{};
    monitor.start(cfg, [&] { first_round = std::chrono::steady_clock::now() - start; });

    // 2. Warm-up, then the measured window: CPU time and wall time between its two ends.
    Sampler sampler;
    asio::steady_timer poll(io);
    const auto window_start = start + options.warmup;
    const auto window_end = window_start + options.duration;
    std::chrono::microseconds cpu_start{};
    bool measuring = false;
    std::function<void()> tick = [&] {
        const auto now = std::chrono::steady_clock::now();
        if (!measuring && now >= window_start) {
            measuring = true;
            cpu_start = cpuTime();
            sampler.sample(monitor.checks(), false);
        } else {
            sampler.sample(monitor.checks(), measuring);
        }
        if (now >= window_end) {
            io.stop();
            return;
        }
        poll.expires_after(options.interval / 4);
        poll.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) {
                tick();
            }
        });
    };
    tick();
    io.run();
    const auto cpu_used = cpuTime() - cpu_start;
    monitor.stop();

    // 3. Figures.
    const double window_s = std::chrono::duration<double>(options.duration).count();
    const double cpu_s = std::chrono::duration<double>(cpu_used).count();
    std::printf("checks=%u sites=%zu interval=%lldms timeout=%lldms window=%.0fs\n", options.checks,
                cfg->sites.size(), static_cast<long long>(options.interval.count()),
                static_cast<long long>(options.timeout.count()), window_s);
    std::printf("first_round=%.1fms\n",
                std::chrono::duration<double, std::milli>(first_round).count());
    std::printf("results=%llu (%.0f/s) failures=%llu site_changes=%zu\n",
                static_cast<unsigned long long>(sampler.results),
                static_cast<double>(sampler.results) / window_s,
                static_cast<unsigned long long>(sampler.failures), site_changes);
    if (!sampler.last_failure.empty()) {
        std::printf("last_failure=%s\n", sampler.last_failure.c_str());
    }
    std::printf("cpu=%.2fs share=%.1f%% of one core\n", cpu_s, 100.0 * cpu_s / window_s);
    const double p50 = percentile(sampler.lags_ms, 0.50);
    const double p99 = percentile(sampler.lags_ms, 0.99);
    const double max = sampler.lags_ms.empty() ? 0 : sampler.lags_ms.back();
    std::printf("schedule_lag_ms p50=%.2f p99=%.2f max=%.2f samples=%zu\n", p50, p99, max,
                sampler.lags_ms.size());
    return sampler.results == 0 ? 1 : 0;
}
