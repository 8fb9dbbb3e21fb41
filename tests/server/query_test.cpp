#include "server/query.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tests/server/test_zone.hpp"

namespace gslb::server {
namespace {

using Bytes = std::vector<std::uint8_t>;

/// A query for www.example.com A with one OPT record carrying `options`.
Bytes queryWithOptions(const Bytes& options, std::uint8_t version = 0) {
    Bytes q = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,    0,    0, 1,       3,   'w',
               'w',  'w',  7,    'e',  'x', 'a', 'm', 'p', 'l',  'e',  3, 'c',     'o', 'm',
               0,    0,    1,    0,    1,   0,   0,   41,  0x04, 0xD0, 0, version, 0,   0};
    q.push_back(static_cast<std::uint8_t>(options.size() >> 8));
    q.push_back(static_cast<std::uint8_t>(options.size() & 0xFF));
    q.insert(q.end(), options.begin(), options.end());
    return q;
}

QueryStatus read(const Bytes& b, Query& q) {
    return readQuery(b.data(), b.size(), q);
}

TEST(QueryTest, ReadsQuestionAndLowercasesName) {
    const Bytes b = testing::makeQuery("WwW.Example.COM.", LDNS_RR_TYPE_AAAA, 0);
    Query q;
    ASSERT_EQ(read(b, q), QueryStatus::Ok);
    EXPECT_EQ(q.qtype, 28);
    EXPECT_EQ(q.qclass, 1);
    EXPECT_EQ(q.label_count, 4u);
    EXPECT_EQ(std::string(q.qname_lower.begin(), q.qname_lower.begin() + q.qname_size),
              std::string("\3www\7example\3com\0", 17));
    EXPECT_FALSE(q.edns);
}

TEST(QueryTest, ShorterThanHeaderIsDropped) {
    const Bytes b = {0x12, 0x34, 0x01};
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::Drop);
}

TEST(QueryTest, ResponseIsDropped) {
    Bytes b = testing::makeQuery("example.com.", LDNS_RR_TYPE_A, 0);
    b[2] |= 0x80;
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::Drop);
}

TEST(QueryTest, ZeroQuestionsIsFormErr) {
    const Bytes b = {0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, TwoQuestionsIsFormErr) {
    Bytes b = testing::makeQuery("example.com.", LDNS_RR_TYPE_A, 0);
    b[5] = 2;
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, CompressionPointerInQuestionIsFormErr) {
    // The name points at itself: a loop that must not be followed.
    const Bytes b = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, OverlongLabelIsFormErr) {
    Bytes b = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 64};
    b.insert(b.end(), 64, 'a');
    b.insert(b.end(), {0, 0, 1, 0, 1});
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, NameLongerThan255IsFormErr) {
    Bytes b = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 5; ++i) {
        b.push_back(60);
        b.insert(b.end(), 60, 'a');
    }
    b.insert(b.end(), {0, 0, 1, 0, 1});
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, EveryTruncationIsRejectedWithoutOverread) {
    const Bytes full = queryWithOptions({0, 3, 0, 0});
    for (std::size_t len = 0; len < full.size(); ++len) {
        const Bytes cut(full.begin(), full.begin() + static_cast<long>(len));
        Query q;
        const QueryStatus st = read(cut, q);
        EXPECT_NE(st, QueryStatus::Ok) << "length " << len;
    }
    Query q;
    EXPECT_EQ(read(full, q), QueryStatus::Ok);
}

TEST(QueryTest, OtherOpcodeIsNotImp) {
    Bytes b = testing::makeQuery("example.com.", LDNS_RR_TYPE_SOA, 0);
    b[2] = static_cast<std::uint8_t>((b[2] & 0x87) | (4 << 3));  // NOTIFY
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::NotImp);
    EXPECT_NE(q.question_end, 0u);
}

TEST(QueryTest, AnswerRecordsInQueryAreFormErr) {
    Bytes b = testing::makeQuery("example.com.", LDNS_RR_TYPE_A, 0);
    b[7] = 1;
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, ReadsEdnsPayloadAndNsid) {
    Query q;
    ASSERT_EQ(read(queryWithOptions({0, 3, 0, 0}), q), QueryStatus::Ok);
    EXPECT_TRUE(q.edns);
    EXPECT_EQ(q.edns_payload, 1232);
    EXPECT_TRUE(q.nsid);
}

TEST(QueryTest, UnknownOptionIsIgnored) {
    Query q;
    ASSERT_EQ(read(queryWithOptions({0xFD, 0xE9, 0, 2, 0xAB, 0xCD}), q), QueryStatus::Ok);
    EXPECT_FALSE(q.nsid);
}

TEST(QueryTest, OptionOverrunningRdataIsFormErr) {
    Query q;
    EXPECT_EQ(read(queryWithOptions({0, 10, 0, 8, 1, 2}), q), QueryStatus::FormErr);
}

TEST(QueryTest, EdnsVersionOneIsBadVers) {
    Query q;
    EXPECT_EQ(read(queryWithOptions({}, 1), q), QueryStatus::BadVers);
}

TEST(QueryTest, TwoOptRecordsAreFormErr) {
    Bytes b = queryWithOptions({});
    b[11] = 2;
    const Bytes opt = {0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0};
    b.insert(b.end(), opt.begin(), opt.end());
    Query q;
    EXPECT_EQ(read(b, q), QueryStatus::FormErr);
}

TEST(QueryTest, ReadsClientSubnet) {
    Query q;
    ASSERT_EQ(read(queryWithOptions({0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100}), q), QueryStatus::Ok);
    ASSERT_TRUE(q.ecs.present);
    EXPECT_EQ(q.ecs.family, 1);
    EXPECT_EQ(q.ecs.source_prefix, 24);
    EXPECT_EQ(q.ecs.address[2], 100);
}

TEST(QueryTest, ClientSubnetWithZeroPrefixIsAccepted) {
    Query q;
    ASSERT_EQ(read(queryWithOptions({0, 8, 0, 4, 0, 2, 0, 0}), q), QueryStatus::Ok);
    EXPECT_TRUE(q.ecs.present);
    EXPECT_EQ(q.ecs.source_prefix, 0);
}

TEST(QueryTest, MalformedClientSubnetIsFormErr) {
    // RFC 7871 section 6: unknown family, prefix longer than the family, address longer than
    // the prefix needs, bits set past the prefix, option shorter than its fixed part.
    const std::vector<Bytes> bad = {
        {0, 8, 0, 5, 0, 3, 8, 0, 10},
        {0, 8, 0, 9, 0, 1, 33, 0, 1, 2, 3, 4, 5},
        {0, 8, 0, 8, 0, 1, 16, 0, 198, 51, 100, 0},
        {0, 8, 0, 7, 0, 1, 23, 0, 198, 51, 101},
        {0, 8, 0, 2, 0, 1},
    };
    for (const Bytes& option : bad) {
        Query q;
        EXPECT_EQ(read(queryWithOptions(option), q), QueryStatus::FormErr);
    }
}

}  // namespace
}  // namespace gslb::server
