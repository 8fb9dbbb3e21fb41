// libFuzzer target: readQuery on a well-formed question followed by an OPT record whose fixed
// fields and RDATA come from the fuzzer (RFC 6891 section 6.1.2), and, in the other mode, an
// OPT record holding one EDNS Client Subnet option whose body comes from the fuzzer
// (RFC 7871 section 6).
//
// Oracles: ASan and UBSan, and for the ECS mode an independent statement of RFC 7871's rules,
// which must agree with readQuery on accepting or refusing the option.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/query.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace gslb;

void put16(std::vector<std::uint8_t>& out, std::size_t value) {
    out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

/// Header (id 0x1234, RD, one question, one additional) and "near.example.com. IN A".
std::vector<std::uint8_t> question() {
    std::vector<std::uint8_t> p = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
    for (const char* label : {"near", "example", "com"}) {
        const std::string_view text(label);
        p.push_back(static_cast<std::uint8_t>(text.size()));
        p.insert(p.end(), text.begin(), text.end());
    }
    p.push_back(0);
    put16(p, server::dns::TypeA);
    put16(p, server::dns::ClassIn);
    return p;
}

/// RFC 7871 section 6, written out independently of query.cpp: family 1 or 2, a source prefix
/// within the family's width, exactly ceil(prefix / 8) address octets, no bits set past it.
bool validEcs(const std::uint8_t* body, std::size_t size) {
    if (size < 4) {
        return false;
    }
    const unsigned family = (body[0] << 8) | body[1];
    const unsigned prefix = body[2];
    const unsigned width = family == 1 ? 32 : family == 2 ? 128 : 0;
    if (width == 0 || prefix > width || size - 4 != (prefix + 7) / 8) {
        return false;
    }
    for (unsigned bit = prefix; bit < (size - 4) * 8; ++bit) {
        if ((body[4 + bit / 8] & (0x80 >> (bit % 8))) != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > 0xFFFF - 64) {
        return 0;
    }
    const bool ecs_mode = (data[0] & 1) != 0;
    ++data;
    --size;

    // The OPT record: root owner, TYPE 41, then CLASS (payload size) and TTL (extended rcode,
    // version, DO) from the fuzzer in the raw mode, or 1232 and 0 in the ECS mode.
    std::vector<std::uint8_t> packet = question();
    packet.push_back(0);
    put16(packet, server::dns::TypeOpt);
    if (!ecs_mode) {
        const std::size_t fixed = std::min<std::size_t>(size, 6);
        std::uint8_t head[6] = {0x04, 0xD0, 0, 0, 0, 0};
        std::copy(data, data + fixed, head);
        packet.insert(packet.end(), head, head + 6);
        data += fixed;
        size -= fixed;
        put16(packet, size);
        packet.insert(packet.end(), data, data + size);
    } else {
        packet.insert(packet.end(), {0x04, 0xD0, 0, 0, 0, 0});
        put16(packet, size + 4);
        put16(packet, server::dns::OptionEcs);
        put16(packet, size);
        packet.insert(packet.end(), data, data + size);
    }

    // Exact size on the heap, so ASan flags any read past the end.
    std::vector<std::uint8_t> exact(packet.begin(), packet.end());
    server::Query q;
    const server::QueryStatus status = server::readQuery(exact.data(), exact.size(), q);
    fuzz::require(status != server::QueryStatus::Drop, "a query with a header was dropped");
    fuzz::require(q.question_end != 0, "the question was lost");
    if (status == server::QueryStatus::Ok) {
        fuzz::require(q.edns && q.edns_version == 0, "OPT accepted without EDNS version 0");
    }
    if (q.ecs.present) {
        const unsigned width = q.ecs.family == 1 ? 32 : 128;
        fuzz::require(q.ecs.family == 1 || q.ecs.family == 2, "ECS family accepted");
        fuzz::require(q.ecs.source_prefix <= width, "ECS prefix wider than its family");
    }
    if (ecs_mode) {
        const bool valid = validEcs(data, size);
        fuzz::require(valid == (status == server::QueryStatus::Ok),
                      "readQuery and RFC 7871 disagree on an ECS option");
        fuzz::require(valid == q.ecs.present, "ECS presence disagrees with its validity");
    }
    return 0;
}
