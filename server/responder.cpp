#include "server/responder.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <string_view>

namespace gslb::server {

namespace {

constexpr std::uint16_t FlagQr = 0x8000;
constexpr std::uint16_t FlagAa = 0x0400;
constexpr std::uint16_t FlagTc = 0x0200;
constexpr std::uint16_t FlagRd = 0x0100;
constexpr std::uint16_t FlagCd = 0x0010;
constexpr std::uint16_t OpcodeMask = 0x7800;
/// OPT record without options: root, type, class, TTL, RDLENGTH.
constexpr std::size_t OptFixedSize = 11;

void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v & 0xFF);
}

/// A bounded writer over the output buffer; `fits` tells before each write.
struct Writer {
    std::uint8_t* out;
    std::size_t pos;

    void bytes(std::string_view b) {
        std::memcpy(out + pos, b.data(), b.size());
        pos += b.size();
    }
    void u16(std::uint16_t v) {
        put16(out + pos, v);
        pos += 2;
    }
};

bool nameEquals(const Query& q, std::string_view wire) {
    return q.qname_size == wire.size() &&
           std::memcmp(q.qname_lower.data(), wire.data(), wire.size()) == 0;
}

/// Size of the OPT record we send back for this query.
std::size_t optSize(const Query& q, const Snapshot& snap) {
    std::size_t size = OptFixedSize;
    if (q.nsid) {
        size += 4 + snap.identity.size();
    }
    if (q.ecs.present) {
        size += 4 + 4 + (q.ecs.source_prefix + 7u) / 8u;
    }
    return size;
}

/// Writes our OPT record (RFC 6891 section 6.1.2): payload 1232, the extended rcode bits, DO
/// echoed (RFC 3225 section 3), NSID (RFC 5001) and ECS echoed with the scope that decided the
/// answer, 0 when it does not depend on the client (RFC 7871 section 7.2.1).
void writeOpt(
    Writer& w, const Query& q, const Snapshot& snap, std::uint16_t rcode, std::uint8_t scope) {
    w.out[w.pos++] = 0;
    w.u16(dns::TypeOpt);
    w.u16(dns::MaxUdpPayload);
    w.out[w.pos++] = static_cast<std::uint8_t>(rcode >> 4);
    w.out[w.pos++] = 0;
    w.u16(q.dnssec_ok ? 0x8000 : 0);
    w.u16(static_cast<std::uint16_t>(optSize(q, snap) - OptFixedSize));
    if (q.nsid) {
        w.u16(dns::OptionNsid);
        w.u16(static_cast<std::uint16_t>(snap.identity.size()));
        w.bytes(snap.identity);
    }
    if (q.ecs.present) {
        const std::size_t addr_len = (q.ecs.source_prefix + 7u) / 8u;
        w.u16(dns::OptionEcs);
        w.u16(static_cast<std::uint16_t>(4 + addr_len));
        w.u16(q.ecs.family);
        w.out[w.pos++] = q.ecs.source_prefix;
        w.out[w.pos++] = scope;
        w.bytes(std::string_view(reinterpret_cast<const char*>(q.ecs.address.data()), addr_len));
    }
}

/// The service records chosen for one answer, as byte ranges of the Snapshot.
struct ServicePart {
    static constexpr std::size_t MaxPieces = 64;
    /// Plain pointer and length, left uninitialised: only [0, used) is ever read, and zeroing
    /// 64 slots per answer showed in the profile.
    struct Piece {
        const char* data;
        std::size_t size;
    };
    std::array<Piece, MaxPieces> pieces;
    std::size_t used = 0;
    std::size_t bytes = 0;
    std::uint16_t records = 0;

    void add(std::string_view piece, std::uint16_t count) {
        pieces[used++] = Piece{piece.data(), piece.size()};
        bytes += piece.size();
        records = static_cast<std::uint16_t>(records + count);
    }
};

/// The message is built in `out`: header, question, then the sections of a Response.
class Builder {
public:
    Builder(const Snapshot& snap,
            const Query& q,
            const std::uint8_t* in,
            Transport t,
            const ClientAddress& source,
            std::uint8_t* out)
        : snap_(snap), q_(q), in_(in), source_(source), w_{out, 0} {
        limit_ = MaxTcpMessage;
        if (t == Transport::Udp) {
            limit_ = dns::MinUdpPayload;
            if (q.edns) {
                limit_ =
                    std::clamp<std::size_t>(q.edns_payload, dns::MinUdpPayload, dns::MaxUdpPayload);
            }
        }
        opt_size_ = q.edns ? optSize(q, snap) : 0;
    }

    /// A response with no records: errors, or TC.
    std::size_t empty(std::uint16_t rcode, std::uint16_t extra_flags, bool with_question) {
        const bool question = with_question && q_.question_end != 0;
        header(rcode, extra_flags, question ? 1 : 0, 0, 0, 0);
        if (question) {
            w_.bytes(std::string_view(reinterpret_cast<const char*>(in_ + dns::HeaderSize),
                                      q_.question_end - dns::HeaderSize));
        }
        finishOpt(rcode);
        return w_.pos;
    }

    /// A response from the rendered zone; falls back to TC when it does not fit.
    std::size_t fromTable(const Response& r, Outcome& outcome) {
        const Response* resp = &r;
        ServicePart part;
        outcome.service = r.service;
        if (r.service != NoIndex) {
            const ServiceAnswers& sa = snap_.services[r.service];
            if (sa.servfail) {
                outcome.rcode = dns::RcodeServFail;
                return empty(dns::RcodeServFail, 0, true);
            }
            if (!chooseService(sa, r.service_type == dns::TypeAaaa, r.service_direct, part)) {
                resp = &snap_.table->responses(r.service_empty);
            }
        }
        outcome.rcode = resp->rcode;
        const std::size_t question = q_.question_end - dns::HeaderSize;
        const std::size_t total =
            dns::HeaderSize + question + resp->an_len + part.bytes + resp->rest_len + opt_size_;
        if (total > limit_) {
            outcome.truncated = true;
            return empty(resp->rcode, FlagTc | (resp->aa ? FlagAa : 0), true);
        }
        header(resp->rcode, resp->aa ? FlagAa : 0, 1,
               static_cast<std::uint16_t>(resp->an + part.records), resp->ns, resp->ar);
        w_.bytes(std::string_view(reinterpret_cast<const char*>(in_ + dns::HeaderSize), question));
        const std::string_view arena = snap_.table->arena();
        w_.bytes(arena.substr(resp->offset, resp->an_len));
        for (std::size_t i = 0; i < part.used; ++i) {
            w_.bytes(std::string_view(part.pieces[i].data, part.pieces[i].size));
        }
        w_.bytes(arena.substr(resp->offset + resp->an_len, resp->rest_len));
        finishOpt(resp->rcode);
        return w_.pos;
    }

    /// CHAOS TXT id.server. and hostname.bind. (RFC 4892): the configured identity.
    std::size_t chaosIdentity() {
        const std::string& id = snap_.identity;
        const std::size_t txt = std::min<std::size_t>(id.size(), 255);
        const std::size_t question = q_.question_end - dns::HeaderSize;
        const std::size_t total = dns::HeaderSize + question + 12 + 1 + txt + opt_size_;
        if (total > limit_) {
            return empty(dns::RcodeNoError, FlagTc | FlagAa, true);
        }
        header(dns::RcodeNoError, FlagAa, 1, 1, 0, 0);
        w_.bytes(std::string_view(reinterpret_cast<const char*>(in_ + dns::HeaderSize), question));
        w_.u16(0xC00C);
        w_.u16(dns::TypeTxt);
        w_.u16(dns::ClassCh);
        w_.u16(0);
        w_.u16(0);
        w_.u16(static_cast<std::uint16_t>(txt + 1));
        w_.out[w_.pos++] = static_cast<std::uint8_t>(txt);
        w_.bytes(std::string_view(id).substr(0, txt));
        finishOpt(dns::RcodeNoError);
        return w_.pos;
    }

private:
    /// Picks the service's address records for this answer: round-robin, or nearest first for
    /// the distance policy. Returns false when no address of that family is up.
    bool chooseService(const ServiceAnswers& sa, bool v6, bool direct, ServicePart& part) {
        const AddressVariants& rr = v6 ? sa.v6 : sa.v4;
        if (rr.count == 0) {
            return false;
        }
        auto& next = v6 ? sa.next_v6 : sa.next_v4;
        if (sa.distance) {
            const ClientLocation where = locate();
            if (where.kind == ClientLocation::Kind::Network) {
                const AddressVariants& v = (v6 ? sa.near_v6 : sa.near_v4)[where.network];
                part.add(pick(v, next, direct), v.count);
                return true;
            }
            if (where.kind == ClientLocation::Kind::Geo) {
                nearestPieces(v6 ? sa.sites_v6 : sa.sites_v4, where.location, sa.max_answers, next,
                              direct, part);
                return true;
            }
        }
        part.add(pick(rr, next, direct), rr.count);
        return true;
    }

    /// The client's place; sets the ECS scope the answer will carry (RFC 7871 section 7.2.1).
    ClientLocation locate() {
        ClientAddress client = source_;
        if (q_.ecs.present) {
            client.family = static_cast<std::uint8_t>(q_.ecs.family);
            client.prefix = q_.ecs.source_prefix;
            client.bytes = q_.ecs.address;
        }
        const ClientLocation where =
            snap_.locator ? snap_.locator->locate(client) : ClientLocation{};
        // Unknown: the answer holds for this subnet at least, as far as we can tell.
        scope_ = where.kind == ClientLocation::Kind::Unknown ? client.prefix : where.scope;
        return where;
    }

    static std::string_view pick(const AddressVariants& v,
                                 std::atomic<std::uint64_t>& next,
                                 bool direct) {
        std::size_t i = 0;
        if (v.variants > 1) {
            i = next.fetch_add(1, std::memory_order_relaxed) % v.variants;
        }
        return v.variant(i, direct);
    }

    /// Orders the sites by distance from `from` on the stack (no allocation), sites at equal
    /// distance taking turns, and adds their records up to `max_answers`.
    static void nearestPieces(const std::vector<SiteRecords>& sites,
                              const config::Location& from,
                              std::uint16_t max_answers,
                              std::atomic<std::uint64_t>& next,
                              bool direct,
                              ServicePart& part) {
        const std::size_t n = std::min(sites.size(), ServicePart::MaxPieces);
        std::array<double, ServicePart::MaxPieces> dist{};
        std::array<std::uint8_t, ServicePart::MaxPieces> order{};
        for (std::size_t i = 0; i < n; ++i) {
            dist[i] = greatCircleKm(from, sites[i].location);
            order[i] = static_cast<std::uint8_t>(i);
            // Insertion sort: a handful of sites per service.
            for (std::size_t j = i; j > 0 && dist[order[j]] < dist[order[j - 1]] - TieKm; --j) {
                std::swap(order[j], order[j - 1]);
            }
        }
        const std::uint64_t turn = next.fetch_add(1, std::memory_order_relaxed);
        for (std::size_t i = 0; i < n;) {
            std::size_t end = i + 1;
            while (end < n && dist[order[end]] - dist[order[i]] <= TieKm) {
                ++end;
            }
            std::rotate(order.begin() + static_cast<long>(i),
                        order.begin() + static_cast<long>(i + turn % (end - i)),
                        order.begin() + static_cast<long>(end));
            i = end;
        }
        std::size_t left = max_answers;
        for (std::size_t i = 0; i < n && left > 0; ++i) {
            const SiteRecords& site = sites[order[i]];
            const std::string& bytes = direct ? site.direct : site.named;
            const std::size_t take = std::min<std::size_t>(site.count, left);
            part.add(std::string_view(bytes).substr(0, bytes.size() / site.count * take),
                     static_cast<std::uint16_t>(take));
            left -= take;
        }
    }

    void header(std::uint16_t rcode,
                std::uint16_t extra_flags,
                std::uint16_t qd,
                std::uint16_t an,
                std::uint16_t ns,
                std::uint16_t ar) {
        const std::uint16_t flags =
            FlagQr | (q_.flags & (OpcodeMask | FlagRd | FlagCd)) | extra_flags | (rcode & 0xF);
        w_.pos = 0;
        w_.u16(q_.id);
        w_.u16(flags);
        w_.u16(qd);
        w_.u16(an);
        w_.u16(ns);
        w_.u16(static_cast<std::uint16_t>(ar + (q_.edns ? 1 : 0)));
    }

    void finishOpt(std::uint16_t rcode) {
        if (q_.edns) {
            writeOpt(w_, q_, snap_, rcode, scope_);
        }
    }

    const Snapshot& snap_;
    const Query& q_;
    const std::uint8_t* in_;
    const ClientAddress& source_;
    Writer w_;
    std::uint8_t scope_ = 0;
    std::size_t limit_ = 0;
    std::size_t opt_size_ = 0;
};

constexpr std::string_view IdServer{"\x02id\x06server\x00", 11};
constexpr std::string_view HostnameBind{
    "\x08hostname\x04"
    "bind\x00",
    15};

}  // namespace

std::size_t respond(const Snapshot& snap,
                    const std::uint8_t* in,
                    std::size_t size,
                    Transport transport,
                    const ClientAddress& source,
                    std::uint8_t* out,
                    Outcome& outcome) {
    Query q;
    const QueryStatus status = readQuery(in, size, q);
    outcome = Outcome{};
    if (status == QueryStatus::Drop) {
        return 0;
    }
    Builder b(snap, q, in, transport, source, out);
    switch (status) {
        case QueryStatus::FormErr:
            // The OPT may be what was malformed; answer without one (RFC 6891 section 7).
            q.edns = false;
            outcome.rcode = dns::RcodeFormErr;
            return Builder(snap, q, in, transport, source, out).empty(dns::RcodeFormErr, 0, true);
        case QueryStatus::NotImp:
            outcome.rcode = dns::RcodeNotImp;
            return b.empty(dns::RcodeNotImp, 0, true);
        case QueryStatus::BadVers:
            outcome.rcode = dns::RcodeBadVers;
            return b.empty(dns::RcodeBadVers, 0, true);
        case QueryStatus::Drop:
        case QueryStatus::Ok:
            break;
    }

    // Class CHAOS: only the server identity (RFC 4892).
    if (q.qclass == dns::ClassCh) {
        const bool txt = q.qtype == dns::TypeTxt || q.qtype == dns::TypeAny;
        if (txt && (nameEquals(q, IdServer) || nameEquals(q, HostnameBind))) {
            return b.chaosIdentity();
        }
        outcome.rcode = dns::RcodeRefused;
        return b.empty(dns::RcodeRefused, 0, true);
    }
    if (q.qclass != dns::ClassIn && q.qclass != dns::ClassAny) {
        outcome.rcode = dns::RcodeRefused;
        return b.empty(dns::RcodeRefused, 0, true);
    }

    // Zone transfers are not offered; MAILA and MAILB are obsolete (RFC 1035 section 3.2.3).
    if (q.qtype == dns::TypeAxfr || q.qtype == dns::TypeIxfr) {
        outcome.rcode = dns::RcodeRefused;
        return b.empty(dns::RcodeRefused, 0, true);
    }
    if (q.qtype == dns::TypeMaila || q.qtype == dns::TypeMailb) {
        outcome.rcode = dns::RcodeNotImp;
        return b.empty(dns::RcodeNotImp, 0, true);
    }

    const Response* r = snap.table->lookup(q.qname_lower.data(), q.qname_size, q.labels.data(),
                                           q.label_count, q.qtype);
    if (r == nullptr) {
        outcome.rcode = dns::RcodeRefused;
        return b.empty(dns::RcodeRefused, 0, true);
    }
    return b.fromTable(*r, outcome);
}

std::size_t truncateToQuestion(std::uint8_t* message, std::size_t size) {
    if (size < dns::HeaderSize || message[4] != 0 || message[5] != 1) {
        return 0;
    }
    std::size_t pos = dns::HeaderSize;
    while (pos < size && message[pos] != 0) {
        if (message[pos] > 63) {
            return 0;
        }
        pos += message[pos] + 1u;
    }
    pos += 1 + 4;
    if (pos > size) {
        return 0;
    }
    message[2] |= FlagTc >> 8;
    std::memset(message + 6, 0, 6);
    return pos;
}

ClientAddress clientAddress(const void* sockaddr, std::size_t length) {
    ClientAddress out;
    const auto* sa = static_cast<const ::sockaddr*>(sockaddr);
    if (length >= sizeof(sockaddr_in) && sa->sa_family == AF_INET) {
        const auto* sin = static_cast<const sockaddr_in*>(sockaddr);
        out.family = 1;
        out.prefix = 32;
        std::memcpy(out.bytes.data(), &sin->sin_addr, 4);
    } else if (length >= sizeof(sockaddr_in6) && sa->sa_family == AF_INET6) {
        const auto* sin6 = static_cast<const sockaddr_in6*>(sockaddr);
        out.family = 2;
        out.prefix = 128;
        std::memcpy(out.bytes.data(), &sin6->sin6_addr, 16);
    }
    return out;
}

}  // namespace gslb::server
