// libFuzzer target: HAProxy's stats CSV, the body a haproxy check fetches from the network, as
// HaproxyCsv::evaluate and readRecord see it. The first byte picks min_up; the rest is the body.
//
// Oracles: ASan and UBSan; counts that add up (serving <= servers, ok iff serving >= min_up
// when the backend was found); readRecord always moves forward.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "healthcheck/haproxy_csv.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using gslb::health::HaproxyCsv;
    if (size < 1) {
        return 0;
    }
    const unsigned min_up = data[0] % 4;
    // A heap copy of exactly the body, so ASan sees any read past its end.
    const std::vector<char> copy(data + 1, data + size);
    const std::string_view body(copy.data(), copy.size());

    const auto result = HaproxyCsv::evaluate(body, "web", min_up);
    gslb::fuzz::require(result.serving <= result.servers, "more serving rows than servers");
    gslb::fuzz::require(!result.reason.empty(), "a verdict without a reason");
    if (result.ok) {
        gslb::fuzz::require(result.serving >= min_up, "ok with fewer than min_up serving");
    }

    // Every record read moves `pos` forward and never past the end.
    std::size_t pos = 0;
    std::vector<std::string> fields;
    while (pos < body.size()) {
        const std::size_t before = pos;
        HaproxyCsv::readRecord(body, pos, fields);
        gslb::fuzz::require(pos > before && pos <= body.size(), "readRecord did not advance");
        gslb::fuzz::require(!fields.empty(), "a record without fields");
    }
    if (!fields.empty()) {
        HaproxyCsv::isServingStatus(fields.back());
    }
    return 0;
}
