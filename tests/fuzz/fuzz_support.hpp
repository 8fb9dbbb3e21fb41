#pragma once

// Helpers shared by the libFuzzer targets: a scratch directory for configuration files and a
// loud stop when an oracle fails. Fuzz targets have no test framework; a failed oracle must
// crash so that libFuzzer saves the input as a reproducer.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace gslb::fuzz {

/// Aborts with `what` when `ok` is false; libFuzzer then writes the input to crash-*.
inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz oracle failed: %s\n", what);
        std::abort();
    }
}

/// A fresh directory under /tmp, removed with the object.
class ScratchDir {
public:
    ScratchDir() {
        char pattern[] = "/tmp/gslbd-fuzz-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        require(made != nullptr, "mkdtemp failed");
        path_ = made;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    /// Writes `text` to `name` in the directory (replacing it) and returns the full path.
    std::string write(const std::string& name, std::string_view text) const {
        const std::filesystem::path file = path_ / name;
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        require(static_cast<bool>(out), "cannot write a scratch file");
        return file.string();
    }

private:
    std::filesystem::path path_;
};

}  // namespace gslb::fuzz
