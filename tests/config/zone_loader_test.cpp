#include "config/zone_loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gslb::config {
namespace {

namespace fs = std::filesystem;

class ZoneLoaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "gslbd-zone-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::shared_ptr<const ZoneData> load(const std::string& text) {
        std::ofstream(dir_ / "z.zone") << text;
        return loadZone("z.zone", (dir_ / "z.zone").string(), "example.com.", diags_);
    }

    std::vector<std::string> errors() const {
        std::vector<std::string> out;
        for (const Diagnostic& d : diags_.sorted()) {
            out.push_back(format(d));
        }
        return out;
    }

    fs::path dir_;
    Diagnostics diags_;
};

constexpr const char* Head =
    "$ORIGIN example.com.\n"
    "@ 3600 IN SOA ns1 hostmaster 7 3600 900 1209600 300\n"
    "@ IN NS ns1\n"
    "ns1 IN A 192.0.2.53\n";

TEST_F(ZoneLoaderTest, LoadsRecordsInLowercaseWireFormat) {
    const auto zone = load(std::string(Head) + "WWW IN CNAME App\n");
    ASSERT_NE(zone, nullptr);
    EXPECT_EQ(zone->serial, 7u);
    EXPECT_EQ(zone->origin, std::string("\7example\3com\0", 13));
    ASSERT_EQ(zone->records.size(), 4u);
    const ZoneRecord& cname = zone->records.back();
    EXPECT_EQ(wireToName(cname.owner), "www.example.com.");
    EXPECT_EQ(cname.type, 5);
    EXPECT_EQ(cname.line, 5u);
    EXPECT_EQ(wireToName(cname.target), "app.example.com.");
}

TEST_F(ZoneLoaderTest, ReportsEverySyntaxErrorWithItsLine) {
    EXPECT_EQ(load(std::string(Head) + "a IN A 192.0.2.300\n\nb IN AAAA nope\nc IN A 192.0.2.1\n"),
              nullptr);
    const auto e = errors();
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].rfind("z.zone:5:1: syntax error (", 0), 0u) << e[0];
    EXPECT_EQ(e[1].rfind("z.zone:7:1: syntax error (", 0), 0u) << e[1];
}

TEST_F(ZoneLoaderTest, RequiresSoaAndNsAtTheOrigin) {
    EXPECT_EQ(load("$ORIGIN example.com.\nwww IN A 192.0.2.1\n"), nullptr);
    EXPECT_EQ(errors(), (std::vector<std::string>{
                            "z.zone:1:1: zone example.com. has no SOA record at its origin",
                            "z.zone:1:1: zone example.com. has no NS record at its origin"}));
}

TEST_F(ZoneLoaderTest, RejectsSecondSoaAndSoaBelowOrigin) {
    EXPECT_EQ(load(std::string(Head) + "sub IN SOA ns1 hostmaster 1 2 3 4 5\n"), nullptr);
    EXPECT_EQ(errors(),
              (std::vector<std::string>{"z.zone:5:1: SOA record must be at the zone's origin"}));
}

TEST_F(ZoneLoaderTest, RejectsCnameBesideOtherData) {
    EXPECT_EQ(load(std::string(Head) + "x IN CNAME y\nx IN TXT \"t\"\n"), nullptr);
    EXPECT_EQ(errors(),
              (std::vector<std::string>{
                  "z.zone:5:1: x.example.com.: CNAME cannot coexist with other records"}));
}

TEST_F(ZoneLoaderTest, RejectsRecordsOutsideTheZoneAndOtherClasses) {
    EXPECT_EQ(load(std::string(Head) + "x.example.org. IN A 192.0.2.1\ny CH TXT \"t\"\n"), nullptr);
    EXPECT_EQ(errors(),
              (std::vector<std::string>{"z.zone:5:1: x.example.org. is outside the zone's origin",
                                        "z.zone:6:1: only class IN is served"}));
}

TEST_F(ZoneLoaderTest, RejectsIncludeAndWildcardNs) {
    EXPECT_EQ(load(std::string(Head) + "$INCLUDE other.zone\n*.w IN NS ns1\n"), nullptr);
    EXPECT_EQ(errors(), (std::vector<std::string>{
                            "z.zone:5:1: $INCLUDE is not supported; put every record in one file",
                            "z.zone:6:1: *.w.example.com.: a wildcard cannot own NS records"}));
}

TEST_F(ZoneLoaderTest, MissingFileIsReportedWithoutPosition) {
    EXPECT_EQ(loadZone("nope.zone", (dir_ / "nope.zone").string(), "example.com.", diags_),
              nullptr);
    EXPECT_EQ(
        errors(),
        (std::vector<std::string>{"nope.zone: cannot open zone file (No such file or directory)"}));
}

TEST_F(ZoneLoaderTest, DuplicateRecordsCountOnce) {
    const auto zone = load(std::string(Head) + "ns1 IN A 192.0.2.53\n");
    ASSERT_NE(zone, nullptr);
    EXPECT_EQ(zone->records.size(), 3u);
}

}  // namespace
}  // namespace gslb::config

namespace gslb::config {
namespace {

TEST_F(ZoneLoaderTest, UnclosedParenthesisIsReportedWhereItOpens) {
    // Regression: ldns read every later line as TXT strings of the first record, and the
    // zone loaded with those names missing.
    EXPECT_EQ(load(std::string(Head) + "p IN TXT ( \"abc\"\nx IN A 192.0.2.1\n"), nullptr);
    const auto e = errors();
    ASSERT_FALSE(e.empty());
    EXPECT_EQ(e[0],
              "z.zone:5:10: '(' is never closed, so the rest of the file would be read as one "
              "record");
}

TEST_F(ZoneLoaderTest, ParenthesesInQuotesAndCommentsDoNotCount) {
    EXPECT_NE(load(std::string(Head) + "t IN TXT \"a ( b\" ; ( not this\n"), nullptr);
}

TEST_F(ZoneLoaderTest, InvalidTtlDirectiveIsAnError) {
    // Regression: "$TTL abc" was accepted and later records kept the previous default TTL.
    EXPECT_EQ(load(std::string(Head) + "$TTL abc\nttl IN A 192.0.2.1\n"), nullptr);
    EXPECT_EQ(errors(),
              (std::vector<std::string>{
                  "z.zone:5:6: $TTL \"abc\" is not a TTL (use seconds, or 1h, 30m, 1d)"}));
    diags_ = Diagnostics{};
    EXPECT_NE(load(std::string(Head) + "$TTL 1h30m\nttl IN A 192.0.2.1\n"), nullptr);
}

}  // namespace
}  // namespace gslb::config
