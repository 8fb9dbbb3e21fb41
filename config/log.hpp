#pragma once

// The one logger of gslbd: lines on stderr as
//   2026-12-04T16:05:31.123Z info health: check down (timeout after 1s) site=madrid
// The level is set once at start (the only process-wide mutable setting). Each line is written
// with one write(2), so lines from different threads never interleave.

#include <string_view>

namespace gslb::log {

enum class Level { Error = 0, Warning = 1, Info = 2, Debug = 3 };

/// Sets the most verbose level written; called once from main before threads start.
void setLevel(Level level);

/// Whether lines of `level` are written; guard costly formatting of debug lines with it.
bool enabled(Level level);

/// Writes "TIMESTAMP LEVEL COMPONENT: MESSAGE" to stderr if `level` is enabled. Thread-safe.
void write(Level level, std::string_view component, std::string_view message);

inline void error(std::string_view component, std::string_view message) {
    write(Level::Error, component, message);
}
inline void warning(std::string_view component, std::string_view message) {
    write(Level::Warning, component, message);
}
inline void info(std::string_view component, std::string_view message) {
    write(Level::Info, component, message);
}
inline void debug(std::string_view component, std::string_view message) {
    write(Level::Debug, component, message);
}

}  // namespace gslb::log
