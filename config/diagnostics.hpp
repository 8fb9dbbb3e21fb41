#pragma once

// One collector for every configuration and zone problem, so that --check-config and a rejected
// reload can report all of them, each as FILE:LINE:COL: message, in file order.

#include <ostream>
#include <string>
#include <vector>

namespace gslb::config {

struct Diagnostic {
    std::string file;
    /// 1-based; 0 when the problem has no position (e.g. the file cannot be opened).
    unsigned line = 0;
    unsigned col = 0;
    std::string message;
};

/// Collects diagnostics while loading; not thread-safe (one loader owns one collector).
class Diagnostics {
public:
    /// Records a problem at a 1-based line and column.
    void error(std::string file, unsigned line, unsigned col, std::string message);

    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }

    /// The problems sorted by file, line and column (stable for equal positions).
    std::vector<Diagnostic> sorted() const;

    /// Writes every problem as "FILE:LINE:COL: message", one per line, in file order.
    void print(std::ostream& out) const;

private:
    std::vector<Diagnostic> items_;
};

/// Formats one diagnostic as "FILE:LINE:COL: message" ("FILE: message" without a position).
std::string format(const Diagnostic& d);

}  // namespace gslb::config
