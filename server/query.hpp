#pragma once

// The query reader: a small, bounds-checked parser of the header, the one question and the
// EDNS(0) OPT record of an incoming DNS message. It runs on the hot path, so it allocates
// nothing: everything it learns lands in a caller-owned Query.

#include <array>
#include <cstddef>
#include <cstdint>

namespace gslb::server {

namespace dns {
constexpr std::uint16_t TypeA = 1;
constexpr std::uint16_t TypeNs = 2;
constexpr std::uint16_t TypeCname = 5;
constexpr std::uint16_t TypeSoa = 6;
constexpr std::uint16_t TypeTxt = 16;
constexpr std::uint16_t TypeAaaa = 28;
constexpr std::uint16_t TypeOpt = 41;
constexpr std::uint16_t TypeDs = 43;
constexpr std::uint16_t TypeIxfr = 251;
constexpr std::uint16_t TypeAxfr = 252;
constexpr std::uint16_t TypeMailb = 253;
constexpr std::uint16_t TypeMaila = 254;
constexpr std::uint16_t TypeAny = 255;

constexpr std::uint16_t ClassIn = 1;
constexpr std::uint16_t ClassCh = 3;
constexpr std::uint16_t ClassAny = 255;

constexpr std::uint8_t RcodeNoError = 0;
constexpr std::uint8_t RcodeFormErr = 1;
constexpr std::uint8_t RcodeServFail = 2;
constexpr std::uint8_t RcodeNxDomain = 3;
constexpr std::uint8_t RcodeNotImp = 4;
constexpr std::uint8_t RcodeRefused = 5;
/// Extended rcode 16 (RFC 6891 section 6.1.3): upper 8 bits go in the OPT TTL.
constexpr std::uint16_t RcodeBadVers = 16;

constexpr std::uint16_t OptionNsid = 3;
constexpr std::uint16_t OptionEcs = 8;

constexpr std::size_t HeaderSize = 12;
constexpr std::size_t MaxNameSize = 255;
/// What gslbd advertises and the most it sends over UDP (the DNS flag day 2020 figure).
constexpr std::uint16_t MaxUdpPayload = 1232;
/// RFC 1035's limit without EDNS, and the floor of an advertised size (RFC 6891 section 6.2.5).
constexpr std::uint16_t MinUdpPayload = 512;
}  // namespace dns

/// Why a message could not be read as a query.
enum class QueryStatus {
    Ok,
    /// Not even a header, or a response: send nothing.
    Drop,
    /// Answer FORMERR (with the question echoed when `question_end` is non-zero).
    FormErr,
    /// Opcode other than QUERY: answer NOTIMP.
    NotImp,
    /// EDNS version above 0: answer BADVERS (RFC 6891 section 6.1.3).
    BadVers,
};

/// EDNS Client Subnet option as received (RFC 7871 section 6).
struct ClientSubnet {
    bool present = false;
    std::uint16_t family = 0;  ///< 1 = IPv4, 2 = IPv6
    std::uint8_t source_prefix = 0;
    std::uint8_t scope_prefix = 0;
    std::array<std::uint8_t, 16> address{};
};

/// Everything the answer path needs from a query. Filled by readQuery.
struct Query {
    std::uint16_t id = 0;
    /// Second header octet pair as received (opcode, RD, CD...).
    std::uint16_t flags = 0;
    std::uint8_t opcode = 0;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;

    /// The question name in the packet, original case: packet[12 .. 12 + qname_size).
    std::size_t qname_size = 0;
    /// The question name lowercased, for lookups. Like `labels`, left uninitialised: only
    /// [0, qname_size) is written and read, and zeroing both per query showed in the profile.
    std::array<std::uint8_t, dns::MaxNameSize> qname_lower;
    /// Offsets of each label in qname_lower; labels[label_count - 1] is the root label.
    std::array<std::uint8_t, 128> labels;
    std::size_t label_count = 0;
    /// Offset just past the question, 0 when the question could not be read.
    std::size_t question_end = 0;

    bool edns = false;
    std::uint8_t edns_version = 0;
    std::uint16_t edns_payload = 0;
    bool dnssec_ok = false;
    bool nsid = false;
    ClientSubnet ecs;
};

/// Reads `size` bytes at `packet` into `q`. Never reads past `size`; never allocates.
/// Returns Ok for a well-formed QUERY, otherwise how to answer (see QueryStatus).
QueryStatus readQuery(const std::uint8_t* packet, std::size_t size, Query& q);

}  // namespace gslb::server
