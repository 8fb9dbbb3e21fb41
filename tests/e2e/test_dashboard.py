"""End-to-end tests of the dashboard: the real gslbd serving HTTP next to DNS, with real
HAProxy and nginx sites (tests/sites/sites.py) on 127.0.3.x.

Sites: alpha (127.0.3.1) and beta (127.0.3.2) are live HAProxy sites with haproxy, http and tcp
checks; delta (127.0.3.4) has a tcp check on a port nobody listens on, so it is down; static
(127.0.3.5) has no checks and is always up. The dashboard listens on 127.0.0.1:0; the port is
read back from its `dashboard: listening address=... proto=http` log line.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import dns.rcode
import pytest

from conftest import GSLBD_BIN, SOURCE_DIR

sys.path.insert(0, str(SOURCE_DIR / "tests" / "sites"))
import sites as site_tools  # noqa: E402

ALPHA = "127.0.3.1"
BETA = "127.0.3.2"
DELTA = "127.0.3.4"
STATIC = "127.0.3.5"
STATIC_MOVED = "127.0.3.6"
TOKEN = "e2e-Token-0123456789"
HTTP_TIMEOUT = 5.0
ARTIFACTS = SOURCE_DIR / "tests" / "artifacts"


def live_checks(address):
    return [
        f'{{type: haproxy, url: "http://{address}:8404/stats;csv", backend: web, min_up: 1}}',
        f'{{type: http, url: "http://{address}:8080/healthz", expect_status: 200}}',
        f'{{type: tcp, address: "{address}:8080"}}',
    ]


def site_block(name, address, v6, checks, location=None):
    lines = [f"  {name}:"]
    if location:
        lines.append(f"    location: {{lat: {location[0]}, lon: {location[1]}}}")
    lines.append(f'    addresses: [{address}, "{v6}"]')
    if checks:
        lines.append("    checks:")
        lines += [f"      - {c}" for c in checks]
    return "\n".join(lines)


def dashboard_config(static_address=STATIC, token=True, state=True, with_static=True,
                     app_ttl=30):
    sites = [
        site_block("alpha", ALPHA, "2001:db8:3::1", live_checks(ALPHA), (40.42, -3.70)),
        site_block("beta", BETA, "2001:db8:3::2", live_checks(BETA), (42.36, -71.06)),
        site_block("delta", DELTA, "2001:db8:3::4", [f'{{type: tcp, address: "{DELTA}:8080"}}'],
                   (35.68, 139.69)),
    ]
    if with_static:
        sites.append(site_block("static", static_address, "2001:db8:3::5", []))
    static_service = ""
    if with_static:
        static_service = """\
  fixed.example.com.:
    sites: [static]
    ttl: 60
"""
    dashboard = ["dashboard:", "  listen: 127.0.0.1:0"]
    if token:
        dashboard.append("  admin_token_file: admin.token")
    if state:
        dashboard.append("  state_file: state/gslbd.state")
    return f"""\
server:
  listen: ["127.0.0.1:0", "[::1]:0"]
  workers: 2
  identity: dash-e2e
zone:
  origin: example.com.
  file: example.com.zone
health:
  interval: 300ms
  timeout: 200ms
  rise: 2
  fall: 2
sites:
{chr(10).join(sites)}
services:
  app.example.com.:
    sites: [alpha, beta, delta]
    ttl: {app_ttl}
  primary.example.com.:
    sites: [beta, alpha]
    policy: failover
    when_all_down: servfail
{static_service}{chr(10).join(dashboard)}
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    s = site_tools.Sites(tmp_path_factory.mktemp("dash-sites"))
    s.start({"alpha": ALPHA, "beta": BETA})
    yield s
    s.stop()


@pytest.fixture
def dashboard(sites, start_gslbd, tmp_path):
    """Factory: starts gslbd with the dashboard (token and state folder in place)."""
    def start(config=None, subdir="srv"):
        workdir = tmp_path / subdir
        (workdir / "state").mkdir(parents=True, exist_ok=True)
        (workdir / "admin.token").write_text(TOKEN + "\n")
        srv = start_gslbd(config=config or dashboard_config(), subdir=subdir)
        line = srv.wait_for_line(r"dashboard: listening address=127\.0\.0\.1:\d+ proto=http")
        assert line, srv.log_text()
        srv.http_port = int(line.split("address=127.0.0.1:")[1].split()[0])
        return srv
    return start


def request(srv, method, path, token=None, headers=None, body=None):
    """One HTTP request on a fresh connection: (status, headers dict (lowercase), body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=HTTP_TIMEOUT)
    try:
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=hdrs)
        res = conn.getresponse()
        data = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data
    finally:
        conn.close()


def status(srv):
    code, headers, body = request(srv, "GET", "/api/v1/status")
    assert code == 200, body
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def metrics(srv):
    code, headers, body = request(srv, "GET", "/metrics")
    assert code == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return body.decode()


def metric_value(text, sample):
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return None


def answers(srv, name="app.example.com."):
    reply = srv.ask(name, "A")
    return reply.rcode(), sorted(rd.address for rrset in reply.answer for rd in rrset)


def wait_until(predicate, bound, step=0.1):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def site_by_name(doc, name):
    return next(s for s in doc["sites"] if s["name"] == name)


def wait_settled(srv):
    """Until the first round's verdicts are in: alpha and beta up, delta down."""
    assert wait_until(lambda: answers(srv)[1] == [ALPHA, BETA], 5), srv.log_text()


# -- read endpoints ----------------------------------------------------------------------------


def test_page_is_self_contained_html(dashboard):
    srv = dashboard()
    code, headers, body = request(srv, "GET", "/")
    assert code == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "/api/v1/status" in page and "setTimeout(refresh, 2000)" in page
    # Nothing is loaded from elsewhere: no external scripts, styles, fonts or images.
    for marker in ("http://", "https://", "<link", "src=", "@import", "url("):
        assert marker not in page, marker
    assert "default-src 'none'" in headers["content-security-policy"]


def test_head_gives_headers_without_body(dashboard):
    srv = dashboard()
    for path in ("/", "/api/v1/status", "/metrics"):
        code, headers, body = request(srv, "HEAD", path)
        assert code == 200, path
        assert body == b""
        assert int(headers["content-length"]) > 0


def test_status_document_shape(dashboard):
    srv = dashboard()
    wait_settled(srv)
    doc = status(srv)
    server = doc["server"]
    assert server["identity"] == "dash-e2e"
    assert server["config_generation"] == 1
    assert server["config_path"] == "gslbd.yaml"
    assert server["zone"] == {"origin": "example.com.", "serial": 2026120401}
    assert server["write_api"] is True
    assert server["uptime_seconds"] >= 0 and server["version"]

    assert [s["name"] for s in doc["sites"]] == ["alpha", "beta", "delta", "static"]
    alpha = site_by_name(doc, "alpha")
    assert alpha["state"] == "up" and alpha["checks_up"] is True and alpha["drained"] is False
    assert alpha["addresses"] == [ALPHA, "2001:db8:3::1"]
    assert [c["id"] for c in alpha["checks"]] == ["alpha/0:haproxy", "alpha/1:http", "alpha/2:tcp"]
    for check in alpha["checks"]:
        assert set(check) >= {"id", "type", "up", "last_ok", "reason", "latency_ms",
                              "last_change", "runs", "failures"}
        assert check["up"] is True and check["last_ok"] is True and check["runs"] >= 1
        assert check["last_change"].endswith("Z") and "T" in check["last_change"]
    delta = site_by_name(doc, "delta")
    assert delta["state"] == "down" and delta["checks"][0]["last_ok"] is False
    assert "connect" in delta["checks"][0]["reason"]
    assert site_by_name(doc, "static")["checks"] == []

    app = next(s for s in doc["services"] if s["name"] == "app.example.com.")
    assert app["policy"] == "round-robin" and app["ttl"] == 30
    assert app["when_all_down"] == "serve-all" and app["all_down"] is False
    assert app["answers"] == {"A": [ALPHA, BETA], "AAAA": ["2001:db8:3::1", "2001:db8:3::2"]}
    primary = next(s for s in doc["services"] if s["name"] == "primary.example.com.")
    assert primary["answers"]["A"] == [BETA]


def test_metrics_families_and_counts(dashboard):
    srv = dashboard()
    wait_settled(srv)
    for _ in range(3):
        srv.ask("app.example.com.", "A")
    srv.ask("missing.example.com.", "A")
    text = metrics(srv)
    for family, kind in [("gslbd_dns_answers_total", "counter"),
                         ("gslbd_dns_dropped_total", "counter"),
                         ("gslbd_dns_truncated_total", "counter"),
                         ("gslbd_dns_service_answers_total", "counter"),
                         ("gslbd_check_runs_total", "counter"),
                         ("gslbd_check_latency_seconds", "histogram"),
                         ("gslbd_site_up", "gauge"), ("gslbd_site_drained", "gauge"),
                         ("gslbd_config_reloads_total", "counter"),
                         ("gslbd_config_generation", "gauge"), ("gslbd_uptime_seconds", "gauge")]:
        assert f"# HELP {family} " in text, family
        assert f"# TYPE {family} {kind}\n" in text, family
    assert metric_value(text, 'gslbd_dns_answers_total{proto="udp",rcode="NOERROR"}') >= 3
    assert metric_value(text, 'gslbd_dns_answers_total{proto="udp",rcode="NXDOMAIN"}') >= 1
    assert metric_value(text, 'gslbd_site_up{site="alpha"}') == 1
    assert metric_value(text, 'gslbd_site_up{site="delta"}') == 0
    assert metric_value(text, 'gslbd_site_drained{site="alpha"}') == 0
    assert metric_value(text, 'gslbd_check_runs_total{site="delta",check="delta/0:tcp",'
                              'result="fail"}') >= 1
    assert metric_value(text, 'gslbd_check_latency_seconds_count{site="alpha",'
                              'check="alpha/1:http"}') >= 1
    assert metric_value(text, 'gslbd_check_latency_seconds_bucket{site="alpha",'
                              'check="alpha/1:http",le="+Inf"}') >= 1
    assert metric_value(text, "gslbd_config_generation") == 1
    assert metric_value(text, 'gslbd_dns_service_answers_total{service="app.example.com."}') >= 3


def test_unknown_path_and_wrong_method(dashboard):
    srv = dashboard()
    assert request(srv, "GET", "/nope")[0] == 404
    assert request(srv, "GET", "/api/v1/nope")[0] == 404
    code, headers, _ = request(srv, "POST", "/api/v1/status")
    assert code == 405 and headers["allow"] == "GET, HEAD"
    code, headers, _ = request(srv, "DELETE", "/")
    assert code == 405 and headers["allow"] == "GET, HEAD"
    code, headers, _ = request(srv, "GET", "/api/v1/sites/alpha/drain", token=TOKEN)
    assert code == 405 and headers["allow"] == "POST"


# -- limits and connections ---------------------------------------------------------------------


def raw_exchange(srv, data, timeout=HTTP_TIMEOUT):
    """Sends raw bytes, returns everything read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", srv.http_port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


def test_request_limits(dashboard):
    srv = dashboard()
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    assert raw_exchange(srv, big).startswith(b"HTTP/1.1 431 ")
    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(80)) + b"\r\n"
    assert raw_exchange(srv, many).startswith(b"HTTP/1.1 431 ")
    body = b"x" * 2048
    post = (b"POST /api/v1/sites/alpha/drain HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body
    assert raw_exchange(srv, post).startswith(b"HTTP/1.1 413 ")
    assert raw_exchange(srv, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    # The server is still serving afterwards.
    assert request(srv, "GET", "/metrics")[0] == 200


def test_keep_alive_serves_several_requests_on_one_connection(dashboard):
    srv = dashboard()
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=HTTP_TIMEOUT)
    try:
        for path in ("/api/v1/status", "/metrics", "/nope", "/"):
            conn.request("GET", path)
            res = conn.getresponse()
            res.read()
            assert res.status in (200, 404)
            assert res.getheader("Connection", "").lower() != "close"
    finally:
        conn.close()


def test_connection_cap_closes_extra_connections(dashboard):
    srv = dashboard()
    held = []
    try:
        for _ in range(64):
            held.append(socket.create_connection(("127.0.0.1", srv.http_port), timeout=2))
        time.sleep(0.3)  # let the server accept them all
        extra = socket.create_connection(("127.0.0.1", srv.http_port), timeout=2)
        try:
            extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                assert extra.recv(100) == b""
            except ConnectionResetError:
                pass
        finally:
            extra.close()
    finally:
        for sock in held:
            sock.close()
    # Once the server has seen the held connections close, new ones are served again.
    def served():
        try:
            return request(srv, "GET", "/metrics")[0] == 200
        except ConnectionError:
            return False
    assert wait_until(served, 3)


# -- drain and undrain --------------------------------------------------------------------------


def drain(srv, site, token=TOKEN, action="drain"):
    return request(srv, "POST", f"/api/v1/sites/{site}/{action}", token=token)


def test_drain_needs_the_token_and_takes_effect_at_once(dashboard):
    srv = dashboard()
    wait_settled(srv)

    code, headers, _ = drain(srv, "alpha", token=None)
    assert code == 401 and headers["www-authenticate"].startswith("Bearer")
    code, headers, _ = drain(srv, "alpha", token="wrong-token")
    assert code == 401 and "invalid_token" in headers["www-authenticate"]
    code, _, _ = drain(srv, "alpha", token=TOKEN + "x")
    assert code == 401
    assert answers(srv)[1] == [ALPHA, BETA], "a refused drain changed the answers"

    code, headers, body = drain(srv, "alpha")
    assert code == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"site": "alpha", "drained": True, "changed": True,
                                "state": "drained"}
    # The very next answer, with no wait.
    assert answers(srv)[1] == [BETA]
    doc = status(srv)
    alpha = site_by_name(doc, "alpha")
    assert alpha["state"] == "drained" and alpha["drained"] and alpha["checks_up"]
    assert next(s for s in doc["services"]
                if s["name"] == "app.example.com.")["answers"]["A"] == [BETA]
    assert metric_value(metrics(srv), 'gslbd_site_drained{site="alpha"}') == 1
    assert srv.wait_for_line(r"dashboard: site drained site=alpha")

    assert drain(srv, "nowhere")[0] == 404
    code, _, body = drain(srv, "alpha")
    assert code == 200 and json.loads(body)["changed"] is False

    code, _, body = drain(srv, "alpha", action="undrain")
    assert code == 200 and json.loads(body)["state"] == "up"
    assert answers(srv)[1] == [ALPHA, BETA]
    # Neither the token nor the Authorization header ever reaches the log.
    assert TOKEN not in srv.log_text() and "wrong-token" not in srv.log_text()
    assert "Bearer" not in srv.log_text()


def test_write_api_is_off_without_a_token_file(dashboard):
    srv = dashboard(config=dashboard_config(token=False))
    assert status(srv)["server"]["write_api"] is False
    assert drain(srv, "alpha")[0] == 403


def test_drain_survives_a_restart(dashboard, tmp_path):
    srv = dashboard()
    wait_settled(srv)
    assert drain(srv, "beta")[0] == 200
    state_file = tmp_path / "srv" / "state" / "gslbd.state"
    assert json.loads(state_file.read_text()) == {"version": 1, "drained": ["beta"]}
    assert srv.stop() == 0

    again = dashboard()
    assert again.wait_for_line(r"dashboard: drains loaded .* sites=beta"), again.log_text()
    assert again.wait_for_line(r"server: answering .*beta=drained"), again.log_text()
    # From the first answer on, beta is out (failover moves to alpha).
    assert answers(again, "primary.example.com.")[1] == [ALPHA]
    assert site_by_name(status(again), "beta")["state"] == "drained"


def test_corrupt_state_file_refuses_to_start(sites, tmp_path):
    workdir = tmp_path / "corrupt"
    from conftest import write_setup
    write_setup(workdir, config=dashboard_config())
    (workdir / "admin.token").write_text(TOKEN)
    (workdir / "state").mkdir()
    (workdir / "state" / "gslbd.state").write_text('{"version": 1, "drained": ["beta"')
    done = subprocess.run([GSLBD_BIN, "-c", "gslbd.yaml"], cwd=workdir, capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 1, done.stderr
    assert "state/gslbd.state: not a gslbd state file" in done.stderr, done.stderr
    assert "cannot read the drain state" in done.stderr


# -- reloads ------------------------------------------------------------------------------------


def reload(srv, config_text, expect=r"config: reload applied"):
    mark = srv.line_count()
    (srv.workdir / "gslbd.yaml").write_text(config_text)
    srv.send(signal.SIGHUP)
    line = srv.wait_for_line(expect, start=mark)
    assert line, srv.log_text()
    return line


def test_reload_changing_an_address_shows_in_the_next_answer(dashboard):
    srv = dashboard()
    assert answers(srv, "fixed.example.com.")[1] == [STATIC]
    line = reload(srv, dashboard_config(static_address=STATIC_MOVED))
    assert "generation=2" in line
    assert answers(srv, "fixed.example.com.")[1] == [STATIC_MOVED]
    doc = status(srv)
    assert doc["server"]["config_generation"] == 2
    assert site_by_name(doc, "static")["addresses"][0] == STATIC_MOVED
    text = metrics(srv)
    assert metric_value(text, 'gslbd_config_reloads_total{result="ok"}') == 1
    assert metric_value(text, 'gslbd_config_reloads_total{result="error"}') == 0
    assert metric_value(text, "gslbd_config_generation") == 2


def test_invalid_reload_keeps_old_answers_and_counts_the_error(dashboard):
    srv = dashboard()
    wait_settled(srv)
    reload(srv, dashboard_config().replace("ttl: 30", "ttl: thirty"),
           expect=r"config: reload rejected")
    assert answers(srv)[1] == [ALPHA, BETA]
    assert srv.ask("app.example.com.", "A").answer[0].ttl == 30
    text = metrics(srv)
    assert metric_value(text, 'gslbd_config_reloads_total{result="error"}') == 1
    assert metric_value(text, 'gslbd_config_reloads_total{result="ok"}') == 0
    assert metric_value(text, "gslbd_config_generation") == 1
    assert status(srv)["server"]["config_generation"] == 1


def test_reload_drops_drains_of_removed_sites(dashboard, tmp_path):
    srv = dashboard()
    assert drain(srv, "static")[0] == 200
    assert drain(srv, "beta")[0] == 200
    reload(srv, dashboard_config(with_static=False))
    state_file = tmp_path / "srv" / "state" / "gslbd.state"
    assert json.loads(state_file.read_text())["drained"] == ["beta"]
    assert srv.wait_for_line(r"dashboard: drain dropped with its site site=static")
    assert [s["name"] for s in status(srv)["sites"]] == ["alpha", "beta", "delta"]


def test_queries_in_a_loop_are_all_answered_across_reloads(dashboard):
    srv = dashboard()
    wait_settled(srv)
    total = 2000
    results = []
    errors = []

    def ask_loop():
        for _ in range(total):
            try:
                reply = srv.ask("app.example.com.", "A")
                results.append((reply.rcode(), len(reply.answer)))
            except Exception as e:  # noqa: BLE001 - any failure is a lost query
                errors.append(repr(e))

    worker = threading.Thread(target=ask_loop)
    worker.start()
    for i in range(5):
        time.sleep(0.15)
        reload(srv, dashboard_config(app_ttl=31 + i))
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert not errors, errors[:5]
    assert len(results) == total
    assert all(rcode == dns.rcode.NOERROR and n == 1 for rcode, n in results)
    assert status(srv)["server"]["config_generation"] == 6


# -- the page in a real browser -----------------------------------------------------------------


CHROMIUM = shutil.which("chromium")


def chromium(*args, timeout=60):
    profile = tempfile.mkdtemp(prefix="gslbd-chromium-")
    try:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/install-deps)")
def test_page_in_headless_chromium_shows_sites_and_states(dashboard):
    srv = dashboard()
    wait_settled(srv)
    assert drain(srv, "beta")[0] == 200
    url = f"http://127.0.0.1:{srv.http_port}/"

    done = chromium("--virtual-time-budget=5000", "--dump-dom", url)
    assert done.returncode == 0, done.stderr
    dom = done.stdout
    for name, state in [("alpha", "up"), ("beta", "drained"), ("delta", "down"),
                        ("static", "up")]:
        assert f'data-site="{name}" data-state="{state}"' in dom, (name, state, dom[:3000])
    assert 'data-check="delta/0:tcp"' in dom
    assert 'data-service="app.example.com."' in dom
    assert "connect failed" in dom
    assert 'data-ok="true"' in dom  # the refresh succeeded

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    done = chromium("--virtual-time-budget=5000", "--window-size=1280,1000",
                    f"--screenshot={shot}", url)
    assert done.returncode == 0 and shot.exists(), done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone = ARTIFACTS / "dashboard-phone.png"
    chromium("--virtual-time-budget=5000", "--window-size=390,1400", f"--screenshot={phone}",
             url)
    keep = os.environ.get("GSLBD_SAVE_SCREENSHOT")
    if keep:
        target = Path(keep) if Path(keep).is_absolute() else SOURCE_DIR / keep
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
