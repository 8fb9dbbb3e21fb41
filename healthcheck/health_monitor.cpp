#include "healthcheck/health_monitor.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <unordered_map>

#include "config/log.hpp"
#include "healthcheck/curl_multi.hpp"
#include "healthcheck/health_state.hpp"
#include "healthcheck/probe.hpp"
#include "healthcheck/scheduler.hpp"

namespace gslb::health {

namespace asio = boost::asio;
using Clock = Scheduler::Clock;

namespace {

// "Settings unchanged" for a reload: every field a probe or the state machine reads.
bool sameSettings(const config::CheckConfig& a, const config::CheckConfig& b) {
    return a.type == b.type && a.id == b.id && a.url == b.url && a.backend == b.backend &&
           a.min_up == b.min_up && a.user == b.user && a.password_file == b.password_file &&
           a.expect_status == b.expect_status && a.expect_body == b.expect_body &&
           a.tls_verify == b.tls_verify && a.address.address == b.address.address &&
           a.address.port == b.address.port && a.interval == b.interval && a.timeout == b.timeout &&
           a.rise == b.rise && a.fall == b.fall;
}

std::chrono::microseconds sinceStart(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration_cast<std::chrono::microseconds>(to - from);
}

}  // namespace

// One configured check: its settings, state machine, probe and timer. Owned by shared_ptr so
// that timer and probe callbacks can hold a weak_ptr and find out it was removed.
struct Check {
    Check(const config::CheckConfig& check_config,
          std::size_t site_index,
          std::string site_name_in,
          asio::io_context& io,
          CurlMulti& curl)
        : settings(check_config),
          site(site_index),
          site_name(std::move(site_name_in)),
          state(check_config.rise, check_config.fall),
          probe(Probe::create(check_config, io, curl)),
          timer(io) {
        status.id = settings.id;
        status.site = site;
        status.up = true;
    }
    ~Check() { probe->cancel(); }

    config::CheckConfig settings;
    std::size_t site;
    std::string site_name;
    HealthState state;
    std::unique_ptr<Probe> probe;
    asio::steady_timer timer;
    Scheduler::Duration offset{0};
    bool in_flight = false;
    // Part of the first round at start() and still waiting for its first result.
    bool first_round = false;
    CheckStatus status;  // guarded by Impl::mutex for readers on other threads
};

struct HealthMonitor::Impl {
    Impl(asio::io_context& context, SitesChanged callback)
        : io(context), on_change(std::move(callback)), curl(context) {}
    ~Impl() { stop(); }

    void start(std::shared_ptr<const config::Config> new_config, std::function<void()> done);
    void reconfigure(std::shared_ptr<const config::Config> new_config);
    void stop();

    std::vector<std::shared_ptr<Check>> build(const config::Config& new_config,
                                              std::vector<std::shared_ptr<Check>>& fresh);
    void launch(const std::shared_ptr<Check>& check, Clock::time_point due);
    void onResult(Check& check, ProbeResult result);
    void logTransition(const Check& check, HealthState::Value old_value, const ProbeResult& result);
    void scheduleNext(const std::shared_ptr<Check>& check);
    void updateSites();
    void finishFirstRoundIfDone();
    void post(std::function<void()> callback);

    asio::io_context& io;
    SitesChanged on_change;
    ProbeObserver probe_observer;
    // Declared before `checks`: probes hold a reference to it, so it must be destroyed after.
    CurlMulti curl;
    std::shared_ptr<const config::Config> cfg;
    Clock::time_point epoch{};
    std::vector<std::shared_ptr<Check>> checks;
    std::vector<bool> site_up;
    std::function<void()> first_round_done;
    // Posted callbacks hold a weak_ptr to this and do nothing once it is reset by stop().
    std::shared_ptr<int> alive;
    mutable std::mutex mutex;
};

std::vector<std::shared_ptr<Check>> HealthMonitor::Impl::build(
    const config::Config& new_config, std::vector<std::shared_ptr<Check>>& fresh) {
    std::unordered_map<std::string, std::shared_ptr<Check>> old;
    for (auto& check : checks) {
        old.emplace(check->settings.id, check);
    }
    std::vector<std::shared_ptr<Check>> result;
    for (std::size_t s = 0; s < new_config.sites.size(); ++s) {
        const config::SiteConfig& site = new_config.sites[s];
        for (std::size_t i = 0; i < site.checks.size(); ++i) {
            const config::CheckConfig& check_config = site.checks[i];
            std::shared_ptr<Check> check;
            const auto it = old.find(check_config.id);
            if (it != old.end() && sameSettings(it->second->settings, check_config)) {
                check = it->second;
                old.erase(it);
            } else {
                check = std::make_shared<Check>(check_config, s, site.name, io, curl);
                fresh.push_back(check);
            }
            check->site = s;
            check->site_name = site.name;
            check->status.site = s;
            check->offset =
                Scheduler::offset(site.name, i, site.checks.size(), check_config.interval);
            result.push_back(std::move(check));
        }
    }
    return result;
}

void HealthMonitor::Impl::start(std::shared_ptr<const config::Config> new_config,
                                std::function<void()> done) {
    stop();
    alive = std::make_shared<int>(0);
    epoch = Clock::now();
    first_round_done = std::move(done);

    // 1. Build every check; none has a result, so every site starts up.
    std::vector<std::shared_ptr<Check>> fresh;
    {
        std::lock_guard lock(mutex);
        cfg = std::move(new_config);
        checks = build(*cfg, fresh);
        site_up.assign(cfg->sites.size(), true);
    }

    // 2. The first round: every check at once, each bounded by its own timeout.
    const Clock::time_point now = Clock::now();
    for (auto& check : checks) {
        check->first_round = true;
        launch(check, now);
    }
    log::info("health", "checks started (first round) checks=" + std::to_string(checks.size()) +
                            " sites=" + std::to_string(cfg->sites.size()));
    finishFirstRoundIfDone();
}

void HealthMonitor::Impl::reconfigure(std::shared_ptr<const config::Config> new_config) {
    if (!alive) {
        return;
    }

    // 1. Keep unchanged checks (state, timer, probe in flight); build the others afresh.
    //    Checks left out are destroyed with `previous`, which cancels their probe and timer.
    std::vector<std::shared_ptr<Check>> fresh;
    std::vector<std::shared_ptr<Check>> previous;
    {
        std::lock_guard lock(mutex);
        std::vector<std::shared_ptr<Check>> next = build(*new_config, fresh);
        previous = std::exchange(checks, std::move(next));
        cfg = std::move(new_config);
    }
    const std::size_t kept = checks.size() - fresh.size();
    const std::size_t removed = previous.size() - kept;
    previous.clear();

    // 2. A kept check waiting for its next slot moves to the slot of its new position.
    for (auto& check : checks) {
        if (!check->in_flight && check->state.value() != HealthState::Value::Unknown) {
            scheduleNext(check);
        }
    }

    // 3. New checks probe at once; until their first result they count as up.
    const Clock::time_point now = Clock::now();
    for (auto& check : fresh) {
        launch(check, now);
    }
    log::info("health", "checks reconfigured kept=" + std::to_string(kept) + " added=" +
                            std::to_string(fresh.size()) + " removed=" + std::to_string(removed));
    updateSites();
    finishFirstRoundIfDone();
}

void HealthMonitor::Impl::stop() {
    // Stopping from any state:
    // 1. reset `alive`, so callbacks already posted (on_change, first_round_done) do nothing,
    // 2. destroy the checks, which cancels their probes (curl handles, sockets) and timers;
    //    handlers already queued hold weak pointers and find them gone.
    alive.reset();
    first_round_done = nullptr;
    std::vector<std::shared_ptr<Check>> previous;
    {
        std::lock_guard lock(mutex);
        previous = std::move(checks);
        checks.clear();
    }
    previous.clear();
}

void HealthMonitor::Impl::launch(const std::shared_ptr<Check>& check, Clock::time_point due) {
    const Clock::time_point now = Clock::now();
    check->in_flight = true;
    {
        std::lock_guard lock(mutex);
        check->status.schedule_lag = now > due ? sinceStart(due, now) : std::chrono::microseconds{};
    }
    check->probe->run([this, weak = std::weak_ptr<Check>(check)](ProbeResult result) {
        if (const auto live = weak.lock()) {
            onResult(*live, std::move(result));
            scheduleNext(live);
        }
    });
}

void HealthMonitor::Impl::onResult(Check& check, ProbeResult result) {
    check.in_flight = false;
    const HealthState::Value old_value = check.state.value();
    const HealthState::Transition transition = check.state.submitResult(result.ok);
    {
        std::lock_guard lock(mutex);
        CheckStatus& status = check.status;
        status.up = check.state.countsAsUp();
        status.last_ok = result.ok;
        status.reason = result.reason;
        status.latency = result.latency;
        ++status.runs;
        if (!result.ok) {
            ++status.failures;
        }
        if (transition != HealthState::Transition::None) {
            status.last_change = std::chrono::system_clock::now();
        }
    }
    if (probe_observer) {
        probe_observer(check.status, check.site_name);
    }
    if (log::enabled(log::Level::Debug)) {
        log::debug("health", std::string("check result (") + result.reason +
                                 ") site=" + check.site_name + " check=" + check.settings.id +
                                 " ok=" + (result.ok ? "true" : "false") +
                                 " latency_us=" + std::to_string(result.latency.count()));
    }
    if (transition != HealthState::Transition::None) {
        logTransition(check, old_value, result);
        updateSites();
    }
    if (check.first_round) {
        check.first_round = false;
        finishFirstRoundIfDone();
    }
}

void HealthMonitor::Impl::logTransition(const Check& check,
                                        HealthState::Value old_value,
                                        const ProbeResult& result) {
    const char* new_name = toString(check.state.value());
    log::info("health", std::string("check ") + new_name + " (" + result.reason +
                            ") site=" + check.site_name + " check=" + check.settings.id +
                            " old=" + toString(old_value) + " new=" + new_name);
}

void HealthMonitor::Impl::scheduleNext(const std::shared_ptr<Check>& check) {
    const Clock::time_point due =
        Scheduler::nextDue(epoch, check->offset, check->settings.interval, Clock::now());
    check->timer.expires_at(due);
    check->timer.async_wait(
        [this, weak = std::weak_ptr<Check>(check), due](const boost::system::error_code& ec) {
            const auto live = weak.lock();
            if (ec || !live) {
                return;
            }
            launch(live, due);
        });
}

void HealthMonitor::Impl::updateSites() {
    // A site is up iff every one of its checks counts as up; a site without checks is up.
    std::vector<bool> up(cfg->sites.size(), true);
    for (const auto& check : checks) {
        if (!check->state.countsAsUp()) {
            up[check->site] = false;
        }
    }
    std::vector<bool> before;
    {
        std::lock_guard lock(mutex);
        before = std::exchange(site_up, up);
    }
    if (before == up) {
        return;
    }
    if (before.size() == up.size()) {
        for (std::size_t s = 0; s < up.size(); ++s) {
            if (before[s] != up[s]) {
                log::info("health", std::string("site ") + (up[s] ? "up" : "down") +
                                        " site=" + cfg->sites[s].name);
            }
        }
    }
    post([this, up] { on_change(up); });
}

void HealthMonitor::Impl::finishFirstRoundIfDone() {
    if (!first_round_done) {
        return;
    }
    for (const auto& check : checks) {
        if (check->first_round) {
            return;
        }
    }
    log::info("health", "first round done checks=" + std::to_string(checks.size()));
    post(std::exchange(first_round_done, nullptr));
}

void HealthMonitor::Impl::post(std::function<void()> callback) {
    asio::post(io, [weak = std::weak_ptr<int>(alive), callback = std::move(callback)] {
        if (!weak.expired() && callback) {
            callback();
        }
    });
}

HealthMonitor::HealthMonitor(asio::io_context& io, SitesChanged on_change)
    : impl_(std::make_unique<Impl>(io, std::move(on_change))) {}

HealthMonitor::~HealthMonitor() = default;

void HealthMonitor::start(std::shared_ptr<const config::Config> cfg,
                          std::function<void()> first_round_done) {
    impl_->start(std::move(cfg), std::move(first_round_done));
}

void HealthMonitor::reconfigure(std::shared_ptr<const config::Config> cfg) {
    impl_->reconfigure(std::move(cfg));
}

void HealthMonitor::setProbeObserver(ProbeObserver observer) {
    impl_->probe_observer = std::move(observer);
}

void HealthMonitor::stop() {
    impl_->stop();
}

std::vector<bool> HealthMonitor::siteUp() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->site_up;
}

std::vector<CheckStatus> HealthMonitor::checks() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<CheckStatus> result;
    result.reserve(impl_->checks.size());
    for (const auto& check : impl_->checks) {
        result.push_back(check->status);
    }
    return result;
}

}  // namespace gslb::health
