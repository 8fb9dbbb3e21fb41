"""End-to-end distance policy with a MaxMind database, ECS scopes and kdig's +subnet.

The database is written by the test itself with Debian's libmaxmind-db-writer-perl and holds
documentation networks only.
"""

import subprocess
import textwrap

import dns.edns
import dns.message
import dns.rcode
import pytest

from conftest import DEFAULT_ZONE

MADRID, BOSTON, TOKYO = "192.0.2.10", "192.0.2.20", "192.0.2.30"

WRITER = r"""
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my %types = (location => 'map', latitude => 'double', longitude => 'double');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 24, database_type => 'GSLBD-Test-City',
    languages => ['en'], description => { en => 'gslbd end-to-end test' },
    map_key_type_callback => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
# A client network near Madrid, and an IPv6 one near Boston.
$tree->insert_network('192.0.2.0/25', { location => { latitude => 40.0, longitude => -3.0 } });
$tree->insert_network('2001:db8:aa::/48',
                      { location => { latitude => 42.0, longitude => -71.0 } });
open my $fh, '>:raw', $ARGV[0] or die "cannot write $ARGV[0]: $!";
$tree->write_tree($fh);
close $fh;
"""


def config(geoip):
    return textwrap.dedent(f"""\
        server:
          listen: ["127.0.0.1:0", "[::1]:0"]
          workers: 2
          identity: distance-e2e
        zone:
          origin: example.com.
          file: example.com.zone
        sites:
          madrid: {{addresses: [{MADRID}], location: {{lat: 40.42, lon: -3.70}}}}
          boston: {{addresses: [{BOSTON}], location: {{lat: 42.36, lon: -71.06}}}}
          tokyo:  {{addresses: [{TOKYO}], location: {{lat: 35.68, lon: 139.69}}}}
        services:
          near.example.com.: {{sites: [madrid, boston, tokyo], policy: distance, ttl: 10}}
          rr.example.com.: {{sites: [madrid, boston, tokyo]}}
        clients:
          geoip_db: {geoip}
          networks:
            - {{prefix: 198.51.100.0/24, location: {{lat: 48.86, lon: 2.35}}}}
            - {{prefix: 203.0.113.0/24, location: {{lat: 37.77, lon: -122.42}}}}
            - {{prefix: 127.0.0.0/8, location: {{lat: 35.0, lon: 135.0}}}}
        """)


@pytest.fixture
def server(start_gslbd, tmp_path):
    db = tmp_path / "test-city.mmdb"
    subprocess.run(["perl", "-e", WRITER, str(db)], check=True, capture_output=True, timeout=60)
    return start_gslbd(config=config(db), zone=DEFAULT_ZONE)


def ask(srv, name, subnet=None, prefix=24, rdtype="A"):
    """Returns (addresses in answer order, ECS option of the reply or None)."""
    options = [dns.edns.ECSOption(subnet, prefix)] if subnet else []
    msg = dns.message.make_query(name, rdtype, use_edns=0, options=options)
    reply = srv.query(msg)
    assert reply.rcode() == dns.rcode.NOERROR
    addresses = [rd.address for rrset in reply.answer for rd in rrset]
    ecs = [o for o in reply.options if o.otype == dns.edns.ECS]
    return addresses, (ecs[0] if ecs else None)


def test_two_client_networks_get_two_orders(server):
    paris, ecs = ask(server, "near.example.com.", "198.51.100.0")
    assert paris == [MADRID, BOSTON, TOKYO]
    assert ecs is not None and ecs.srclen == 24 and ecs.scopelen == 24
    sf, ecs = ask(server, "near.example.com.", "203.0.113.0")
    assert sf == [BOSTON, TOKYO, MADRID]
    assert ecs.scopelen == 24


def test_source_address_decides_without_client_subnet(server):
    # The test talks from 127.0.0.1, which clients.networks places in Japan.
    addresses, ecs = ask(server, "near.example.com.")
    assert addresses == [TOKYO, BOSTON, MADRID] or addresses[0] == TOKYO
    assert ecs is None


def test_geoip_database_places_clients_not_in_networks(server):
    v4, ecs = ask(server, "near.example.com.", "192.0.2.0")
    assert v4[0] == MADRID
    assert ecs.scopelen == 25  # the database's network length
    v6, ecs = ask(server, "near.example.com.", "2001:db8:aa::", prefix=56)
    assert v6[0] == BOSTON
    assert ecs.scopelen == 48


def test_unknown_client_gets_round_robin(server):
    leads = {ask(server, "near.example.com.", "198.18.0.0")[0][0] for _ in range(3)}
    assert leads == {MADRID, BOSTON, TOKYO}


def test_scope_is_zero_when_answer_does_not_depend_on_client(server):
    _, ecs = ask(server, "rr.example.com.", "198.51.100.0")
    assert ecs.scopelen == 0
    _, ecs = ask(server, "mail.example.com.", "198.51.100.0")
    assert ecs.scopelen == 0


def test_source_prefix_zero_is_honoured(server):
    leads = {ask(server, "near.example.com.", "0.0.0.0", prefix=0)[0][0] for _ in range(3)}
    assert leads == {MADRID, BOSTON, TOKYO}


def test_malformed_client_subnet_gets_formerr(server):
    # Family 1 with a 33-bit prefix (RFC 7871 section 6).
    bad = dns.edns.GenericOption(dns.edns.ECS, bytes([0, 1, 33, 0, 198, 51, 100, 0, 1]))
    msg = dns.message.make_query("near.example.com.", "A", use_edns=0, options=[bad])
    assert server.query(msg).rcode() == dns.rcode.FORMERR


def test_kdig_subnet_shows_order_and_scope(server):
    rc, out = server.dig("+subnet=198.51.100.0/24", "+short", "near.example.com", tool="kdig")
    assert rc == 0, out
    assert out.split()[:3] == [MADRID, BOSTON, TOKYO], out
