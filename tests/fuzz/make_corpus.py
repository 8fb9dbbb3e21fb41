#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into tests/fuzz/corpus/<target>/.

Queries are built with dnspython, as resolvers and dig would send them; CSV and YAML seeds are
the project's own fixtures. Run from anywhere: python3 tests/fuzz/make_corpus.py
"""

import pathlib
import struct

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rdataclass
import dns.rdatatype

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def query(name, rdtype="A", rdclass="IN", edns=0, payload=1232, options=(), want_dnssec=False,
          qid=0x1234):
    msg = dns.message.make_query(name, rdtype, rdclass, use_edns=edns, payload=payload,
                                 options=list(options), want_dnssec=want_dnssec)
    msg.id = qid
    return msg.to_wire()


def ecs(address, prefix):
    return dns.edns.ECSOption(address, prefix)


def query_seeds():
    nsid = dns.edns.GenericOption(dns.edns.NSID, b"")
    seeds = {
        "a-service": query("app.example.com.", "A"),
        "aaaa-service": query("app.example.com.", "AAAA"),
        "any-apex": query("example.com.", "ANY"),
        "mx-apex": query("example.com.", "MX"),
        "soa-apex": query("example.com.", "SOA"),
        "a-no-edns": query("app.example.com.", "A", edns=False),
        "a-small-edns": query("app.example.com.", "A", payload=512),
        "a-dnssec-ok": query("app.example.com.", "A", want_dnssec=True),
        "a-mixed-case": query("ApP.ExAmPle.CoM.", "A"),
        "nsid": query("app.example.com.", "A", options=[nsid]),
        "ecs-v4": query("near.example.com.", "A", options=[ecs("198.51.100.0", 24)], qid=0x0004),
        "ecs-v6": query("near.example.com.", "AAAA", options=[ecs("2001:db8:1::", 56)]),
        "ecs-v4-zero": query("near.example.com.", "A", options=[ecs("0.0.0.0", 0)]),
        "ecs-and-nsid": query("near.example.com.", "A", options=[ecs("192.0.2.0", 25), nsid]),
        "distance-no-ecs": query("near.example.com.", "A", qid=0x0003),
        "failover": query("primary.example.com.", "A", qid=0x0007),
        "cname-to-service": query("www.example.com.", "A"),
        "cname-loop": query("loop1.example.com.", "A"),
        "wildcard": query("alice.user.example.com.", "TXT"),
        "wildcard-cname": query("x.svc.example.com.", "AAAA"),
        "empty-non-terminal": query("b.ent.example.com.", "A"),
        "delegation": query("www.lab.example.com.", "A"),
        "nxdomain": query("missing.example.com.", "A"),
        "nodata": query("static.example.com.", "AAAA"),
        "refused-outside": query("example.org.", "A"),
        "big-txt-udp": query("big.example.com.", "TXT", edns=False),
        "srv": query("_dns._udp.example.com.", "SRV"),
        "chaos-id-server": query("id.server.", "TXT", "CH"),
        "chaos-hostname-bind": query("hostname.bind.", "TXT", "CH", edns=False),
        "axfr": query("example.com.", "AXFR", edns=False),
        "edns-version-1": query("app.example.com.", "A", edns=1),
        "root": query(".", "NS"),
    }
    notify = dns.message.make_query("example.com.", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    notify.id = 0x2222
    seeds["opcode-notify"] = notify.to_wire()
    seeds["header-only"] = struct.pack("!HHHHHH", 0x1234, 0x0100, 0, 0, 0, 0)
    seeds["truncated-question"] = query("app.example.com.", "A")[:20]
    response = dns.message.make_response(dns.message.from_wire(query("example.com.", "A")))
    seeds["a-response"] = response.to_wire()
    for name, data in seeds.items():
        write("fuzz_query", name, data)


def edns_seeds():
    # Mode 0 (even first byte): CLASS (2), TTL (4), then the OPT RDATA.
    # Mode 1 (odd first byte): the body of one ECS option.
    def option(code, body):
        return struct.pack("!HH", code, len(body)) + body

    def raw(payload, ttl, rdata):
        return b"\x00" + struct.pack("!HI", payload, ttl) + rdata

    def ecs_body(family, source, scope, address):
        return b"\x01" + struct.pack("!HBB", family, source, scope) + address

    seeds = {
        "no-options": raw(1232, 0, b""),
        "nsid": raw(1232, 0, option(3, b"")),
        "do-bit": raw(4096, 0x8000, b""),
        "version-1": raw(1232, 0x00010000, b""),
        "cookie": raw(1232, 0, option(10, bytes(range(8)))),
        "padding": raw(1232, 0, option(12, bytes(32))),
        "ecs-in-opt": raw(1232, 0,
                          option(8, struct.pack("!HBB", 1, 24, 0) + bytes([198, 51, 100]))),
        "nsid-ecs-cookie": raw(1232, 0, option(3, b"") +
                               option(8, struct.pack("!HBB", 2, 48, 0) + bytes(6)) +
                               option(10, bytes(8))),
        "option-overrun": raw(1232, 0, struct.pack("!HH", 8, 40) + bytes(4)),
        "ecs-v4-24": ecs_body(1, 24, 0, bytes([198, 51, 100])),
        "ecs-v4-32": ecs_body(1, 32, 0, bytes([192, 0, 2, 1])),
        "ecs-v4-0": ecs_body(1, 0, 0, b""),
        "ecs-v4-25": ecs_body(1, 25, 0, bytes([192, 0, 2, 0x80])),
        "ecs-v6-56": ecs_body(2, 56, 0, bytes([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0])),
        "ecs-v6-128": ecs_body(2, 128, 0, bytes(16)),
        "ecs-scope-set": ecs_body(1, 24, 24, bytes([198, 51, 100])),
        "ecs-bad-family": ecs_body(3, 8, 0, bytes([1])),
    }
    for name, data in seeds.items():
        write("fuzz_edns", name, data)


def csv_seeds():
    for path in sorted((ROOT / "tests/data/haproxy").glob("*.csv")):
        write("fuzz_haproxy_csv", path.stem, b"\x01" + path.read_bytes())
    write("fuzz_haproxy_csv", "header-only", b"\x00# pxname,svname,status\n")
    write("fuzz_haproxy_csv", "quoted",
          b"\x02# pxname,svname,status\nweb,\"a,b\",\"UP 1/3\"\nweb,\"s\"\"2\",DOWN\n")


def config_seeds():
    write("fuzz_config", "example.yaml", (ROOT / "config/example.yaml").read_bytes())
    write("fuzz_config", "example.com.zone", (ROOT / "config/example.com.zone").read_bytes())


if __name__ == "__main__":
    query_seeds()
    edns_seeds()
    csv_seeds()
    config_seeds()
