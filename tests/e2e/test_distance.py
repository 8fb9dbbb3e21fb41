"""The distance policy: sites sorted by great-circle distance from the client, the client being
the EDNS Client Subnet address (RFC 7871) when present, else the source address, located through
clients.networks (longest prefix wins); unknown clients get the round-robin order (contract,
"Answers")."""

import math
import struct
from collections import Counter

import dns.edns
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from conftest import DEFAULT_ZONE, FIVE, SITES, Gslbd, make_config, rrs, write_setup

MADRID = (40.4, -3.7)
SYDNEY = (-33.9, 151.2)
TOKYO = (35.7, 139.7)
BOSTON = (42.4, -71.1)
PARIS = (48.9, 2.4)

SERVICES = f"""\
services:
  near.example.com.:
    sites: [{", ".join(FIVE)}]
    policy: distance
    ttl: 30
    max_answers: 8
  nearest2.example.com.:
    sites: [{", ".join(FIVE)}]
    policy: distance
    ttl: 30
    max_answers: 2

clients:
  networks:
    - {{prefix: 198.51.100.0/24, location: {{lat: {MADRID[0]}, lon: {MADRID[1]}}}}}
    - {{prefix: 198.51.100.128/25, location: {{lat: {TOKYO[0]}, lon: {TOKYO[1]}}}}}
    - {{prefix: 203.0.113.0/24, location: {{lat: {SYDNEY[0]}, lon: {SYDNEY[1]}}}}}
    - {{prefix: 127.0.0.0/8, location: {{lat: {BOSTON[0]}, lon: {BOSTON[1]}}}}}
    - {{prefix: "2001:db8:ff::/48", location: {{lat: {PARIS[0]}, lon: {PARIS[1]}}}}}
"""


@pytest.fixture(scope="module")
def gslbd(tmp_path_factory):
    workdir = write_setup(tmp_path_factory.mktemp("distance"),
                          config=make_config(services=SERVICES), zone=DEFAULT_ZONE)
    srv = Gslbd(workdir).start()
    yield srv
    rc = srv.stop()
    assert rc == 0, f"gslbd exited with {rc} on SIGTERM; output:\n{srv.log_text()}"


def great_circle(a, b):
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * math.asin(math.sqrt(h))


def by_distance(client, family=4):
    """The sites' addresses sorted by distance from `client` (no two are equally far)."""
    order = sorted(FIVE, key=lambda s: great_circle(client, SITES[s][2:4]))
    return [SITES[s][0 if family == 4 else 1] for s in order]


def ask(gslbd, name, rdtype="A", ecs=None, family=4):
    msg = dns.message.make_query(name, rdtype)
    options = [dns.edns.ECSOption(*ecs)] if ecs else []
    msg.use_edns(edns=0, payload=1232, options=options)
    return gslbd.query(msg, family=family)


def addresses(resp):
    assert resp.rcode() == dns.rcode.NOERROR
    assert len(resp.answer) == 1, rrs(resp.answer)
    return [rd.address for rd in resp.answer[0]]


def test_ecs_client_gets_sites_nearest_first(gslbd):
    resp = ask(gslbd, "near.example.com.", ecs=("198.51.100.0", 24))
    assert addresses(resp) == by_distance(MADRID)
    assert [r.ttl for r in resp.answer] == [30]


def test_ecs_client_order_is_stable(gslbd):
    for _ in range(4):
        resp = ask(gslbd, "near.example.com.", ecs=("203.0.113.0", 24))
        assert addresses(resp) == by_distance(SYDNEY)


def test_longest_prefix_wins(gslbd):
    resp = ask(gslbd, "near.example.com.", ecs=("198.51.100.200", 32))
    assert addresses(resp) == by_distance(TOKYO)


def test_ipv6_ecs_client(gslbd):
    resp = ask(gslbd, "near.example.com.", ecs=("2001:db8:ff:1::", 56))
    assert addresses(resp) == by_distance(PARIS)


def test_aaaa_sorted_by_distance(gslbd):
    resp = ask(gslbd, "near.example.com.", "AAAA", ecs=("203.0.113.0", 24))
    assert addresses(resp) == by_distance(SYDNEY, family=6)


def test_max_answers_keeps_the_nearest(gslbd):
    resp = ask(gslbd, "nearest2.example.com.", ecs=("198.51.100.0", 24))
    assert addresses(resp) == by_distance(MADRID)[:2]


def test_source_address_used_without_ecs(gslbd):
    # The tests query from 127.0.0.1, which clients.networks places in Boston.
    resp = ask(gslbd, "near.example.com.")
    assert addresses(resp) == by_distance(BOSTON)


def test_ecs_takes_precedence_over_source_address(gslbd):
    resp = ask(gslbd, "near.example.com.", ecs=("203.0.113.0", 24))
    assert addresses(resp)[0] == SITES["sydney"][0]


def test_unknown_client_gets_round_robin(gslbd):
    # 192.0.2.0/24 is in no network (and there is no GeoIP database).
    rounds = 3
    answers = [addresses(ask(gslbd, "near.example.com.", ecs=("192.0.2.0", 24)))
               for _ in range(len(FIVE) * rounds)]
    assert Counter(a[0] for a in answers) == Counter({SITES[s][0]: rounds for s in FIVE})


def test_unknown_source_address_gets_round_robin(gslbd):
    # Over IPv6 the source is ::1, which no network covers.
    rounds = 2
    answers = [addresses(ask(gslbd, "near.example.com.", family=6))
               for _ in range(len(FIVE) * rounds)]
    assert Counter(a[0] for a in answers) == Counter({SITES[s][0]: rounds for s in FIVE})


def test_ecs_echoed_with_scope(gslbd):
    resp = ask(gslbd, "near.example.com.", ecs=("198.51.100.0", 24))
    ecs = [o for o in resp.options if o.otype == dns.edns.OptionType.ECS]
    assert len(ecs) == 1
    # RFC 7871 section 7.2.1: family, source prefix and address are those of the query.
    assert (ecs[0].family, ecs[0].address, ecs[0].srclen) == (1, "198.51.100.0", 24)
    assert 0 <= ecs[0].scopelen <= 32


def test_no_ecs_in_answer_without_ecs_in_query(gslbd):
    resp = ask(gslbd, "near.example.com.")
    assert all(o.otype != dns.edns.OptionType.ECS for o in resp.options)


def test_ecs_with_address_bits_beyond_prefix_is_formerr(gslbd):
    # RFC 7871 section 6: ADDRESS bits past SOURCE PREFIX-LENGTH must be zero, else FORMERR.
    # 198.51.100.0/20: the low four bits of 100 (0b0110_0100) lie past the prefix.
    bad = dns.edns.GenericOption(dns.edns.OptionType.ECS,
                                 struct.pack("!HBB", 1, 20, 0) + bytes([198, 51, 100]))
    msg = dns.message.make_query("near.example.com.", "A")
    msg.use_edns(edns=0, payload=1232, options=[bad])
    reply = gslbd.udp_raw(msg.to_wire())
    assert reply is not None
    assert struct.unpack("!H", reply[2:4])[0] & 0xF == dns.rcode.FORMERR


def test_static_names_unaffected_by_ecs(gslbd):
    resp = ask(gslbd, "static.example.com.", ecs=("198.51.100.0", 24))
    assert rrs(resp.answer) == ["static.example.com. 3600 IN A 127.0.0.80"]
