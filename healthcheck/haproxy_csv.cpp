#include "healthcheck/haproxy_csv.hpp"

#include <algorithm>
#include <optional>

namespace gslb::health {

namespace {

struct Columns {
    std::size_t pxname = 0;
    std::size_t svname = 0;
    std::size_t status = 0;
    std::size_t needed = 0;  // a row must have more fields than the largest index
};

std::string_view trimSpaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

// The header is "# pxname,svname,qcur,...": a comment mark, then the column names.
std::optional<Columns> findColumns(const std::vector<std::string>& header) {
    std::optional<std::size_t> pxname;
    std::optional<std::size_t> svname;
    std::optional<std::size_t> status;
    for (std::size_t i = 0; i < header.size(); ++i) {
        std::string_view name = trimSpaces(header[i]);
        if (i == 0 && !name.empty() && name.front() == '#') {
            name = trimSpaces(name.substr(1));
        }
        if (name == "pxname") {
            pxname = i;
        } else if (name == "svname") {
            svname = i;
        } else if (name == "status") {
            status = i;
        }
    }
    if (!pxname || !svname || !status) {
        return std::nullopt;
    }
    Columns columns{*pxname, *svname, *status, 0};
    columns.needed = std::max({*pxname, *svname, *status}) + 1;
    return columns;
}

bool isBlank(const std::vector<std::string>& fields) {
    return fields.empty() || (fields.size() == 1 && trimSpaces(fields[0]).empty());
}

// Reads up to the header record ("# pxname,..."), skipping blank lines before it.
std::optional<Columns> readHeader(std::string_view body,
                                  std::size_t& pos,
                                  std::vector<std::string>& fields) {
    while (pos < body.size()) {
        const bool complete = HaproxyCsv::readRecord(body, pos, fields);
        if (isBlank(fields)) {
            continue;
        }
        if (!complete || trimSpaces(fields[0]).substr(0, 1) != "#") {
            return std::nullopt;
        }
        return findColumns(fields);
    }
    return std::nullopt;
}

}  // namespace

bool HaproxyCsv::readRecord(std::string_view body,
                            std::size_t& pos,
                            std::vector<std::string>& fields) {
    fields.clear();
    fields.emplace_back();
    bool quoted = false;
    while (pos < body.size()) {
        const char c = body[pos++];
        if (quoted) {
            // Inside quotes: "" is one quote, a lone quote ends the quoted part.
            if (c != '"') {
                fields.back() += c;
            } else if (pos < body.size() && body[pos] == '"') {
                fields.back() += '"';
                ++pos;
            } else {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else if (c == '\n') {
            return true;
        } else if (c != '\r') {
            fields.back() += c;
        }
    }
    return false;
}

bool HaproxyCsv::isServingStatus(std::string_view status) {
    status = trimSpaces(status);
    if (status == "no check") {
        return true;
    }
    // "UP" alone, or "UP 1/3" while a server is failing checks but has not reached fall yet.
    // "UP" must be a whole word: HAProxy has no such status as "UPPER", but an unknown word must
    // not count as serving.
    if (status.substr(0, 2) != "UP") {
        return false;
    }
    return status.size() == 2 || status[2] == ' ';
}

HaproxyCsvResult HaproxyCsv::evaluate(std::string_view body,
                                      std::string_view backend,
                                      unsigned min_up) {
    HaproxyCsvResult result;
    if (body.size() > MaxBodySize) {
        result.reason = "stats body too large";
        return result;
    }

    // 1. The header must come first (blank lines before it are tolerated).
    std::size_t pos = 0;
    std::vector<std::string> fields;
    const std::optional<Columns> columns = readHeader(body, pos, fields);
    if (!columns) {
        result.reason = "csv has no header";
        return result;
    }

    // 2. Count the backend's server rows; a summary row (BACKEND, FRONTEND) is not a server.
    bool found = false;
    std::size_t line = 1;
    while (pos < body.size()) {
        ++line;
        const bool complete = readRecord(body, pos, fields);
        if (!complete) {
            result.reason = "csv is truncated at line " + std::to_string(line);
            return result;
        }
        if (isBlank(fields)) {
            continue;
        }
        if (fields.size() < columns->needed) {
            result.reason = "csv line " + std::to_string(line) + " has " +
                            std::to_string(fields.size()) + " fields";
            return result;
        }
        if (fields[columns->pxname] != backend) {
            continue;
        }
        found = true;
        const std::string& svname = fields[columns->svname];
        if (svname == "BACKEND" || svname == "FRONTEND") {
            continue;
        }
        ++result.servers;
        if (isServingStatus(fields[columns->status])) {
            ++result.serving;
        }
    }

    // 3. The verdict.
    if (!found) {
        result.reason = "csv has no backend " + std::string(backend);
        return result;
    }
    result.ok = result.serving >= min_up;
    result.reason = "backend " + std::string(backend) + " has " + std::to_string(result.serving) +
                    "/" + std::to_string(result.servers) + " servers up";
    return result;
}

}  // namespace gslb::health
