#include "healthcheck/tcp_check.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace gslb::health {

namespace asio = boost::asio;

// One connection attempt. Its handlers hold it alive, so it outlives a cancel() or the check
// itself; `finished` makes sure exactly one of connect, timeout and cancel wins.
struct TcpCheck::Attempt {
    explicit Attempt(asio::io_context& io) : socket(io), timer(io) {}

    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    Done done;
    std::chrono::steady_clock::time_point start;
    bool finished = false;

    void complete(bool ok, std::string reason) {
        finished = true;
        boost::system::error_code ignored;
        socket.close(ignored);
        timer.cancel();
        const auto elapsed = std::chrono::steady_clock::now() - start;
        ProbeResult result{ok, std::move(reason),
                           std::chrono::duration_cast<std::chrono::microseconds>(elapsed)};
        Done callback = std::move(done);
        callback(std::move(result));
    }
};

TcpCheck::TcpCheck(const config::CheckConfig& check, asio::io_context& io)
    : io_(io), endpoint_(check.address.address, check.address.port), timeout_(check.timeout) {}

TcpCheck::~TcpCheck() {
    cancel();
}

void TcpCheck::run(Done done) {
    auto attempt = std::make_shared<Attempt>(io_);
    attempt->done = std::move(done);
    attempt->start = std::chrono::steady_clock::now();
    attempt_ = attempt;

    // The timeout closes the socket, which aborts the connect; `finished` drops that abort.
    attempt->timer.expires_after(timeout_);
    attempt->timer.async_wait([attempt, timeout = timeout_](const boost::system::error_code& ec) {
        if (ec || attempt->finished) {
            return;
        }
        attempt->complete(false, "timeout after " + formatDuration(timeout));
    });

    attempt->socket.async_connect(endpoint_, [attempt](const boost::system::error_code& ec) {
        if (attempt->finished) {
            return;
        }
        if (ec) {
            attempt->complete(false, "connect failed: " + ec.message());
            return;
        }
        attempt->complete(true, "connected");
    });
}

void TcpCheck::cancel() {
    if (!attempt_) {
        return;
    }
    auto attempt = std::move(attempt_);
    if (!attempt->finished) {
        attempt->finished = true;
        attempt->done = nullptr;
        boost::system::error_code ignored;
        attempt->socket.close(ignored);
        attempt->timer.cancel();
    }
}

}  // namespace gslb::health
