"""Answers for service names: which addresses, how many, which TTL and in which order (contract,
"Answers": round-robin and failover). Most sites have no checks, so they are up; the last tests
give some sites a tcp check against a closed loopback port, so those are down from the start."""

import socket
import threading
from collections import Counter

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from conftest import FIVE, SITES, V4ONLY, make_config, rrs

SOA = ("example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. "
       "2026120401 3600 900 1209600 300")


def addresses(resp, rdtype):
    """The addresses of the answer's single RRset of `rdtype`, in wire order."""
    sets = [r for r in resp.answer if r.rdtype == dns.rdatatype.from_text(rdtype)]
    assert len(sets) == 1, rrs(resp.answer)
    return [rd.address for rd in sets[0]]


def test_service_a_from_every_site(gslbd):
    resp = gslbd.ask("app.example.com.", "A")
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert rrs(resp.answer) == ["app.example.com. 30 IN A 127.0.1.1",
                                "app.example.com. 30 IN A 127.0.1.2"]


def test_service_aaaa_from_every_site(gslbd):
    resp = gslbd.ask("app.example.com.", "AAAA")
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert rrs(resp.answer) == ["app.example.com. 30 IN AAAA 2001:db8:1::1",
                                "app.example.com. 30 IN AAAA 2001:db8:1::2"]


def test_service_over_tcp(gslbd):
    resp = gslbd.ask("app.example.com.", "A", proto="tcp")
    assert sorted(addresses(resp, "A")) == ["127.0.1.1", "127.0.1.2"]


def test_service_ttl_is_the_service_ttl(gslbd):
    for name, ttl in (("app", 30), ("five", 45), ("capped", 20), ("primary", 60)):
        resp = gslbd.ask(f"{name}.example.com.", "A")
        assert [r.ttl for r in resp.answer] == [ttl], name


def test_service_with_five_sites_answers_five(gslbd):
    resp = gslbd.ask("five.example.com.", "A")
    assert sorted(addresses(resp, "A")) == sorted(SITES[s][0] for s in FIVE)


def test_site_without_ipv6_gives_no_aaaa(gslbd):
    resp = gslbd.ask("mixed.example.com.", "AAAA")
    assert rrs(resp.answer) == ["mixed.example.com. 30 IN AAAA 2001:db8:1::1"]
    resp = gslbd.ask("mixed.example.com.", "A")
    assert sorted(addresses(resp, "A")) == sorted([V4ONLY[1], SITES["madrid"][0]])


def test_max_answers_caps_the_answer(gslbd):
    for _ in range(5):
        resp = gslbd.ask("capped.example.com.", "A")
        got = addresses(resp, "A")
        assert len(got) == 2, got
        assert set(got) <= {SITES[s][0] for s in FIVE}


def test_max_answers_caps_aaaa_too(gslbd):
    resp = gslbd.ask("capped.example.com.", "AAAA")
    assert len(addresses(resp, "AAAA")) == 2


def collect(gslbd, name, rdtype, count, proto="udp"):
    return [addresses(gslbd.ask(name, rdtype, proto=proto), rdtype) for _ in range(count)]


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_round_robin_each_address_leads_equally_often(gslbd, proto):
    rounds = 4
    answers = collect(gslbd, "five.example.com.", "A", len(FIVE) * rounds, proto)
    leads = Counter(a[0] for a in answers)
    assert leads == Counter({SITES[s][0]: rounds for s in FIVE}), answers


def test_round_robin_shared_by_concurrent_clients(gslbd):
    # Clients on different source ports land on different workers (SO_REUSEPORT); the rotation
    # is one for the whole server, so over a whole number of rotations the leads stay equal.
    clients, per_client = 5, 20
    answers, errors = [], []
    lock = threading.Lock()

    def client():
        try:
            got = collect(gslbd, "five.example.com.", "A", per_client)
        except Exception as exc:  # reported below, in the test's thread
            errors.append(repr(exc))
            return
        with lock:
            answers.extend(got)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(answers) == clients * per_client
    rounds = clients * per_client // len(FIVE)
    assert Counter(a[0] for a in answers) == Counter({SITES[s][0]: rounds for s in FIVE})


def test_round_robin_capped_each_address_included_equally_often(gslbd):
    rounds = 4
    answers = collect(gslbd, "capped.example.com.", "A", len(FIVE) * rounds)
    leads = Counter(a[0] for a in answers)
    included = Counter(addr for a in answers for addr in a)
    assert leads == Counter({SITES[s][0]: rounds for s in FIVE}), answers
    assert included == Counter({SITES[s][0]: 2 * rounds for s in FIVE}), answers


def test_round_robin_answer_is_a_rotation_of_the_site_order(gslbd):
    # "successive answers rotate the up set by one place, then keep the first max_answers".
    order = [SITES[s][0] for s in FIVE]
    for got in collect(gslbd, "capped.example.com.", "A", len(FIVE)):
        start = order.index(got[0])
        assert got == [order[(start + i) % len(order)] for i in range(2)], got


def test_round_robin_successive_answers_differ_in_lead(gslbd):
    answers = collect(gslbd, "app.example.com.", "A", 4)
    leads = [a[0] for a in answers]
    assert Counter(leads) == Counter({"127.0.1.1": 2, "127.0.1.2": 2}), answers


def test_failover_answers_only_the_first_site(gslbd):
    for _ in range(4):
        resp = gslbd.ask("primary.example.com.", "A")
        assert rrs(resp.answer) == ["primary.example.com. 60 IN A 127.0.1.2"]


def test_failover_aaaa_answers_only_the_first_site(gslbd):
    resp = gslbd.ask("primary.example.com.", "AAAA")
    assert rrs(resp.answer) == ["primary.example.com. 60 IN AAAA 2001:db8:1::2"]


@pytest.mark.parametrize("rdtype", ["TXT", "MX", "NS", "SRV"])
def test_service_name_with_other_type_is_nodata(gslbd, rdtype):
    resp = gslbd.ask("app.example.com.", rdtype)
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert resp.answer == []
    assert rrs(resp.authority) == [SOA]


def test_name_below_service_is_nxdomain(gslbd):
    resp = gslbd.ask("x.app.example.com.", "A")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert rrs(resp.authority) == [SOA]


def test_service_name_case_is_kept(gslbd):
    resp = gslbd.ask("FiVe.Example.COM.", "A")
    assert resp.question[0].name.to_text() == "FiVe.Example.COM."
    assert len(addresses(resp, "A")) == 5


def closed_port():
    """A loopback TCP port with nothing listening on it (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def down_config():
    """Sites dead1/dead2 fail their tcp check from the first round on; madrid has no checks."""
    check = f'{{type: tcp, address: "127.0.0.1:{closed_port()}"}}'
    sites = f"""\
sites:
  madrid:
    addresses: [127.0.1.1, "2001:db8:1::1"]
  dead1:
    addresses: [127.0.3.1, "2001:db8:3::1"]
    checks: [{check}]
  dead2:
    addresses: [127.0.3.2, "2001:db8:3::2"]
    checks: [{check}]
"""
    services = """\
services:
  alldown-serve.example.com.:
    sites: [dead1, dead2]
    policy: round-robin
    ttl: 30
    when_all_down: serve-all
  alldown-fail.example.com.:
    sites: [dead1, dead2]
    policy: round-robin
    ttl: 30
    when_all_down: servfail
  alldown-failover.example.com.:
    sites: [dead2, dead1]
    policy: failover
    ttl: 30
    when_all_down: serve-all
  partial.example.com.:
    sites: [dead1, madrid, dead2]
    policy: round-robin
    ttl: 30
  partial-failover.example.com.:
    sites: [dead1, madrid]
    policy: failover
    ttl: 30
    when_all_down: servfail
"""
    return make_config(sites=sites, services=services)


@pytest.fixture
def down_server(start_gslbd):
    # The first round of checks runs before the first answer, so no waiting is needed.
    return start_gslbd(config=down_config())


def test_down_site_is_left_out(down_server):
    resp = down_server.ask("partial.example.com.", "A")
    assert rrs(resp.answer) == ["partial.example.com. 30 IN A 127.0.1.1"]
    resp = down_server.ask("partial.example.com.", "AAAA")
    assert rrs(resp.answer) == ["partial.example.com. 30 IN AAAA 2001:db8:1::1"]


def test_failover_skips_down_first_site(down_server):
    resp = down_server.ask("partial-failover.example.com.", "A")
    assert rrs(resp.answer) == ["partial-failover.example.com. 30 IN A 127.0.1.1"]


def test_when_all_down_serve_all(down_server):
    resp = down_server.ask("alldown-serve.example.com.", "A")
    assert resp.rcode() == dns.rcode.NOERROR
    assert rrs(resp.answer) == ["alldown-serve.example.com. 30 IN A 127.0.3.1",
                                "alldown-serve.example.com. 30 IN A 127.0.3.2"]


def test_when_all_down_serve_all_with_failover_gives_first_site(down_server):
    resp = down_server.ask("alldown-failover.example.com.", "AAAA")
    assert rrs(resp.answer) == ["alldown-failover.example.com. 30 IN AAAA 2001:db8:3::2"]


def test_when_all_down_servfail(down_server):
    for proto in ("udp", "tcp"):
        resp = down_server.ask("alldown-fail.example.com.", "A", proto=proto)
        assert resp.rcode() == dns.rcode.SERVFAIL
        assert resp.answer == []
