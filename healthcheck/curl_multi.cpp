#include "healthcheck/curl_multi.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/log.hpp"
#include "healthcheck/probe.hpp"

namespace gslb::health {

namespace asio = boost::asio;

namespace {

struct EasyDeleter {
    void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
    void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

// One socket curl asked us to watch. The descriptor never owns the fd: curl opens and closes
// it, and we release() the descriptor before that happens (see forgetSocket()).
struct WatchedSocket {
    WatchedSocket(asio::io_context& io, curl_socket_t socket_fd) : fd(socket_fd), descriptor(io) {}
    ~WatchedSocket() { detach(); }
    WatchedSocket(const WatchedSocket&) = delete;
    WatchedSocket& operator=(const WatchedSocket&) = delete;

    // Deregisters the fd from the reactor without closing it; pending waits complete with
    // operation_aborted.
    void detach() {
        if (descriptor.is_open()) {
            descriptor.release();
        }
        gone = true;
    }

    curl_socket_t fd;
    asio::posix::stream_descriptor descriptor;
    int want = 0;  // CURL_POLL_IN / CURL_POLL_OUT bits
    bool reading = false;
    bool writing = false;
    bool gone = false;
};

// The per-transfer state curl points back to through CURLOPT_PRIVATE.
struct Transfer {
    CurlMulti::RequestId id = 0;
    EasyHandle easy;
    CurlMulti::Callback done;
    std::chrono::milliseconds timeout{0};
    bool keep_body = false;
    std::size_t max_body = 0;
    bool too_large = false;
    std::string body;
    char error[CURL_ERROR_SIZE] = {};
};

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (!transfer->keep_body) {
        return bytes;
    }
    if (transfer->body.size() + bytes > transfer->max_body) {
        // Returning less than `bytes` makes curl stop with CURLE_WRITE_ERROR.
        transfer->too_large = true;
        return 0;
    }
    transfer->body.append(data, bytes);
    return bytes;
}

/// Lowercases a capitalised first word ("Connection refused" reads as "connection refused" in
/// a log line), but leaves names and acronyms alone ("URL", "OpenSSL/3.0").
std::string lowerFirst(std::string text) {
    std::size_t end = 1;
    while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) {
        if (std::isupper(static_cast<unsigned char>(text[end]))) {
            return text;
        }
        ++end;
    }
    const bool word_ends = end == text.size() || text[end] == ' ';
    if (!text.empty() && word_ends) {
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    }
    return text;
}

void initCurlOnce() {
    static std::once_flag once;
    static CURLcode code = CURLE_OK;
    std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (code != CURLE_OK) {
        throw std::runtime_error("curl_global_init failed");
    }
}

}  // namespace

struct CurlMulti::Impl : std::enable_shared_from_this<Impl> {
    explicit Impl(asio::io_context& context) : io(context), timer(context) {}
    ~Impl();

    void setUp();
    void arm(const std::shared_ptr<WatchedSocket>& socket);
    void onReady(const std::shared_ptr<WatchedSocket>& socket, int select);
    void onTimer();
    void collectDone();
    void forgetSocket(curl_socket_t fd);
    HttpResponse finish(Transfer& transfer, CURLcode code);

    static int onSocket(CURL* easy, curl_socket_t fd, int what, void* user, void* socket_data);
    static int onTimerChange(CURLM* multi, long timeout_ms, void* user);
    static int onCloseSocket(void* user, curl_socket_t fd);

    asio::io_context& io;
    asio::steady_timer timer;
    std::unordered_map<curl_socket_t, std::shared_ptr<WatchedSocket>> sockets;
    std::unordered_map<RequestId, std::unique_ptr<Transfer>> transfers;
    // Requests that failed to start and whose error callback is posted but has not run.
    std::unordered_set<RequestId> failed;
    RequestId next_id = 1;
    // Last member: destroyed first, and ~Impl empties it explicitly before anything else goes.
    MultiHandle multi;
};

void CurlMulti::Impl::setUp() {
    multi.reset(curl_multi_init());
    if (!multi) {
        throw std::runtime_error("curl_multi_init failed");
    }
    curl_multi_setopt(multi.get(), CURLMOPT_SOCKETFUNCTION, &Impl::onSocket);
    curl_multi_setopt(multi.get(), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi.get(), CURLMOPT_TIMERFUNCTION, &Impl::onTimerChange);
    curl_multi_setopt(multi.get(), CURLMOPT_TIMERDATA, this);
}

CurlMulti::Impl::~Impl() {
    // Tearing down while sockets are watched:
    // 1. Remove every easy handle, so no transfer callback can run any more; curl closes their
    //    connections through onCloseSocket(), which detaches each watched descriptor.
    // 2. Clean up the multi handle while `sockets` still exists, for the same reason.
    // 3. Detach whatever curl still had us watch, so no descriptor closes an fd it never owned.
    // Queued Asio handlers hold weak pointers to this Impl and see it expired.
    for (auto& [id, transfer] : transfers) {
        curl_multi_remove_handle(multi.get(), transfer->easy.get());
    }
    transfers.clear();
    multi.reset();
    for (auto& [fd, socket] : sockets) {
        socket->detach();
    }
    sockets.clear();
}

int CurlMulti::Impl::onSocket(CURL*, curl_socket_t fd, int what, void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    if (what == CURL_POLL_REMOVE) {
        self->forgetSocket(fd);
        return 0;
    }
    auto& slot = self->sockets[fd];
    if (!slot) {
        auto socket = std::make_shared<WatchedSocket>(self->io, fd);
        boost::system::error_code ec;
        socket->descriptor.assign(fd, ec);
        if (ec) {
            self->sockets.erase(fd);
            log::warning("health", "cannot watch curl socket (" + ec.message() + ")");
            return -1;
        }
        slot = std::move(socket);
    }
    slot->want = what;
    self->arm(slot);
    return 0;
}

int CurlMulti::Impl::onCloseSocket(void* user, curl_socket_t fd) {
    // Curl closes a socket that Asio may still be waiting on:
    // 1. detach the descriptor first: the fd leaves epoll and pending waits are aborted,
    // 2. only then close the fd, so a new socket reusing its number starts with a clean slate.
    static_cast<Impl*>(user)->forgetSocket(fd);
    return ::close(fd);
}

void CurlMulti::Impl::forgetSocket(curl_socket_t fd) {
    const auto it = sockets.find(fd);
    if (it == sockets.end()) {
        return;
    }
    it->second->detach();
    sockets.erase(it);
}

int CurlMulti::Impl::onTimerChange(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (timeout_ms < 0) {
        self->timer.cancel();
        return 0;
    }
    // Curl must not be re-entered from this callback, so even a 0 ms timeout goes through the
    // timer, which runs the action from the io_context.
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([weak = self->weak_from_this()](const boost::system::error_code& ec) {
        const auto impl = weak.lock();
        if (ec || !impl) {
            return;
        }
        impl->onTimer();
    });
    return 0;
}

void CurlMulti::Impl::arm(const std::shared_ptr<WatchedSocket>& socket) {
    // Each handler holds the socket, so a socket forgotten meanwhile is still valid memory;
    // `gone` tells the handler to leave it alone.
    using Wait = asio::posix::descriptor_base::wait_type;
    const auto wait = [this](const std::shared_ptr<WatchedSocket>& watched, Wait type) {
        watched->descriptor.async_wait(
            type, [weak = weak_from_this(), watched, type](const boost::system::error_code& ec) {
                const bool read = type == Wait::wait_read;
                (read ? watched->reading : watched->writing) = false;
                const auto impl = weak.lock();
                if (ec || !impl || watched->gone) {
                    return;
                }
                impl->onReady(watched, read ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
            });
    };
    if ((socket->want & CURL_POLL_IN) != 0 && !socket->reading) {
        socket->reading = true;
        wait(socket, Wait::wait_read);
    }
    if ((socket->want & CURL_POLL_OUT) != 0 && !socket->writing) {
        socket->writing = true;
        wait(socket, Wait::wait_write);
    }
}

void CurlMulti::Impl::onReady(const std::shared_ptr<WatchedSocket>& socket, int select) {
    // A wait left over from before curl changed its interest is not passed on.
    const int wanted = select == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    if ((socket->want & wanted) == 0) {
        return;
    }
    int running = 0;
    curl_multi_socket_action(multi.get(), socket->fd, select, &running);
    collectDone();

    // Keep waiting while curl still wants the socket (it may have closed it meanwhile).
    if (!socket->gone) {
        arm(socket);
    }
}

void CurlMulti::Impl::onTimer() {
    int running = 0;
    curl_multi_socket_action(multi.get(), CURL_SOCKET_TIMEOUT, 0, &running);
    collectDone();
}

void CurlMulti::Impl::collectDone() {
    // Detach finished transfers first and call back afterwards, so a callback that starts or
    // cancels a fetch never runs while curl's message queue is being read.
    std::vector<std::pair<Callback, HttpResponse>> finished;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        Transfer* raw = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &raw);
        const CURLcode code = message->data.result;
        if (raw == nullptr) {
            continue;
        }
        auto it = transfers.find(raw->id);
        if (it == transfers.end()) {
            continue;
        }
        std::unique_ptr<Transfer> transfer = std::move(it->second);
        transfers.erase(it);
        curl_multi_remove_handle(multi.get(), transfer->easy.get());
        HttpResponse response = finish(*transfer, code);
        finished.emplace_back(std::move(transfer->done), std::move(response));
    }
    for (auto& [done, response] : finished) {
        done(std::move(response));
    }
}

HttpResponse CurlMulti::Impl::finish(Transfer& transfer, CURLcode code) {
    HttpResponse response;
    curl_off_t micros = 0;
    curl_easy_getinfo(transfer.easy.get(), CURLINFO_TOTAL_TIME_T, &micros);
    response.latency = std::chrono::microseconds(micros);
    curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &response.status);
    if (code == CURLE_OK) {
        response.complete = true;
        response.body = std::move(transfer.body);
        return response;
    }
    if (transfer.too_large) {
        response.body_too_large = true;
        response.error = "body too large";
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        response.error = "timeout after " + formatDuration(transfer.timeout);
    } else if (transfer.error[0] != '\0') {
        response.error = lowerFirst(transfer.error);
    } else {
        response.error = lowerFirst(curl_easy_strerror(code));
    }
    return response;
}

CurlMulti::CurlMulti(asio::io_context& io) {
    initCurlOnce();
    impl_ = std::make_shared<Impl>(io);
    impl_->setUp();
}

CurlMulti::~CurlMulti() = default;

namespace {

// Sets every option of one probe's easy handle; returns the first error.
CURLcode configure(Transfer& transfer, const HttpRequest& request, void* close_data) {
    CURL* easy = transfer.easy.get();
    CURLcode code = easy == nullptr ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    const auto set = [&](CURLoption option, auto value) {
        if (code == CURLE_OK) {
            code = curl_easy_setopt(easy, option, value);
        }
    };
    const long timeout_ms = static_cast<long>(request.timeout.count());
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_PRIVATE, &transfer);
    set(CURLOPT_ERRORBUFFER, transfer.error);
    set(CURLOPT_WRITEFUNCTION, &onBody);
    set(CURLOPT_WRITEDATA, &transfer);
    set(CURLOPT_CLOSESOCKETDATA, close_data);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_TIMEOUT_MS, timeout_ms);
    set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    // A health check judges the server it names: a redirect is that server's answer, not a
    // pointer to follow, and the environment's proxy settings must not route probes elsewhere.
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_PROXY, "");
    set(CURLOPT_NOPROXY, "*");
    // A fresh connection per probe: a reused one would hide a listener that stopped accepting,
    // and thousands of idle connections would pin file descriptors on both sides.
    set(CURLOPT_FRESH_CONNECT, 1L);
    set(CURLOPT_FORBID_REUSE, 1L);
    set(CURLOPT_SSL_VERIFYPEER, request.tls_verify ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, request.tls_verify ? 2L : 0L);
    set(CURLOPT_USERAGENT, "gslbd-health/" GSLBD_VERSION);
    if (!request.user.empty()) {
        set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        set(CURLOPT_USERNAME, request.user.c_str());
        set(CURLOPT_PASSWORD, request.password.c_str());
    }
    return code;
}

}  // namespace

CurlMulti::RequestId CurlMulti::fetch(const HttpRequest& request, Callback done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->id = impl_->next_id++;
    transfer->done = std::move(done);
    transfer->timeout = request.timeout;
    transfer->keep_body = request.keep_body;
    transfer->max_body = request.max_body;
    transfer->easy.reset(curl_easy_init());

    // The close callback is set here, where Impl is complete; the rest in configure().
    CURLcode code = configure(*transfer, request, impl_.get());
    if (code == CURLE_OK) {
        code = curl_easy_setopt(transfer->easy.get(), CURLOPT_CLOSESOCKETFUNCTION,
                                &Impl::onCloseSocket);
    }
    CURLMcode added = CURLM_OK;
    if (code == CURLE_OK) {
        added = curl_multi_add_handle(impl_->multi.get(), transfer->easy.get());
    }
    const RequestId id = transfer->id;
    if (code == CURLE_OK && added == CURLM_OK) {
        impl_->transfers.emplace(id, std::move(transfer));
        return id;
    }

    // A request that cannot even start still completes asynchronously, as promised.
    HttpResponse response;
    response.error = code != CURLE_OK ? lowerFirst(curl_easy_strerror(code))
                                      : lowerFirst(curl_multi_strerror(added));
    impl_->failed.insert(id);
    asio::post(impl_->io, [weak = std::weak_ptr<Impl>(impl_), id, done = std::move(transfer->done),
                           response]() mutable {
        const auto impl = weak.lock();
        if (impl && impl->failed.erase(id) > 0) {
            done(std::move(response));
        }
    });
    return id;
}

void CurlMulti::cancel(RequestId id) {
    impl_->failed.erase(id);
    const auto it = impl_->transfers.find(id);
    if (it == impl_->transfers.end()) {
        return;
    }
    // Removing the handle closes its connection through onCloseSocket(), which detaches the
    // watched descriptor before the fd is closed.
    curl_multi_remove_handle(impl_->multi.get(), it->second->easy.get());
    impl_->transfers.erase(it);
}

std::size_t CurlMulti::inFlight() const {
    return impl_->transfers.size() + impl_->failed.size();
}

}  // namespace gslb::health
