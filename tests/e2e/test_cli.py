"""The command line and signals: --version, --check-config diagnostics, SIGTERM/SIGINT and SIGHUP
reloads, good and bad (contract, "Command line" and "Configuration")."""

import re
import signal
import subprocess
import time

import dns.message
import dns.rcode
import pytest

from conftest import (DEFAULT_ZONE, GSLBD_BIN, SITES, SOURCE_DIR, Gslbd, frame, make_config,
                      rrs, sites_yaml, tcp_read_message, write_setup)

RUN_TIMEOUT = 20


def run(args, cwd):
    try:
        return subprocess.run([GSLBD_BIN, *args], cwd=cwd, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT)
    except FileNotFoundError:
        pytest.fail(f"gslbd binary not found: {GSLBD_BIN}")


def diagnostics(stderr, file_re):
    """(line, col, message) of every `FILE:LINE:COL: message` line of `stderr` for FILE."""
    rx = re.compile(rf"^{file_re}:(\d+):(\d+): (.+)$")
    out = []
    for line in stderr.splitlines():
        m = rx.match(line.strip())
        if m:
            out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return out


# -- --version ----------------------------------------------------------------------------------

def test_version_prints_a_version(tmp_path):
    done = run(["--version"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\b\d+\.\d+(\.\d+)?\b", done.stdout), done.stdout


# -- --check-config -----------------------------------------------------------------------------

def test_check_config_accepts_the_example():
    done = run(["--check-config", "config/example.yaml"], SOURCE_DIR)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_check_config_accepts_the_test_config(tmp_path):
    (tmp_path / "example.com.zone").write_text(DEFAULT_ZONE)
    (tmp_path / "gslbd.yaml").write_text(make_config())
    done = run(["--check-config", "gslbd.yaml"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


BROKEN_YAML = """\
server:
  listen: ["127.0.0.1:0"]
  workers: 1
  identiti: typo
zone:
  origin: example.com.
  file: example.com.zone
health:
  interval: 2x
sites:
  madrid:
    addresses: [127.0.1.1]
services:
  app.example.com.:
    sites: [madrid, atlantis]
    policy: round-robin
"""
# line -> (accepted columns: the key's or the value's, a word the message must name)
BROKEN_EXPECTED = {4: ({3}, "identiti"), 9: ({3, 13}, "2x"), 15: ({5, 12, 21}, "atlantis")}


def test_check_config_reports_every_error_with_position(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "example.com.zone").write_text(DEFAULT_ZONE)
    (conf / "broken.yaml").write_text(BROKEN_YAML)

    done = run(["--check-config", "conf/broken.yaml"], tmp_path)

    assert done.returncode == 1, done.stderr
    assert "ok" not in done.stdout.split()
    found = diagnostics(done.stderr, r"conf/broken\.yaml")
    assert found, f"no 'conf/broken.yaml:LINE:COL: message' line in:\n{done.stderr}"
    by_line = {line: (col, msg) for line, col, msg in found}
    for line, (cols, word) in BROKEN_EXPECTED.items():
        assert line in by_line, f"no error reported at line {line}:\n{done.stderr}"
        col, msg = by_line[line]
        assert col in cols, f"line {line}: column {col}, expected one of {sorted(cols)}"
        assert word in msg, f"line {line}: message does not name {word!r}: {msg}"
    # In file order.
    lines = [line for line, _, _ in found]
    assert lines == sorted(lines)


def test_check_config_keeps_absolute_path_as_given(tmp_path):
    (tmp_path / "example.com.zone").write_text(DEFAULT_ZONE)
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_YAML)
    done = run(["--check-config", str(path)], "/")
    assert done.returncode == 1
    assert diagnostics(done.stderr, re.escape(str(path))), done.stderr


BAD_ZONE_LINE = 14


def bad_zone():
    lines = DEFAULT_ZONE.splitlines()
    # Line 14 (1-based) of the zone becomes an A record whose address is not an address.
    lines.insert(BAD_ZONE_LINE - 1, "broken  IN A  999.1.2.3")
    return "\n".join(lines) + "\n"


def test_check_config_reports_zone_syntax_error_line(tmp_path):
    conf = tmp_path / "conf"
    (conf / "zones").mkdir(parents=True)
    (conf / "zones" / "bad.zone").write_text(bad_zone())
    (conf / "gslbd.yaml").write_text(make_config(zone_file="zones/bad.zone"))

    done = run(["--check-config", "conf/gslbd.yaml"], tmp_path)

    assert done.returncode == 1, done.stderr
    assert "ok" not in done.stdout.split()
    found = diagnostics(done.stderr, r"(?:conf/)?zones/bad\.zone")
    assert found, f"no 'zones/bad.zone:LINE:COL: message' line in:\n{done.stderr}"
    assert [line for line, _, _ in found] == [BAD_ZONE_LINE], done.stderr
    assert all(col >= 1 for _, col, _ in found)


TYPES_YAML = """\
server:
  listen: ["127.0.0.1:0"]
  workers: many
  tcp_idle_timeout: 1500ms
zone:
  origin: example.com.
  file: example.com.zone
health:
  interval: 1m
  timeout: 500ms
sites:
  madrid:
    addresses: [127.0.1.1]
  madrid:
    addresses: [127.0.1.2]
services:
  app.example.com.:
    sites: [madrid]
    ttl: thirty
  app.example.com.:
    sites: [madrid]
"""
# line -> accepted columns (the key's or the value's)
TYPES_EXPECTED = {3: {3, 12}, 14: {3}, 19: {5, 10}, 20: {3}}


def test_check_config_reports_wrong_types_and_duplicates(tmp_path):
    (tmp_path / "example.com.zone").write_text(DEFAULT_ZONE)
    (tmp_path / "types.yaml").write_text(TYPES_YAML)

    done = run(["--check-config", "types.yaml"], tmp_path)

    assert done.returncode == 1, done.stderr
    found = {line: col for line, col, _ in diagnostics(done.stderr, r"types\.yaml")}
    for line, cols in TYPES_EXPECTED.items():
        assert line in found, f"no error reported at line {line}:\n{done.stderr}"
        assert found[line] in cols, f"line {line}: column {found[line]}, expected {cols}"
    # 1500ms, 1m and 500ms are valid durations.
    assert not {4, 9, 10} & set(found), done.stderr


def test_check_config_missing_file(tmp_path):
    done = run(["--check-config", "nothere.yaml"], tmp_path)
    assert done.returncode == 1
    assert "nothere.yaml" in done.stderr
    assert "ok" not in done.stdout.split()


def test_check_config_service_outside_zone_and_duplicate_static(tmp_path):
    services = """\
services:
  app.example.org.:
    sites: [madrid]
  static.example.com.:
    sites: [madrid]
"""
    (tmp_path / "example.com.zone").write_text(DEFAULT_ZONE)
    text = make_config(services=services)
    (tmp_path / "gslbd.yaml").write_text(text)
    lines = text.splitlines()
    outside = next(i for i, l in enumerate(lines, 1) if "app.example.org." in l)
    static = next(i for i, l in enumerate(lines, 1) if "static.example.com.:" in l)

    done = run(["--check-config", "gslbd.yaml"], tmp_path)

    assert done.returncode == 1
    reported = {line for line, _, _ in diagnostics(done.stderr, r"gslbd\.yaml")}
    assert {outside, static} <= reported, done.stderr


# -- signals ------------------------------------------------------------------------------------

def test_long_config_flag_runs_the_server(tmp_path):
    srv = Gslbd(write_setup(tmp_path), config_flag="--config").start()
    try:
        assert rrs(srv.ask("static.example.com.", "A").answer) == [
            "static.example.com. 3600 IN A 127.0.0.80"]
    finally:
        assert srv.stop() == 0, srv.log_text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_exits_zero(start_gslbd, sig):
    srv = start_gslbd()
    assert srv.ask("static.example.com.", "A").rcode() == dns.rcode.NOERROR
    t0 = time.monotonic()
    assert srv.stop(sig) == 0, srv.log_text()
    assert time.monotonic() - t0 < 5.0


def test_stop_with_open_tcp_connections_is_prompt(start_gslbd):
    # With a 30s idle timeout, open connections must not hold the graceful stop back.
    srv = start_gslbd(config=make_config(tcp_idle_timeout="30s"))
    socks = [srv.tcp_connect() for _ in range(3)]
    try:
        socks[0].sendall(frame(dns.message.make_query("static.example.com.", "A").to_wire()))
        assert tcp_read_message(socks[0]) is not None
        t0 = time.monotonic()
        assert srv.stop() == 0, srv.log_text()
        assert time.monotonic() - t0 < 5.0
    finally:
        for sock in socks:
            sock.close()


def poll(fn, timeout=5.0):
    """Calls fn until it returns a true value or the timeout passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.1)


def test_sighup_adds_static_record(start_gslbd):
    srv = start_gslbd()
    assert srv.ask("added.example.com.", "A").rcode() == dns.rcode.NXDOMAIN

    zone = DEFAULT_ZONE.replace("2026120401", "2026120402") + "added IN A 127.0.0.66\n"
    (srv.workdir / "example.com.zone").write_text(zone)
    srv.send(signal.SIGHUP)

    got = poll(lambda: rrs(srv.ask("added.example.com.", "A").answer))
    assert got == ["added.example.com. 3600 IN A 127.0.0.66"], srv.log_text()
    assert rrs(srv.ask("static.example.com.", "A").answer) == [
        "static.example.com. 3600 IN A 127.0.0.80"]


def test_sighup_changes_site_address(start_gslbd):
    srv = start_gslbd()
    before = sorted(rd.address for rd in srv.ask("app.example.com.", "A").answer[0])
    assert before == ["127.0.1.1", "127.0.1.2"]

    sites = dict(SITES)
    sites["madrid"] = ("127.0.2.1",) + SITES["madrid"][1:]
    (srv.workdir / "gslbd.yaml").write_text(make_config(sites=sites_yaml(sites)))
    srv.send(signal.SIGHUP)

    def current():
        resp = srv.ask("app.example.com.", "A")
        got = sorted(rd.address for rd in resp.answer[0]) if resp.answer else []
        return got if got == ["127.0.1.2", "127.0.2.1"] else None

    assert poll(current), srv.log_text()


def assert_still_serving_old(srv):
    for _ in range(5):
        assert rrs(srv.ask("static.example.com.", "A").answer) == [
            "static.example.com. 3600 IN A 127.0.0.80"]
        assert sorted(rd.address for rd in srv.ask("app.example.com.", "A").answer[0]) == [
            "127.0.1.1", "127.0.1.2"]
        time.sleep(0.1)


def test_sighup_with_broken_config_keeps_serving(start_gslbd):
    srv = start_gslbd()
    mark = srv.line_count()

    text = make_config().replace("  workers: 2\n", "  workers: 2\n  bogus_key: 1\n")
    bad_line = text.splitlines().index("  bogus_key: 1") + 1
    (srv.workdir / "gslbd.yaml").write_text(text)
    srv.send(signal.SIGHUP)

    logged = srv.wait_for_line(rf"gslbd\.yaml:{bad_line}:\d+:", start=mark)
    assert logged, f"no diagnostic for line {bad_line} logged:\n{srv.log_text()}"
    assert srv.wait_for_line(r"\b(warning|error)\b", start=mark, timeout=1.0)
    assert srv.running()
    assert_still_serving_old(srv)


def test_sighup_with_broken_zone_keeps_serving(start_gslbd):
    srv = start_gslbd()
    mark = srv.line_count()

    (srv.workdir / "example.com.zone").write_text(
        bad_zone().replace("2026120401", "2026120402") + "added IN A 127.0.0.66\n")
    srv.send(signal.SIGHUP)

    logged = srv.wait_for_line(rf"example\.com\.zone:{BAD_ZONE_LINE}:\d+:", start=mark)
    assert logged, f"no zone diagnostic logged:\n{srv.log_text()}"
    assert srv.running()
    assert_still_serving_old(srv)
    assert srv.ask("added.example.com.", "A").rcode() == dns.rcode.NXDOMAIN


def test_sighup_after_rejected_reload_applies_fixed_config(start_gslbd):
    srv = start_gslbd()
    mark = srv.line_count()
    (srv.workdir / "gslbd.yaml").write_text(make_config() + "bogus_section: {}\n")
    srv.send(signal.SIGHUP)
    assert srv.wait_for_line(r"gslbd\.yaml:\d+:\d+:", start=mark), srv.log_text()

    zone = DEFAULT_ZONE.replace("2026120401", "2026120403") + "fixed IN A 127.0.0.67\n"
    (srv.workdir / "example.com.zone").write_text(zone)
    (srv.workdir / "gslbd.yaml").write_text(make_config())
    srv.send(signal.SIGHUP)

    got = poll(lambda: rrs(srv.ask("fixed.example.com.", "A").answer))
    assert got == ["fixed.example.com. 3600 IN A 127.0.0.67"], srv.log_text()


def test_second_instance_on_a_busy_port_refuses_to_start(start_gslbd, tmp_path):
    # SO_REUSEPORT must not let a second server quietly share the first one's queries.
    first = start_gslbd()
    host, port = first.addr("udp")
    second = write_setup(tmp_path / "second")
    cfg = (second / "gslbd.yaml").read_text().replace(
        '["127.0.0.1:0", "[::1]:0"]', f'["127.0.0.1:{port}"]')
    (second / "gslbd.yaml").write_text(cfg)
    done = subprocess.run([GSLBD_BIN, "-c", "gslbd.yaml"], cwd=second, capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 1
    assert f"cannot bind 127.0.0.1:{port} udp (Address already in use)" in done.stderr
    assert first.running()
