#include "server/drain_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gslb::server {
namespace {

namespace fs = std::filesystem;

class DrainStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/gslbd-drains-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = (dir_ / "gslbd.state").string();
    }
    void TearDown() override {
        ::chmod(dir_.c_str(), 0700);
        fs::remove_all(dir_);
    }

    void writeRaw(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }

    std::string readRaw() {
        std::ifstream in(path_, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    fs::path dir_;
    std::string path_;
};

TEST_F(DrainStoreTest, MissingFileMeansNoDrains) {
    std::string error;
    const auto drained = DrainStore(path_).load(error);
    ASSERT_TRUE(drained.has_value()) << error;
    EXPECT_TRUE(drained->empty());
}

TEST_F(DrainStoreTest, SaveThenLoadRoundTrips) {
    const DrainStore store(path_);
    std::string error;
    ASSERT_TRUE(store.save({"madrid", "boston"}, error)) << error;
    EXPECT_TRUE(error.empty()) << error;
    const auto drained = store.load(error);
    ASSERT_TRUE(drained.has_value()) << error;
    EXPECT_EQ(*drained, (std::set<std::string>{"boston", "madrid"}));

    // Undraining everything leaves a valid, empty state, and no temporary file behind.
    ASSERT_TRUE(store.save({}, error)) << error;
    EXPECT_EQ(store.load(error), std::set<std::string>{});
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) {
        ++files;
    }
    EXPECT_EQ(files, 1u);
}

TEST_F(DrainStoreTest, RenderIsStableJson) {
    EXPECT_EQ(DrainStore::render({"b", "a"}),
              "{\n  \"drained\": [\n    \"a\",\n    \"b\"\n  ],\n  \"version\": 1\n}\n");
}

TEST_F(DrainStoreTest, CorruptFileIsAnErrorNamingTheFile) {
    // Each of these must refuse to load: starting without the drains would undrain a site.
    for (const std::string text :
         {"", "{", "not json", "[]", R"({"drained": ["a"]})", R"({"version": 2, "drained": []})",
          R"({"version": 1, "drained": "madrid"})", R"({"version": 1, "drained": [1]})",
          R"({"version": 1, "drained": [""]})", "{\"version\": 1, \"drained\": [\"\xff\"]}"}) {
        writeRaw(text);
        std::string error;
        EXPECT_FALSE(DrainStore(path_).load(error).has_value()) << text;
        EXPECT_EQ(error.rfind(path_ + ": not a gslbd state file (", 0), 0u) << error;
    }
}

TEST_F(DrainStoreTest, UnreadableFileIsAnError) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root reads any file";
    }
    writeRaw(R"({"version": 1, "drained": []})");
    ::chmod(path_.c_str(), 0);
    std::string error;
    EXPECT_FALSE(DrainStore(path_).load(error).has_value());
    EXPECT_NE(error.find("cannot be opened"), std::string::npos) << error;
}

TEST_F(DrainStoreTest, FailedSaveKeepsTheOldFile) {
    const DrainStore store((dir_ / "missing-dir" / "gslbd.state").string());
    std::string error;
    EXPECT_FALSE(store.save({"madrid"}, error));
    EXPECT_NE(error.find("cannot be created"), std::string::npos) << error;

    // A folder the daemon cannot write to: the existing file is left as it was.
    const DrainStore kept(path_);
    ASSERT_TRUE(kept.save({"madrid"}, error)) << error;
    const std::string before = readRaw();
    if (::geteuid() != 0) {
        ::chmod(dir_.c_str(), 0500);
        EXPECT_FALSE(kept.save({}, error));
        ::chmod(dir_.c_str(), 0700);
    }
    EXPECT_EQ(readRaw(), before);
}

TEST_F(DrainStoreTest, NoPathKeepsDrainsInMemoryOnly) {
    const DrainStore store("");
    std::string error;
    EXPECT_TRUE(store.save({"madrid"}, error));
    EXPECT_EQ(store.load(error), std::set<std::string>{});
}

}  // namespace
}  // namespace gslb::server
