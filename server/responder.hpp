#pragma once

// The query path: one message in, one message out, from the current Snapshot. No allocation,
// no lock, no logging: everything costly was done when the Snapshot was rendered.

#include <cstddef>
#include <cstdint>

#include "server/query.hpp"
#include "server/snapshot.hpp"

namespace gslb::server {

enum class Transport { Udp = 0, Tcp = 1 };

/// Largest DNS message over TCP (RFC 1035 section 4.2.2: a 2-octet length).
constexpr std::size_t MaxTcpMessage = 65535;

/// What one call answered, for the per-worker counters.
struct Outcome {
    /// The full rcode (BADVERS is 16); meaningless when nothing is sent.
    std::uint16_t rcode = 0;
    bool truncated = false;
};

/// Answers the query `in[0..size)` into `out`, whose capacity must be at least MaxTcpMessage
/// for TCP and at least dns::MaxUdpPayload for UDP. Returns the response length, 0 when the
/// message gets no answer at all (shorter than a header, or itself a response). Thread-safe:
/// any number of workers may call it on one Snapshot at once.
std::size_t respond(const Snapshot& snap,
                    const std::uint8_t* in,
                    std::size_t size,
                    Transport transport,
                    std::uint8_t* out,
                    Outcome& outcome);

}  // namespace gslb::server
