#include "healthcheck/tcp_check.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "tests/healthcheck/http_stub.hpp"

namespace gslb::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// Integration: real sockets on 127.0.0.1.
class TcpCheckTest : public ::testing::Test {
protected:
    config::CheckConfig tcpCheck(std::uint16_t port, std::chrono::milliseconds timeout = 500ms) {
        config::CheckConfig check;
        check.type = config::CheckType::Tcp;
        check.id = "local/0:tcp";
        check.address.address = asio::ip::address_v4::loopback();
        check.address.port = port;
        check.timeout = timeout;
        return check;
    }

    std::optional<ProbeResult> runOnce(TcpCheck& check) {
        std::optional<ProbeResult> result;
        check.run([&](ProbeResult r) { result = std::move(r); });
        testing::runUntil(io_, [&] { return result.has_value(); });
        return result;
    }

    asio::io_context io_;
};

TEST_F(TcpCheckTest, ListeningPortPasses) {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::address_v4::loopback(), 0});
    TcpCheck check(tcpCheck(acceptor.local_endpoint().port()), io_);
    const auto result = runOnce(check);
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->ok);
    EXPECT_EQ(result->reason, "connected");
}

TEST_F(TcpCheckTest, ClosedPortFails) {
    TcpCheck check(tcpCheck(testing::closedPort(io_)), io_);
    const auto result = runOnce(check);
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->ok);
    EXPECT_EQ(result->reason, "connect failed: Connection refused");
}

TEST_F(TcpCheckTest, UnansweredConnectTimesOut) {
    // 192.0.2.1 (TEST-NET-1) is never routed; without a route the connect fails at once, with
    // one it hangs until the timeout. Either way it must fail within the timeout.
    config::CheckConfig settings = tcpCheck(9, 200ms);
    settings.address.address = asio::ip::make_address("192.0.2.1");
    TcpCheck check(settings, io_);
    const auto start = std::chrono::steady_clock::now();
    const auto result = runOnce(check);
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->ok);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(TcpCheckTest, CancelledProbeNeverCallsBack) {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::address_v4::loopback(), 0});
    TcpCheck check(tcpCheck(acceptor.local_endpoint().port()), io_);
    bool called = false;
    check.run([&](ProbeResult) { called = true; });
    check.cancel();
    io_.run_for(50ms);
    EXPECT_FALSE(called);
}

}  // namespace
}  // namespace gslb::health
