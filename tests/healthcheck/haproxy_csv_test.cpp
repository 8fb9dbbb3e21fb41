#include "healthcheck/haproxy_csv.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace gslb::health {
namespace {

std::string readFixture(const std::string& name) {
    std::ifstream file(std::string(GSLBD_TEST_DATA) + "/haproxy/" + name, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
}

class HaproxyCsvTest : public ::testing::Test {
protected:
    static constexpr const char* Header = "# pxname,svname,status,\n";

    // A body with the minimal header and one row per status, all in backend "web".
    static std::string withStatuses(std::initializer_list<const char*> statuses) {
        std::string body = Header;
        int n = 0;
        for (const char* status : statuses) {
            body += "web,s" + std::to_string(++n) + "," + status + ",\n";
        }
        body += "web,BACKEND,UP,\n";
        return body;
    }
};

// Real output of HAProxy 2.6.12 (tests/data/haproxy/haproxy-2.6.cfg): w1 UP, w2 DOWN, w3 MAINT,
// w4 no check, w5 UP (weight 0), w6 MAINT (via web/w3), w7 DRAIN.
TEST_F(HaproxyCsvTest, CountsServingRowsInRealHaproxy26Output) {
    const auto result = HaproxyCsv::evaluate(readFixture("haproxy-2.6-steady.csv"), "web", 3);
    EXPECT_TRUE(result.ok);
    EXPECT_EQ(result.serving, 3U);
    EXPECT_EQ(result.servers, 7U);
    EXPECT_EQ(result.reason, "backend web has 3/7 servers up");
}

TEST_F(HaproxyCsvTest, NolbServersDoNotServeInRealOutput) {
    // Backend api: both servers answer 404 under disable-on-404, shown as NOLB.
    const auto result = HaproxyCsv::evaluate(readFixture("haproxy-2.6-steady.csv"), "api", 1);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "backend api has 0/2 servers up");
}

TEST_F(HaproxyCsvTest, GoingDownServersStillServeInRealOutput) {
    // Captured while nginx had just stopped: w1 and w5 are "UP 1/2", w7 "DRAIN 1/2".
    const auto result = HaproxyCsv::evaluate(readFixture("haproxy-2.6-going-down.csv"), "web", 1);
    EXPECT_EQ(result.serving, 3U);  // w1, w4 (no check), w5
    EXPECT_TRUE(result.ok);
}

TEST_F(HaproxyCsvTest, GoingUpServersDoNotServeYetInRealOutput) {
    // Captured while nginx had just come back: w5 is "DOWN 1/2".
    const auto result = HaproxyCsv::evaluate(readFixture("haproxy-2.6-going-up.csv"), "web", 2);
    EXPECT_EQ(result.serving, 1U);  // only w4 (no check)
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "backend web has 1/7 servers up");
}

TEST_F(HaproxyCsvTest, ReadsOlderVersionWithFewerColumns) {
    // HAProxy 1.4 shape: 36 columns ending at rate_max, then a blank line.
    const auto result = HaproxyCsv::evaluate(readFixture("haproxy-1.4-shape.csv"), "www", 3);
    EXPECT_EQ(result.serving, 3U);  // web1 UP, web3 UP 2/3, web6 no check
    EXPECT_EQ(result.servers, 6U);
    EXPECT_TRUE(result.ok);
}

TEST_F(HaproxyCsvTest, ReadsNewerVersionWithExtraColumnsAtTheEnd) {
    const auto result = HaproxyCsv::evaluate(readFixture("haproxy-future-shape.csv"), "app", 2);
    EXPECT_EQ(result.serving, 2U);  // s1 UP, s5 UP 1/3; not NOLB, DRAIN, MAINT (resolution)
    EXPECT_EQ(result.servers, 5U);
    EXPECT_TRUE(result.ok);
}

TEST_F(HaproxyCsvTest, FindsColumnsByNameAndReadsQuotedFields) {
    // Columns reordered, quoted commas, doubled quotes and a line break inside quotes.
    const std::string body = readFixture("reordered-quoted.csv");
    const auto edge = HaproxyCsv::evaluate(body, "edge", 1);
    EXPECT_EQ(edge.serving, 2U);  // "srv, one" UP, srv3 no check
    EXPECT_EQ(edge.servers, 3U);
    const auto other = HaproxyCsv::evaluate(body, "other, backend", 1);
    EXPECT_TRUE(other.ok);
    EXPECT_EQ(other.servers, 1U);
}

TEST_F(HaproxyCsvTest, ClassifiesEveryStatus) {
    for (const char* serving : {"UP", "UP 1/3", "UP 2/3", "no check", " UP "}) {
        EXPECT_TRUE(HaproxyCsv::isServingStatus(serving)) << serving;
    }
    for (const char* idle : {"DOWN", "DOWN 1/2", "NOLB", "NOLB 1/2", "MAINT", "MAINT (via web/w3)",
                             "MAINT (resolution)", "DRAIN", "DRAIN 1/2", "DRAIN (agent)",
                             "no checks", "UPPER", "up", "", "OPEN", "-"}) {
        EXPECT_FALSE(HaproxyCsv::isServingStatus(idle)) << idle;
    }
}

TEST_F(HaproxyCsvTest, SummaryRowsAreNotServers) {
    const std::string body = std::string(Header) +
                             "web,FRONTEND,OPEN,\n"
                             "web,BACKEND,UP,\n";
    const auto result = HaproxyCsv::evaluate(body, "web", 1);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.servers, 0U);
    EXPECT_EQ(result.reason, "backend web has 0/0 servers up");
}

TEST_F(HaproxyCsvTest, MinUpZeroAcceptsAnEmptyBackend) {
    const auto result = HaproxyCsv::evaluate(withStatuses({"DOWN"}), "web", 0);
    EXPECT_TRUE(result.ok);
}

TEST_F(HaproxyCsvTest, FailsBelowMinUp) {
    const auto result = HaproxyCsv::evaluate(withStatuses({"UP", "DOWN", "MAINT"}), "web", 2);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "backend web has 1/3 servers up");
}

TEST_F(HaproxyCsvTest, MissingBackendFails) {
    const auto result = HaproxyCsv::evaluate(withStatuses({"UP"}), "api", 1);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "csv has no backend api");
}

TEST_F(HaproxyCsvTest, BackendNameMustMatchExactly) {
    EXPECT_EQ(HaproxyCsv::evaluate(withStatuses({"UP"}), "we", 1).reason, "csv has no backend we");
    EXPECT_EQ(HaproxyCsv::evaluate(withStatuses({"UP"}), "WEB", 1).reason,
              "csv has no backend WEB");
}

TEST_F(HaproxyCsvTest, MissingHeaderFails) {
    EXPECT_EQ(HaproxyCsv::evaluate("web,s1,UP,\n", "web", 1).reason, "csv has no header");
    EXPECT_EQ(HaproxyCsv::evaluate("", "web", 1).reason, "csv has no header");
    EXPECT_EQ(HaproxyCsv::evaluate("<html>login</html>\n", "web", 1).reason, "csv has no header");
    // A header without a status column is not HAProxy's.
    EXPECT_EQ(HaproxyCsv::evaluate("# pxname,svname,\nweb,s1,\n", "web", 1).reason,
              "csv has no header");
}

TEST_F(HaproxyCsvTest, IgnoresEmptyLinesAndCarriageReturns) {
    const std::string body =
        "\n# pxname,svname,status,\r\n\r\nweb,s1,UP,\r\n\nweb,s2,UP 1/2,\r\n\n\n";
    const auto result = HaproxyCsv::evaluate(body, "web", 2);
    EXPECT_TRUE(result.ok);
    EXPECT_EQ(result.servers, 2U);
}

TEST_F(HaproxyCsvTest, TruncatedBodyFails) {
    const std::string whole = withStatuses({"UP", "UP"});
    // Cut in the middle of the last row: it has no line break.
    const std::string cut = whole.substr(0, whole.size() - 5);
    const auto result = HaproxyCsv::evaluate(cut, "web", 1);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.reason, "csv is truncated at line 4");
}

TEST_F(HaproxyCsvTest, TruncatedAtEveryByteNeverReadsOutOfBounds) {
    // Split-at-every-byte: each prefix of real output must give a verdict, never crash; a prefix
    // that ends inside a row is refused.
    const std::string body = readFixture("haproxy-2.6-steady.csv");
    ASSERT_FALSE(body.empty());
    for (std::size_t n = 0; n <= body.size(); ++n) {
        const std::string prefix = body.substr(0, n);
        const auto result = HaproxyCsv::evaluate(prefix, "web", 1);
        if (n > 0 && prefix.back() != '\n') {
            EXPECT_FALSE(result.ok) << "prefix of " << n << " bytes";
        }
    }
}

TEST_F(HaproxyCsvTest, UnterminatedQuoteIsTruncation) {
    const std::string body = std::string(Header) + "web,s1,\"UP,\n";
    EXPECT_EQ(HaproxyCsv::evaluate(body, "web", 1).reason, "csv is truncated at line 2");
}

TEST_F(HaproxyCsvTest, ShortRowFails) {
    const std::string body = "# pxname,svname,qcur,status,\nweb,s1,0\n";
    EXPECT_EQ(HaproxyCsv::evaluate(body, "web", 1).reason, "csv line 2 has 3 fields");
}

TEST_F(HaproxyCsvTest, OversizedBodyFails) {
    std::string body = withStatuses({"UP"});
    body.resize(HaproxyCsv::MaxBodySize + 1, '\n');
    EXPECT_EQ(HaproxyCsv::evaluate(body, "web", 1).reason, "stats body too large");
}

TEST_F(HaproxyCsvTest, ReadRecordSplitsQuotedFields) {
    std::vector<std::string> fields;
    std::size_t pos = 0;
    const std::string text = "a,\"b,c\",\"d\"\"e\",,\"\"\nnext";
    ASSERT_TRUE(HaproxyCsv::readRecord(text, pos, fields));
    EXPECT_EQ(fields, (std::vector<std::string>{"a", "b,c", "d\"e", "", ""}));
    EXPECT_EQ(text.substr(pos), "next");
    EXPECT_FALSE(HaproxyCsv::readRecord(text, pos, fields));
    EXPECT_EQ(fields, (std::vector<std::string>{"next"}));
}

}  // namespace
}  // namespace gslb::health
