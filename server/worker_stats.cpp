#include "server/worker_stats.hpp"

#include <algorithm>
#include <string>

#include "config/log.hpp"

namespace gslb::server {

namespace {

/// At most one warning about malformed input per thread in this interval.
constexpr std::chrono::seconds RejectedWarningInterval{10};

}  // namespace

std::string endpointText(const boost::asio::ip::address& address, std::uint16_t port) {
    return address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(port)
                           : address.to_string() + ":" + std::to_string(port);
}

void WorkerStats::count(Transport t, const Outcome& outcome) {
    const auto proto = static_cast<std::size_t>(t);
    const std::size_t slot = std::min<std::size_t>(outcome.rcode, RcodeSlots - 1);
    bump(answers[proto][slot]);
    if (outcome.service < MaxCountedServices) {
        bump(service_answers[outcome.service]);
    }
    if (outcome.truncated) {
        bump(truncated[proto]);
    }
}

void ServerStats::add(const WorkerStats& s) {
    for (std::size_t p = 0; p < 2; ++p) {
        for (std::size_t r = 0; r < WorkerStats::RcodeSlots; ++r) {
            answers[p][r] += s.answers[p][r].load(std::memory_order_relaxed);
        }
        dropped[p] += s.dropped[p].load(std::memory_order_relaxed);
        truncated[p] += s.truncated[p].load(std::memory_order_relaxed);
    }
    rate_limited_dropped += s.rate_limited_dropped.load(std::memory_order_relaxed);
    rate_limited_slipped += s.rate_limited_slipped.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < WorkerStats::MaxCountedServices; ++i) {
        service_answers[i] += s.service_answers[i].load(std::memory_order_relaxed);
    }
}

void RejectedLog::note() {
    ++rejected_;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_warning_) {
        return;
    }
    log::warning("server", "malformed messages answered FORMERR or dropped count=" +
                               std::to_string(rejected_) + " since the last warning");
    rejected_ = 0;
    next_warning_ = now + RejectedWarningInterval;
}

}  // namespace gslb::server
