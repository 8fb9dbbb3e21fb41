#!/usr/bin/python3
"""Bounded soak: gslbd under dnsperf while a site flaps and the configuration reloads.

Starts two real sites on loopback (tests/sites/sites.py: HAProxy in front of two nginx each),
alpha on 127.0.4.1 and beta on 127.0.4.2, in its own run directory, and gslbd (2 workers)
probing them with haproxy, http and tcp checks every 300 ms (timeout 200 ms, rise 1, fall 1).
gslbd serves a round-robin service (app) and a distance service (near, with clients.networks
placing 127.0.0.0/8) on 127.0.0.1 with a port the kernel picks.

For --seconds, dnsperf sends as fast as the machine allows (4 clients, 200 outstanding) a mix
of service A/AAAA, static names and NXDOMAIN names, and meanwhile, once a second:
  - alpha flaps: both web servers stop, start, then HAProxy stops, starts, and so on;
  - gslbd's RSS is read from /proc/PID/status;
and every 5 s the configuration is rewritten (the app TTL alternates 30/31) and reloaded with
SIGHUP to gslbd's PID.

Passes when, at the end: gslbd still runs and answers a dig for app (with beta, and with alpha
again once alpha is whole); dnsperf lost at most 1% of the queries it sent; the RSS after the
run is within 10% (or 1 MiB, whichever is larger) of the RSS after a 10 s warm-up; every reload
sent logged "reload applied"; gslbd logged alpha leaving and coming back; and gslbd exits 0 on
SIGTERM. Prints one summary line. Everything started here is stopped by PID, also on failure.

Usage: python3 tests/soak/soak.py --gslbd build/gslbd [--seconds 60] [--dir DIR] [--keep]
Needs: dnsperf, dig, haproxy, nginx (Debian packages; .ci/install-deps installs them).
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SOURCE_DIR / "tests" / "sites"))
import sites as site_tools  # noqa: E402

ALPHA = "127.0.4.1"
BETA = "127.0.4.2"
ALPHA6 = "2001:db8:4::1"
BETA6 = "2001:db8:4::2"

WARMUP_SECONDS = 10.0
FLAP_EVERY = 1.0
RELOAD_EVERY = 5.0
MAX_LOST_FRACTION = 0.01
RSS_TOLERANCE_FRACTION = 0.10
RSS_TOLERANCE_KIB = 1024

# Bounds on every wait.
STARTUP_TIMEOUT = 15.0
RELOAD_LOG_TIMEOUT = 5.0
STOP_TIMEOUT = 10.0
DNSPERF_GRACE = 30.0  # beyond --seconds: dnsperf's 5 s query timeout plus slack
RECOVER_TIMEOUT = 10.0

ZONE = """\
$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                2026120401 3600 900 1209600 300 )
        IN NS   ns1.example.com.
        IN NS   ns2.example.com.
        IN MX   10 mail.example.com.
        IN TXT  "v=spf1 mx -all"
ns1     IN A    127.0.0.53
ns1     IN AAAA 2001:db8::53
ns2     IN A    127.0.0.54
mail    IN A    127.0.0.25
www     IN CNAME app.example.com.
static  IN A    127.0.0.80
*.user  IN TXT  "per-user wildcard"
"""

# dnsperf's data file: one "NAME TYPE" a line, replayed in a loop.
QUERIES = """\
app.example.com A
app.example.com AAAA
near.example.com A
near.example.com AAAA
app.example.com A
near.example.com A
www.example.com A
static.example.com A
mail.example.com A
ns1.example.com AAAA
example.com SOA
example.com NS
example.com MX
someone.user.example.com TXT
nothere.example.com A
missing.example.com AAAA
deep.nothere.example.com A
"""


def config_text(app_ttl):
    checks = []
    for name, v4, v6, lat, lon in (("alpha", ALPHA, ALPHA6, 40.42, -3.70),
                                   ("beta", BETA, BETA6, 42.36, -71.06)):
        checks.append(f"""\
  {name}:
    location: {{lat: {lat}, lon: {lon}}}
    addresses: [{v4}, "{v6}"]
    checks:
      - {{type: haproxy, url: "http://{v4}:{site_tools.STATS_PORT}/stats;csv", backend: web, min_up: 1}}
      - {{type: http, url: "http://{v4}:{site_tools.FRONTEND_PORT}/healthz", expect_status: 200}}
      - {{type: tcp, address: "{v4}:{site_tools.FRONTEND_PORT}"}}""")
    sites = "\n".join(checks)
    return f"""\
server:
  listen: ["127.0.0.1:0"]
  workers: 2
  identity: gslbd-soak

zone:
  origin: example.com.
  file: example.com.zone

health:
  interval: 300ms
  timeout: 200ms
  rise: 1
  fall: 1

sites:
{sites}

services:
  app.example.com.:
    sites: [alpha, beta]
    policy: round-robin
    ttl: {app_ttl}
  near.example.com.:
    sites: [alpha, beta]
    policy: distance
    ttl: 30

clients:
  networks:
    - {{prefix: 127.0.0.0/8, location: {{lat: 48.86, lon: 2.35}}}}
    - {{prefix: 203.0.113.0/24, location: {{lat: 40.71, lon: -74.01}}}}
"""


LISTEN_RE = re.compile(r"\blistening\b.*?\baddress=127\.0\.0\.1:(\d+)\b.*?\bproto=udp\b")
RELOAD_RE = re.compile(r"reload applied\b.*?\bgeneration=(\d+)")


class Gslbd:
    """The gslbd process; its stderr is kept in memory and copied to gslbd.log."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = Path(workdir)
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()
        self.udp_port = None
        self.pump = None

    def start(self):
        log = open(self.workdir / "gslbd.log", "w", encoding="utf-8")
        self.proc = subprocess.Popen([self.binary, "-c", "gslbd.yaml"], cwd=self.workdir,
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.PIPE)
        self.pump = threading.Thread(target=self._pump, args=(log,), daemon=True)
        self.pump.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with self.cond:
            while self.udp_port is None and self.proc.poll() is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.1))
        if self.udp_port is None:
            raise RuntimeError("gslbd logged no 'listening address=127.0.0.1:PORT proto=udp' "
                               f"within {STARTUP_TIMEOUT:.0f}s (exit status {self.proc.poll()})")

    def _pump(self, log):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            log.write(line + "\n")
            log.flush()
            with self.cond:
                self.lines.append(line)
                m = LISTEN_RE.search(line)
                if m and self.udp_port is None:
                    self.udp_port = int(m.group(1))
                self.cond.notify_all()
        log.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def count(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.lines if rx.search(line))

    def applied_generations(self):
        with self.cond:
            return {int(m.group(1)) for m in map(RELOAD_RE.search, self.lines) if m}

    def wait_generation(self, generation, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if any(m and int(m.group(1)) >= generation
                       for m in map(RELOAD_RE.search, self.lines)):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return False
                self.cond.wait(min(left, 0.1))

    def tail(self, n=40):
        with self.cond:
            return "\n".join(self.lines[-n:])

    def stop(self):
        """SIGTERM by PID; returns the exit status, or a string if it had to be killed."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
                return f"killed: no exit within {STOP_TIMEOUT:.0f}s of SIGTERM"
        if self.pump is not None:
            self.pump.join(timeout=2.0)
        return self.proc.returncode


def write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def dig_app(port):
    """The addresses of app.example.com A, or None if dig got no NOERROR answer."""
    done = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1",
                           "app.example.com", "A"], capture_output=True, text=True, timeout=15)
    if done.returncode != 0 or "status: NOERROR" not in done.stdout:
        return None
    addrs = set()
    for line in done.stdout.splitlines():
        f = line.split()
        if len(f) == 5 and not line.startswith(";") and f[3] == "A":
            addrs.add(f[4])
    return addrs


def parse_dnsperf(out):
    def num(label):
        m = re.search(rf"^\s*{label}:\s+([\d.]+)", out, re.M)
        return float(m.group(1)) if m else None

    return {"sent": num("Queries sent"), "completed": num("Queries completed"),
            "lost": num("Queries lost"), "qps": num("Queries per second")}


class Flapper:
    """Alpha, step by step on its own thread, one step a second: web servers down, up,
    HAProxy down, up. A step that overruns its second (stopping waits for the process to be
    gone) delays the next one rather than bunching them up."""

    STEPS = ("stop backends", "start backends", "stop haproxy", "start haproxy")

    def __init__(self, sites, note):
        self.sites = sites
        self.note = note
        self.flaps = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        """Stops stepping; returns False if the current step did not finish in time."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_TIMEOUT * 3)
        return not self._thread.is_alive()

    def _step(self, what):
        if what == "stop backends":
            self.sites.stop_backend("alpha", 1)
            self.sites.stop_backend("alpha", 2)
        elif what == "start backends":
            self.sites.start_backend("alpha", 1)
            self.sites.start_backend("alpha", 2)
        elif what == "stop haproxy":
            self.sites.stop_haproxy("alpha")
        else:
            self.sites.start_haproxy("alpha")

    def _run(self):
        next_at = time.monotonic() + FLAP_EVERY
        try:
            while not self._stop.wait(max(0.0, next_at - time.monotonic())):
                what = self.STEPS[self.flaps % len(self.STEPS)]
                began = time.monotonic()
                self._step(what)
                self.flaps += 1
                self.note(f"alpha: {what} ({time.monotonic() - began:.3f}s)")
                next_at = max(next_at + FLAP_EVERY, time.monotonic())
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = f"{type(e).__name__}: {e}"

    def restore(self):
        for n in (1, 2):
            self.sites.start_backend("alpha", n)
        self.sites.start_haproxy("alpha")


def soak(args, run_dir):
    failures = []
    sites = site_tools.Sites(run_dir / "sites")
    srv = None
    dnsperf = None
    flapper = None
    timeline = None
    result = {}
    try:
        sites.start({"alpha": ALPHA, "beta": BETA})

        workdir = run_dir / "gslbd"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "example.com.zone").write_text(ZONE)
        ttls = (30, 31)
        write_atomic(workdir / "gslbd.yaml", config_text(ttls[0]))
        queries = run_dir / "queries.txt"
        queries.write_text(QUERIES)

        srv = Gslbd(args.gslbd, workdir)
        srv.start()
        port = srv.udp_port
        if dig_app(port) is None:
            raise RuntimeError("gslbd does not answer app.example.com A before the soak")

        dnsperf_out = open(run_dir / "dnsperf.out", "w+", encoding="utf-8")
        dnsperf = subprocess.Popen(
            ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries),
             "-l", str(args.seconds), "-c", "4", "-q", "200"],
            stdin=subprocess.DEVNULL, stdout=dnsperf_out, stderr=subprocess.STDOUT)
        started = time.monotonic()
        warmup = min(WARMUP_SECONDS, args.seconds / 3.0)
        rss_warm = None
        rss_max = 0
        reloads = 0
        generation = 1
        next_reload = started + RELOAD_EVERY
        deadline = started + args.seconds + DNSPERF_GRACE
        flapper_stopped = False
        timeline = open(run_dir / "timeline.log", "w", encoding="utf-8")
        timeline_lock = threading.Lock()

        def note(what):
            with timeline_lock:
                timeline.write(f"{time.monotonic() - started:8.3f} {what}\n")
                timeline.flush()

        flapper = Flapper(sites, note)
        flapper.start()
        next_sample = started + FLAP_EVERY

        while dnsperf.poll() is None:
            now = time.monotonic()
            if now >= deadline:
                failures.append(f"dnsperf still running {args.seconds + DNSPERF_GRACE:.0f}s "
                                "after it started; stopped it")
                break
            if not srv.running():
                failures.append(f"gslbd exited with status {srv.proc.poll()} during the soak")
                break
            if now - started >= args.seconds:
                if not flapper_stopped:
                    flapper_stopped = True
                    if not flapper.stop():
                        failures.append("a flap step of alpha did not finish")
            else:
                if now >= next_sample:
                    next_sample += FLAP_EVERY
                    rss = srv.rss_kib()
                    if rss is not None:
                        rss_max = max(rss_max, rss)
                        if rss_warm is None and now - started >= warmup:
                            rss_warm = rss
                            note(f"rss {rss} KiB (after warm-up)")
                        else:
                            note(f"rss {rss} KiB")
                if now >= next_reload:
                    next_reload += RELOAD_EVERY
                    reloads += 1
                    generation += 1
                    write_atomic(workdir / "gslbd.yaml", config_text(ttls[reloads % 2]))
                    note(f"SIGHUP {reloads} (app ttl {ttls[reloads % 2]})")
                    os.kill(srv.proc.pid, signal.SIGHUP)
                    if srv.wait_generation(generation, RELOAD_LOG_TIMEOUT):
                        note(f"generation {generation} applied")
                    else:
                        failures.append(f"reload {reloads} (generation {generation}) not "
                                        f"logged as applied within {RELOAD_LOG_TIMEOUT:.0f}s")
            time.sleep(0.05)

        note(f"dnsperf done (status {dnsperf.poll()})")
        if not flapper_stopped and not flapper.stop():
            failures.append("a flap step of alpha did not finish")
        if flapper.error:
            failures.append(f"flapping alpha failed: {flapper.error}")
        timeline.close()
        if dnsperf.poll() is None:
            dnsperf.terminate()
            dnsperf.wait(timeout=STOP_TIMEOUT)
        elif dnsperf.returncode != 0:
            failures.append(f"dnsperf exited with status {dnsperf.returncode}")
        dnsperf_out.seek(0)
        perf_text = dnsperf_out.read()
        dnsperf_out.close()
        perf = parse_dnsperf(perf_text)
        rss_end = srv.rss_kib() if srv.running() else None
        if rss_end is not None:
            rss_max = max(rss_max, rss_end)

        # Alpha whole again, so the final answer can show it came back.
        flapper.restore()

        result.update(perf=perf, rss_warm=rss_warm, rss_end=rss_end, rss_max=rss_max,
                      reloads=reloads, flaps=flapper.flaps)

        # -- assertions ---------------------------------------------------------------------
        if None in perf.values():
            failures.append("could not read dnsperf's statistics:\n" + perf_text)
        elif perf["sent"] <= 0:
            failures.append("dnsperf sent no queries:\n" + perf_text)
        elif perf["lost"] > MAX_LOST_FRACTION * perf["sent"]:
            failures.append(f"dnsperf lost {perf['lost']:.0f} of {perf['sent']:.0f} queries "
                            f"({100.0 * perf['lost'] / perf['sent']:.3f}%, "
                            f"bound {100.0 * MAX_LOST_FRACTION:.0f}%)")

        if not srv.running():
            failures.append(f"gslbd is not running at the end (exit status {srv.proc.poll()})")
        else:
            final = dig_app(port)
            if final is None:
                failures.append("gslbd gave no NOERROR answer to the final dig")
            elif BETA not in final:
                failures.append(f"final answer {sorted(final)} lacks beta ({BETA})")
            else:
                until = time.monotonic() + RECOVER_TIMEOUT
                while final is not None and ALPHA not in final and time.monotonic() < until:
                    time.sleep(0.2)
                    final = dig_app(port)
                if final is None or ALPHA not in final:
                    failures.append(f"alpha ({ALPHA}) not back in app's answer within "
                                    f"{RECOVER_TIMEOUT:.0f}s of being restored: {final}")

        if rss_warm is None or rss_end is None:
            failures.append(f"RSS not sampled (warm-up {rss_warm}, end {rss_end})")
        else:
            allowed = max(RSS_TOLERANCE_FRACTION * rss_warm, RSS_TOLERANCE_KIB)
            if abs(rss_end - rss_warm) > allowed:
                failures.append(f"RSS {rss_warm} KiB after warm-up, {rss_end} KiB at the end: "
                                f"changed by more than {allowed:.0f} KiB")

        applied = srv.applied_generations()
        missing = [g for g in range(2, reloads + 2) if g not in applied]
        if missing:
            failures.append(f"{len(missing)} of {reloads} reloads not logged as applied "
                            f"(generations {missing})")
        if srv.count(r"reload rejected"):
            failures.append("gslbd logged a rejected reload")
        result["applied"] = reloads - len(missing)
        result["alpha_down"] = srv.count(r"site down site=alpha\b")
        result["alpha_up"] = srv.count(r"site up site=alpha\b")
        if flapper.flaps >= 4 and (result["alpha_down"] == 0 or result["alpha_up"] == 0):
            failures.append(f"alpha flapped {flapper.flaps} times but gslbd logged it going "
                            f"down {result['alpha_down']} and up {result['alpha_up']} times")
    except Exception as e:  # noqa: BLE001 - reported as a failure, cleanup follows
        failures.append(f"{type(e).__name__}: {e}")
    finally:
        if flapper is not None and not flapper.stop():
            failures.append("a flap step of alpha did not finish")
        if timeline is not None and not timeline.closed:
            timeline.close()
        if dnsperf is not None and dnsperf.poll() is None:
            dnsperf.terminate()
            try:
                dnsperf.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                dnsperf.kill()
                dnsperf.wait(timeout=STOP_TIMEOUT)
        if srv is not None and srv.proc is not None:
            rc = srv.stop()
            if rc != 0:
                failures.append(f"gslbd exited with {rc} on SIGTERM (expected 0)")
        sites.stop()
    return failures, result, srv


def summary(result, failures):
    perf = result.get("perf") or {}

    def n(key):
        v = perf.get(key)
        return "?" if v is None else f"{v:.0f}"

    lost_pct = "?"
    if perf.get("sent") and perf.get("lost") is not None:
        lost_pct = f"{100.0 * perf['lost'] / perf['sent']:.3f}%"
    qps = "?" if perf.get("qps") is None else f"{perf['qps']:.0f}"
    warm, end = result.get("rss_warm"), result.get("rss_end")
    if warm and end:
        rss = f"{warm} KiB -> {end} KiB ({100.0 * (end - warm) / warm:+.1f}%, max {result['rss_max']} KiB)"
    else:
        rss = f"{warm} -> {end}"
    return (f"soak: {'PASS' if not failures else 'FAIL'} sent={n('sent')} "
            f"completed={n('completed')} lost={n('lost')} ({lost_pct}) q/s={qps} "
            f"rss {rss} reloads={result.get('applied', '?')}/{result.get('reloads', '?')} "
            f"flaps={result.get('flaps', '?')} "
            f"(alpha down {result.get('alpha_down', '?')}x, up {result.get('alpha_up', '?')}x)")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--gslbd", required=True, help="the gslbd binary")
    p.add_argument("--seconds", type=int, default=60, help="how long dnsperf runs (default 60)")
    p.add_argument("--dir", help="run directory (default: a new temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the run directory after a pass")
    a = p.parse_args(argv)
    if a.seconds < 1:
        p.error("--seconds must be at least 1")
    a.gslbd = os.path.abspath(a.gslbd)
    if not (os.path.isfile(a.gslbd) and os.access(a.gslbd, os.X_OK)):
        print(f"soak: gslbd binary not found or not executable: {a.gslbd}", file=sys.stderr)
        return 2
    for tool in ("dnsperf", "dig", "haproxy", "nginx"):
        if shutil.which(tool) is None:
            print(f"soak: {tool} not found (bash .ci/install-deps installs it)", file=sys.stderr)
            return 2

    made = a.dir is None
    run_dir = Path(tempfile.mkdtemp(prefix="gslbd-soak-") if made else a.dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"soak: {a.seconds}s of dnsperf on {a.gslbd}, sites alpha {ALPHA} and beta {BETA}, "
          f"run dir {run_dir}", flush=True)

    failures, result, srv = soak(a, run_dir)

    for f in failures:
        print(f"soak: FAIL: {f}", file=sys.stderr)
    if failures and srv is not None:
        print("soak: last lines of gslbd's log:\n" + srv.tail(), file=sys.stderr)
        print(f"soak: logs kept in {run_dir}", file=sys.stderr)
    print(summary(result, failures), flush=True)
    if not failures and made and not a.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
