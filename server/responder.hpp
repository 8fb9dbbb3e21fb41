#pragma once

// The query path: one message in, one message out, from the current Snapshot. No allocation,
// no lock, no logging: everything costly was done when the Snapshot was rendered.

#include <cstddef>
#include <cstdint>

#include "server/client_locator.hpp"
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
    /// The Config::services index when the question named a service (directly or through a
    /// CNAME), else NoIndex.
    std::uint32_t service = NoIndex;
};

/// Answers the query `in[0..size)` from `source` into `out`, whose capacity must be at least
/// MaxTcpMessage for TCP and at least 4096 bytes for UDP. Returns the response length, 0 when
/// the message gets no answer at all (shorter than a header, or itself a response).
/// Thread-safe: any number of workers may call it on one Snapshot at once.
std::size_t respond(const Snapshot& snap,
                    const std::uint8_t* in,
                    std::size_t size,
                    Transport transport,
                    const ClientAddress& source,
                    std::uint8_t* out,
                    Outcome& outcome);

/// Cuts a response built by respond() down to its header and question and sets TC, for the
/// slipped answers of rate limiting. Returns the new length, 0 if the message is not a response
/// with one readable question.
std::size_t truncateToQuestion(std::uint8_t* message, std::size_t size);

/// The source address of a datagram or connection as a ClientAddress (family 0 if neither
/// IPv4 nor IPv6).
ClientAddress clientAddress(const void* sockaddr, std::size_t length);

}  // namespace gslb::server
