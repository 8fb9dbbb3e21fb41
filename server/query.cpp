#include "server/query.hpp"

namespace gslb::server {

namespace {

std::uint16_t get16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

/// Reads the question name at `pos` into q (RFC 1035 section 4.1.2). A question carries no
/// compression pointers in practice; one here is refused, which also rules out pointer loops.
bool readName(const std::uint8_t* packet, std::size_t size, std::size_t& pos, Query& q) {
    std::size_t out = 0;
    q.label_count = 0;
    while (true) {
        if (pos >= size) {
            return false;
        }
        const std::uint8_t len = packet[pos];
        if (len > 63) {
            return false;  // a pointer (0xC0) or an obsolete extended label type
        }
        if (out + len + 1 > dns::MaxNameSize || q.label_count == q.labels.size()) {
            return false;
        }
        if (pos + 1 + len > size) {
            return false;
        }
        q.labels[q.label_count++] = static_cast<std::uint8_t>(out);
        q.qname_lower[out++] = len;
        for (std::size_t i = 0; i < len; ++i) {
            std::uint8_t c = packet[pos + 1 + i];
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<std::uint8_t>(c + ('a' - 'A'));
            }
            q.qname_lower[out++] = c;
        }
        pos += 1 + len;
        if (len == 0) {
            q.qname_size = out;
            return true;
        }
    }
}

/// Skips a name that may be compressed, as found in the additional section.
bool skipName(const std::uint8_t* packet, std::size_t size, std::size_t& pos) {
    while (pos < size) {
        const std::uint8_t len = packet[pos];
        if ((len & 0xC0) == 0xC0) {
            pos += 2;
            return pos <= size;
        }
        if (len > 63) {
            return false;
        }
        pos += 1 + len;
        if (len == 0) {
            return pos <= size;
        }
    }
    return false;
}

/// Parses the EDNS Client Subnet option body (RFC 7871 section 6); false if malformed.
bool readEcs(const std::uint8_t* p, std::size_t len, ClientSubnet& ecs) {
    if (len < 4) {
        return false;
    }
    ecs.family = get16(p);
    ecs.source_prefix = p[2];
    ecs.scope_prefix = p[3];
    unsigned max_prefix = 0;
    if (ecs.family == 1) {
        max_prefix = 32;
    } else if (ecs.family == 2) {
        max_prefix = 128;
    } else {
        return false;
    }
    if (ecs.source_prefix > max_prefix) {
        return false;
    }

    // The address is exactly as long as the prefix needs, and bits past the prefix are zero.
    const std::size_t addr_len = (ecs.source_prefix + 7u) / 8u;
    if (len - 4 != addr_len) {
        return false;
    }
    for (std::size_t i = 0; i < ecs.address.size(); ++i) {
        ecs.address[i] = i < addr_len ? p[4 + i] : 0;
    }
    if (ecs.source_prefix % 8 != 0) {
        const auto mask = static_cast<std::uint8_t>(0xFF >> (ecs.source_prefix % 8));
        if ((ecs.address[addr_len - 1] & mask) != 0) {
            return false;
        }
    }
    ecs.present = true;
    return true;
}

/// Parses the OPT record's fixed part and options (RFC 6891 section 6.1.2).
QueryStatus readOpt(const std::uint8_t* p, std::size_t rdlen, std::uint32_t ttl, Query& q) {
    if (q.edns) {
        return QueryStatus::FormErr;  // more than one OPT (RFC 6891 section 6.1.1)
    }
    q.edns = true;
    q.edns_version = static_cast<std::uint8_t>((ttl >> 16) & 0xFF);
    q.dnssec_ok = (ttl & 0x8000) != 0;
    std::size_t pos = 0;
    while (pos < rdlen) {
        if (rdlen - pos < 4) {
            return QueryStatus::FormErr;
        }
        const std::uint16_t code = get16(p + pos);
        const std::uint16_t len = get16(p + pos + 2);
        pos += 4;
        if (len > rdlen - pos) {
            return QueryStatus::FormErr;
        }
        if (code == dns::OptionNsid) {
            q.nsid = true;
        } else if (code == dns::OptionEcs) {
            if (q.ecs.present || !readEcs(p + pos, len, q.ecs)) {
                return QueryStatus::FormErr;
            }
        }
        // Other options are ignored, as RFC 6891 section 6.1.2 asks.
        pos += len;
    }
    return QueryStatus::Ok;
}

/// Walks the additional section looking for OPT; other records (e.g. a TSIG) are skipped.
QueryStatus readAdditional(
    const std::uint8_t* packet, std::size_t size, std::size_t pos, unsigned count, Query& q) {
    for (unsigned i = 0; i < count; ++i) {
        const std::size_t owner = pos;
        if (!skipName(packet, size, pos) || size - pos < 10) {
            return QueryStatus::FormErr;
        }
        const std::uint16_t type = get16(packet + pos);
        const std::uint16_t klass = get16(packet + pos + 2);
        const std::uint32_t ttl =
            (static_cast<std::uint32_t>(get16(packet + pos + 4)) << 16) | get16(packet + pos + 6);
        const std::uint16_t rdlen = get16(packet + pos + 8);
        pos += 10;
        if (rdlen > size - pos) {
            return QueryStatus::FormErr;
        }
        if (type == dns::TypeOpt) {
            if (packet[owner] != 0) {
                return QueryStatus::FormErr;  // OPT's owner must be the root
            }
            q.edns_payload = klass;
            const QueryStatus st = readOpt(packet + pos, rdlen, ttl, q);
            if (st != QueryStatus::Ok) {
                return st;
            }
        }
        pos += rdlen;
    }
    return QueryStatus::Ok;
}

}  // namespace

QueryStatus readQuery(const std::uint8_t* packet, std::size_t size, Query& q) {
    // Header (RFC 1035 section 4.1.1). Responses are never answered, to avoid loops.
    if (size < dns::HeaderSize) {
        return QueryStatus::Drop;
    }
    q.id = get16(packet);
    q.flags = get16(packet + 2);
    if ((q.flags & 0x8000) != 0) {
        return QueryStatus::Drop;
    }
    q.opcode = static_cast<std::uint8_t>((q.flags >> 11) & 0xF);
    q.question_end = 0;
    q.edns = false;
    q.nsid = false;
    q.ecs.present = false;
    const std::uint16_t qdcount = get16(packet + 4);
    const std::uint16_t ancount = get16(packet + 6);
    const std::uint16_t nscount = get16(packet + 8);
    const std::uint16_t arcount = get16(packet + 10);

    // The one question.
    std::size_t pos = dns::HeaderSize;
    if (qdcount != 1) {
        return q.opcode != 0 ? QueryStatus::NotImp : QueryStatus::FormErr;
    }
    if (!readName(packet, size, pos, q) || size - pos < 4) {
        return QueryStatus::FormErr;
    }
    q.qtype = get16(packet + pos);
    q.qclass = get16(packet + pos + 2);
    pos += 4;
    q.question_end = pos;
    if (q.opcode != 0) {
        return QueryStatus::NotImp;
    }

    // A query carries no answer or authority records.
    if (ancount != 0 || nscount != 0) {
        return QueryStatus::FormErr;
    }

    // EDNS(0), then its version.
    const QueryStatus st = readAdditional(packet, size, pos, arcount, q);
    if (st != QueryStatus::Ok) {
        return st;
    }
    if (q.edns && q.edns_version != 0) {
        return QueryStatus::BadVers;
    }
    return QueryStatus::Ok;
}

}  // namespace gslb::server
