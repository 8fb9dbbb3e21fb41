"""End-to-end health checks: real HAProxy and nginx sites on loopback, probed by the real gslbd.

Sites (tests/sites/sites.py) live on 127.0.2.x: alpha and beta have HAProxy in front of two
nginx web servers; gamma's stats page is behind basic auth. Checks run every INTERVAL, so every
wait below is a bound derived from the configured interval, timeout, rise and fall, plus the
time HAProxy itself needs to see a web server go (its checks run every 300 ms, fall 2).
"""

import socket
import sys
import threading
import time
from pathlib import Path

import dns.rcode
import pytest

from conftest import SOURCE_DIR

sys.path.insert(0, str(SOURCE_DIR / "tests" / "sites"))
import sites as site_tools  # noqa: E402

INTERVAL = 0.3
TIMEOUT = 0.2
RISE = 2
FALL = 2
# HAProxy marks a web server DOWN after fall (2) x inter (300 ms), plus one interval of phase.
HAPROXY_DETECT = 3 * site_tools.BACKEND_CHECK_INTER_MS / 1000.0
SLACK = 2.0
LEAVE_BOUND = HAPROXY_DETECT + FALL * INTERVAL + TIMEOUT + SLACK
RETURN_BOUND = HAPROXY_DETECT + RISE * INTERVAL + TIMEOUT + SLACK

ALPHA = "127.0.2.1"
BETA = "127.0.2.2"
GAMMA = "127.0.2.3"
SILENT = "127.0.2.4"  # a TCP listener that accepts and never answers


def site_yaml(name, address, v6, checks):
    lines = [f"  {name}:", f'    addresses: [{address}, "{v6}"]', "    checks:"]
    lines += [f"      - {c}" for c in checks]
    return "\n".join(lines)


def standard_checks(address):
    return [
        f'{{type: haproxy, url: "http://{address}:8404/stats;csv", backend: web, min_up: 1}}',
        f'{{type: http, url: "http://{address}:8080/healthz", expect_status: 200}}',
        f'{{type: tcp, address: "{address}:8080"}}',
    ]


def health_config(extra_sites="", services=None):
    sites = "\n".join([
        "sites:",
        site_yaml("alpha", ALPHA, "2001:db8:2::1", standard_checks(ALPHA)),
        site_yaml("beta", BETA, "2001:db8:2::2", standard_checks(BETA)),
        extra_sites,
    ])
    services = services or """\
services:
  app.example.com.:
    sites: [alpha, beta]
    ttl: 5
  open.example.com.:
    sites: [alpha, beta]
    when_all_down: serve-all
  strict.example.com.:
    sites: [alpha, beta]
    when_all_down: servfail
"""
    return f"""\
server:
  listen: ["127.0.0.1:0", "[::1]:0"]
  workers: 2
  identity: health-e2e
zone:
  origin: example.com.
  file: example.com.zone
health:
  interval: {int(INTERVAL * 1000)}ms
  timeout: {int(TIMEOUT * 1000)}ms
  rise: {RISE}
  fall: {FALL}
{sites}
{services}"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("sites")
    s = site_tools.Sites(run_dir)
    s.start({"alpha": ALPHA, "beta": BETA, "gamma": GAMMA},
            stats_auth={"gamma": "monitor:s3cret"})
    yield s
    s.stop()


@pytest.fixture
def healthy(sites):
    """Every site fully up before and after the test."""
    def restore():
        for site in ("alpha", "beta", "gamma"):
            sites.start_backend(site, 1)
            sites.start_backend(site, 2)
            sites.start_haproxy(site)
    restore()
    yield sites
    restore()


def addresses(srv, name="app.example.com."):
    reply = srv.ask(name, "A")
    return reply.rcode(), sorted(rd.address for rrset in reply.answer for rd in rrset)


def wait_until(predicate, bound, step=0.1):
    """Polls until predicate() is true; returns the seconds it took, or None after bound."""
    start = time.monotonic()
    while time.monotonic() - start < bound:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    return None


def test_first_round_counts_before_answering(healthy, start_gslbd):
    srv = start_gslbd(config=health_config())
    assert srv.wait_for_line(r"server: answering alpha=up beta=up"), srv.log_text()
    assert addresses(srv)[1] == [ALPHA, BETA]


def test_one_backend_down_keeps_site_with_min_up_one(healthy, start_gslbd):
    srv = start_gslbd(config=health_config())
    healthy.stop_backend("alpha", 1)
    # Over the whole time the site would need to leave, every answer still holds alpha.
    deadline = time.monotonic() + LEAVE_BOUND
    while time.monotonic() < deadline:
        assert ALPHA in addresses(srv)[1]
        time.sleep(0.1)
    line = srv.wait_for_line(r"check=alpha/0:haproxy", timeout=0.1)
    assert line is None or "new=down" not in line, srv.log_text()


def test_both_backends_down_site_leaves_then_returns(healthy, start_gslbd):
    srv = start_gslbd(config=health_config())
    mark = srv.line_count()
    healthy.stop_backend("alpha", 1)
    healthy.stop_backend("alpha", 2)
    took = wait_until(lambda: addresses(srv)[1] == [BETA], LEAVE_BOUND)
    assert took is not None, f"alpha still answered after {LEAVE_BOUND:.1f}s:\n{srv.log_text()}"
    assert srv.wait_for_line(r"health: site down site=alpha", start=mark), srv.log_text()
    assert srv.wait_for_line(r"check down \(backend web has 0/2 servers up\).*check=alpha/0:haproxy",
                             start=mark), srv.log_text()

    healthy.start_backend("alpha", 1)
    took = wait_until(lambda: addresses(srv)[1] == [ALPHA, BETA], RETURN_BOUND)
    assert took is not None, f"alpha not back after {RETURN_BOUND:.1f}s:\n{srv.log_text()}"
    assert srv.wait_for_line(r"health: site up site=alpha", start=mark), srv.log_text()


def test_killed_haproxy_fails_http_and_tcp_checks(healthy, start_gslbd):
    srv = start_gslbd(config=health_config())
    mark = srv.line_count()
    healthy.stop_haproxy("beta")
    took = wait_until(lambda: addresses(srv)[1] == [ALPHA], FALL * INTERVAL + TIMEOUT + SLACK)
    assert took is not None, srv.log_text()
    for check in ("beta/1:http", "beta/2:tcp"):
        assert srv.wait_for_line(rf"check down .*check={check}", start=mark), srv.log_text()
    healthy.start_haproxy("beta")
    assert wait_until(lambda: addresses(srv)[1] == [ALPHA, BETA], RETURN_BOUND) is not None


def test_all_sites_down_serve_all_and_servfail(healthy, start_gslbd):
    srv = start_gslbd(config=health_config())
    healthy.stop_haproxy("alpha")
    healthy.stop_haproxy("beta")
    bound = FALL * INTERVAL + TIMEOUT + SLACK
    assert wait_until(lambda: addresses(srv, "strict.example.com.")[0] == dns.rcode.SERVFAIL,
                      bound) is not None, srv.log_text()
    # serve-all: every site's address, as if all were up.
    assert addresses(srv, "open.example.com.") == (dns.rcode.NOERROR, [ALPHA, BETA])
    assert addresses(srv, "app.example.com.") == (dns.rcode.NOERROR, [ALPHA, BETA])


class SilentServer:
    """Accepts TCP connections and never sends a byte, until closed."""

    def __init__(self, address, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(64)
        self.held = []
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    def close(self):
        self.stop = True
        for c in self.held:
            c.close()
        self.sock.close()


def test_unanswering_target_times_out_without_stalling_others(healthy, start_gslbd):
    silent = SilentServer(SILENT, 8080)
    try:
        extra = site_yaml("mute", SILENT, "2001:db8:2::4",
                          [f'{{type: http, url: "http://{SILENT}:8080/healthz"}}'])
        services = """\
services:
  app.example.com.:
    sites: [alpha, beta]
  mute.example.com.:
    sites: [mute, alpha]
"""
        srv = start_gslbd(config=health_config(extra, services))
        mark = 0
        assert srv.wait_for_line(r"check down \(timeout.*check=mute/0:http", start=mark,
                                 timeout=FALL * INTERVAL + TIMEOUT + SLACK), srv.log_text()
        assert addresses(srv, "mute.example.com.")[1] == [ALPHA]
        # While mute's probe hangs every interval, alpha's checks still run on time.
        healthy.stop_haproxy("alpha")
        took = wait_until(lambda: addresses(srv)[1] == [BETA], FALL * INTERVAL + TIMEOUT + SLACK)
        assert took is not None, srv.log_text()
    finally:
        silent.close()


def test_haproxy_stats_behind_basic_auth(healthy, start_gslbd, tmp_path):
    (tmp_path / "good.pw").write_text("s3cret\n")
    (tmp_path / "bad.pw").write_text("wrong\n")
    extra = "\n".join([
        site_yaml("gamma", GAMMA, "2001:db8:2::3", [
            f'{{type: haproxy, url: "http://{GAMMA}:8404/stats;csv", backend: web, '
            f'user: monitor, password_file: {tmp_path / "good.pw"}}}']),
        site_yaml("gamma2", GAMMA, "2001:db8:2::33", [
            f'{{type: haproxy, url: "http://{GAMMA}:8404/stats;csv", backend: web, '
            f'user: monitor, password_file: {tmp_path / "bad.pw"}}}']),
    ])
    services = """\
services:
  app.example.com.:
    sites: [alpha, beta]
  good.example.com.:
    sites: [gamma]
    when_all_down: servfail
  bad.example.com.:
    sites: [gamma2]
    when_all_down: servfail
"""
    srv = start_gslbd(config=health_config(extra, services))
    assert addresses(srv, "good.example.com.") == (dns.rcode.NOERROR, [GAMMA])
    assert addresses(srv, "bad.example.com.")[0] == dns.rcode.SERVFAIL
    assert srv.wait_for_line(r"check down \(.*status 401.*check=gamma2/0:haproxy"), srv.log_text()


TLS = "127.0.2.5"


@pytest.fixture
def tls_haproxy(tmp_path):
    """A real HAProxy terminating TLS with a self-signed certificate on TLS:8443."""
    import subprocess
    pem = tmp_path / "site.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={TLS}", "-addext", f"subjectAltName=IP:{TLS}",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    pem.write_text((tmp_path / "cert.pem").read_text() + (tmp_path / "key.pem").read_text())
    cfg = tmp_path / "tls.cfg"
    cfg.write_text(f"""\
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend tls
    bind {TLS}:8443 ssl crt {pem}
    monitor-uri /healthz
""")
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert site_tools._wait_port(TLS, 8443), "TLS haproxy did not listen"
        yield tmp_path / "cert.pem"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_https_verifies_certificates_unless_told_not_to(healthy, start_gslbd, tls_haproxy):
    # A TLS handshake can take longer than the suite's 200 ms timeout on a loaded machine, so
    # these checks get their own (a failure would then be the certificate, not the clock).
    slow = "interval: 1s, timeout: 900ms"
    extra = "\n".join([
        site_yaml("verified", TLS, "2001:db8:2::5",
                  [f'{{type: https, url: "https://{TLS}:8443/healthz", {slow}}}']),
        site_yaml("trusting", TLS, "2001:db8:2::55",
                  [f'{{type: https, url: "https://{TLS}:8443/healthz", tls_verify: false, '
                   f'{slow}}}']),
    ])
    services = """\
services:
  app.example.com.:
    sites: [alpha, beta]
  verified.example.com.:
    sites: [verified]
    when_all_down: servfail
  trusting.example.com.:
    sites: [trusting]
    when_all_down: servfail
"""
    srv = start_gslbd(config=health_config(extra, services))
    # The self-signed certificate fails verification; without verification the site is up.
    assert addresses(srv, "verified.example.com.")[0] == dns.rcode.SERVFAIL
    assert wait_until(lambda: addresses(srv, "trusting.example.com.") == (dns.rcode.NOERROR, [TLS]),
                      RISE * 1.0 + 0.9 + SLACK) is not None, srv.log_text()
    assert srv.wait_for_line(r"check down .*check=verified/0:https"), srv.log_text()


def test_reload_keeps_state_of_unchanged_checks(healthy, start_gslbd):
    import signal as sig
    srv = start_gslbd(config=health_config())
    healthy.stop_haproxy("beta")
    assert wait_until(lambda: addresses(srv)[1] == [ALPHA],
                      FALL * INTERVAL + TIMEOUT + SLACK) is not None, srv.log_text()
    # Reload with only a service TTL changed: beta's checks are the same, so beta stays down
    # at once instead of counting as up until its next probe.
    cfg = srv.workdir / "gslbd.yaml"
    cfg.write_text(cfg.read_text().replace("ttl: 5", "ttl: 7"))
    mark = srv.line_count()
    srv.send(sig.SIGHUP)
    assert srv.wait_for_line(r"config: reload applied", start=mark), srv.log_text()
    reply = srv.ask("app.example.com.", "A")
    assert [rd.address for rrset in reply.answer for rd in rrset] == [ALPHA]
    assert reply.answer[0].ttl == 7
