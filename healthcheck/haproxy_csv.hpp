#pragma once

// Reading HAProxy's stats CSV (the `;csv` stats page): which server rows of one backend serve.
// The body is untrusted network input, so every field access is bounds-checked and its size is
// capped before parsing.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gslb::health {

/// The verdict of one stats CSV on one backend.
struct HaproxyCsvResult {
    bool ok = false;       ///< serving >= min_up
    std::string reason;    ///< e.g. "backend web has 1/2 servers up" or why the CSV is unusable
    unsigned serving = 0;  ///< server rows whose status counts as serving
    unsigned servers = 0;  ///< all server rows of the backend
};

/// Parses HAProxy stats CSV and counts the server rows of one backend.
///
/// The header line ("# pxname,svname,...") is required; columns are found by name because their
/// order and number differ between HAProxy versions. Rows whose svname is BACKEND or FRONTEND
/// are summaries, not servers. Fields may be quoted (RFC 4180, "" inside quotes, line breaks
/// inside quotes). A body that does not end in a line break is treated as truncated.
class HaproxyCsv {
public:
    /// Bodies larger than this are refused before parsing; the fetch also stops at this size.
    static constexpr std::size_t MaxBodySize = 4 * 1024 * 1024;

    /// Evaluates `body` for `backend` (the pxname): ok iff at least `min_up` of its server rows
    /// serve. Never throws on malformed input: the reason says what was wrong.
    static HaproxyCsvResult evaluate(std::string_view body,
                                     std::string_view backend,
                                     unsigned min_up);

    /// Whether a server row's `status` counts as serving: "UP", "UP n/m" (going down but still
    /// serving) and "no check". Everything else (DOWN, DOWN n/m, NOLB, MAINT, MAINT (via ...),
    /// DRAIN, MAINT (resolution), empty, unknown words) does not.
    static bool isServingStatus(std::string_view status);

    /// Splits one CSV record starting at `pos` into fields and moves `pos` past its line break.
    /// Returns false when the record is unterminated (no line break, or an open quote at the
    /// end of the body), which is how a truncated body shows.
    static bool readRecord(std::string_view body,
                           std::size_t& pos,
                           std::vector<std::string>& fields);
};

}  // namespace gslb::health
