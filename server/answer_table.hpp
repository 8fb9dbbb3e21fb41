#pragma once

// The zone rendered ahead of time. For every name of the zone and every type it owns, the
// answer, authority and additional sections are written to wire format once, when the
// configuration is loaded; a query then only finds its node and copies bytes.
//
// Rendered sections never rely on compression against other parts of a response except one
// pointer, 0xC00C, to the question name at offset 12: records owned by the queried name use it,
// every other name is written out. That keeps each blob valid after any question, including a
// wildcard-synthesised one (RFC 4592), whatever the question's length.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "server/query.hpp"

namespace gslb::server {

constexpr std::uint32_t NoIndex = 0xFFFFFFFF;

/// One pre-rendered response body: what follows the question.
struct Response {
    std::uint8_t rcode = dns::RcodeNoError;
    bool aa = true;
    std::uint16_t an = 0;
    std::uint16_t ns = 0;
    std::uint16_t ar = 0;
    /// Bytes in AnswerTable::arena(): the static answer records, then authority and additional.
    std::uint32_t offset = 0;
    std::uint32_t an_len = 0;
    std::uint32_t rest_len = 0;
    /// When not NoIndex, the records of this service (Config::services index) for
    /// `service_type` follow the static answer records, chosen from the current health state.
    std::uint32_t service = NoIndex;
    std::uint16_t service_type = 0;
    /// Whether the service records are owned by the question name (0xC00C) or, after a CNAME,
    /// by the service's own name written out.
    bool service_direct = true;
    /// Response to use instead when the service has no address of that family up right now.
    std::uint32_t service_empty = NoIndex;
};

/// The static zone, indexed for lookups without allocation. Immutable once built; shared by
/// every worker through the current Snapshot.
class AnswerTable {
public:
    /// Renders every answer of `cfg`'s zone and services. Throws std::runtime_error, with a
    /// FILE:LINE:COL message, when an answer would not fit in a DNS message (an RRset of
    /// thousands of records), or when the rendered zone passes 4 GiB.
    explicit AnswerTable(const config::Config& cfg);

    /// Finds the response for a lowercased question name (wire format, with its label offsets)
    /// and type, following RFC 1034 section 4.3.2 with RFC 4592 wildcards. Returns nullptr when
    /// the name is outside the zone. Thread-safe, allocation-free.
    const Response* lookup(const std::uint8_t* name,
                           std::size_t name_size,
                           const std::uint8_t* labels,
                           std::size_t label_count,
                           std::uint16_t qtype) const;

    const std::string& arena() const { return arena_; }
    const Response& responses(std::uint32_t i) const { return responses_[i]; }
    const std::string& origin() const { return origin_; }
    std::size_t nodeCount() const { return nodes_.size(); }
    std::size_t recordCount() const { return record_count_; }

private:
    struct TypeEntry {
        std::uint16_t type;
        std::uint32_t response;
    };
    struct Node {
        std::uint32_t name_offset = 0;
        std::uint8_t name_size = 0;
        std::uint32_t types_offset = 0;
        std::uint16_t types_count = 0;
        /// For types the node does not own: NODATA, or the CNAME chain.
        std::uint32_t other = NoIndex;
        std::uint32_t any = NoIndex;
        /// At or below a zone cut: the referral (except DS at the cut itself).
        std::uint32_t referral = NoIndex;
        bool cut = false;
        /// Node index of this node's "*" child, if any.
        std::uint32_t wildcard = NoIndex;
    };
    class Builder;

    std::uint32_t findNode(const std::uint8_t* name, std::size_t size) const;
    const Response* answerAt(const Node& node, std::uint16_t qtype) const;

    std::string origin_;
    std::string names_;
    std::string arena_;
    std::vector<Node> nodes_;
    std::vector<TypeEntry> types_;
    std::vector<Response> responses_;
    std::vector<std::uint32_t> index_;  // open addressing over nodes_, NoIndex = empty
    std::uint32_t nxdomain_ = NoIndex;
    std::size_t record_count_ = 0;
};

/// Appends one class IN record in wire format. An empty `owner` means "the question name",
/// written as the pointer 0xC00C; any other owner is written out (uncompressed wire format).
void writeRecord(std::string& out,
                 const std::string& owner,
                 std::uint16_t type,
                 std::uint32_t ttl,
                 std::string_view rdata);

/// Hash of a lowercased wire name, shared by the table and its builder.
std::uint64_t hashName(const std::uint8_t* name, std::size_t size);

}  // namespace gslb::server
