"""Fixtures for the end-to-end tests: run the real gslbd binary on loopback and query it.

Every server is started with `listen: ["127.0.0.1:0", "[::1]:0"]`; the kernel picks free ports and
the tests read them back from the server's `listening address=HOST:PORT proto=...` log lines.
Sites have no checks, so every site counts as up.

Environment:
  GSLBD_BIN         the binary under test (default: $GSLBD_SOURCE_DIR/build/gslbd)
  GSLBD_SOURCE_DIR  the source tree (default: two folders above this file)
"""

import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype
import pytest

SOURCE_DIR = Path(os.environ.get("GSLBD_SOURCE_DIR", Path(__file__).resolve().parents[2]))
GSLBD_BIN = os.environ.get("GSLBD_BIN", str(SOURCE_DIR / "build" / "gslbd"))

# Bounds for every wait in the suite.
STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
QUERY_TIMEOUT = 2.0

IDENTITY = "gslb-e2e-1"

# The TXT strings of the large RRsets used by the size and truncation tests.
TXT_100 = "".join(chr(ord("a") + i % 26) for i in range(100))


def txt_lines(owner, count):
    """`count` TXT records of 100 characters each at `owner`, distinct by their first digits."""
    return "\n".join(f'{owner} IN TXT "{i:03d}{TXT_100[3:]}"' for i in range(count))


# The test zone: the example zone plus names that exercise the corner cases of the contract.
DEFAULT_ZONE = f"""\
$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                2026120401 ; serial
                3600       ; refresh
                900        ; retry
                1209600    ; expire
                300 )      ; minimum (negative caching)
        IN NS   ns1.example.com.
        IN NS   ns2.example.com.
        IN MX   10 mail.example.com.
        IN TXT  "v=spf1 mx -all"
ns1     IN A    127.0.0.53
ns1     IN AAAA 2001:db8::53
ns2     IN A    127.0.0.54
mail    IN A    127.0.0.25
www     IN CNAME app.example.com.
docs    IN CNAME static.example.com.
dangling IN CNAME missing.example.com.
static  IN A    127.0.0.80
*.user  IN TXT  "per-user wildcard"
_dns._udp.svc IN SRV 0 0 53 ns1.example.com.
lab     IN NS   ns.lab.example.com.
ns.lab  IN A    127.0.0.99
{txt_lines("small", 3)}
{txt_lines("mid", 8)}
{txt_lines("large", 15)}
{txt_lines("big", 40)}
"""

SITES = {
    "madrid": ("127.0.1.1", "2001:db8:1::1", 40.42, -3.70),
    "boston": ("127.0.1.2", "2001:db8:1::2", 42.36, -71.06),
    "tokyo": ("127.0.1.3", "2001:db8:1::3", 35.68, 139.69),
    "sydney": ("127.0.1.4", "2001:db8:1::4", -33.87, 151.21),
    "paris": ("127.0.1.5", "2001:db8:1::5", 48.86, 2.35),
}
V4ONLY = ("v4only", "127.0.1.6", 50.11, 8.68)
FIVE = ["madrid", "boston", "tokyo", "sydney", "paris"]


def sites_yaml(sites=SITES, v4only=V4ONLY):
    out = ["sites:"]
    for name, (v4, v6, lat, lon) in sites.items():
        out.append(f"  {name}:")
        out.append(f"    location: {{lat: {lat}, lon: {lon}}}")
        out.append(f'    addresses: [{v4}, "{v6}"]')
    if v4only:
        name, v4, lat, lon = v4only
        out.append(f"  {name}:")
        out.append(f"    location: {{lat: {lat}, lon: {lon}}}")
        out.append(f"    addresses: [{v4}]")
    return "\n".join(out) + "\n"


DEFAULT_SERVICES = f"""\
services:
  app.example.com.:
    sites: [madrid, boston]
    policy: round-robin
    ttl: 30
    max_answers: 8
    when_all_down: serve-all
  five.example.com.:
    sites: [{", ".join(FIVE)}]
    policy: round-robin
    ttl: 45
    max_answers: 8
  capped.example.com.:
    sites: [{", ".join(FIVE)}]
    policy: round-robin
    ttl: 20
    max_answers: 2
  primary.example.com.:
    sites: [boston, madrid]
    policy: failover
    ttl: 60
    when_all_down: servfail
  mixed.example.com.:
    sites: [v4only, madrid]
    policy: round-robin
    ttl: 30
"""


def make_config(zone_file="example.com.zone", workers=2, tcp_idle_timeout="1s",
                sites=None, services=DEFAULT_SERVICES, identity=IDENTITY):
    """The YAML text of a test configuration listening on free loopback ports."""
    return f"""\
server:
  listen: ["127.0.0.1:0", "[::1]:0"]
  workers: {workers}
  identity: {identity}
  tcp_idle_timeout: {tcp_idle_timeout}

zone:
  origin: example.com.
  file: {zone_file}

health:
  interval: 2s
  timeout: 1s
  rise: 2
  fall: 3

{sites if sites is not None else sites_yaml()}
{services}"""


LISTEN_RE = re.compile(r"\blistening\b.*?\baddress=(\[[^\]]+\]|[^\s:]+):(\d+)(?:.*?\bproto=(\w+))?")


class Gslbd:
    """One running gslbd process, its log lines and the ports it listens on."""

    def __init__(self, workdir, config_name="gslbd.yaml", config_flag="-c"):
        self.workdir = Path(workdir)
        self.config_name = config_name
        self.config_flag = config_flag
        self.proc = None
        self.lines = []
        self._cond = threading.Condition()
        self.ports = {}  # (host, proto) -> port

    # -- lifecycle --------------------------------------------------------------------------

    def start(self):
        if not os.path.isfile(GSLBD_BIN) or not os.access(GSLBD_BIN, os.X_OK):
            pytest.fail(f"gslbd binary not found or not executable: {GSLBD_BIN} "
                        "(build it, or set GSLBD_BIN)")
        # The config is passed relative to the working directory, as an operator would.
        self.proc = subprocess.Popen([GSLBD_BIN, self.config_flag, self.config_name], cwd=self.workdir,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        for stream, tag in ((self.proc.stderr, ""), (self.proc.stdout, "stdout: ")):
            threading.Thread(target=self._pump, args=(stream, tag), daemon=True).start()
        self._wait_listening()
        return self

    def _pump(self, stream, tag):
        for raw in iter(stream.readline, b""):
            line = tag + raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.lines.append(line)
                if not tag:
                    m = LISTEN_RE.search(line)
                    if m:
                        host = m.group(1).strip("[]")
                        self.ports[(host, (m.group(3) or "udp").lower())] = int(m.group(2))
                self._cond.notify_all()
        stream.close()

    def _have_all_listeners(self):
        return all((h, "udp") in self.ports for h in ("127.0.0.1", "::1"))

    def _wait_listening(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with self._cond:
            while not self._have_all_listeners():
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self._cond.wait(min(left, 0.1))
            ok = self._have_all_listeners()
        if not ok:
            rc = self.proc.poll()
            if rc is None:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
                why = f"no 'listening address=... proto=udp' line for both 127.0.0.1 and ::1 " \
                      f"within {STARTUP_TIMEOUT:.0f}s"
            else:
                why = f"gslbd exited with status {rc} before listening"
            time.sleep(0.2)  # let the pumps catch the last lines
            pytest.fail(f"{why}; ports seen: {self.ports}; output:\n" + self.log_text())
        # TCP listeners are logged right beside the UDP ones; give them a moment to show up.
        deadline = time.monotonic() + 1.0
        with self._cond:
            while not all((h, "tcp") in self.ports for h in ("127.0.0.1", "::1")):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.1))

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        """Stops the server by its PID and returns its exit status (killing it after a bound)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
                return "killed after timeout"
        return self.proc.returncode

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- logs -------------------------------------------------------------------------------

    def log_text(self):
        with self._cond:
            return "\n".join(self.lines)

    def line_count(self):
        with self._cond:
            return len(self.lines)

    def wait_for_line(self, pattern, start=0, timeout=5.0):
        """The first log line from index `start` on matching `pattern`, or None after timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))

    # -- addresses --------------------------------------------------------------------------

    def addr(self, proto="udp", family=4):
        host = "127.0.0.1" if family == 4 else "::1"
        port = self.ports.get((host, proto)) or self.ports[(host, "udp")]
        return host, port

    # -- queries ----------------------------------------------------------------------------

    def query(self, msg, proto="udp", family=4, timeout=QUERY_TIMEOUT):
        """Sends a dnspython message and returns the parsed answer."""
        host, port = self.addr(proto, family)
        if proto == "udp":
            return dns.query.udp(msg, host, port=port, timeout=timeout)
        return dns.query.tcp(msg, host, port=port, timeout=timeout)

    def ask(self, name, rdtype="A", proto="udp", family=4, rdclass="IN", **kw):
        """Queries `name`/`rdtype` (EDNS 0 unless use_edns=False is given)."""
        kw.setdefault("use_edns", 0)
        msg = dns.message.make_query(name, rdtype, rdclass, **kw)
        return self.query(msg, proto=proto, family=family)

    def udp_raw(self, data, family=4, timeout=QUERY_TIMEOUT):
        """Sends raw bytes over UDP; returns the reply bytes, or None when nothing came back."""
        return udp_exchange(self.addr("udp", family), data, timeout)

    def tcp_connect(self, family=4, timeout=QUERY_TIMEOUT):
        host, port = self.addr("tcp", family)
        fam = socket.AF_INET if family == 4 else socket.AF_INET6
        sock = socket.socket(fam, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((host, port))
        return sock

    def dig(self, *args, tool="dig", family=4):
        return run_dig(self.addr("udp", family), *args, tool=tool)


def udp_exchange(addr, data, timeout=QUERY_TIMEOUT):
    host, port = addr
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(data, (host, port))
        try:
            reply, _ = sock.recvfrom(65535)
            return reply
        except socket.timeout:
            return None


def recv_exact(sock, n):
    """Reads exactly n bytes; returns fewer only if the peer closed the connection."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_read_message(sock):
    """Reads one 2-byte-length-framed DNS message; None if the connection closed first."""
    head = recv_exact(sock, 2)
    if len(head) < 2:
        return None
    (length,) = struct.unpack("!H", head)
    body = recv_exact(sock, length)
    assert len(body) == length, f"connection closed after {len(body)} of {length} bytes"
    return body


def frame(wire):
    return struct.pack("!H", len(wire)) + wire


def run_dig(addr, *args, tool="dig"):
    """Runs dig or kdig against the server; returns (exit status, stdout + stderr)."""
    host, port = addr
    if tool == "dig":
        cmd = ["dig", f"@{host}", "-p", str(port), "+time=2", "+tries=1", *args]
    elif tool == "kdig":
        cmd = ["kdig", f"@{host}", "-p", str(port), "+time=2", "+retry=0", *args]
    else:
        cmd = ["drill", "-p", str(port), *args, f"@{host}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    return done.returncode, done.stdout + done.stderr


def rrs(section):
    """A section as sorted 'owner ttl class type rdata' lines, for whole-section comparison."""
    out = []
    for rrset in section:
        for line in rrset.to_text().splitlines():
            out.append(" ".join(line.split()))
    return sorted(out)


def rrs_no_ttl(section):
    out = []
    for rrset in section:
        for rd in rrset:
            out.append(f"{rrset.name} {dns.rdataclass.to_text(rrset.rdclass)} "
                       f"{dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}")
    return sorted(out)


def write_setup(workdir, config=None, zone=DEFAULT_ZONE, config_name="gslbd.yaml",
                zone_name="example.com.zone"):
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / zone_name).write_text(zone)
    (workdir / config_name).write_text(config if config is not None
                                       else make_config(zone_file=zone_name))
    return workdir


@pytest.fixture
def start_gslbd(tmp_path):
    """Factory: start_gslbd(config=..., zone=...) starts a server in a fresh folder.

    Every server started is stopped with SIGTERM at the end of the test, which must exit 0.
    """
    started = []

    def start(config=None, zone=DEFAULT_ZONE, subdir="srv"):
        workdir = write_setup(tmp_path / subdir, config=config, zone=zone)
        srv = Gslbd(workdir)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        if srv.running():
            rc = srv.stop()
            assert rc == 0, f"gslbd exited with {rc} on SIGTERM; output:\n{srv.log_text()}"


@pytest.fixture(scope="module")
def gslbd(tmp_path_factory):
    """One server per test module with the default test config and zone."""
    workdir = write_setup(tmp_path_factory.mktemp("gslbd"))
    srv = Gslbd(workdir).start()
    yield srv
    rc = srv.stop()
    assert rc == 0, f"gslbd exited with {rc} on SIGTERM; output:\n{srv.log_text()}"
