#include "config/zone_loader.hpp"

#include <ldns/ldns.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>

namespace gslb::config {

namespace {

struct RrDeleter {
    void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
struct RdfDeleter {
    void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
struct BufferDeleter {
    void operator()(ldns_buffer* b) const { ldns_buffer_free(b); }
};
struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using RrPtr = std::unique_ptr<ldns_rr, RrDeleter>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;
using BufferPtr = std::unique_ptr<ldns_buffer, BufferDeleter>;
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

constexpr std::uint16_t TypeSoa = 6;
constexpr std::uint16_t TypeNs = 2;
constexpr std::uint16_t TypeCname = 5;
constexpr std::uint16_t TypeDname = 39;
constexpr std::uint32_t DefaultTtl = 3600;

std::string lowerWire(const ldns_rdf* dname) {
    std::string out(reinterpret_cast<const char*>(ldns_rdf_data(dname)), ldns_rdf_size(dname));
    // Lowercase label bytes only, never the length octets.
    std::size_t i = 0;
    while (i < out.size()) {
        const auto len = static_cast<unsigned char>(out[i]);
        for (std::size_t j = i + 1; j <= i + len && j < out.size(); ++j) {
            if (out[j] >= 'A' && out[j] <= 'Z') {
                out[j] = static_cast<char>(out[j] - 'A' + 'a');
            }
        }
        i += len + 1u;
        if (len == 0) {
            break;
        }
    }
    return out;
}

/// The RDATA field that names another host, for the types whose answers need it.
const ldns_rdf* targetField(const ldns_rr* rr) {
    switch (ldns_rr_get_type(rr)) {
        case LDNS_RR_TYPE_NS:
        case LDNS_RR_TYPE_CNAME:
        case LDNS_RR_TYPE_DNAME:
            return ldns_rr_rdf(rr, 0);
        case LDNS_RR_TYPE_MX:
            return ldns_rr_rdf(rr, 1);
        case LDNS_RR_TYPE_SRV:
            return ldns_rr_rdf(rr, 3);
        default:
            return nullptr;
    }
}

/// Everything learned while reading the file, checked as a whole once reading is done.
class ZoneChecker {
public:
    ZoneChecker(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

    void add(const ZoneRecord& r) {
        types_[r.owner].insert(r.type);
        if (!first_line_.count(r.owner)) {
            first_line_[r.owner] = r.line;
        }
        if (r.type == TypeSoa) {
            soa_lines_.push_back(r.line);
        }
    }

    /// Checks SOA and NS at the apex, CNAME exclusivity and unsupported types.
    void finish(const std::string& origin_wire, const std::string& origin_text) {
        if (soa_lines_.empty()) {
            diags_.error(file_, 1, 1, "zone " + origin_text + " has no SOA record at its origin");
        }
        for (std::size_t i = 1; i < soa_lines_.size(); ++i) {
            diags_.error(file_, soa_lines_[i], 1,
                         "zone " + origin_text + " has more than one SOA record (one is allowed)");
        }
        auto apex = types_.find(origin_wire);
        if (apex == types_.end() || !apex->second.count(TypeNs)) {
            diags_.error(file_, 1, 1, "zone " + origin_text + " has no NS record at its origin");
        }
        for (const auto& [owner, types] : types_) {
            const unsigned line = first_line_[owner];
            if (types.count(TypeCname) && types.size() > 1) {
                diags_.error(file_, line, 1,
                             wireToName(owner) + ": CNAME cannot coexist with other records");
            }
            if (types.count(TypeDname)) {
                diags_.error(file_, line, 1, wireToName(owner) + ": DNAME is not supported");
            }
            if (owner.size() > 2 && owner[0] == 1 && owner[1] == '*' && types.count(TypeNs)) {
                diags_.error(file_, line, 1,
                             wireToName(owner) + ": a wildcard cannot own NS records");
            }
        }
    }

private:
    const std::string& file_;
    Diagnostics& diags_;
    std::map<std::string, std::set<std::uint16_t>> types_;
    std::map<std::string, unsigned> first_line_;
    std::vector<unsigned> soa_lines_;
};

/// Turns one parsed ldns record into a ZoneRecord, or reports why it does not belong.
bool convert(const ldns_rr* rr,
             const ldns_rdf* origin,
             unsigned line,
             const std::string& file,
             Diagnostics& diags,
             ZoneRecord& out) {
    const ldns_rdf* owner = ldns_rr_owner(rr);
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
        diags.error(file, line, 1, "only class IN is served");
        return false;
    }
    if (ldns_dname_compare(owner, origin) != 0 && !ldns_dname_is_subdomain(owner, origin)) {
        char* text = ldns_rdf2str(owner);
        diags.error(file, line, 1,
                    std::string(text ? text : "?") + " is outside the zone's origin");
        std::free(text);
        return false;
    }
    out.owner = lowerWire(owner);
    out.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    out.ttl = ldns_rr_ttl(rr);
    out.line = line;

    BufferPtr buf(ldns_buffer_new(512));
    if (!buf || ldns_rr_rdata2buffer_wire(buf.get(), rr) != LDNS_STATUS_OK) {
        diags.error(file, line, 1, "record cannot be rendered to wire format");
        return false;
    }
    out.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())),
                     ldns_buffer_position(buf.get()));
    const ldns_rdf* target = targetField(rr);
    if (target != nullptr && ldns_rdf_get_type(target) == LDNS_RDF_TYPE_DNAME) {
        out.target = lowerWire(target);
    }
    return true;
}

/// Checks what ldns lets pass silently: a '(' never closed (ldns then reads the rest of the
/// file as one record's data) and a $TTL that is not a TTL (ldns then keeps the old default).
/// A small lexical scan, aware of quotes, escapes and comments; ldns still parses the zone.
void prescan(const std::string& text, const std::string& file, Diagnostics& diags) {
    unsigned line = 1;
    unsigned col = 0;
    unsigned open_line = 0;
    unsigned open_col = 0;
    int depth = 0;
    bool quoted = false;
    bool comment = false;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        ++col;
        if (c == '\n') {
            ++line;
            col = 0;
            comment = false;
            line_start = true;
            continue;
        }
        if (comment) {
            continue;
        }
        if (line_start && depth == 0 && !quoted && text.compare(i, 5, "$TTL ") == 0) {
            std::size_t v = i + 5;
            while (v < text.size() && (text[v] == ' ' || text[v] == '\t')) {
                ++v;
            }
            std::size_t end = v;
            while (end < text.size() && std::isalnum(static_cast<unsigned char>(text[end]))) {
                ++end;
            }
            const std::string value = text.substr(v, end - v);
            const bool ok = !value.empty() && std::isdigit(static_cast<unsigned char>(value[0])) &&
                            value.find_first_not_of("0123456789smhdwSMHDW") == std::string::npos;
            if (!ok) {
                diags.error(file, line, static_cast<unsigned>(v - i) + col,
                            "$TTL \"" + value + "\" is not a TTL (use seconds, or 1h, 30m, 1d)");
            }
        }
        line_start = false;
        if (quoted) {
            if (c == '\\') {
                ++i;
                ++col;
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == ';') {
            comment = true;
        } else if (c == '\\') {
            ++i;
            ++col;
        } else if (c == '(') {
            if (depth++ == 0) {
                open_line = line;
                open_col = col;
            }
        } else if (c == ')') {
            if (--depth < 0) {
                diags.error(file, line, col, "')' without a matching '('");
                depth = 0;
            }
        }
    }
    if (depth > 0) {
        diags.error(file, open_line, open_col,
                    "'(' is never closed, so the rest of the file would be read as one record");
    }
}

}  // namespace

std::string nameToWire(const std::string& text) {
    if (text.empty()) {
        return {};
    }
    RdfPtr rdf(ldns_dname_new_frm_str(text.c_str()));
    if (!rdf) {
        return {};
    }
    return lowerWire(rdf.get());
}

std::string wireToName(const std::string& wire) {
    std::string out;
    std::size_t i = 0;
    while (i < wire.size()) {
        const auto len = static_cast<unsigned char>(wire[i]);
        if (len == 0) {
            break;
        }
        for (std::size_t j = i + 1; j <= i + len && j < wire.size(); ++j) {
            const char c = wire[j];
            if (c == '.' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '.';
        i += len + 1u;
    }
    return out.empty() ? "." : out;
}

std::shared_ptr<const ZoneData> loadZone(const std::string& file_as_named,
                                         const std::string& resolved_path,
                                         const std::string& origin,
                                         Diagnostics& diags) {
    const std::size_t errors_before = diags.size();
    FilePtr fp(std::fopen(resolved_path.c_str(), "r"));
    if (!fp) {
        diags.error(file_as_named, 0, 0,
                    std::string("cannot open zone file (") + std::strerror(errno) + ")");
        return nullptr;
    }
    // fopen succeeds on a directory, and ldns would then retry the failing read forever.
    struct stat info {};
    if (::fstat(::fileno(fp.get()), &info) != 0 || !S_ISREG(info.st_mode)) {
        diags.error(file_as_named, 0, 0, "cannot read zone file (not a regular file)");
        return nullptr;
    }
    {
        std::string text;
        char buf[8192];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, fp.get())) > 0) {
            text.append(buf, n);
        }
        std::rewind(fp.get());
        prescan(text, file_as_named, diags);
    }
    RdfPtr origin_rdf(ldns_dname_new_frm_str(origin.c_str()));
    if (!origin_rdf) {
        diags.error(file_as_named, 0, 0, "zone origin \"" + origin + "\" is not a domain name");
        return nullptr;
    }

    auto zone = std::make_shared<ZoneData>();
    zone->origin = lowerWire(origin_rdf.get());
    ZoneChecker checker(file_as_named, diags);

    // ldns keeps $ORIGIN and the previous owner in these; it frees and replaces them as it goes.
    ldns_rdf* cur_origin = ldns_rdf_clone(origin_rdf.get());
    ldns_rdf* prev = nullptr;
    std::uint32_t default_ttl = DefaultTtl;
    int line_nr = 0;
    std::set<std::string> seen;

    // Read record by record so that one bad line is reported and the rest still checked.
    while (!std::feof(fp.get())) {
        const int start_line = line_nr + 1;
        ldns_rr* raw = nullptr;
        const ldns_status st =
            ldns_rr_new_frm_fp_l(&raw, fp.get(), &default_ttl, &cur_origin, &prev, &line_nr);
        RrPtr rr(raw);
        if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
            st == LDNS_STATUS_SYNTAX_ORIGIN) {
            continue;
        }
        if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
            diags.error(file_as_named, static_cast<unsigned>(start_line), 1,
                        "$INCLUDE is not supported; put every record in one file");
            continue;
        }
        if (st != LDNS_STATUS_OK) {
            diags.error(file_as_named, static_cast<unsigned>(start_line), 1,
                        std::string("syntax error (") + ldns_get_errorstr_by_id(st) + ")");
            continue;
        }
        ZoneRecord rec;
        if (!convert(rr.get(), origin_rdf.get(), static_cast<unsigned>(start_line), file_as_named,
                     diags, rec)) {
            continue;
        }
        // Identical records are one record (RFC 2181 section 5).
        std::string key = rec.owner;
        key.append(reinterpret_cast<const char*>(&rec.type), sizeof rec.type);
        key += rec.rdata;
        if (!seen.insert(std::move(key)).second) {
            continue;
        }
        if (rec.type == TypeSoa && rec.owner == zone->origin) {
            const ldns_rdf* serial = ldns_rr_rdf(rr.get(), 2);
            zone->serial = serial ? ldns_rdf2native_int32(serial) : 0;
        } else if (rec.type == TypeSoa) {
            diags.error(file_as_named, rec.line, 1, "SOA record must be at the zone's origin");
            continue;
        }
        checker.add(rec);
        zone->records.push_back(std::move(rec));
    }
    ldns_rdf_deep_free(cur_origin);
    if (prev != nullptr) {
        ldns_rdf_deep_free(prev);
    }

    checker.finish(zone->origin, wireToName(zone->origin));
    if (diags.size() != errors_before) {
        return nullptr;
    }
    return zone;
}

}  // namespace gslb::config
