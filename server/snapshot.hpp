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
#include "server/client_locator.hpp"

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

/// One eligible site's address records of one family, for answers ordered per query.
struct SiteRecords {
    config::Location location;
    std::uint16_t count = 0;
    std::string direct;  ///< owner 0xC00C; each record is direct.size() / count bytes
    std::string named;   ///< owner written out
};

/// The current answers of one service (Config::services index).
struct ServiceAnswers {
    /// Every site is down and when_all_down is servfail.
    bool servfail = false;
    /// Every site is down and when_all_down is serve-all (answers as if all were up).
    bool all_down = false;
    /// policy distance: answers depend on where the client is.
    bool distance = false;
    std::uint16_t max_answers = 0;
    /// Round-robin order: every policy's answer, and distance's for clients of unknown place.
    AddressVariants v4;
    AddressVariants v6;
    /// distance: one entry per clients.networks index, sorted nearest first; the variants
    /// rotate sites at equal distance.
    std::vector<AddressVariants> near_v4;
    std::vector<AddressVariants> near_v6;
    /// distance: the eligible sites (up, or all when all are down and serving all), for
    /// clients placed by the GeoIP database, whose order is computed per query.
    std::vector<SiteRecords> sites_v4;
    std::vector<SiteRecords> sites_v6;
    /// Shared by every worker so that rotation is fair across threads (relaxed increments).
    alignas(64) mutable std::atomic<std::uint64_t> next_v4{0};
    alignas(64) mutable std::atomic<std::uint64_t> next_v6{0};
};

struct Snapshot {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const AnswerTable> table;
    std::shared_ptr<const ClientLocator> locator;
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
                                             std::shared_ptr<const ClientLocator> locator,
                                             std::vector<bool> site_up);

/// The sites a service answers with now: its up sites, or every site when none is up and
/// when_all_down is serve-all; for failover only the first of them. In preference order.
std::vector<std::size_t> eligibleSites(const config::ServiceConfig& service,
                                       const std::vector<bool>& site_up);

/// Indices of `locations` nearest first from `from`; equal distances keep input order.
std::vector<std::size_t> nearestFirst(const config::Location& from,
                                      const std::vector<config::Location>& locations);

}  // namespace gslb::server
