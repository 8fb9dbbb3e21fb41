#pragma once

// What the DNS workers answer from: the rendered zone plus the current answers of every
// service. A Snapshot is immutable once published (but for the round-robin counters, which
// are atomics); a health change or a reload builds a new one and swaps it in whole.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "server/answer_table.hpp"

namespace gslb::server {

/// The address records of one service for one family, rendered for every rotation.
struct AddressVariants {
    /// Records per variant (the same for every variant); 0 means no address is up.
    std::uint16_t count = 0;
    /// Bytes of one variant with owner 0xC00C, and the same with the service name written out;
    /// variant i starts at i * direct_size (resp. i * named_size).
    std::string direct;
    std::string named;
    std::size_t direct_size = 0;
    std::size_t named_size = 0;
    std::size_t variants = 0;

    std::string_view variant(std::size_t i, bool direct_owner) const {
        return direct_owner ? std::string_view(direct).substr(i * direct_size, direct_size)
                            : std::string_view(named).substr(i * named_size, named_size);
    }
};

/// The current answers of one service (Config::services index).
struct ServiceAnswers {
    /// Every site is down and when_all_down is servfail.
    bool servfail = false;
    /// Every site is down and when_all_down is serve-all (answers as if all were up).
    bool all_down = false;
    AddressVariants v4;
    AddressVariants v6;
    /// Shared by every worker so that rotation is fair across threads (relaxed increments).
    alignas(64) mutable std::atomic<std::uint64_t> next_v4{0};
    alignas(64) mutable std::atomic<std::uint64_t> next_v6{0};
};

struct Snapshot {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const AnswerTable> table;
    /// Effective state per site: its checks are up (and, later, it is not drained).
    std::vector<bool> site_up;
    std::unique_ptr<ServiceAnswers[]> services;
    std::size_t service_count = 0;
    /// NSID and CHAOS TXT payload.
    std::string identity;
};

/// Renders the answers of every service of `cfg` for the given site states (one flag per
/// Config::sites index). Runs on the control thread; the result is published afterwards.
std::shared_ptr<const Snapshot> makeSnapshot(std::shared_ptr<const config::Config> cfg,
                                             std::shared_ptr<const AnswerTable> table,
                                             std::vector<bool> site_up);

/// The addresses a service answers with for one family, in policy order, before rotation:
/// the up sites' addresses (all sites' when every site is down and when_all_down is
/// serve-all); for failover only the first up site's. Exposed for tests.
std::vector<std::string> serviceAddresses(const config::Config& cfg,
                                          const config::ServiceConfig& service,
                                          const std::vector<bool>& site_up,
                                          bool v6);

}  // namespace gslb::server
