"""Abuse limits: UDP response rate limiting, TCP connection caps and slow clients."""

import socket
import time

import dns.flags
import dns.message

from conftest import DEFAULT_ZONE, frame, make_config, tcp_read_message

RATE = 20


def limited_config(extra):
    cfg = make_config(workers=1, tcp_idle_timeout="1s")
    return cfg.replace("  tcp_idle_timeout: 1s\n", "  tcp_idle_timeout: 1s\n" + extra)


def test_rate_limit_caps_answers_per_prefix_and_slips_truncated(start_gslbd):
    srv = start_gslbd(config=limited_config(
        f"  rate_limit: {{responses_per_second: {RATE}, slip: 2}}\n"), zone=DEFAULT_ZONE)
    host, port = srv.addr("udp")
    sent = 200
    full = truncated = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        start = time.monotonic()
        for i in range(sent):
            q = dns.message.make_query("mail.example.com.", "A")
            q.id = i
            sock.sendto(q.to_wire(), (host, port))
        try:
            while True:
                reply = dns.message.from_wire(sock.recv(4096))
                if reply.flags & dns.flags.TC:
                    truncated += 1
                else:
                    full += 1
        except socket.timeout:
            pass
        elapsed = time.monotonic() - start
    # One second's allowance plus the refill while sending; the rest slipped (half) or dropped.
    assert 1 <= full <= RATE + RATE * elapsed + 1, (full, elapsed)
    assert truncated >= (sent - full) // 2 - 5, (full, truncated)
    assert full + truncated < sent


def test_rate_limit_is_off_by_default(start_gslbd):
    srv = start_gslbd(config=make_config(workers=1), zone=DEFAULT_ZONE)
    host, port = srv.addr("udp")
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        for i in range(100):
            q = dns.message.make_query("mail.example.com.", "A")
            sock.sendto(q.to_wire(), (host, port))
            sock.recv(4096)
            answered += 1
    assert answered == 100


def test_tcp_connections_per_client_are_capped(start_gslbd):
    srv = start_gslbd(config=limited_config("  tcp_max_connections_per_client: 3\n"),
                      zone=DEFAULT_ZONE)
    kept = [srv.tcp_connect() for _ in range(3)]
    time.sleep(0.2)  # let the server account for them
    extra = srv.tcp_connect()
    try:
        extra.settimeout(2)
        try:
            extra.sendall(frame(dns.message.make_query("mail.example.com.", "A").to_wire()))
            served = tcp_read_message(extra) is not None
        except ConnectionResetError:
            served = False  # closed at once, the reset reaching us first
        assert not served, "a fourth connection was served"
        # The first three still work.
        for sock in kept:
            sock.sendall(frame(dns.message.make_query("mail.example.com.", "A").to_wire()))
            assert tcp_read_message(sock) is not None
    finally:
        for sock in kept + [extra]:
            sock.close()
    # Closing them frees the slots.
    time.sleep(0.2)
    again = srv.tcp_connect()
    again.sendall(frame(dns.message.make_query("mail.example.com.", "A").to_wire()))
    assert tcp_read_message(again) is not None
    again.close()


def test_slow_client_does_not_hold_a_connection(start_gslbd):
    srv = start_gslbd(config=limited_config(""), zone=DEFAULT_ZONE)
    query = frame(dns.message.make_query("mail.example.com.", "A").to_wire())
    sock = srv.tcp_connect()
    start = time.monotonic()
    closed = False
    try:
        # One byte every 300 ms: the query would take seconds; the 1 s timeout closes it first.
        for byte in query:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.3)
            sock.settimeout(0.01)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
    finally:
        sock.close()
    assert closed, "the server kept a byte-a-second client"
    assert time.monotonic() - start < 1.0 + 2.0
