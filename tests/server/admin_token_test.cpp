#include "server/admin_token.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gslb::server {
namespace {

class AdminTokenTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/gslbd-token-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& text) {
        const std::string path = (dir_ / "admin.token").string();
        std::ofstream(path) << text;
        return path;
    }

    std::filesystem::path dir_;
};

TEST(ConstantTimeEqualTest, ComparesWholeStrings) {
    EXPECT_TRUE(constantTimeEqual("", ""));
    EXPECT_TRUE(constantTimeEqual("s3cret", "s3cret"));
    EXPECT_FALSE(constantTimeEqual("s3cret", "s3creT"));
    EXPECT_FALSE(constantTimeEqual("s3cret", "s3cre"));
    EXPECT_FALSE(constantTimeEqual("s3cre", "s3cret"));
    EXPECT_FALSE(constantTimeEqual("", "x"));
    // A shorter string padded with NULs must not match: the lengths differ.
    EXPECT_FALSE(constantTimeEqual(std::string_view("ab\0", 3), "ab"));
}

TEST_F(AdminTokenTest, LoadTrimsWhitespaceAndNewline) {
    std::string error;
    const auto token = AdminToken::load(write("  s3cret-token \n"), error);
    ASSERT_TRUE(token.has_value()) << error;
    EXPECT_TRUE(token->accepts("Bearer s3cret-token"));
    EXPECT_FALSE(token->accepts("Bearer  s3cret-token x"));
}

TEST_F(AdminTokenTest, EmptyFileIsAnErrorWithoutTheContent) {
    std::string error;
    EXPECT_FALSE(AdminToken::load(write(" \n\t\n"), error).has_value());
    EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

TEST_F(AdminTokenTest, MissingFileIsAnError) {
    std::string error;
    EXPECT_FALSE(AdminToken::load((dir_ / "none").string(), error).has_value());
    EXPECT_NE(error.find("cannot be opened"), std::string::npos) << error;
}

TEST(AdminTokenAcceptsTest, NeedsBearerSchemeAndExactToken) {
    const AdminToken token("abc123");
    EXPECT_TRUE(token.accepts("Bearer abc123"));
    EXPECT_TRUE(token.accepts("bearer abc123"));  // scheme names are case-insensitive
    EXPECT_TRUE(token.accepts("BEARER   abc123  "));
    EXPECT_FALSE(token.accepts("Bearer ABC123"));  // the token itself is not
    EXPECT_FALSE(token.accepts("Bearer abc1234"));
    EXPECT_FALSE(token.accepts("Bearer abc12"));
    EXPECT_FALSE(token.accepts("Basic abc123"));
    EXPECT_FALSE(token.accepts("abc123"));
    EXPECT_FALSE(token.accepts("Bearer"));
    EXPECT_FALSE(token.accepts(""));
}

}  // namespace
}  // namespace gslb::server
