"""Answers from the static zone: authority, negative answers, CNAME, wildcards, delegation,
refusals and malformed queries (contract, "Answers")."""

import struct
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from conftest import rrs

SOA = ("example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. "
       "2026120401 3600 900 1209600 300")


def aa(resp):
    return bool(resp.flags & dns.flags.AA)


def assert_nodata(resp):
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert resp.answer == []
    # RFC 2308 section 5: the SOA's TTL in a negative answer is min(SOA TTL, SOA minimum).
    assert rrs(resp.authority) == [SOA]


# -- authority and static data ------------------------------------------------------------------

def test_apex_soa_is_authoritative(gslbd):
    resp = gslbd.ask("example.com.", "SOA")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert rrs(resp.answer) == [
        "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
        "2026120401 3600 900 1209600 300"]


def test_apex_ns(gslbd):
    resp = gslbd.ask("example.com.", "NS")
    assert aa(resp)
    assert rrs(resp.answer) == ["example.com. 3600 IN NS ns1.example.com.",
                                "example.com. 3600 IN NS ns2.example.com."]


def test_static_a(gslbd):
    resp = gslbd.ask("static.example.com.", "A")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert rrs(resp.answer) == ["static.example.com. 3600 IN A 127.0.0.80"]


def test_static_aaaa(gslbd):
    resp = gslbd.ask("ns1.example.com.", "AAAA")
    assert aa(resp)
    assert rrs(resp.answer) == ["ns1.example.com. 3600 IN AAAA 2001:db8::53"]


def test_static_mx(gslbd):
    resp = gslbd.ask("example.com.", "MX")
    assert aa(resp)
    assert rrs(resp.answer) == ["example.com. 3600 IN MX 10 mail.example.com."]


def test_static_mx_with_dig(gslbd):
    status, out = gslbd.dig("example.com.", "MX", "+short")
    assert status == 0, out
    assert out.strip() == "10 mail.example.com."


def test_static_txt(gslbd):
    resp = gslbd.ask("example.com.", "TXT")
    assert aa(resp)
    assert rrs(resp.answer) == ['example.com. 3600 IN TXT "v=spf1 mx -all"']


def test_static_srv(gslbd):
    resp = gslbd.ask("_dns._udp.svc.example.com.", "SRV")
    assert aa(resp)
    assert rrs(resp.answer) == ["_dns._udp.svc.example.com. 3600 IN SRV 0 0 53 ns1.example.com."]


def test_static_srv_with_drill(gslbd):
    status, out = gslbd.dig("_dns._udp.svc.example.com.", "SRV", tool="drill")
    assert status == 0, out
    answer = out.split(";; ANSWER SECTION:")[1].split(";;")[0]
    assert [" ".join(line.split()) for line in answer.strip().splitlines()] == [
        "_dns._udp.svc.example.com. 3600 IN SRV 0 0 53 ns1.example.com."]


# -- negative answers ---------------------------------------------------------------------------

def test_missing_name_is_nxdomain_with_soa(gslbd):
    resp = gslbd.ask("nope.example.com.", "A")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert aa(resp)
    assert resp.answer == []
    assert rrs(resp.authority) == [SOA]


def test_missing_name_below_existing_name_is_nxdomain(gslbd):
    resp = gslbd.ask("deep.static.example.com.", "A")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert rrs(resp.authority) == [SOA]


def test_nxdomain_with_dig(gslbd):
    status, out = gslbd.dig("nope.example.com.", "A", "+noall", "+comments", "+authority")
    assert status == 0, out
    assert "status: NXDOMAIN" in out
    assert " aa" in out.split("flags:")[1].split(";")[0]


def test_negative_answers_over_tcp(gslbd):
    resp = gslbd.ask("nope.example.com.", "A", proto="tcp")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert rrs(resp.authority) == [SOA]
    assert_nodata(gslbd.ask("mail.example.com.", "MX", proto="tcp"))


def test_name_without_type_is_nodata(gslbd):
    assert_nodata(gslbd.ask("mail.example.com.", "MX"))


def test_apex_without_type_is_nodata(gslbd):
    assert_nodata(gslbd.ask("example.com.", "AAAA"))


# -- CNAME --------------------------------------------------------------------------------------

def test_cname_to_service_is_followed(gslbd):
    resp = gslbd.ask("www.example.com.", "A")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert rrs(resp.answer) == ["app.example.com. 30 IN A 127.0.1.1",
                                "app.example.com. 30 IN A 127.0.1.2",
                                "www.example.com. 3600 IN CNAME app.example.com."]
    # The CNAME comes first, then the records of its target (RFC 1034 section 4.3.2).
    assert resp.answer[0].rdtype == dns.rdatatype.CNAME


def test_cname_to_service_aaaa_is_followed(gslbd):
    resp = gslbd.ask("www.example.com.", "AAAA")
    assert rrs(resp.answer) == ["app.example.com. 30 IN AAAA 2001:db8:1::1",
                                "app.example.com. 30 IN AAAA 2001:db8:1::2",
                                "www.example.com. 3600 IN CNAME app.example.com."]


def test_cname_to_static_is_followed(gslbd):
    resp = gslbd.ask("docs.example.com.", "A")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert rrs(resp.answer) == ["docs.example.com. 3600 IN CNAME static.example.com.",
                                "static.example.com. 3600 IN A 127.0.0.80"]
    assert resp.answer[0].rdtype == dns.rdatatype.CNAME


def test_cname_queried_directly_is_not_followed(gslbd):
    resp = gslbd.ask("docs.example.com.", "CNAME")
    assert rrs(resp.answer) == ["docs.example.com. 3600 IN CNAME static.example.com."]


def test_cname_to_missing_name_is_nxdomain_with_cname(gslbd):
    resp = gslbd.ask("dangling.example.com.", "A")
    # RFC 6604: the rcode is that of the last name in the chain.
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert aa(resp)
    assert rrs(resp.answer) == ["dangling.example.com. 3600 IN CNAME missing.example.com."]
    assert rrs(resp.authority) == [SOA]


def test_cname_target_without_type_is_nodata_with_cname(gslbd):
    resp = gslbd.ask("docs.example.com.", "MX")
    assert resp.rcode() == dns.rcode.NOERROR
    assert rrs(resp.answer) == ["docs.example.com. 3600 IN CNAME static.example.com."]
    assert rrs(resp.authority) == [SOA]


# -- wildcards and empty non-terminals ----------------------------------------------------------

def test_wildcard_matches_with_qname_as_owner(gslbd):
    resp = gslbd.ask("a.user.example.com.", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert rrs(resp.answer) == ['a.user.example.com. 3600 IN TXT "per-user wildcard"']


def test_wildcard_matches_several_labels(gslbd):
    resp = gslbd.ask("b.c.user.example.com.", "TXT")
    assert rrs(resp.answer) == ['b.c.user.example.com. 3600 IN TXT "per-user wildcard"']


def test_wildcard_without_type_is_nodata(gslbd):
    assert_nodata(gslbd.ask("a.user.example.com.", "A"))


def test_wildcard_parent_is_empty_non_terminal(gslbd):
    # RFC 4592 section 2.2.2: the wildcard does not match its own parent, which exists.
    assert_nodata(gslbd.ask("user.example.com.", "TXT"))


def test_wildcard_does_not_match_outside_its_parent(gslbd):
    resp = gslbd.ask("a.other.example.com.", "TXT")
    assert resp.rcode() == dns.rcode.NXDOMAIN


def test_empty_non_terminal_is_nodata(gslbd):
    assert_nodata(gslbd.ask("svc.example.com.", "A"))


def test_deeper_empty_non_terminal_is_nodata(gslbd):
    assert_nodata(gslbd.ask("_udp.svc.example.com.", "SRV"))


# -- delegation ---------------------------------------------------------------------------------

def assert_referral(resp):
    assert resp.rcode() == dns.rcode.NOERROR
    assert not aa(resp)
    assert resp.answer == []
    assert rrs(resp.authority) == ["lab.example.com. 3600 IN NS ns.lab.example.com."]
    assert rrs(resp.additional) == ["ns.lab.example.com. 3600 IN A 127.0.0.99"]


def test_delegation_point_gets_referral(gslbd):
    assert_referral(gslbd.ask("lab.example.com.", "A"))


def test_name_below_delegation_gets_referral(gslbd):
    assert_referral(gslbd.ask("host.deep.lab.example.com.", "AAAA"))


def test_glue_name_gets_referral(gslbd):
    # Glue is not authoritative data: a query for it is referred like any other name below.
    assert_referral(gslbd.ask("ns.lab.example.com.", "A"))


def test_ns_at_delegation_point_gets_referral(gslbd):
    assert_referral(gslbd.ask("lab.example.com.", "NS"))


def test_ds_at_delegation_point_answered_by_parent(gslbd):
    # RFC 4035 section 3.1.4.1: DS lives on the parent side of the cut; we have none, so NODATA.
    assert_nodata(gslbd.ask("lab.example.com.", "DS"))


# -- refusals and errors ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["example.org.", "com.", ".", "example.com.evil."])
def test_name_outside_zone_is_refused(gslbd, name):
    resp = gslbd.ask(name, "A")
    assert resp.rcode() == dns.rcode.REFUSED
    assert not aa(resp)
    assert resp.answer == []


@pytest.mark.parametrize("opcode", [dns.opcode.STATUS, dns.opcode.NOTIFY, dns.opcode.UPDATE])
def test_other_opcode_is_notimp(gslbd, opcode):
    msg = dns.message.make_query("example.com.", "SOA")
    msg.set_opcode(opcode)
    msg.flags &= ~dns.flags.RD
    reply = gslbd.udp_raw(msg.to_wire())
    assert reply is not None, "no answer to an opcode the server does not implement"
    (qid, flags) = struct.unpack("!HH", reply[:4])
    assert qid == msg.id
    assert flags & 0x8000, "QR not set"
    assert (flags >> 11) & 0xF == opcode, "opcode not echoed"
    assert flags & 0xF == dns.rcode.NOTIMP


def header(qid, qd=1, an=0, ns=0, ar=0, flags=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def wire_name(text):
    return dns.name.from_text(text).to_wire()


QUESTION_A = wire_name("static.example.com.") + struct.pack("!HH", 1, 1)

MALFORMED = {
    "two_questions": header(0x1111, qd=2) + QUESTION_A + QUESTION_A,
    "no_question": header(0x2222, qd=0),
    "compression_pointer_in_question": header(0x3333) + b"\x03www\xc0\x0c" + b"\x00\x01\x00\x01",
    "truncated_question": header(0x4444) + wire_name("static.example.com.") + b"\x00",
    "truncated_name": header(0x5555) + b"\x06static\x07exam",
    "label_longer_than_63": header(0x6666) + bytes([64]) + b"x" * 64
    + wire_name("example.com.") + struct.pack("!HH", 1, 1),
    "answer_count_without_answer": header(0x7777, an=1) + QUESTION_A,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_query_gets_formerr(gslbd, case):
    data = MALFORMED[case]
    reply = gslbd.udp_raw(data)
    assert reply is not None, f"no answer to malformed query {case}: {data.hex()}"
    assert len(reply) >= 12
    (qid, flags) = struct.unpack("!HH", reply[:4])
    assert qid == struct.unpack("!H", data[:2])[0]
    assert flags & 0x8000, "QR not set"
    assert flags & 0xF == dns.rcode.FORMERR, f"rcode {flags & 0xF} for {case}"
    # The server keeps answering after it.
    assert rrs(gslbd.ask("static.example.com.", "A").answer) == [
        "static.example.com. 3600 IN A 127.0.0.80"]


@pytest.mark.parametrize("size", [0, 1, 5, 11])
def test_packet_shorter_than_header_gets_no_answer(gslbd, size):
    data = bytes(range(0x40, 0x40 + size))
    assert gslbd.udp_raw(data, timeout=1.0) is None
    assert gslbd.running()
    assert gslbd.ask("static.example.com.", "A").rcode() == dns.rcode.NOERROR


def test_response_packet_is_not_answered(gslbd):
    # A message with QR=1 is an answer, not a query; answering it could start a loop.
    msg = dns.message.make_query("static.example.com.", "A")
    msg.flags |= dns.flags.QR
    assert gslbd.udp_raw(msg.to_wire(), timeout=1.0) is None
    assert gslbd.running()


# -- ANY (RFC 8482) -----------------------------------------------------------------------------

def test_any_gets_minimal_answer(gslbd):
    resp = gslbd.ask("example.com.", "ANY")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    # The apex holds SOA, NS, MX and TXT; a minimal answer gives one RRset (or a HINFO).
    assert len(resp.answer) == 1, rrs(resp.answer)
    assert resp.answer[0].rdtype in (dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.MX,
                                     dns.rdatatype.TXT, dns.rdatatype.HINFO)
    assert len(resp.to_wire()) < 300


def test_any_on_missing_name_is_nxdomain(gslbd):
    resp = gslbd.ask("nope.example.com.", "ANY")
    assert resp.rcode() == dns.rcode.NXDOMAIN


# -- question case (RFC 4343) -------------------------------------------------------------------

def test_question_case_is_kept(gslbd):
    resp = gslbd.ask("ApP.ExAmPlE.cOm.", "A")
    assert resp.rcode() == dns.rcode.NOERROR
    assert aa(resp)
    assert resp.question[0].name.to_text() == "ApP.ExAmPlE.cOm."


def test_question_bytes_are_echoed_exactly(gslbd):
    msg = dns.message.make_query("StAtIc.ExAmPlE.CoM.", "A")
    wire = msg.to_wire()
    reply = gslbd.udp_raw(wire)
    assert reply is not None
    question = wire[12:]
    assert reply[12:12 + len(question)] == question


def test_answer_owner_keeps_question_case(gslbd):
    resp = gslbd.ask("StAtIc.ExAmPlE.CoM.", "A")
    assert [r.name.to_text() for r in resp.answer] == ["StAtIc.ExAmPlE.CoM."]


def test_question_case_is_kept_in_dig(gslbd):
    status, out = gslbd.dig("ApP.ExAmPlE.cOm.", "A", "+noall", "+question", "+answer")
    assert status == 0, out
    assert ";ApP.ExAmPlE.cOm." in out


def test_server_survived_the_module(gslbd):
    time.sleep(0.1)
    assert gslbd.running()
