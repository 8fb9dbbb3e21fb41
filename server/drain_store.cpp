#include "server/drain_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace gslb::server {

namespace {

namespace fs = std::filesystem;

constexpr int StateVersion = 1;

std::string errnoText() {
    return std::strerror(errno);
}

/// Closes a file descriptor on every path out of save().
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    /// Closes now, reporting the result (close can report a delayed write error).
    bool close() { return ::close(std::exchange(fd_, -1)) == 0; }

private:
    int fd_;
};

bool writeAll(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

DrainStore::DrainStore(std::string path) : path_(std::move(path)) {}

std::optional<std::set<std::string>> DrainStore::parse(const std::string& text,
                                                       std::string& error) {
    const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        error = "not valid JSON";
        return std::nullopt;
    }
    if (!doc.is_object() || !doc.contains("version") || !doc.contains("drained")) {
        error = "expected an object with \"version\" and \"drained\"";
        return std::nullopt;
    }
    const nlohmann::json& version = doc["version"];
    if (!version.is_number_integer() || version.get<int>() != StateVersion) {
        error = "unsupported \"version\" (expected " + std::to_string(StateVersion) + ")";
        return std::nullopt;
    }
    const nlohmann::json& drained = doc["drained"];
    if (!drained.is_array()) {
        error = "\"drained\" is not a list of site names";
        return std::nullopt;
    }
    std::set<std::string> sites;
    for (const nlohmann::json& name : drained) {
        if (!name.is_string() || name.get_ref<const std::string&>().empty()) {
            error = "\"drained\" holds something other than a site name";
            return std::nullopt;
        }
        sites.insert(name.get<std::string>());
    }
    return sites;
}

std::string DrainStore::render(const std::set<std::string>& drained) {
    nlohmann::json doc = {{"version", StateVersion}, {"drained", drained}};
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<std::set<std::string>> DrainStore::load(std::string& error) const {
    if (path_.empty()) {
        return std::set<std::string>{};
    }
    std::error_code ec;
    if (!fs::exists(path_, ec) && !ec) {
        return std::set<std::string>{};
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        error = path_ + ": cannot be opened (" + errnoText() + ")";
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        error = path_ + ": cannot be read";
        return std::nullopt;
    }
    std::string why;
    auto drained = parse(text.str(), why);
    if (!drained) {
        error = path_ + ": not a gslbd state file (" + why + ")";
    }
    return drained;
}

bool DrainStore::save(const std::set<std::string>& drained, std::string& error) const {
    if (path_.empty()) {
        return true;
    }
    const fs::path target(path_);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const fs::path temp = dir / (target.filename().string() + ".tmp." + std::to_string(::getpid()));
    const std::string text = render(drained);

    // 1. Write the new content to a temporary file next to the target, and flush it to disk.
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        error = temp.string() + ": cannot be created (" + errnoText() + ")";
        return false;
    }
    if (!writeAll(fd.get(), text) || ::fsync(fd.get()) != 0 || !fd.close()) {
        error = temp.string() + ": cannot be written (" + errnoText() + ")";
        ::unlink(temp.c_str());
        return false;
    }

    // 2. Rename over the target: readers see the old or the new file, whole.
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        error = path_ + ": cannot be replaced (" + errnoText() + ")";
        ::unlink(temp.c_str());
        return false;
    }

    // 3. Flush the folder so the rename itself survives a power loss. The new file is in
    //    place by now, so a failure here is reported but the save counts as done.
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
        error = dir.string() + ": cannot be synced (" + errnoText() + ")";
    }
    return true;
}

}  // namespace gslb::server
