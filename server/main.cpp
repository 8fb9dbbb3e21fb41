// gslbd: command line, start-up order, signals and reload. Everything here runs on the control
// thread; the DNS workers only ever see the Snapshots this file publishes.

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_loader.hpp"
#include "config/log.hpp"
#include "config/zone_loader.hpp"
#include "healthcheck/health_monitor.hpp"
#include "server/admin_token.hpp"
#include "server/answer_table.hpp"
#include "server/client_locator.hpp"
#include "server/dashboard.hpp"
#include "server/dns_server.hpp"
#include "server/drain_store.hpp"
#include "server/metrics.hpp"
#include "server/snapshot.hpp"
#include "server/status_json.hpp"

namespace asio = boost::asio;

namespace {

using gslb::config::Config;
using gslb::server::AnswerTable;
using gslb::server::DrainResult;

constexpr const char* Usage =
    "usage: gslbd --config PATH [--log-level error|warning|info|debug]\n"
    "       gslbd --check-config PATH\n"
    "       gslbd --version\n"
    "\n"
    "  -c, --config PATH     run in the foreground with this configuration, log to stderr\n"
    "      --check-config PATH\n"
    "                        validate the configuration and its zone file, print ok or\n"
    "                        every error as FILE:LINE:COL: message, exit 0 or 1\n"
    "      --log-level LEVEL most verbose level logged (default info)\n"
    "  -V, --version         print the version\n"
    "  -h, --help            print this help\n"
    "\n"
    "signals: SIGHUP reloads the configuration and zone, SIGTERM or SIGINT stops.\n";

struct Options {
    std::string config;
    std::string check_config;
    gslb::log::Level level = gslb::log::Level::Info;
    bool version = false;
    bool help = false;
};

std::optional<gslb::log::Level> parseLevel(const std::string& s) {
    using gslb::log::Level;
    if (s == "error") {
        return Level::Error;
    }
    if (s == "warning") {
        return Level::Warning;
    }
    if (s == "info") {
        return Level::Info;
    }
    if (s == "debug") {
        return Level::Debug;
    }
    return std::nullopt;
}

/// Parses argv; returns nullopt after printing the reason when the command line is wrong.
std::optional<Options> parseArgs(int argc, char** argv) {
    Options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            const std::string prefix = std::string(name) + "=";
            if (a.rfind(prefix, 0) == 0) {
                return a.substr(prefix.size());
            }
            if (i + 1 >= args.size()) {
                std::cerr << "gslbd: " << name << " needs a value\n" << Usage;
                return std::nullopt;
            }
            return args[++i];
        };
        if (a == "-c" || a == "--config" || a.rfind("--config=", 0) == 0) {
            auto v = value("--config");
            if (!v) {
                return std::nullopt;
            }
            o.config = *v;
        } else if (a == "--check-config" || a.rfind("--check-config=", 0) == 0) {
            auto v = value("--check-config");
            if (!v) {
                return std::nullopt;
            }
            o.check_config = *v;
        } else if (a == "--log-level" || a.rfind("--log-level=", 0) == 0) {
            auto v = value("--log-level");
            if (!v) {
                return std::nullopt;
            }
            auto level = parseLevel(*v);
            if (!level) {
                std::cerr << "gslbd: --log-level: \"" << *v
                          << "\" is not a level (use error, warning, info, debug)\n";
                return std::nullopt;
            }
            o.level = *level;
        } else if (a == "-V" || a == "--version") {
            o.version = true;
        } else if (a == "-h" || a == "--help") {
            o.help = true;
        } else {
            std::cerr << "gslbd: unknown argument \"" << a << "\"\n" << Usage;
            return std::nullopt;
        }
    }
    if (!o.version && !o.help && o.config.empty() == o.check_config.empty()) {
        std::cerr << "gslbd: give exactly one of --config or --check-config\n" << Usage;
        return std::nullopt;
    }
    return o;
}

int checkConfig(const std::string& path) {
    gslb::config::Diagnostics diags;
    const auto cfg = gslb::config::loadConfig(path, diags);
    if (!cfg) {
        diags.print(std::cerr);
        return 1;
    }
    // Rendering the zone finds what only the whole answers show (an RRset too large).
    try {
        const AnswerTable table(*cfg);
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
    std::cout << "ok\n";
    return 0;
}

void logZone(const Config& cfg, const AnswerTable& table) {
    gslb::log::info("zone", "loaded origin=" + cfg.zone.origin + " file=" + cfg.zone.file +
                                " records=" + std::to_string(table.recordCount()) +
                                " serial=" + std::to_string(cfg.zone_data->serial) +
                                " services=" + std::to_string(cfg.services.size()));
}

/// The running server: the current configuration, its rendered zone, the health monitor and
/// the DNS listeners, tied together on the control io_context.
class Daemon {
public:
    /// Throws StartupError when the drain state file is unreadable or corrupt, or when an
    /// address cannot be bound.
    Daemon(asio::io_context& io, std::shared_ptr<const Config> cfg)
        : io_(io),
          signals_(io, SIGHUP, SIGTERM, SIGINT),
          cfg_(std::move(cfg)),
          table_(std::make_shared<const AnswerTable>(*cfg_)),
          locator_(std::make_shared<const gslb::server::ClientLocator>(cfg_->clients)),
          bound_(cfg_),
          store_(cfg_->dashboard.state_file),
          drained_(loadDrains(store_, *cfg_)),
          server_(cfg_->server),
          health_(io, [this](const std::vector<bool>& up) { onSitesChanged(up); }),
          dashboard_(dashboardHooks()) {
        logZone(*cfg_, *table_);
        health_.setProbeObserver(
            [this](const gslb::health::CheckStatus& status, const std::string& site) {
                metrics_.observeProbe(site, status.id, status.last_ok, status.latency);
            });
        loadToken();
    }

    /// Runs the first round of checks (bounded by the largest timeout), then answers queries
    /// until SIGTERM or SIGINT.
    void run() {
        runFirstRound();
        server_.start(
            gslb::server::makeSnapshot(cfg_, table_, locator_, effectiveUp(health_.siteUp())));
        listenDashboard();
        logSites("server: answering");
        waitSignal();
        io_.run();
        dashboard_.stop();
        health_.stop();
        server_.stop();
        gslb::log::info("server", "stopped");
    }

private:
    void runFirstRound() {
        bool done = false;
        health_.start(cfg_, [&done] { done = true; });
        std::chrono::milliseconds longest{0};
        for (const auto& site : cfg_->sites) {
            for (const auto& check : site.checks) {
                longest = std::max(longest, check.timeout);
            }
        }
        // The probes bound themselves by their timeouts; the margin covers scheduling only.
        const auto deadline =
            std::chrono::steady_clock::now() + longest + std::chrono::milliseconds(500);
        while (!done && std::chrono::steady_clock::now() < deadline) {
            io_.run_one_until(deadline);
        }
        io_.restart();
        if (!done) {
            gslb::log::warning("health", "first round incomplete; unanswered checks count as down");
        }
    }

    void waitSignal() {
        signals_.async_wait([this](boost::system::error_code ec, int sig) {
            if (ec) {
                return;
            }
            if (sig == SIGHUP) {
                reload();
                waitSignal();
                return;
            }
            gslb::log::info("server", std::string("stopping (") + strsignal(sig) + ")");
            io_.stop();
        });
    }

    void reload() {
        gslb::config::Diagnostics diags;
        auto next = gslb::config::loadConfig(cfg_->path, diags);
        if (!next) {
            metrics_.countReload(false);
            gslb::log::warning("config", "reload rejected, previous configuration kept (" +
                                             std::to_string(diags.size()) + " errors)");
            for (const auto& d : diags.sorted()) {
                gslb::log::error("config", gslb::config::format(d));
            }
            return;
        }
        if (!sameListeners(*bound_, *next)) {
            gslb::log::warning("config",
                               "server.listen or server.workers differ from the running "
                               "listeners, which stay; a restart applies them");
        }
        if (!sameDashboardListen(*cfg_, *next)) {
            gslb::log::warning("config", "dashboard.listen changed; a restart applies it");
        }
        std::shared_ptr<const AnswerTable> table;
        std::shared_ptr<const gslb::server::ClientLocator> locator;
        try {
            table = std::make_shared<const AnswerTable>(*next);
            locator = std::make_shared<const gslb::server::ClientLocator>(next->clients);
        } catch (const std::exception& e) {
            metrics_.countReload(false);
            gslb::log::warning("config", std::string("reload rejected (") + e.what() + ")");
            return;
        }
        cfg_ = std::move(next);
        table_ = std::move(table);
        locator_ = std::move(locator);
        health_.reconfigure(cfg_);
        metrics_.retainChecks(*cfg_);
        keepDrainsOfCurrentSites();
        loadToken();
        ++generation_;
        metrics_.countReload(true);
        publish(health_.siteUp());
        logZone(*cfg_, *table_);
        gslb::log::info("config", "reload applied path=" + cfg_->path +
                                      " generation=" + std::to_string(generation_));
    }

    static bool sameDashboardListen(const Config& a, const Config& b) {
        const auto& x = a.dashboard.listen;
        const auto& y = b.dashboard.listen;
        if (!x || !y) {
            return x.has_value() == y.has_value();
        }
        return x->address == y->address && x->port == y->port;
    }

    static bool sameListeners(const Config& a, const Config& b) {
        if (a.server.workers != b.server.workers ||
            a.server.listen.size() != b.server.listen.size()) {
            return false;
        }
        for (std::size_t i = 0; i < a.server.listen.size(); ++i) {
            if (a.server.listen[i].address != b.server.listen[i].address ||
                a.server.listen[i].port != b.server.listen[i].port) {
                return false;
            }
        }
        return true;
    }

    void onSitesChanged(const std::vector<bool>& up) {
        if (up.size() != cfg_->sites.size()) {
            return;  // a report for a configuration being replaced; reload publishes anew
        }
        publish(up);
        if (gslb::log::enabled(gslb::log::Level::Debug)) {
            logSites("server: snapshot published");
        }
    }

    /// Renders and publishes the answers for the checks' verdict `checks_up` and the drains.
    /// The per-service answer counters are rebased first, as the new snapshot may number the
    /// services differently (after a reload).
    void publish(const std::vector<bool>& checks_up) {
        if (const auto current = server_.current()) {
            metrics_.rebaseServices(*current->config, server_.stats());
        }
        server_.publish(gslb::server::makeSnapshot(cfg_, table_, locator_, effectiveUp(checks_up)));
    }

    /// A site is in answers iff its checks are up and it is not drained (contract "Health").
    std::vector<bool> effectiveUp(std::vector<bool> checks_up) const {
        for (std::size_t i = 0; i < checks_up.size() && i < cfg_->sites.size(); ++i) {
            checks_up[i] = checks_up[i] && !drained_.contains(cfg_->sites[i].name);
        }
        return checks_up;
    }

    void logSites(const std::string& prefix) {
        const auto snap = server_.current();
        std::string line;
        for (std::size_t i = 0; i < cfg_->sites.size(); ++i) {
            const bool drained = drained_.contains(cfg_->sites[i].name);
            line += " " + cfg_->sites[i].name + "=" +
                    (drained ? "drained" : (snap->site_up[i] ? "up" : "down"));
        }
        const auto colon = prefix.find(':');
        const auto level =
            prefix == "server: answering" ? gslb::log::Level::Info : gslb::log::Level::Debug;
        // The first line names the process, for `kill -HUP PID` when several run.
        if (level == gslb::log::Level::Info) {
            line += " pid=" + std::to_string(::getpid());
        }
        gslb::log::write(level, prefix.substr(0, colon), prefix.substr(colon + 2) + line);
    }

    // -- drains and the dashboard -------------------------------------------------------------

    /// The drains saved by a previous run. A state file that exists but cannot be read is
    /// fatal: starting without its drains would silently put drained sites back in answers.
    /// Drains of sites the configuration no longer has are dropped, and the file rewritten.
    static std::set<std::string> loadDrains(const gslb::server::DrainStore& store,
                                            const Config& cfg) {
        std::string error;
        auto drained = store.load(error);
        if (!drained) {
            throw gslb::server::StartupError(
                "cannot read the drain state (" + error +
                "); fix or delete the file (deleting it undrains every site)");
        }
        std::set<std::string> kept;
        for (const auto& site : cfg.sites) {
            if (drained->contains(site.name)) {
                kept.insert(site.name);
            }
        }
        for (const auto& name : *drained) {
            if (!kept.contains(name)) {
                gslb::log::warning("dashboard", "drain of an unknown site dropped site=" + name);
            }
        }
        if (kept.size() != drained->size() && !store.save(kept, error)) {
            gslb::log::warning("dashboard", "cannot rewrite the drain state (" + error + ")");
        }
        if (!kept.empty()) {
            std::string names;
            for (const auto& name : kept) {
                names += (names.empty() ? "" : ",") + name;
            }
            gslb::log::info("dashboard", "drains loaded file=" + store.path() + " sites=" + names);
        }
        return kept;
    }

    /// After a reload: forget drains of removed sites, and save to the (maybe new) state file.
    void keepDrainsOfCurrentSites() {
        std::set<std::string> kept;
        for (const auto& site : cfg_->sites) {
            if (drained_.contains(site.name)) {
                kept.insert(site.name);
            }
        }
        const bool moved = store_.path() != cfg_->dashboard.state_file;
        store_ = gslb::server::DrainStore(cfg_->dashboard.state_file);
        if (kept == drained_ && !moved) {
            return;
        }
        for (const auto& name : drained_) {
            if (!kept.contains(name)) {
                gslb::log::info("dashboard", "drain dropped with its site site=" + name);
            }
        }
        drained_ = std::move(kept);
        std::string error;
        if (!store_.save(drained_, error)) {
            gslb::log::warning("dashboard", "cannot write the drain state (" + error + ")");
        }
    }

    /// (Re)reads dashboard.admin_token_file; without a usable token the write API is off.
    void loadToken() {
        const std::string& path = cfg_->dashboard.admin_token_file;
        if (path.empty()) {
            dashboard_.setToken(std::nullopt);
            return;
        }
        std::string error;
        auto token = gslb::server::AdminToken::load(path, error);
        if (!token) {
            gslb::log::warning("dashboard", "write api off (" + error + ")");
        }
        dashboard_.setToken(std::move(token));
    }

    void listenDashboard() {
        const auto& listen = cfg_->dashboard.listen;
        if (!listen) {
            return;
        }
        if (dashboard_.writeApi() && cfg_->dashboard.state_file.empty()) {
            gslb::log::warning("dashboard",
                               "drains are kept in memory only (no dashboard.state_file); a "
                               "restart undrains every site");
        }
        try {
            dashboard_.listen(io_, asio::ip::tcp::endpoint(listen->address, listen->port));
        } catch (const boost::system::system_error& e) {
            throw gslb::server::StartupError("cannot bind dashboard " + listen->text + " (" +
                                             e.code().message() + ")");
        }
    }

    gslb::server::Dashboard::Hooks dashboardHooks() {
        return {[this] { return statusJson(); }, [this] { return metricsText(); },
                [this](const std::string& site, bool drain) { return setDrained(site, drain); }};
    }

    /// The drain API: persist first, then apply, so that a failed write changes nothing.
    DrainResult setDrained(const std::string& site, bool drain) {
        const auto& sites = cfg_->sites;
        const auto it =
            std::find_if(sites.begin(), sites.end(), [&](const auto& s) { return s.name == site; });
        if (it == sites.end()) {
            return {DrainResult::Status::UnknownSite, false, ""};
        }
        const auto index = static_cast<std::size_t>(it - sites.begin());
        std::set<std::string> next = drained_;
        if (drain) {
            next.insert(site);
        } else {
            next.erase(site);
        }
        const bool changed = next != drained_;
        if (changed) {
            std::string error;
            if (!store_.save(next, error)) {
                gslb::log::error("dashboard", std::string(drain ? "drain" : "undrain") +
                                                  " not applied (" + error + ") site=" + site);
                return {DrainResult::Status::StoreFailed, false, ""};
            }
            if (!error.empty()) {
                gslb::log::warning("dashboard", "drain state saved but not synced (" + error + ")");
            }
            drained_ = std::move(next);
            publish(health_.siteUp());
            gslb::log::info("dashboard", std::string(drain ? "site drained" : "site undrained") +
                                             " site=" + site);
        }
        const auto checks_up = health_.siteUp();
        const bool up = index < checks_up.size() ? bool(checks_up[index]) : true;
        return {DrainResult::Status::Done, changed, gslb::server::siteState(up, drain)};
    }

    std::vector<bool> drainedFlags() const {
        std::vector<bool> flags;
        for (const auto& site : cfg_->sites) {
            flags.push_back(drained_.contains(site.name));
        }
        return flags;
    }

    double uptimeSeconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }

    std::string statusJson() const {
        gslb::server::StatusInput in;
        in.snapshot = server_.current();
        in.checks_up = health_.siteUp();
        in.drained = drainedFlags();
        in.checks = health_.checks();
        in.generation = generation_;
        in.uptime_seconds = uptimeSeconds();
        in.version = GSLBD_VERSION;
        in.write_api = dashboard_.writeApi();
        in.now = std::chrono::system_clock::now();
        return gslb::server::renderStatus(in);
    }

    std::string metricsText() const {
        gslb::server::Metrics::Input in;
        in.cfg = cfg_.get();
        in.dns = server_.stats();
        const auto checks_up = health_.siteUp();
        for (std::size_t i = 0; i < cfg_->sites.size(); ++i) {
            const auto& name = cfg_->sites[i].name;
            in.sites.push_back(
                {name, i < checks_up.size() ? bool(checks_up[i]) : true, drained_.contains(name)});
        }
        in.generation = generation_;
        in.uptime_seconds = uptimeSeconds();
        in.version = GSLBD_VERSION;
        return metrics_.render(in);
    }

    asio::io_context& io_;
    // First, so that a signal arriving while the server binds is queued, not fatal.
    asio::signal_set signals_;
    std::shared_ptr<const Config> cfg_;
    std::shared_ptr<const AnswerTable> table_;
    std::shared_ptr<const gslb::server::ClientLocator> locator_;
    /// The configuration whose listeners are bound: reloads compare against it.
    std::shared_ptr<const Config> bound_;
    gslb::server::DrainStore store_;
    /// Names of the sites drained by hand; always a subset of the current config's sites.
    std::set<std::string> drained_;
    gslb::server::Metrics metrics_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    /// 1 for the configuration loaded at start, one more for each reload applied.
    std::uint64_t generation_ = 1;
    gslb::server::DnsServer server_;
    gslb::health::HealthMonitor health_;
    gslb::server::Dashboard dashboard_;
};

}  // namespace

int main(int argc, char** argv) {
    const auto options = parseArgs(argc, argv);
    if (!options) {
        return 2;
    }
    if (options->help) {
        std::cout << Usage;
        return 0;
    }
    if (options->version) {
        std::cout << "gslbd " << GSLBD_VERSION << '\n';
        return 0;
    }
    if (!options->check_config.empty()) {
        return checkConfig(options->check_config);
    }
    gslb::log::setLevel(options->level);

    gslb::config::Diagnostics diags;
    auto cfg = gslb::config::loadConfig(options->config, diags);
    if (!cfg) {
        for (const auto& d : diags.sorted()) {
            gslb::log::error("config", gslb::config::format(d));
        }
        gslb::log::error("config", "cannot start (" + std::to_string(diags.size()) + " errors)");
        return 1;
    }
    try {
        asio::io_context io{1};
        Daemon daemon(io, std::move(cfg));
        daemon.run();
    } catch (const gslb::server::StartupError& e) {
        gslb::log::error("server", e.what());
        return 1;
    } catch (const std::exception& e) {
        gslb::log::error("server", std::string("fatal (") + e.what() + ")");
        return 1;
    }
    return 0;
}
