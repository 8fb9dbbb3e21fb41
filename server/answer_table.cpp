#include "server/answer_table.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "config/zone_loader.hpp"

namespace gslb::server {

namespace {

/// The parent of a wire-format name (the name without its first label); "" for the root.
std::string parentOf(const std::string& name) {
    if (name.empty() || name[0] == 0) {
        return {};
    }
    return name.substr(static_cast<unsigned char>(name[0]) + 1u);
}

bool isWildcard(const std::string& name) {
    return name.size() >= 2 && name[0] == 1 && name[1] == '*';
}

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xFF);
}

void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}

/// The most an answer's records may take: a 64 KiB message less its header, the longest
/// question and our largest OPT record (NSID and ECS).
constexpr std::size_t MaxRenderedAnswer = 65535 - 12 - (255 + 4) - (11 + 4 + 255 + 24);

}  // namespace

void writeRecord(std::string& out,
                 const std::string& owner,
                 std::uint16_t type,
                 std::uint32_t ttl,
                 std::string_view rdata) {
    if (owner.empty()) {
        put16(out, 0xC00C);
    } else {
        out += owner;
    }
    put16(out, type);
    put16(out, dns::ClassIn);
    put32(out, ttl);
    put16(out, static_cast<std::uint16_t>(rdata.size()));
    out += rdata;
}

std::uint64_t hashName(const std::uint8_t* name, std::size_t size) {
    // FNV-1a: short keys, no allocation, good enough spread for an open-addressing table.
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < size; ++i) {
        h ^= name[i];
        h *= 1099511628211ull;
    }
    return h;
}

/// Builds an AnswerTable from a Config; lives only during the constructor.
class AnswerTable::Builder {
public:
    using RrSet = std::vector<const config::ZoneRecord*>;

    Builder(AnswerTable& table, const config::Config& cfg) : t_(table), cfg_(cfg) {}

    void build() {
        collect();
        createNodes();
        renderNegatives();
        for (std::uint32_t i = 0; i < t_.nodes_.size(); ++i) {
            renderNode(i);
        }
        buildIndex();
    }

private:
    /// What a name resolves to inside the zone at build time (for CNAME targets).
    struct Resolved {
        enum Kind { OutOfZone, BelowCut, NxDomain, Found } kind = OutOfZone;
        std::uint32_t node = NoIndex;
    };

    // Step 1: group the zone's records into RRsets and note the service names.
    void collect() {
        for (const config::ZoneRecord& r : cfg_.zone_data->records) {
            rrsets_[r.owner][r.type].push_back(&r);
            zone_types_.insert(r.type);
        }
        t_.record_count_ = cfg_.zone_data->records.size();
        for (std::uint32_t s = 0; s < cfg_.services.size(); ++s) {
            service_of_[config::nameToWire(cfg_.services[s].name)] = s;
        }
    }

    // Step 2: one node per owner, service and empty non-terminal, each knowing its zone cut.
    void createNodes() {
        auto add_with_ancestors = [&](const std::string& name) {
            for (std::string n = name; n.size() >= t_.origin_.size(); n = parentOf(n)) {
                if (node_of_.count(n)) {
                    break;
                }
                node_of_[n] = NoIndex;
                if (n == t_.origin_) {
                    break;
                }
            }
        };
        for (const auto& [owner, types] : rrsets_) {
            add_with_ancestors(owner);
        }
        for (const auto& [name, s] : service_of_) {
            add_with_ancestors(name);
        }
        for (auto& [name, index] : node_of_) {
            index = static_cast<std::uint32_t>(t_.nodes_.size());
            Node node;
            node.name_offset = static_cast<std::uint32_t>(t_.names_.size());
            node.name_size = static_cast<std::uint8_t>(name.size());
            t_.names_ += name;
            t_.nodes_.push_back(node);
            node_names_.push_back(name);
        }
        for (std::uint32_t i = 0; i < t_.nodes_.size(); ++i) {
            const std::string& name = node_names_[i];
            t_.nodes_[i].cut = name != t_.origin_ && hasType(name, dns::TypeNs);
            if (isWildcard(name)) {
                t_.nodes_[node_of_.at(parentOf(name))].wildcard = i;
            }
        }
    }

    // Step 3: NXDOMAIN and NODATA carry the SOA with the negative TTL (RFC 2308 section 3).
    void renderNegatives() {
        const RrSet& soa = rrsets_.at(t_.origin_).at(dns::TypeSoa);
        const std::string& rdata = soa.front()->rdata;
        // SOA MINIMUM is the last 4 octets of the RDATA.
        const auto* m = reinterpret_cast<const std::uint8_t*>(rdata.data() + rdata.size() - 4);
        const std::uint32_t minimum = (std::uint32_t{m[0]} << 24) | (std::uint32_t{m[1]} << 16) |
                                      (std::uint32_t{m[2]} << 8) | m[3];
        soa_authority_.clear();
        writeRecord(soa_authority_, t_.origin_, dns::TypeSoa, std::min(soa.front()->ttl, minimum),
                    rdata);
        Response nx;
        nx.rcode = dns::RcodeNxDomain;
        nx.ns = 1;
        t_.nxdomain_ = addResponse(nx, {}, soa_authority_);
        Response nodata;
        nodata.ns = 1;
        nodata_ = addResponse(nodata, {}, soa_authority_);
    }

    // Step 4: every answer a node can give.
    void renderNode(std::uint32_t index) {
        const std::string name = node_names_[index];
        Node& node = t_.nodes_[index];
        node.types_offset = static_cast<std::uint32_t>(t_.types_.size());
        const std::string top_cut = topCut(name);
        if (!top_cut.empty()) {
            t_.nodes_[index].referral = referralFor(top_cut);
        }
        const auto sets = rrsets_.find(name);
        const auto service = service_of_.find(name);
        std::vector<TypeEntry> entries;

        if (sets != rrsets_.end() && sets->second.count(dns::TypeCname)) {
            renderCnameNode(index, name, entries);
        } else {
            if (sets != rrsets_.end()) {
                for (const auto& [type, rrset] : sets->second) {
                    entries.push_back({type, renderRrSet(rrset, type)});
                }
            }
            if (service != service_of_.end()) {
                for (std::uint16_t type : {dns::TypeA, dns::TypeAaaa}) {
                    entries.push_back({type, serviceResponse(service->second, type, {}, 0, {})});
                }
            }
            t_.nodes_[index].other = nodata_;
        }
        std::sort(entries.begin(), entries.end(),
                  [](const TypeEntry& a, const TypeEntry& b) { return a.type < b.type; });
        // RFC 8482 section 4.1: ANY gets one RRset; the first by type number, or NODATA.
        t_.nodes_[index].any = entries.empty() ? nodata_ : entries.front().response;
        t_.nodes_[index].types_count = static_cast<std::uint16_t>(entries.size());
        t_.types_.insert(t_.types_.end(), entries.begin(), entries.end());
    }

    /// A node owning a CNAME: the CNAME itself, and the chain for every type that the chain
    /// could end on; other types get the chain ending in NODATA.
    void renderCnameNode(std::uint32_t index,
                         const std::string& name,
                         std::vector<TypeEntry>& out) {
        const RrSet& cname = rrsets_.at(name).at(dns::TypeCname);
        out.push_back({dns::TypeCname, renderRrSet(cname, dns::TypeCname)});
        std::set<std::uint16_t> types = zone_types_;
        types.insert(dns::TypeA);
        types.insert(dns::TypeAaaa);
        for (std::uint16_t type : types) {
            if (type != dns::TypeCname) {
                out.push_back({type, renderChain(name, type)});
            }
        }
        // Type 0 is owned by no name, so this is the chain ending in NODATA.
        t_.nodes_[index].other = renderChain(name, 0);
    }

    /// Answer for the chain of CNAMEs starting at `start` (RFC 1034 section 4.3.2 step 3a),
    /// followed inside the zone; the final rcode is the last name's (RFC 6604).
    std::uint32_t renderChain(const std::string& start, std::uint16_t qtype) {
        std::string an;
        std::uint16_t an_count = 0;
        std::string owner;  // empty: the question name
        std::string current = start;
        std::set<std::string> seen;
        Response r;
        for (int hops = 0; hops < 16 && seen.insert(current).second; ++hops) {
            const RrSet& cname = rrsets_.at(resolvedOwner(current)).at(dns::TypeCname);
            an_count += appendRrSet(an, owner, cname);
            const std::string target = cname.front()->target;
            const Resolved res = resolve(target);
            if (res.kind == Resolved::OutOfZone || res.kind == Resolved::BelowCut) {
                break;
            }
            if (res.kind == Resolved::NxDomain) {
                r.rcode = dns::RcodeNxDomain;
                r.an = an_count;
                r.ns = 1;
                return addResponse(r, an, soa_authority_);
            }
            owner = target;
            current = target;
            const std::string& node_name = node_names_[res.node];
            const auto sets = rrsets_.find(node_name);
            if (sets != rrsets_.end() && sets->second.count(dns::TypeCname)) {
                resolved_owner_[target] = node_name;
                continue;
            }
            if (sets != rrsets_.end() && sets->second.count(qtype)) {
                an_count += appendRrSet(an, owner, sets->second.at(qtype));
                break;
            }
            const auto service = service_of_.find(node_name);
            if (service != service_of_.end() && (qtype == dns::TypeA || qtype == dns::TypeAaaa)) {
                return serviceResponse(service->second, qtype, an, an_count, target);
            }
            r.an = an_count;
            r.ns = 1;
            return addResponse(r, an, soa_authority_);
        }
        r.an = an_count;
        return addResponse(r, an, {});
    }

    /// The owner whose RRsets answer for `name`: itself, or the wildcard that matched it.
    std::string resolvedOwner(const std::string& name) {
        const auto it = resolved_owner_.find(name);
        return it == resolved_owner_.end() ? name : it->second;
    }

    Resolved resolve(const std::string& name) {
        Resolved res;
        if (name.size() < t_.origin_.size() ||
            name.compare(name.size() - t_.origin_.size(), std::string::npos, t_.origin_) != 0) {
            return res;
        }
        for (std::string n = name; n.size() >= t_.origin_.size(); n = parentOf(n)) {
            const auto it = node_of_.find(n);
            if (it == node_of_.end()) {
                continue;
            }
            if (!topCut(n).empty()) {
                res.kind = Resolved::BelowCut;
                return res;
            }
            if (n == name) {
                res.kind = Resolved::Found;
                res.node = it->second;
                return res;
            }
            const std::uint32_t wildcard = t_.nodes_[it->second].wildcard;
            if (wildcard == NoIndex) {
                res.kind = Resolved::NxDomain;
                return res;
            }
            res.kind = Resolved::Found;
            res.node = wildcard;
            resolved_owner_[name] = node_names_[wildcard];
            return res;
        }
        return res;
    }

    /// A dynamic answer: static records `an` (a CNAME chain) then the service's addresses.
    std::uint32_t serviceResponse(std::uint32_t s,
                                  std::uint16_t type,
                                  const std::string& an,
                                  std::uint16_t an_count,
                                  const std::string& owner) {
        Response empty;
        empty.an = an_count;
        empty.ns = 1;
        const std::uint32_t empty_index = addResponse(empty, an, soa_authority_);
        if (!serviceHasFamily(cfg_.services[s], type)) {
            return empty_index;
        }
        Response r;
        r.an = an_count;
        r.service = s;
        r.service_type = type;
        r.service_direct = owner.empty();
        r.service_empty = empty_index;
        return addResponse(r, an, {});
    }

    bool serviceHasFamily(const config::ServiceConfig& service, std::uint16_t type) const {
        for (std::size_t site : service.sites) {
            const config::SiteConfig& sc = cfg_.sites[site];
            if (type == dns::TypeA ? !sc.addresses_v4.empty() : !sc.addresses_v6.empty()) {
                return true;
            }
        }
        return false;
    }

    /// An authoritative answer with one RRset owned by the question name; NS answers carry
    /// the in-zone addresses of the name servers in the additional section.
    std::uint32_t renderRrSet(const RrSet& rrset, std::uint16_t type) {
        std::string an;
        Response r;
        r.an = appendRrSet(an, {}, rrset);
        std::string ar;
        if (type == dns::TypeNs) {
            r.ar = appendGlue(ar, rrset);
        }
        return addResponse(r, an, ar);
    }

    /// Referral to the child zone at `cut` (RFC 1034 section 4.3.2 step 3b): AA clear, the
    /// NS RRset in authority, glue in additional.
    std::uint32_t referralFor(const std::string& cut) {
        const auto it = referrals_.find(cut);
        if (it != referrals_.end()) {
            return it->second;
        }
        const RrSet& ns = rrsets_.at(cut).at(dns::TypeNs);
        Response r;
        r.aa = false;
        std::string rest;
        r.ns = appendRrSet(rest, cut, ns);
        r.ar = appendGlue(rest, ns);
        const std::uint32_t index = addResponse(r, {}, rest);
        referrals_[cut] = index;
        return index;
    }

    std::uint16_t appendGlue(std::string& out, const RrSet& ns) {
        std::uint16_t count = 0;
        for (const config::ZoneRecord* r : ns) {
            const auto sets = rrsets_.find(r->target);
            if (sets == rrsets_.end()) {
                continue;
            }
            for (std::uint16_t type : {dns::TypeA, dns::TypeAaaa}) {
                const auto set = sets->second.find(type);
                if (set != sets->second.end()) {
                    count += appendRrSet(out, r->target, set->second);
                }
            }
        }
        return count;
    }

    /// Appends an RRset with one TTL, the smallest of its records (RFC 2181 section 5.2).
    std::uint16_t appendRrSet(std::string& out, const std::string& owner, const RrSet& rrset) {
        last_line_ = rrset.front()->line;
        last_owner_ = rrset.front()->owner;
        std::uint32_t ttl = rrset.front()->ttl;
        for (const config::ZoneRecord* r : rrset) {
            ttl = std::min(ttl, r->ttl);
        }
        for (const config::ZoneRecord* r : rrset) {
            writeRecord(out, owner, r->type, ttl, r->rdata);
        }
        return static_cast<std::uint16_t>(rrset.size());
    }

    /// The zone cut closest to the apex at or above `name`, or "" when there is none.
    std::string topCut(const std::string& name) const {
        std::string top;
        for (std::string n = name; n.size() > t_.origin_.size(); n = parentOf(n)) {
            if (hasType(n, dns::TypeNs)) {
                top = n;
            }
        }
        return top;
    }

    bool hasType(const std::string& name, std::uint16_t type) const {
        const auto it = rrsets_.find(name);
        return it != rrsets_.end() && it->second.count(type) != 0;
    }

    std::uint32_t addResponse(Response r, const std::string& an, const std::string& rest) {
        if (an.size() + rest.size() > MaxRenderedAnswer) {
            throw std::runtime_error(
                cfg_.zone.file + ":" + std::to_string(last_line_) +
                ":1: " + config::wireToName(last_owner_) + ": an answer of " +
                std::to_string(an.size() + rest.size()) +
                " bytes does not fit in a DNS message (65535 bytes); split the RRset");
        }
        if (t_.arena_.size() + an.size() + rest.size() > 0xFFFFFFF0u) {
            throw std::runtime_error("rendered zone exceeds 4 GiB");
        }
        r.offset = static_cast<std::uint32_t>(t_.arena_.size());
        r.an_len = static_cast<std::uint32_t>(an.size());
        r.rest_len = static_cast<std::uint32_t>(rest.size());
        t_.arena_ += an;
        t_.arena_ += rest;
        t_.responses_.push_back(r);
        return static_cast<std::uint32_t>(t_.responses_.size() - 1);
    }

    // Step 5: the open-addressing index, at most half full.
    void buildIndex() {
        std::size_t capacity = 16;
        while (capacity < t_.nodes_.size() * 2) {
            capacity *= 2;
        }
        t_.index_.assign(capacity, NoIndex);
        for (std::uint32_t i = 0; i < t_.nodes_.size(); ++i) {
            const auto* name =
                reinterpret_cast<const std::uint8_t*>(t_.names_.data() + t_.nodes_[i].name_offset);
            std::size_t slot = hashName(name, t_.nodes_[i].name_size) & (capacity - 1);
            while (t_.index_[slot] != NoIndex) {
                slot = (slot + 1) & (capacity - 1);
            }
            t_.index_[slot] = i;
        }
    }

    AnswerTable& t_;
    const config::Config& cfg_;
    std::map<std::string, std::map<std::uint16_t, RrSet>> rrsets_;
    std::set<std::uint16_t> zone_types_;
    std::map<std::string, std::uint32_t> service_of_;
    std::map<std::string, std::uint32_t> node_of_;
    std::vector<std::string> node_names_;
    std::map<std::string, std::uint32_t> referrals_;
    std::map<std::string, std::string> resolved_owner_;
    std::string soa_authority_;
    std::uint32_t nodata_ = NoIndex;
    /// The RRset appended last, named when an answer is too large.
    unsigned last_line_ = 0;
    std::string last_owner_;
};

AnswerTable::AnswerTable(const config::Config& cfg) : origin_(cfg.zone_data->origin) {
    Builder(*this, cfg).build();
}

std::uint32_t AnswerTable::findNode(const std::uint8_t* name, std::size_t size) const {
    const std::size_t mask = index_.size() - 1;
    std::size_t slot = hashName(name, size) & mask;
    while (true) {
        const std::uint32_t i = index_[slot];
        if (i == NoIndex) {
            return NoIndex;
        }
        const Node& node = nodes_[i];
        if (node.name_size == size &&
            std::memcmp(names_.data() + node.name_offset, name, size) == 0) {
            return i;
        }
        slot = (slot + 1) & mask;
    }
}

const Response* AnswerTable::answerAt(const Node& node, std::uint16_t qtype) const {
    if (qtype == dns::TypeAny) {
        return &responses_[node.any];
    }
    const TypeEntry* begin = types_.data() + node.types_offset;
    const TypeEntry* end = begin + node.types_count;
    for (const TypeEntry* e = begin; e != end; ++e) {
        if (e->type == qtype) {
            return &responses_[e->response];
        }
    }
    return &responses_[node.other];
}

const Response* AnswerTable::lookup(const std::uint8_t* name,
                                    std::size_t name_size,
                                    const std::uint8_t* labels,
                                    std::size_t label_count,
                                    std::uint16_t qtype) const {
    // In the zone at all? The origin must be a whole-label suffix of the name.
    if (name_size < origin_.size() ||
        std::memcmp(name + name_size - origin_.size(), origin_.data(), origin_.size()) != 0) {
        return nullptr;
    }
    std::size_t first = label_count;
    for (std::size_t i = 0; i < label_count; ++i) {
        if (name_size - labels[i] == origin_.size()) {
            first = i;
            break;
        }
    }
    if (first == label_count) {
        return nullptr;
    }

    // The name itself; DS at a cut belongs to the parent side (RFC 4035 section 3.1.4.1).
    std::uint32_t n = findNode(name, name_size);
    if (n != NoIndex) {
        const Node& node = nodes_[n];
        if (node.referral != NoIndex && !(node.cut && qtype == dns::TypeDs)) {
            return &responses_[node.referral];
        }
        return answerAt(node, qtype);
    }

    // The closest encloser, then its wildcard (RFC 4592 section 3.3.1).
    for (std::size_t i = 1; i <= first; ++i) {
        n = findNode(name + labels[i], name_size - labels[i]);
        if (n == NoIndex) {
            continue;
        }
        const Node& encloser = nodes_[n];
        if (encloser.referral != NoIndex) {
            return &responses_[encloser.referral];
        }
        if (encloser.wildcard != NoIndex) {
            return answerAt(nodes_[encloser.wildcard], qtype);
        }
        break;
    }
    return &responses_[nxdomain_];
}

}  // namespace gslb::server
