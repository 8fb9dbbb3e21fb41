"""The wire side: EDNS(0), UDP sizes and truncation, TCP framing and idle close, NSID and CHAOS
identity, robustness against garbage, and the IPv6 listener (contract, "Answers")."""

import os
import socket
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from conftest import IDENTITY, frame, rrs, tcp_read_message

STATIC_A = ["static.example.com. 3600 IN A 127.0.0.80"]


def raw_query(name, rdtype, payload=None, version=0, options=None, qid=None):
    """A query as wire bytes; payload None means no EDNS at all."""
    msg = dns.message.make_query(name, rdtype, use_edns=False)
    if payload is not None:
        msg.use_edns(edns=version, payload=payload, options=options or [])
    if qid is not None:
        msg.id = qid
    return msg


def udp_answer(gslbd, msg):
    """Sends `msg` over UDP; returns (reply size in bytes, parsed reply)."""
    reply = gslbd.udp_raw(msg.to_wire())
    assert reply is not None, f"no answer over UDP to {msg.question}"
    return len(reply), dns.message.from_wire(reply)


def tc(resp):
    return bool(resp.flags & dns.flags.TC)


# -- EDNS(0) ------------------------------------------------------------------------------------

def test_opt_is_echoed_advertising_1232(gslbd):
    size, resp = udp_answer(gslbd, raw_query("static.example.com.", "A", payload=4096))
    assert resp.edns == 0
    assert resp.payload == 1232
    assert rrs(resp.answer) == STATIC_A


def test_no_opt_without_edns_in_query(gslbd):
    _, resp = udp_answer(gslbd, raw_query("static.example.com.", "A"))
    assert resp.edns == -1
    assert rrs(resp.answer) == STATIC_A


def test_opt_on_negative_answers_too(gslbd):
    _, resp = udp_answer(gslbd, raw_query("nope.example.com.", "A", payload=1232))
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.edns == 0 and resp.payload == 1232


def test_edns_version_1_gets_badvers(gslbd):
    _, resp = udp_answer(gslbd, raw_query("static.example.com.", "A", payload=1232, version=1))
    # RFC 6891 section 6.1.3: BADVERS (16) is split between the header and the OPT record,
    # and the responder states the version it does speak.
    assert resp.rcode() == dns.rcode.BADVERS
    assert resp.edns == 0
    assert resp.answer == []


def test_unknown_edns_option_is_ignored(gslbd):
    unknown = dns.edns.GenericOption(65001, b"\x01\x02\x03")
    _, resp = udp_answer(gslbd, raw_query("static.example.com.", "A", payload=1232,
                                          options=[unknown]))
    assert resp.rcode() == dns.rcode.NOERROR
    assert rrs(resp.answer) == STATIC_A
    assert all(o.otype != 65001 for o in resp.options)


# -- UDP sizes and truncation -------------------------------------------------------------------

def test_answer_fitting_1232_is_whole_over_udp(gslbd):
    # mid.example.com. has 8 TXT records of 100 characters: about 950 bytes.
    size, resp = udp_answer(gslbd, raw_query("mid.example.com.", "TXT", payload=4096))
    assert not tc(resp)
    assert size <= 1232
    assert len(resp.answer[0]) == 8


def test_udp_answer_capped_at_1232_even_if_client_allows_more(gslbd):
    # large.example.com. has 15 TXT records of 100 characters: about 1.75 kB, over 1232 but
    # well under the client's 4096.
    size, resp = udp_answer(gslbd, raw_query("large.example.com.", "TXT", payload=4096))
    assert tc(resp)
    assert size <= 1232
    resp = gslbd.query(raw_query("large.example.com.", "TXT", payload=4096), proto="tcp")
    assert not tc(resp)
    assert len(resp.answer[0]) == 15


def test_udp_answer_respects_client_payload(gslbd):
    size, resp = udp_answer(gslbd, raw_query("mid.example.com.", "TXT", payload=600))
    assert size <= 600
    assert tc(resp)


def test_udp_answer_without_edns_is_at_most_512(gslbd):
    size, resp = udp_answer(gslbd, raw_query("mid.example.com.", "TXT"))
    assert size <= 512
    assert tc(resp)


def test_small_answer_without_edns_is_whole(gslbd):
    # small.example.com. has 3 TXT records of 100 characters: about 380 bytes.
    size, resp = udp_answer(gslbd, raw_query("small.example.com.", "TXT"))
    assert not tc(resp)
    assert len(resp.answer[0]) == 3
    assert size <= 512


def test_client_payload_below_512_counts_as_512(gslbd):
    # RFC 6891 section 6.2.5: values below 512 are treated as 512.
    size, resp = udp_answer(gslbd, raw_query("small.example.com.", "TXT", payload=300))
    assert not tc(resp)
    assert len(resp.answer[0]) == 3
    assert 300 < size <= 512


def test_large_answer_sets_tc_over_udp(gslbd):
    # big.example.com. has 40 TXT records of 100 characters: about 4.5 kB.
    size, resp = udp_answer(gslbd, raw_query("big.example.com.", "TXT", payload=4096))
    assert tc(resp)
    assert size <= 1232
    assert resp.rcode() == dns.rcode.NOERROR


def test_large_answer_is_whole_over_tcp(gslbd):
    msg = raw_query("big.example.com.", "TXT", payload=4096)
    resp = gslbd.query(msg, proto="tcp")
    assert not tc(resp)
    assert resp.flags & dns.flags.AA
    assert len(resp.answer) == 1 and len(resp.answer[0]) == 40
    assert {rd.strings[0][:3] for rd in resp.answer[0]} == {b"%03d" % i for i in range(40)}


def test_dig_falls_back_to_tcp_for_large_answer(gslbd):
    status, out = gslbd.dig("big.example.com.", "TXT", "+short")
    assert status == 0, out
    assert len(out.strip().splitlines()) == 40


# -- NSID and CHAOS identity --------------------------------------------------------------------

def test_nsid_returned_when_asked(gslbd):
    nsid = dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")
    _, resp = udp_answer(gslbd, raw_query("static.example.com.", "A", payload=1232,
                                          options=[nsid]))
    got = [o for o in resp.options if o.otype == dns.edns.OptionType.NSID]
    assert len(got) == 1
    assert got[0].to_wire() == IDENTITY.encode()
    assert rrs(resp.answer) == STATIC_A


def test_nsid_not_sent_unless_asked(gslbd):
    _, resp = udp_answer(gslbd, raw_query("static.example.com.", "A", payload=1232))
    assert all(o.otype != dns.edns.OptionType.NSID for o in resp.options)


def test_nsid_with_kdig(gslbd):
    status, out = gslbd.dig("+nsid", "static.example.com.", "A", tool="kdig")
    assert status == 0, out
    nsid_lines = [line for line in out.splitlines() if "NSID" in line]
    assert nsid_lines and IDENTITY in nsid_lines[0], out


@pytest.mark.parametrize("name", ["id.server.", "hostname.bind."])
def test_chaos_txt_gives_identity(gslbd, name):
    resp = gslbd.ask(name, "TXT", rdclass="CH")
    assert resp.rcode() == dns.rcode.NOERROR
    assert len(resp.answer) == 1
    rrset = resp.answer[0]
    assert rrset.rdclass == dns.rdataclass.CH
    assert rrset.rdtype == dns.rdatatype.TXT
    assert rrset.name.to_text().lower() == name
    assert [rd.strings for rd in rrset] == [(IDENTITY.encode(),)]


def test_chaos_other_name_is_not_answered_with_data(gslbd):
    resp = gslbd.ask("example.com.", "TXT", rdclass="CH")
    assert resp.rcode() in (dns.rcode.REFUSED, dns.rcode.NXDOMAIN, dns.rcode.NOTIMP)
    assert resp.answer == []


def test_chaos_with_dig(gslbd):
    status, out = gslbd.dig("id.server.", "TXT", "CH", "+short")
    assert status == 0, out
    assert out.strip() == f'"{IDENTITY}"'


# -- TCP (RFC 7766) -----------------------------------------------------------------------------

def test_tcp_length_framing(gslbd):
    msg = raw_query("static.example.com.", "A", qid=0x1234)
    with gslbd.tcp_connect() as sock:
        sock.sendall(frame(msg.to_wire()))
        body = tcp_read_message(sock)
    assert body is not None, "connection closed without an answer"
    resp = dns.message.from_wire(body)
    assert resp.id == 0x1234
    assert rrs(resp.answer) == STATIC_A


def test_tcp_pipelined_queries_in_one_write(gslbd):
    q1 = raw_query("static.example.com.", "A", qid=0x0101)
    q2 = raw_query("mail.example.com.", "A", qid=0x0202)
    with gslbd.tcp_connect() as sock:
        sock.sendall(frame(q1.to_wire()) + frame(q2.to_wire()))
        got = {}
        for _ in range(2):
            body = tcp_read_message(sock)
            assert body is not None, f"connection closed after {len(got)} answers"
            resp = dns.message.from_wire(body)
            got[resp.id] = rrs(resp.answer)
    assert got == {0x0101: STATIC_A, 0x0202: ["mail.example.com. 3600 IN A 127.0.0.25"]}


def test_tcp_several_queries_on_one_connection(gslbd):
    with gslbd.tcp_connect() as sock:
        for qid in range(100, 105):
            sock.sendall(frame(raw_query("static.example.com.", "A", qid=qid).to_wire()))
            body = tcp_read_message(sock)
            assert body is not None
            assert dns.message.from_wire(body).id == qid


def test_tcp_query_sent_byte_by_byte(gslbd):
    data = frame(raw_query("static.example.com.", "A", qid=0x4242).to_wire())
    with gslbd.tcp_connect() as sock:
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
            time.sleep(0.005)
        body = tcp_read_message(sock)
    assert body is not None
    resp = dns.message.from_wire(body)
    assert resp.id == 0x4242
    assert rrs(resp.answer) == STATIC_A


def wait_closed(sock, limit):
    """Seconds until the peer closes `sock` (reading nothing else), or None after `limit`."""
    sock.settimeout(limit)
    t0 = time.monotonic()
    try:
        data = sock.recv(1)
    except socket.timeout:
        return None
    except ConnectionResetError:
        data = b""
    assert data == b"", f"unexpected data {data!r} on an idle connection"
    return time.monotonic() - t0


def test_tcp_idle_connection_closed_after_timeout(gslbd):
    # The test config sets tcp_idle_timeout: 1s.
    with gslbd.tcp_connect() as sock:
        sock.sendall(frame(raw_query("static.example.com.", "A").to_wire()))
        assert tcp_read_message(sock) is not None
        elapsed = wait_closed(sock, 6.0)
    assert elapsed is not None, "idle connection still open after 6s"
    assert 0.5 <= elapsed <= 4.0, elapsed


def test_tcp_connection_without_query_closed_after_timeout(gslbd):
    with gslbd.tcp_connect() as sock:
        elapsed = wait_closed(sock, 6.0)
    assert elapsed is not None, "silent connection still open after 6s"
    assert 0.5 <= elapsed <= 4.0, elapsed


def test_garbage_over_tcp_then_new_connection_works(gslbd):
    with gslbd.tcp_connect() as sock:
        sock.sendall(frame(os.urandom(7)) + b"\x00\x00" + b"\xff" * 40)
        sock.settimeout(2.0)
        try:
            while sock.recv(4096):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    resp = gslbd.ask("static.example.com.", "A", proto="tcp")
    assert rrs(resp.answer) == STATIC_A


def test_tcp_connection_closed_mid_message(gslbd):
    data = frame(raw_query("static.example.com.", "A").to_wire())
    with gslbd.tcp_connect() as sock:
        sock.sendall(data[: len(data) // 2])
    resp = gslbd.ask("static.example.com.", "A", proto="tcp")
    assert rrs(resp.answer) == STATIC_A


def test_garbage_over_udp_then_query_on_same_socket(gslbd):
    host, port = gslbd.addr("udp")
    msg = raw_query("static.example.com.", "A", qid=0x5151)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        sock.sendto(b"\xde\xad\xbe\xef" * 3 + os.urandom(30), (host, port))
        sock.sendto(b"\x01", (host, port))
        sock.sendto(msg.to_wire(), (host, port))
        deadline = time.monotonic() + 3.0
        while True:
            assert time.monotonic() < deadline, "no answer to the query sent after garbage"
            reply, _ = sock.recvfrom(65535)
            if len(reply) >= 2 and struct.unpack("!H", reply[:2])[0] == 0x5151:
                break
    assert rrs(dns.message.from_wire(reply).answer) == STATIC_A


# -- IPv6 listener ------------------------------------------------------------------------------

def test_ipv6_udp_listener_answers(gslbd):
    resp = gslbd.ask("static.example.com.", "A", family=6)
    assert rrs(resp.answer) == STATIC_A


def test_ipv6_tcp_listener_answers(gslbd):
    resp = gslbd.ask("app.example.com.", "AAAA", proto="tcp", family=6)
    assert sorted(rd.address for rd in resp.answer[0]) == ["2001:db8:1::1", "2001:db8:1::2"]
