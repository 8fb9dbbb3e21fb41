#include "config/config_loader.hpp"

#include <curl/curl.h>
#include <maxminddb.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "config/address.hpp"
#include "config/duration.hpp"
#include "config/zone_loader.hpp"

namespace gslb::config {

namespace {

namespace fs = std::filesystem;
namespace ip = boost::asio::ip;

using Keys = std::span<const std::string_view>;

// Record types the cross-checks look at (RFC 1035 §3.2.2, RFC 3596 §2.1).
constexpr std::uint16_t TypeA = 1;
constexpr std::uint16_t TypeNs = 2;
constexpr std::uint16_t TypeCname = 5;
constexpr std::uint16_t TypeAaaa = 28;

constexpr std::uint64_t MaxWorkers = 1024;
constexpr std::uint64_t MaxCount = 65535;
// RFC 2181 §8: a TTL is an unsigned 32-bit number whose top bit must be zero.
constexpr std::uint64_t MaxTtl = 2147483647;
// The identity is sent as one TXT character-string (RFC 1035 §3.3.14).
constexpr std::size_t MaxIdentity = 255;
constexpr std::size_t MaxSiteName = 63;

constexpr std::string_view TopKeys[] = {"server",   "zone",    "health",   "sites",
                                        "services", "clients", "dashboard"};
constexpr std::string_view ServerKeys[] = {"listen",
                                           "workers",
                                           "identity",
                                           "tcp_idle_timeout",
                                           "tcp_max_connections",
                                           "tcp_max_connections_per_client",
                                           "rate_limit"};
constexpr std::string_view RateLimitKeys[] = {"responses_per_second", "slip", "ipv4_prefix",
                                              "ipv6_prefix"};
constexpr std::string_view ZoneKeys[] = {"origin", "file"};
constexpr std::string_view HealthKeys[] = {"interval", "timeout", "rise", "fall"};
constexpr std::string_view SiteKeys[] = {"location", "addresses", "checks"};
constexpr std::string_view LocationKeys[] = {"lat", "lon"};
constexpr std::string_view HaproxyKeys[] = {"type",    "url",           "backend",    "min_up",
                                            "user",    "password_file", "tls_verify", "interval",
                                            "timeout", "rise",          "fall"};
constexpr std::string_view HttpKeys[] = {"type",     "url",     "expect_status", "expect_body",
                                         "interval", "timeout", "rise",          "fall"};
constexpr std::string_view HttpsKeys[] = {"type",        "url",        "expect_status",
                                          "expect_body", "tls_verify", "interval",
                                          "timeout",     "rise",       "fall"};
constexpr std::string_view TcpKeys[] = {"type", "address", "interval", "timeout", "rise", "fall"};
constexpr std::string_view ServiceKeys[] = {"sites", "policy", "ttl", "max_answers",
                                            "when_all_down"};
constexpr std::string_view ClientsKeys[] = {"geoip_db", "networks"};
constexpr std::string_view NetworkKeys[] = {"prefix", "location"};
constexpr std::string_view DashboardKeys[] = {"listen", "admin_token_file", "state_file"};

// Choices, in the order of their enums.
constexpr std::string_view CheckTypeNames[] = {"haproxy", "http", "https", "tcp"};
constexpr std::string_view PolicyNames[] = {"round-robin", "distance", "failover"};
constexpr std::string_view WhenAllDownNames[] = {"serve-all", "servfail"};
constexpr std::string_view HttpSchemes[] = {"http://"};
constexpr std::string_view HttpsSchemes[] = {"https://"};
constexpr std::string_view AnySchemes[] = {"http://", "https://"};

/// One value of the YAML tree with where it is and how messages name it.
struct Field {
    YAML::Node node;
    /// The value's position, or its key's when the value is empty (yaml-cpp then marks the
    /// next token, which may be lines away).
    YAML::Mark mark;
    /// Key path, e.g. `sites.madrid.checks[1].timeout`; empty for the document itself.
    std::string path;
};

/// One key of a YAML map with its value.
struct Entry {
    std::string key;
    /// The key itself, as a Field whose node is the key's scalar.
    Field key_field;
    Field value;
};

/// The entries of one map, first occurrence of each key only.
struct Section {
    Field field;
    std::vector<Entry> entries;

    const Field* find(std::string_view key) const {
        for (const Entry& e : entries) {
            if (e.key == key) {
                return &e.value;
            }
        }
        return nullptr;
    }
};

std::string joinKeys(Keys keys) {
    std::string out;
    for (std::string_view k : keys) {
        out += out.empty() ? "" : ", ";
        out += k;
    }
    return out;
}

/// `"text"` with quotes, backslashes and control characters escaped, for messages.
std::string quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char Hex[] = "0123456789abcdef";
            out += "\\x";
            out += Hex[(c >> 4) & 0xF];
            out += Hex[c & 0xF];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

/// Appends a map key to a path; keys that are not plain words (service names have dots) are
/// quoted so the path stays unambiguous: `services."app.example.com.".ttl`.
std::string childPath(const std::string& parent, std::string_view key) {
    const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    const std::string part = plain ? std::string(key) : quote(key);
    return parent.empty() ? part : parent + "." + part;
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Scalar:
            return quote(node.Scalar());
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Undefined:
            break;
    }
    return "nothing";
}

std::string lowercase(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return text;
}

bool isSiteName(std::string_view name) {
    return !name.empty() && name.size() <= MaxSiteName &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                      c == '.';
           });
}

/// Number of labels of a wire-format name, the root label not counted.
std::size_t labelCount(const std::string& wire) {
    std::size_t count = 0;
    for (std::size_t pos = 0; pos < wire.size() && wire[pos] != 0;
         pos += 1 + static_cast<unsigned char>(wire[pos])) {
        ++count;
    }
    return count;
}

/// Whether wire-format `name` equals `ancestor` or lies below it (both lowercase).
bool isAtOrBelow(const std::string& name, const std::string& ancestor) {
    for (std::size_t pos = 0; pos < name.size(); pos += 1 + static_cast<unsigned char>(name[pos])) {
        if (name.compare(pos, std::string::npos, ancestor) == 0) {
            return true;
        }
        if (name[pos] == 0) {
            break;
        }
    }
    return false;
}

std::string typeName(CheckType type) {
    switch (type) {
        case CheckType::Haproxy:
            return "haproxy";
        case CheckType::Http:
            return "http";
        case CheckType::Https:
            return "https";
        case CheckType::Tcp:
            return "tcp";
    }
    return "tcp";
}

std::string hostName() {
    char buffer[256] = {};
    if (gethostname(buffer, sizeof buffer - 1) != 0) {
        return "gslbd";
    }
    return buffer;
}

/// Counts the documents of a YAML stream and where the second one's first node is, without
/// building any node.
struct DocumentCounter : YAML::EventHandler {
    int documents = 0;
    YAML::Mark second = YAML::Mark::null_mark();

    void OnDocumentStart(const YAML::Mark&) override { ++documents; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnScalar(const YAML::Mark& mark,
                  const std::string&,
                  YAML::anchor_t,
                  const std::string&) override {
        node(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark,
                         const std::string&,
                         YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark,
                    const std::string&,
                    YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnMapEnd() override {}

    void node(const YAML::Mark& mark) {
        if (documents == 2 && second.is_null()) {
            second = mark;
        }
    }
};

/// Builds one Config from one YAML file. Every check reports to the collector and carries on,
/// so a single run lists every problem; the result is kept only when none was found.
class Loader {
public:
    Loader(const std::string& path, Diagnostics& diags)
        : path_(path), dir_(fs::path(path).parent_path()), diags_(diags) {}

    std::shared_ptr<const Config> load();

private:
    // Diagnostics.
    void error(const YAML::Mark& mark, const std::string& message);
    void error(const Field& field, const std::string& message);

    // Structure: maps, lists, keys.
    std::optional<YAML::Node> parseFile();
    std::vector<Entry> entriesOf(const Field& field);
    void checkKeys(const Field& field, const std::vector<Entry>& entries, Keys allowed);
    Section section(const Field& field, Keys allowed);
    const Field* require(const Section& s, std::string_view key, const std::string& why = {});
    std::vector<Field> elementsOf(const Field& field);

    // Scalars.
    const std::string* scalar(const Field& field, std::string_view expected);
    std::optional<std::string> readString(const Field& field);
    std::optional<std::uint64_t> readUnsigned(const Field& f, std::uint64_t min, std::uint64_t max);
    std::optional<double> readDouble(const Field& f, double min, double max);
    std::optional<bool> readBool(const Field& field);
    std::optional<Duration> readDuration(const Field& field);
    std::optional<std::size_t> readChoice(const Field& f, std::string_view what, Keys choices);
    std::optional<Endpoint> readEndpoint(const Field& field);
    std::optional<Prefix> readPrefix(const Field& field);
    std::optional<std::string> readName(const Field& field, bool require_fqdn);
    std::optional<Location> readLocation(const Field& field);
    std::optional<std::string> readPath(const Field& field, bool must_open);
    std::optional<std::string> readUrl(const Field& f, Keys schemes, std::string_view hint);

    // Sections, in file order.
    void loadServer(const Field& field);
    void loadRateLimit(const Field& field);
    void loadListen(const Field& field);
    void loadZoneSection(const Field& field);
    void loadHealth(const Field& field);
    void loadSites(const Field& field);
    void loadSite(SiteConfig& site, const Field& field);
    void loadAddresses(SiteConfig& site, const Field& field);
    std::optional<CheckConfig> loadCheck(const std::string& site,
                                         std::size_t index,
                                         const Field& field);
    void loadHaproxyCheck(CheckConfig& check, const Section& s);
    void loadHttpCheck(CheckConfig& check, const Section& s);
    void loadTcpCheck(CheckConfig& check, const Section& s);
    void loadCheckTiming(CheckConfig& check, const Section& s);
    void loadServices(const Field& field);
    void loadService(ServiceConfig& service, const Field& field);
    void loadServiceSites(ServiceConfig& service, const Field& field);
    void loadClients(const Field& field);
    void loadNetwork(const Field& field, std::vector<int>& lines);
    void loadDashboard(const Field& field);

    // Checks between sections and against the zone.
    void checkTiming(Duration interval,
                     Duration timeout,
                     const Field* interval_field,
                     const Field* timeout_field);
    void checkServicesInZone();
    void checkServicesAgainstRecords(const ZoneData& zone);

    const std::string& path_;
    const fs::path dir_;
    Diagnostics& diags_;
    Config config_;

    /// Whether the health defaults are consistent, so checks inheriting them are not blamed.
    bool health_ok_ = true;
    /// Site name to index in config_.sites; every site whose name is valid, even if its body
    /// has errors, so that services naming it get no second, misleading error.
    std::map<std::string, std::size_t, std::less<>> site_index_;
    /// Per site: whether `location` was written (valid or not).
    std::vector<bool> site_location_written_;
    /// Per service in config_.services: its key, for cross-check messages.
    std::vector<Field> service_keys_;
    std::string origin_wire_;
};

// ---------------------------------------------------------------------------------------------
// Diagnostics and structure.

void Loader::error(const YAML::Mark& mark, const std::string& message) {
    if (mark.is_null() || mark.line < 0) {
        diags_.error(path_, 0, 0, message);
        return;
    }
    diags_.error(path_, static_cast<unsigned>(mark.line) + 1,
                 static_cast<unsigned>(mark.column) + 1, message);
}

void Loader::error(const Field& field, const std::string& message) {
    error(field.mark, field.path.empty() ? message : field.path + ": " + message);
}

std::optional<YAML::Node> Loader::parseFile() {
    // Read the whole file first, so that open and read errors name their cause.
    std::error_code ec;
    const fs::file_type type = fs::status(path_, ec).type();
    if (type == fs::file_type::directory) {
        diags_.error(path_, 0, 0, "cannot open (" + std::string(std::strerror(EISDIR)) + ")");
        return std::nullopt;
    }
    // A FIFO blocks the open until a writer comes, and a device such as /dev/zero never ends:
    // either would hang --check-config or a reload. Checked before opening, for the FIFO.
    if (!ec && type != fs::file_type::regular) {
        diags_.error(path_, 0, 0, "cannot open (not a regular file)");
        return std::nullopt;
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        diags_.error(path_, 0, 0, "cannot open (" + std::string(std::strerror(errno)) + ")");
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();

    // Count the documents (at most two) before building the first; yaml-cpp marks are 0-based,
    // error() adds 1. Not YAML::LoadAll: on a top-level ',' after a node (e.g. "a ,") yaml-cpp
    // 0.7 yields one empty document after another without consuming the comma, and LoadAll
    // then never returns, taking memory until it runs out.
    YAML::Node doc;
    DocumentCounter counter;
    try {
        std::istringstream stream(text.str());
        YAML::Parser parser(stream);
        while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
        }
        doc = YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
        error(e.mark, e.msg);
        return std::nullopt;
    }
    if (counter.documents == 0 || doc.IsNull()) {
        diags_.error(path_, 1, 1, "the file is empty (it needs at least server and zone)");
        return std::nullopt;
    }
    if (counter.documents > 1) {
        error(counter.second, "only one YAML document is allowed");
    }
    return doc;
}

std::vector<Entry> Loader::entriesOf(const Field& field) {
    std::vector<Entry> entries;
    if (field.node.IsNull()) {
        return entries;
    }
    if (!field.node.IsMap()) {
        error(field, "expected a map, got " + describe(field.node));
        return entries;
    }
    for (auto it = field.node.begin(); it != field.node.end(); ++it) {
        // Copies: the iterator's pair is a temporary, and Node is a cheap handle.
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        if (!key.IsScalar()) {
            error(Field{key, key.Mark(), field.path},
                  "a key must be a string, not " + describe(key));
            continue;
        }

        // yaml-cpp 0.7 keeps every duplicate key in the map and returns the first on lookup;
        // YAML forbids duplicates (YAML 1.2 §3.2.1.1), so report them and keep the first.
        const std::string path = childPath(field.path, key.Scalar());
        const Field key_field{key, key.Mark(), path};
        const auto first = std::find_if(entries.begin(), entries.end(),
                                        [&](const Entry& e) { return e.key == key.Scalar(); });
        if (first != entries.end()) {
            error(key_field, "duplicate key (first at line " +
                                 std::to_string(first->key_field.mark.line + 1) + ")");
            continue;
        }
        const YAML::Mark mark = value.IsNull() ? key.Mark() : value.Mark();
        entries.push_back(Entry{key.Scalar(), key_field, Field{value, mark, path}});
    }
    return entries;
}

void Loader::checkKeys(const Field& field, const std::vector<Entry>& entries, Keys allowed) {
    for (const Entry& e : entries) {
        if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
            const std::string where = field.path.empty() ? "" : " in " + field.path;
            error(e.key_field, "unknown key (allowed" + where + ": " + joinKeys(allowed) + ")");
        }
    }
}

Section Loader::section(const Field& field, Keys allowed) {
    Section s{field, entriesOf(field)};
    checkKeys(field, s.entries, allowed);
    return s;
}

const Field* Loader::require(const Section& s, std::string_view key, const std::string& why) {
    const Field* f = s.find(key);
    if (f == nullptr) {
        error(s.field, "missing required key \"" + std::string(key) + "\"" + why);
    }
    return f;
}

std::vector<Field> Loader::elementsOf(const Field& field) {
    std::vector<Field> out;
    if (field.node.IsNull()) {
        return out;
    }
    if (!field.node.IsSequence()) {
        error(field, "expected a list, got " + describe(field.node));
        return out;
    }
    std::size_t index = 0;
    for (const YAML::Node& element : field.node) {
        const YAML::Mark mark = element.IsNull() ? field.mark : element.Mark();
        out.push_back(Field{element, mark, field.path + "[" + std::to_string(index++) + "]"});
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Scalars.

const std::string* Loader::scalar(const Field& field, std::string_view expected) {
    if (!field.node.IsScalar()) {
        error(field, "expected " + std::string(expected) + ", got " + describe(field.node));
        return nullptr;
    }
    return &field.node.Scalar();
}

std::optional<std::string> Loader::readString(const Field& field) {
    const std::string* text = scalar(field, "a string");
    if (text == nullptr) {
        return std::nullopt;
    }
    return *text;
}

std::optional<std::uint64_t> Loader::readUnsigned(const Field& f,
                                                  std::uint64_t min,
                                                  std::uint64_t max) {
    const std::string range = " (use " + std::to_string(min) + ".." + std::to_string(max) + ")";
    const std::string* text = scalar(f, "a whole number");
    if (text == nullptr) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    const char* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, value);
    const bool digits_only = !text->empty() && std::isdigit(static_cast<unsigned char>((*text)[0]));
    if (ec == std::errc::result_out_of_range && digits_only && ptr == end) {
        error(f, quote(*text) + " is out of range" + range);
        return std::nullopt;
    }
    if (ec != std::errc() || ptr != end || !digits_only) {
        error(f, quote(*text) + " is not a whole number" + range);
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(f, quote(*text) + " is out of range" + range);
        return std::nullopt;
    }
    return value;
}

std::optional<double> Loader::readDouble(const Field& f, double min, double max) {
    std::ostringstream range;
    range << " (use " << min << ".." << max << ")";
    const std::string* text = scalar(f, "a number");
    if (text == nullptr) {
        return std::nullopt;
    }
    double value = 0;
    const char* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
        error(f, quote(*text) + " is not a number" + range.str());
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(f, quote(*text) + " is out of range" + range.str());
        return std::nullopt;
    }
    return value;
}

std::optional<bool> Loader::readBool(const Field& field) {
    const std::string* text = scalar(field, "true or false");
    if (text == nullptr) {
        return std::nullopt;
    }
    const std::string value = lowercase(*text);
    if (value == "true") {
        return true;
    }
    if (value == "false") {
        return false;
    }
    error(field, quote(*text) + " is not a boolean (use true or false)");
    return std::nullopt;
}

std::optional<Duration> Loader::readDuration(const Field& field) {
    const std::string* text = scalar(field, "a duration");
    if (text == nullptr) {
        return std::nullopt;
    }
    const ParseResult<Duration> parsed = parseDuration(*text);
    if (!parsed.value) {
        error(field, quote(*text) + " " + parsed.error);
        return std::nullopt;
    }
    // No duration in the configuration makes sense at zero: a zero interval would spin,
    // a zero timeout would fail every probe.
    if (parsed.value->count() == 0) {
        error(field, quote(*text) + " must be longer than zero");
        return std::nullopt;
    }
    return parsed.value;
}

std::optional<std::size_t> Loader::readChoice(const Field& f, std::string_view what, Keys choices) {
    const std::string* text = scalar(f, "a " + std::string(what));
    if (text == nullptr) {
        return std::nullopt;
    }
    const auto it = std::find(choices.begin(), choices.end(), *text);
    if (it == choices.end()) {
        error(f,
              quote(*text) + " is not a " + std::string(what) + " (use " + joinKeys(choices) + ")");
        return std::nullopt;
    }
    return static_cast<std::size_t>(it - choices.begin());
}

std::optional<Prefix> Loader::readPrefix(const Field& field) {
    const std::string* text = scalar(field, "an address prefix");
    if (text == nullptr) {
        return std::nullopt;
    }
    ParseResult<Prefix> parsed = parsePrefix(*text);
    if (!parsed.value) {
        error(field, quote(*text) + " " + parsed.error);
    }
    return parsed.value;
}

std::optional<Endpoint> Loader::readEndpoint(const Field& field) {
    const std::string* text = scalar(field, "an address and port");
    if (text == nullptr) {
        return std::nullopt;
    }
    ParseResult<Endpoint> parsed = parseEndpoint(*text);
    if (!parsed.value) {
        error(field, quote(*text) + " " + parsed.error);
    }
    return std::move(parsed.value);
}

/// Reads a domain name and returns it lowercase with its trailing dot. With `require_fqdn`, a
/// single label without a trailing dot ("app") is refused: it reads like a name relative to the
/// zone, which the configuration does not support.
std::optional<std::string> Loader::readName(const Field& field, bool require_fqdn) {
    const std::string* text = scalar(field, "a domain name");
    if (text == nullptr) {
        return std::nullopt;
    }
    std::string name = lowercase(*text);
    const bool absolute = !name.empty() && name.back() == '.';
    if (!absolute) {
        name += '.';
    }
    const std::string wire = nameToWire(name);
    if (name == "." && !absolute) {
        error(field, "the name is empty");
        return std::nullopt;
    }
    if (wire.empty()) {
        error(field, quote(*text) + " is not a valid domain name (labels of 1 to 63 characters, " +
                         "255 characters in all)");
        return std::nullopt;
    }
    if (require_fqdn && !absolute && labelCount(wire) < 2) {
        error(field, quote(*text) + " is not a fully qualified name (write it in full, e.g. " +
                         *text + ".example.com.)");
        return std::nullopt;
    }
    return name;
}

std::optional<Location> Loader::readLocation(const Field& field) {
    const Section s = section(field, LocationKeys);
    if (!field.node.IsMap()) {
        if (field.node.IsNull()) {
            error(field, "expected a map {lat, lon}, got nothing");
        }
        return std::nullopt;
    }
    const Field* lat_field = require(s, "lat");
    const Field* lon_field = require(s, "lon");
    const auto lat = lat_field ? readDouble(*lat_field, -90, 90) : std::nullopt;
    const auto lon = lon_field ? readDouble(*lon_field, -180, 180) : std::nullopt;
    if (!lat || !lon) {
        return std::nullopt;
    }
    return Location{*lat, *lon};
}

/// Reads a file name and resolves it against the YAML file's directory, so that a config
/// behaves the same whatever the working directory. With `must_open`, the file must be
/// readable now: it holds a secret the server reads later, and --check-config should say so.
std::optional<std::string> Loader::readPath(const Field& field, bool must_open) {
    const std::string* text = scalar(field, "a file name");
    if (text == nullptr) {
        return std::nullopt;
    }
    if (text->empty()) {
        error(field, "the file name is empty");
        return std::nullopt;
    }
    const fs::path written(*text);
    const std::string resolved = written.is_absolute() ? *text : (dir_ / written).string();
    if (must_open) {
        // Opening a FIFO would block until a writer came; refuse anything but a regular file.
        std::error_code ec;
        const fs::file_type type = fs::status(resolved, ec).type();
        if (!ec && type != fs::file_type::regular) {
            error(field, quote(*text) + " is not a regular file");
            return std::nullopt;
        }
        std::ifstream probe(resolved);
        if (!probe) {
            error(field, quote(*text) + " cannot be opened (" + std::strerror(errno) + ")");
            return std::nullopt;
        }
    }
    return resolved;
}

std::optional<std::string> Loader::readUrl(const Field& f, Keys schemes, std::string_view hint) {
    const std::optional<std::string> url = readString(f);
    if (!url) {
        return std::nullopt;
    }
    const std::string lower = lowercase(*url);
    bool scheme_ok = false;
    for (std::string_view scheme : schemes) {
        scheme_ok = scheme_ok ||
                    (lower.size() > scheme.size() && lower.compare(0, scheme.size(), scheme) == 0);
    }
    if (!scheme_ok) {
        error(f, quote(*url) + " " + std::string(hint));
        return std::nullopt;
    }

    // Parsed as the probe will parse it, so a URL curl would refuse at every probe (no host,
    // a port past 65535) is refused here instead.
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
    char* host = nullptr;
    const bool valid = parsed &&
                       curl_url_set(parsed.get(), CURLUPART_URL, url->c_str(), 0) == CURLUE_OK &&
                       curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
                       host != nullptr && host[0] != '\0';
    curl_free(host);
    if (!valid) {
        error(f, quote(*url) + " is not a valid URL (a host is needed, and a port up to 65535)");
        return std::nullopt;
    }
    return url;
}

// ---------------------------------------------------------------------------------------------
// server, zone, health.

void Loader::loadServer(const Field& field) {
    const Section s = section(field, ServerKeys);
    if (const Field* f = require(s, "listen")) {
        loadListen(*f);
    }
    if (const Field* f = s.find("workers")) {
        if (const auto workers = readUnsigned(*f, 0, MaxWorkers)) {
            config_.server.workers = static_cast<unsigned>(*workers);
        }
    }
    if (config_.server.workers == 0) {
        config_.server.workers = std::max(1u, std::thread::hardware_concurrency());
    }
    if (const Field* f = s.find("identity")) {
        const auto identity = readString(*f);
        if (identity && (identity->empty() || identity->size() > MaxIdentity)) {
            error(*f, quote(*identity) + " must have 1 to 255 characters");
        } else if (identity) {
            config_.server.identity = *identity;
        }
    }
    if (config_.server.identity.empty()) {
        config_.server.identity = hostName();
    }
    if (const Field* f = s.find("tcp_idle_timeout")) {
        config_.server.tcp_idle_timeout = readDuration(*f).value_or(Duration{});
    }
    if (const Field* f = s.find("tcp_max_connections")) {
        config_.server.tcp_max_connections =
            static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(0));
    }
    if (const Field* f = s.find("tcp_max_connections_per_client")) {
        config_.server.tcp_max_connections_per_client =
            static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(0));
    }
    if (const Field* f = s.find("rate_limit")) {
        loadRateLimit(*f);
    }
}

void Loader::loadRateLimit(const Field& field) {
    const Section s = section(field, RateLimitKeys);
    ServerConfig& server = config_.server;
    if (const Field* f = s.find("responses_per_second")) {
        server.rate_limit = static_cast<unsigned>(readUnsigned(*f, 0, 1000000).value_or(0));
    }
    if (const Field* f = s.find("slip")) {
        server.rate_limit_slip = static_cast<unsigned>(readUnsigned(*f, 0, 10).value_or(2));
    }
    if (const Field* f = s.find("ipv4_prefix")) {
        server.rate_limit_ipv4_prefix = static_cast<unsigned>(readUnsigned(*f, 1, 32).value_or(24));
    }
    if (const Field* f = s.find("ipv6_prefix")) {
        server.rate_limit_ipv6_prefix =
            static_cast<unsigned>(readUnsigned(*f, 1, 128).value_or(56));
    }
}

void Loader::loadListen(const Field& field) {
    // One address is accepted as a list of one, as gdnsd and PowerDNS do.
    const std::vector<Field> elements =
        field.node.IsScalar() ? std::vector<Field>{field} : elementsOf(field);
    if (elements.empty() && (field.node.IsNull() || field.node.IsSequence())) {
        error(field, "needs at least one address (e.g. 127.0.0.1:5300)");
    }
    std::vector<Endpoint>& listen = config_.server.listen;
    for (const Field& element : elements) {
        std::optional<Endpoint> endpoint = readEndpoint(element);
        if (!endpoint) {
            continue;
        }

        // Port 0 binds a fresh port each time, so only fixed ports can collide.
        const auto same = std::find_if(listen.begin(), listen.end(), [&](const Endpoint& e) {
            return e.port != 0 && e.address == endpoint->address && e.port == endpoint->port;
        });
        if (same != listen.end()) {
            error(element,
                  quote(endpoint->text) + " is listed twice (first as " + quote(same->text) + ")");
            continue;
        }
        listen.push_back(std::move(*endpoint));
    }
}

void Loader::loadZoneSection(const Field& field) {
    const Section s = section(field, ZoneKeys);
    if (const Field* f = require(s, "origin")) {
        if (const auto origin = readName(*f, false)) {
            config_.zone.origin = *origin;
            origin_wire_ = nameToWire(*origin);
        }
    }
    if (const Field* f = require(s, "file")) {
        if (const auto resolved = readPath(*f, false)) {
            config_.zone.file = f->node.Scalar();
            config_.zone.resolved_file = *resolved;
        }
    }
}

/// Reports a timeout longer than its interval, at the key the user wrote: the timeout if it
/// was set here, else the interval.
void Loader::checkTiming(Duration interval,
                         Duration timeout,
                         const Field* interval_field,
                         const Field* timeout_field) {
    if (timeout <= interval) {
        return;
    }
    if (timeout_field != nullptr) {
        error(*timeout_field,
              formatDuration(timeout) + " is longer than the interval " + formatDuration(interval));
    } else if (interval_field != nullptr) {
        error(*interval_field,
              formatDuration(interval) + " is shorter than the timeout " + formatDuration(timeout));
    }
}

void Loader::loadHealth(const Field& field) {
    const Section s = section(field, HealthKeys);
    HealthDefaults& health = config_.health;
    const Field* interval = s.find("interval");
    const Field* timeout = s.find("timeout");
    const auto interval_value = interval ? readDuration(*interval) : health.interval;
    const auto timeout_value = timeout ? readDuration(*timeout) : health.timeout;
    if (const Field* f = s.find("rise")) {
        health.rise = static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(1));
    }
    if (const Field* f = s.find("fall")) {
        health.fall = static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(1));
    }
    if (!interval_value || !timeout_value) {
        health_ok_ = false;
        return;
    }
    health.interval = *interval_value;
    health.timeout = *timeout_value;
    health_ok_ = health.timeout <= health.interval;
    checkTiming(health.interval, health.timeout, interval, timeout);
}

// ---------------------------------------------------------------------------------------------
// sites.

void Loader::loadSites(const Field& field) {
    for (const Entry& e : entriesOf(field)) {
        if (!isSiteName(e.key)) {
            error(e.key_field, quote(e.key) +
                                   " is not a site name (use 1 to 63 letters, digits, '-', '_' "
                                   "or '.')");
            continue;
        }
        site_index_.emplace(e.key, config_.sites.size());
        SiteConfig& site = config_.sites.emplace_back();
        site.name = e.key;
        site_location_written_.push_back(false);
        loadSite(site, e.value);
    }
}

void Loader::loadSite(SiteConfig& site, const Field& field) {
    const Section s = section(field, SiteKeys);
    if (!field.node.IsMap()) {
        if (field.node.IsNull()) {
            error(field, "expected a map with addresses, got nothing");
        }
        return;
    }
    if (const Field* f = s.find("location")) {
        site_location_written_.back() = true;
        site.location = readLocation(*f);
    }
    if (const Field* f = require(s, "addresses", " (the site's floating IPs)")) {
        loadAddresses(site, *f);
    }
    if (const Field* f = s.find("checks")) {
        const std::vector<Field> checks = elementsOf(*f);
        for (std::size_t i = 0; i < checks.size(); ++i) {
            if (auto check = loadCheck(site.name, i, checks[i])) {
                site.checks.push_back(std::move(*check));
            }
        }
    }
}

void Loader::loadAddresses(SiteConfig& site, const Field& field) {
    const std::vector<Field> elements = elementsOf(field);
    if (elements.empty() && (field.node.IsNull() || field.node.IsSequence())) {
        error(field, "a site needs at least one address");
    }
    std::vector<ip::address> seen;
    for (const Field& element : elements) {
        const std::string* text = scalar(element, "an IP address");
        if (text == nullptr) {
            continue;
        }
        const ParseResult<ip::address> parsed = parseAddress(*text);
        if (!parsed.value) {
            error(element, quote(*text) + " " + parsed.error);
            continue;
        }
        if (std::find(seen.begin(), seen.end(), *parsed.value) != seen.end()) {
            error(element, quote(*text) + " is listed twice");
            continue;
        }
        seen.push_back(*parsed.value);
        if (parsed.value->is_v4()) {
            site.addresses_v4.push_back(parsed.value->to_v4());
        } else {
            site.addresses_v6.push_back(parsed.value->to_v6());
        }
    }
}

std::optional<CheckConfig> Loader::loadCheck(const std::string& site,
                                             std::size_t index,
                                             const Field& field) {
    // The type decides which keys are allowed, so read it before checking the others.
    const std::vector<Entry> entries = entriesOf(field);
    if (!field.node.IsMap()) {
        if (field.node.IsNull()) {
            error(field, "expected a map with a type, got nothing");
        }
        return std::nullopt;
    }
    Section s{field, entries};
    const Field* type_field = require(s, "type", " (haproxy, http, https or tcp)");
    if (type_field == nullptr) {
        return std::nullopt;
    }
    const auto type = readChoice(*type_field, "check type", CheckTypeNames);
    if (!type) {
        return std::nullopt;
    }

    CheckConfig check;
    check.type = static_cast<CheckType>(*type);
    check.id = site + "/" + std::to_string(index) + ":" + typeName(check.type);
    switch (check.type) {
        case CheckType::Haproxy:
            checkKeys(field, entries, HaproxyKeys);
            loadHaproxyCheck(check, s);
            break;
        case CheckType::Http:
        case CheckType::Https:
            checkKeys(field, entries,
                      check.type == CheckType::Http ? Keys(HttpKeys) : Keys(HttpsKeys));
            loadHttpCheck(check, s);
            break;
        case CheckType::Tcp:
            checkKeys(field, entries, TcpKeys);
            loadTcpCheck(check, s);
            break;
    }
    loadCheckTiming(check, s);
    return check;
}

void Loader::loadHaproxyCheck(CheckConfig& check, const Section& s) {
    if (const Field* f = require(s, "url", " (for type haproxy)")) {
        check.url = readUrl(*f, AnySchemes, "must start with http:// or https://").value_or("");
    }
    if (const Field* f = require(s, "backend", " (for type haproxy)")) {
        check.backend = readString(*f).value_or("");
        if (f->node.IsScalar() && check.backend.empty()) {
            error(*f, "the backend name is empty");
        }
    }
    if (const Field* f = s.find("min_up")) {
        check.min_up = static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(1));
    }
    if (const Field* f = s.find("tls_verify")) {
        check.tls_verify = readBool(*f).value_or(true);
    }

    // Basic auth needs both halves; one alone is a mistake, not a request for no auth.
    const Field* user = s.find("user");
    const Field* password_file = s.find("password_file");
    if (user != nullptr) {
        check.user = readString(*user).value_or("");
    }
    if (password_file != nullptr) {
        check.password_file = readPath(*password_file, true).value_or("");
    }
    if ((user == nullptr) != (password_file == nullptr)) {
        error(user ? *user : *password_file, "user and password_file must be set together");
    }
}

void Loader::loadHttpCheck(CheckConfig& check, const Section& s) {
    const bool https = check.type == CheckType::Https;
    if (const Field* f = require(s, "url", https ? " (for type https)" : " (for type http)")) {
        check.url = (https ? readUrl(*f, HttpsSchemes, "must start with https://")
                           : readUrl(*f, HttpSchemes,
                                     "must start with http:// (use type https "
                                     "for TLS)"))
                        .value_or("");
    }
    if (const Field* f = s.find("expect_status")) {
        check.expect_status = static_cast<int>(readUnsigned(*f, 100, 599).value_or(200));
    }
    if (const Field* f = s.find("expect_body")) {
        check.expect_body = readString(*f).value_or("");
    }
    if (const Field* f = s.find("tls_verify")) {
        check.tls_verify = readBool(*f).value_or(true);
    }
}

void Loader::loadTcpCheck(CheckConfig& check, const Section& s) {
    if (const Field* f = require(s, "address", " (for type tcp)")) {
        if (auto endpoint = readEndpoint(*f)) {
            if (endpoint->port == 0) {
                error(*f, quote(endpoint->text) + " has port 0, which cannot be connected to");
            }
            check.address = std::move(*endpoint);
        }
    }
}

/// Applies the `health` defaults, then this check's own interval, timeout, rise and fall.
void Loader::loadCheckTiming(CheckConfig& check, const Section& s) {
    check.interval = config_.health.interval;
    check.timeout = config_.health.timeout;
    check.rise = config_.health.rise;
    check.fall = config_.health.fall;
    const Field* interval = s.find("interval");
    const Field* timeout = s.find("timeout");
    const auto interval_value = interval ? readDuration(*interval) : check.interval;
    const auto timeout_value = timeout ? readDuration(*timeout) : check.timeout;
    if (const Field* f = s.find("rise")) {
        check.rise = static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(1));
    }
    if (const Field* f = s.find("fall")) {
        check.fall = static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(1));
    }
    if (!interval_value || !timeout_value) {
        return;
    }
    check.interval = *interval_value;
    check.timeout = *timeout_value;

    // When both come from `health`, a conflict was already reported there.
    if (interval != nullptr || timeout != nullptr || health_ok_) {
        checkTiming(check.interval, check.timeout, interval, timeout);
    }
}

// ---------------------------------------------------------------------------------------------
// services.

void Loader::loadServices(const Field& field) {
    // Names are compared after normalisation: "App.example.com" and "app.example.com." are one
    // DNS name, and two services for it would leave the answer undefined.
    std::map<std::string, const Field*> seen;
    const std::vector<Entry> entries = entriesOf(field);
    for (const Entry& e : entries) {
        const std::optional<std::string> name = readName(e.key_field, true);
        if (!name) {
            continue;
        }
        // A wildcard owner would make one service answer for every name below it, which the
        // zone's own wildcard rules (RFC 4592) already express; keep services to exact names.
        if (name->rfind("*.", 0) == 0 || name->find(".*.") != std::string::npos) {
            error(e.key_field, quote(e.key_field.node.Scalar()) +
                                   " is a wildcard; a service answers for one exact name");
            continue;
        }
        const auto [first, inserted] = seen.emplace(*name, &e.key_field);
        if (!inserted) {
            error(e.key_field, "the same name as service " + quote(first->second->node.Scalar()) +
                                   " at line " + std::to_string(first->second->mark.line + 1));
            continue;
        }
        ServiceConfig& service = config_.services.emplace_back();
        service.name = *name;
        service_keys_.push_back(e.key_field);
        loadService(service, e.value);
    }
}

void Loader::loadService(ServiceConfig& service, const Field& field) {
    const Section s = section(field, ServiceKeys);
    if (!field.node.IsMap()) {
        if (field.node.IsNull()) {
            error(field, "expected a map with sites, got nothing");
        }
        return;
    }
    if (const Field* f = s.find("policy")) {
        const auto policy = readChoice(*f, "policy", PolicyNames);
        service.policy = static_cast<Policy>(policy.value_or(0));
    }
    if (const Field* f = s.find("ttl")) {
        service.ttl = static_cast<std::uint32_t>(readUnsigned(*f, 0, MaxTtl).value_or(0));
    }
    if (const Field* f = s.find("max_answers")) {
        service.max_answers = static_cast<unsigned>(readUnsigned(*f, 1, MaxCount).value_or(1));
    }
    if (const Field* f = s.find("when_all_down")) {
        const auto when = readChoice(*f, "when_all_down value", WhenAllDownNames);
        service.when_all_down = static_cast<WhenAllDown>(when.value_or(0));
    }
    if (const Field* f = require(s, "sites")) {
        loadServiceSites(service, *f);
    }
}

void Loader::loadServiceSites(ServiceConfig& service, const Field& field) {
    const std::vector<Field> elements = elementsOf(field);
    if (elements.empty() && (field.node.IsNull() || field.node.IsSequence())) {
        error(field, "a service needs at least one site");
    }
    for (const Field& element : elements) {
        const std::string* name = scalar(element, "a site name");
        if (name == nullptr) {
            continue;
        }
        const auto it = site_index_.find(*name);
        if (it == site_index_.end()) {
            std::string known;
            for (const SiteConfig& site : config_.sites) {
                known += (known.empty() ? "" : ", ") + site.name;
            }
            error(element,
                  "unknown site " + quote(*name) +
                      (known.empty() ? " (no site is defined)" : " (sites: " + known + ")"));
            continue;
        }
        if (std::find(service.sites.begin(), service.sites.end(), it->second) !=
            service.sites.end()) {
            error(element, "site " + quote(*name) + " is listed twice");
            continue;
        }

        // The distance policy sorts by site location; a site without one cannot be placed.
        if (service.policy == Policy::Distance && !site_location_written_[it->second]) {
            error(element, "site " + quote(*name) +
                               " has no location, which policy distance "
                               "needs");
        }
        service.sites.push_back(it->second);
    }
}

// ---------------------------------------------------------------------------------------------
// clients, dashboard.

void Loader::loadClients(const Field& field) {
    const Section s = section(field, ClientsKeys);
    if (const Field* f = s.find("geoip_db")) {
        // Opened once here to validate it: a database that cannot be read would silently turn
        // the distance policy into round-robin, so it is refused like any other bad value.
        config_.clients.geoip_db = readPath(*f, false).value_or("");
        if (!config_.clients.geoip_db.empty()) {
            MMDB_s db{};
            const int status = MMDB_open(config_.clients.geoip_db.c_str(), MMDB_MODE_MMAP, &db);
            if (status != MMDB_SUCCESS) {
                error(*f, quote(f->node.Scalar()) + " is not a readable MaxMind database (" +
                              MMDB_strerror(status) + ")");
            } else {
                MMDB_close(&db);
            }
        }
    }
    if (const Field* f = s.find("networks")) {
        std::vector<int> lines;
        for (const Field& element : elementsOf(*f)) {
            loadNetwork(element, lines);
        }
    }
}

/// Reads one `clients.networks` entry; `lines` holds the line of each entry kept so far.
void Loader::loadNetwork(const Field& field, std::vector<int>& lines) {
    const Section s = section(field, NetworkKeys);
    if (!field.node.IsMap()) {
        if (field.node.IsNull()) {
            error(field, "expected a map {prefix, location}, got nothing");
        }
        return;
    }
    const Field* prefix_field = require(s, "prefix");
    const Field* location_field = require(s, "location");
    const auto prefix = prefix_field ? readPrefix(*prefix_field) : std::nullopt;
    const auto location = location_field ? readLocation(*location_field) : std::nullopt;
    if (!prefix || !location) {
        return;
    }

    // Longest prefix wins at lookup; two entries for one prefix would make it ambiguous.
    std::vector<ClientNetwork>& networks = config_.clients.networks;
    const auto same = std::find_if(networks.begin(), networks.end(), [&](const auto& n) {
        return n.prefix == prefix->address && n.length == prefix->length;
    });
    if (same != networks.end()) {
        const int first = lines[static_cast<std::size_t>(same - networks.begin())];
        error(*prefix_field, quote(prefix_field->node.Scalar()) +
                                 " is listed twice (first at line " + std::to_string(first + 1) +
                                 ")");
        return;
    }
    networks.push_back(ClientNetwork{prefix->address, prefix->length, *location});
    lines.push_back(prefix_field->mark.line);
}

void Loader::loadDashboard(const Field& field) {
    const Section s = section(field, DashboardKeys);
    if (const Field* f = s.find("listen")) {
        config_.dashboard.listen = readEndpoint(*f);
        const auto& dns = config_.server.listen;
        const auto& http = config_.dashboard.listen;
        // DNS also listens on TCP, so the same fixed address and port cannot serve both.
        if (http && http->port != 0 && std::any_of(dns.begin(), dns.end(), [&](const Endpoint& e) {
                return e.address == http->address && e.port == http->port;
            })) {
            error(*f, quote(http->text) + " is also in server.listen");
        }
    }
    if (const Field* f = s.find("admin_token_file")) {
        config_.dashboard.admin_token_file = readPath(*f, true).value_or("");
    }
    if (const Field* f = s.find("state_file")) {
        // May not exist yet: it is written on the first drain.
        config_.dashboard.state_file = readPath(*f, false).value_or("");
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-checks.

void Loader::checkServicesInZone() {
    if (origin_wire_.empty()) {
        return;
    }
    for (std::size_t i = 0; i < config_.services.size(); ++i) {
        const std::string& name = config_.services[i].name;
        if (!isAtOrBelow(nameToWire(name), origin_wire_)) {
            error(service_keys_[i], name + " is outside the zone " + config_.zone.origin);
        }
    }
}

/// A service name owns its A and AAAA answers, so static address records (or a CNAME, which
/// allows no other data, RFC 1034 §3.6.2) at the same name would contradict them; and names at
/// or below a zone cut belong to the child zone, where this server only refers (RFC 1034 §4.2.1).
void Loader::checkServicesAgainstRecords(const ZoneData& zone) {
    const std::string& zone_file = config_.zone.file;
    for (std::size_t i = 0; i < config_.services.size(); ++i) {
        const std::string& name = config_.services[i].name;
        const std::string wire = nameToWire(name);
        for (const ZoneRecord& record : zone.records) {
            const bool cut = record.type == TypeNs && record.owner != zone.origin &&
                             isAtOrBelow(wire, record.owner);
            if (cut) {
                error(service_keys_[i], name + " is at or below the delegation " +
                                            wireToName(record.owner) + " (" + zone_file + " line " +
                                            std::to_string(record.line) + ")");
                break;
            }
            const bool address =
                record.type == TypeA || record.type == TypeAaaa || record.type == TypeCname;
            if (address && record.owner == wire) {
                const std::string type = record.type == TypeA      ? "A"
                                         : record.type == TypeAaaa ? "AAAA"
                                                                   : "CNAME";
                error(service_keys_[i], name + " also has a static " + type + " record (" +
                                            zone_file + " line " + std::to_string(record.line) +
                                            "); remove it or rename the service");
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The whole file.

std::shared_ptr<const Config> Loader::load() {
    const std::size_t errors_before = diags_.size();
    const std::optional<YAML::Node> root = parseFile();
    if (!root) {
        return nullptr;
    }
    const Field top{*root, root->Mark(), ""};
    if (!root->IsMap()) {
        error(top, "the top level must be a map of sections (" + joinKeys(TopKeys) + ")");
        return nullptr;
    }
    config_.path = path_;

    // Each section, in the order later ones depend on: checks inherit `health`, services name
    // sites, the dashboard must not collide with the DNS listeners.
    const Section s = section(top, TopKeys);
    const auto sectionField = [&](std::string_view key) {
        const Field* f = s.find(key);
        return f ? *f : Field{YAML::Node(YAML::NodeType::Null), top.mark, std::string(key)};
    };
    if (const Field* f = require(s, "server")) {
        loadServer(*f);
    }
    if (const Field* f = require(s, "zone")) {
        loadZoneSection(*f);
    }
    loadHealth(sectionField("health"));
    loadSites(sectionField("sites"));
    loadServices(sectionField("services"));
    loadClients(sectionField("clients"));
    loadDashboard(sectionField("dashboard"));
    checkServicesInZone();

    // The zone is loaded even after YAML errors, so that one run reports both files' problems.
    if (!config_.zone.origin.empty() && !config_.zone.resolved_file.empty()) {
        config_.zone_data =
            loadZone(config_.zone.file, config_.zone.resolved_file, config_.zone.origin, diags_);
        if (config_.zone_data) {
            checkServicesAgainstRecords(*config_.zone_data);
        }
    }
    if (diags_.size() != errors_before || !config_.zone_data) {
        return nullptr;
    }
    return std::make_shared<const Config>(std::move(config_));
}

}  // namespace

std::shared_ptr<const Config> loadConfig(const std::string& path, Diagnostics& diags) {
    // Bad input never throws; anything thrown here is a defect, still reported, not fatal.
    try {
        return Loader(path, diags).load();
    } catch (const YAML::Exception& e) {
        diags.error(path, e.mark.is_null() ? 0 : static_cast<unsigned>(e.mark.line) + 1,
                    e.mark.is_null() ? 0 : static_cast<unsigned>(e.mark.column) + 1, e.msg);
    } catch (const std::exception& e) {
        diags.error(path, 0, 0, std::string("cannot load (") + e.what() + ")");
    }
    return nullptr;
}

}  // namespace gslb::config
