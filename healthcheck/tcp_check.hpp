#pragma once

// The `tcp` check: up iff a connection to `address` opens within the timeout.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "healthcheck/probe.hpp"

namespace gslb::health {

/// Connects with Asio and closes at once; sends nothing. Runs on the control io_context.
class TcpCheck : public Probe {
public:
    TcpCheck(const config::CheckConfig& check, boost::asio::io_context& io);
    ~TcpCheck() override;

    void run(Done done) override;
    void cancel() override;

private:
    struct Attempt;

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::chrono::milliseconds timeout_;
    std::shared_ptr<Attempt> attempt_;
};

}  // namespace gslb::health
