#pragma once

// Sites drained by hand through the dashboard, kept in `dashboard.state_file` so that a drain
// survives a restart. The file is small JSON:
//   {"version": 1, "drained": ["madrid"]}
// and is replaced atomically (temporary file in the same folder, fsync, rename, fsync of the
// folder), so a crash leaves either the old or the new file, never a torn one.

#include <optional>
#include <set>
#include <string>

namespace gslb::server {

class DrainStore {
public:
    /// `path` is the resolved state file; empty means drains are kept in memory only.
    explicit DrainStore(std::string path);

    /// Reads the drained site names. A missing file means none. Returns nullopt and sets
    /// `error` as "PATH: reason" when the file exists but cannot be read or is not a valid
    /// state file; the caller refuses to start rather than silently undrain a site.
    std::optional<std::set<std::string>> load(std::string& error) const;

    /// Replaces the file with `drained`. Returns false and sets `error` ("PATH: reason") when
    /// writing or renaming fails; the previous file is then left as it was. Once the rename is
    /// done it returns true, with `error` set if only the folder's fsync failed (a warning).
    /// Blocks for the fsyncs (milliseconds), acceptable for an operator action. Control
    /// thread. Without a path: true, nothing written.
    bool save(const std::set<std::string>& drained, std::string& error) const;

    /// Parses the text of a state file; nullopt and `error` (without the path) if invalid.
    static std::optional<std::set<std::string>> parse(const std::string& text, std::string& error);

    /// The text save() writes for `drained`.
    static std::string render(const std::set<std::string>& drained);

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace gslb::server
