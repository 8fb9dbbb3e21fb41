#include "config/diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace gslb::config {

void Diagnostics::error(std::string file, unsigned line, unsigned col, std::string message) {
    items_.push_back(Diagnostic{std::move(file), line, col, std::move(message)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
    std::vector<Diagnostic> out = items_;
    std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.file, a.line, a.col) < std::tie(b.file, b.line, b.col);
    });
    return out;
}

void Diagnostics::print(std::ostream& out) const {
    for (const Diagnostic& d : sorted()) {
        out << format(d) << '\n';
    }
}

std::string format(const Diagnostic& d) {
    if (d.line == 0) {
        return d.file + ": " + d.message;
    }
    return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message;
}

}  // namespace gslb::config
