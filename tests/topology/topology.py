#!/usr/bin/python3
"""gslbd in its real deployment, on one machine: network namespaces joined by veth pairs and
bridges, each namespace a host running the real daemon it would run in production.

    cloud A  192.0.2.0/24          cloud B  198.51.100.0/24        core  203.0.113.0/24
    a-lb1 .11  keepalived+haproxy  b-lb1 .11  keepalived+haproxy   client    .10  dig
    a-lb2 .12  keepalived+haproxy  b-lb2 .12  keepalived+haproxy   resolver  .53  unbound
    a-web1 .21, a-web2 .22  nginx  b-web1 .21, b-web2 .22  nginx
    ns1 .53  gslbd                 ns2 .53  gslbd
    VIP .100 (VRRP, unicast)       VIP .100 (VRRP, unicast)
                       rt: .1 on every network, forwards between them

The bridges live in a namespace of their own ("sw"), so nothing is added to the machine's own
network namespace and deleting the namespaces removes every link. Every namespace name starts
with a prefix unique to the run; teardown deletes only those, and stops only the processes this
module started, by PID. Only documentation addresses (RFC 5737) are used.

Run by hand, as root, to explore it:
    python3 tests/topology/topology.py --gslbd build/gslbd up
prints the namespaces and waits for Ctrl-C, then tears everything down.
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SERVICE = "app.example.com."

# Health checks of both gslbd instances. fall x interval has to outlast a VRRP takeover (see
# VRRP_ADVERT) with room to spare, or a routine load-balancer failover would drop the cloud.
CHECK_INTERVAL = 0.4
CHECK_TIMEOUT = 0.3
CHECK_RISE = 2
CHECK_FALL = 5
SERVICE_TTL = 2

# VRRP advertisement interval (VRRPv3 allows fractions of a second). A backup takes over after
# 3 x advert + skew, skew = (256 - priority) / 256 x advert: about 1.1 s at 0.3 s.
VRRP_ADVERT = 0.3
# HAProxy checks its web servers this often and marks one DOWN after HAPROXY_FALL failures.
HAPROXY_INTER_MS = 300
HAPROXY_FALL = 2
# A fresh keepalived pair elects its master within 3 advertisements or so; this bounds the wait.
VIP_SETTLE_BOUND = 3 * VRRP_ADVERT + 4.0

CORE_NET = "203.0.113"
CLIENT = f"{CORE_NET}.10"
RESOLVER = f"{CORE_NET}.53"
ROUTER_HOST = 1
WANTED_TOOLS = ("ip", "keepalived", "haproxy", "nginx", "unbound", "dig")


@dataclass(frozen=True)
class Cloud:
    """One site: two load balancers sharing a VIP, two web servers, one gslbd instance."""

    key: str  # "a" or "b": the prefix of its host names
    net: str  # first three octets of its /24
    vrid: int
    ns_host: str  # the gslbd instance that lives in this cloud

    @property
    def name(self):
        return f"cloud-{self.key}"

    @property
    def vip(self):
        return f"{self.net}.100"

    @property
    def ns_address(self):
        return f"{self.net}.53"

    def lb(self, n):
        return f"{self.key}-lb{n}"

    def lb_address(self, n):
        return f"{self.net}.{10 + n}"

    def web(self, n):
        return f"{self.key}-web{n}"

    def web_address(self, n):
        return f"{self.net}.{20 + n}"


CLOUDS = (Cloud("a", "192.0.2", 51, "ns1"), Cloud("b", "198.51.100", 52, "ns2"))


# -- configuration files -------------------------------------------------------------------------

def keepalived_conf(cloud, n):
    """Unicast VRRP: lb1 starts as master with the higher priority, lb2 waits as backup."""
    peer = cloud.lb_address(3 - n)
    return f"""\
global_defs {{
    router_id {cloud.lb(n)}
    vrrp_version 3
    enable_script_security
}}

vrrp_instance {cloud.name.replace("-", "_")} {{
    state {"MASTER" if n == 1 else "BACKUP"}
    interface eth0
    virtual_router_id {cloud.vrid}
    priority {150 if n == 1 else 100}
    advert_int {VRRP_ADVERT}
    unicast_src_ip {cloud.lb_address(n)}
    unicast_peer {{
        {peer}
    }}
    virtual_ipaddress {{
        {cloud.vip}/24 dev eth0
    }}
}}
"""


def haproxy_cfg(cloud):
    """Bound to the VIP on both load balancers (ip_nonlocal_bind); only the VRRP master gets
    traffic. The stats page on VIP:8404 is what gslbd's haproxy check reads."""
    return f"""\
global
    log stderr format short local0 notice

defaults
    mode http
    log global
    timeout connect 500ms
    timeout client 5s
    timeout server 5s

frontend web
    bind {cloud.vip}:80
    default_backend web

backend web
    option httpchk GET /
    default-server inter {HAPROXY_INTER_MS}ms fall {HAPROXY_FALL} rise 2
    server web1 {cloud.web_address(1)}:80 check
    server web2 {cloud.web_address(2)}:80 check

listen stats
    bind {cloud.vip}:8404
    stats enable
    stats uri /stats
"""


def nginx_conf(cloud, n, run):
    return f"""\
worker_processes 1;
pid {run}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen {cloud.web_address(n)}:80;
        location / {{ default_type text/plain; return 200 "{cloud.name} web{n}\\n"; }}
    }}
}}
"""


def zone_text():
    ns = {c.ns_host: c.ns_address for c in CLOUDS}
    return f"""\
$ORIGIN example.com.
$TTL 300
@       IN SOA  ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 2
        IN NS   ns1.example.com.
        IN NS   ns2.example.com.
ns1     IN A    {ns["ns1"]}
ns2     IN A    {ns["ns2"]}
"""


def gslbd_yaml(listen, identity):
    """The configuration of every gslbd instance: only `listen` and `identity` differ."""
    sites = []
    for c in CLOUDS:
        sites += [
            f"  {c.name}:",
            f"    addresses: [{c.vip}]",
            "    checks:",
            f'      - {{type: haproxy, url: "http://{c.vip}:8404/stats;csv", backend: web}}',
            f'      - {{type: http, url: "http://{c.vip}/", expect_status: 200}}',
            f'      - {{type: tcp, address: "{c.vip}:80"}}',
        ]
    site_names = ", ".join(c.name for c in CLOUDS)
    sites_text = "\n".join(sites)
    return f"""\
server:
  listen: ["{listen}:53"]
  workers: 1
  identity: {identity}

zone:
  origin: example.com.
  file: example.com.zone

health:
  interval: {int(CHECK_INTERVAL * 1000)}ms
  timeout: {int(CHECK_TIMEOUT * 1000)}ms
  rise: {CHECK_RISE}
  fall: {CHECK_FALL}

sites:
{sites_text}

services:
  {SERVICE}:
    sites: [{site_names}]
    policy: round-robin
    ttl: {SERVICE_TTL}
    when_all_down: serve-all
"""


def unbound_conf(run):
    """A recursive resolver for the core network whose stub zone example.com. points at both
    gslbd instances. The cache never holds an answer longer than the service TTL."""
    stubs = "\n".join(f"    stub-addr: {c.ns_address}" for c in CLOUDS)
    return f"""\
server:
    interface: {RESOLVER}
    port: 53
    access-control: 0.0.0.0/0 refuse
    access-control: {CORE_NET}.0/24 allow
    do-ip6: no
    do-not-query-localhost: no
    username: ""
    chroot: ""
    directory: "{run}"
    pidfile: "{run}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    module-config: "iterator"
    cache-max-ttl: {SERVICE_TTL}
    cache-max-negative-ttl: 1
    prefetch: no

stub-zone:
    name: "example.com."
{stubs}
"""


# -- the lab -------------------------------------------------------------------------------------

class LabError(RuntimeError):
    pass


class Proc:
    """One process started in a namespace; `popen.pid` is the daemon itself, since
    `ip netns exec` replaces itself with the command."""

    def __init__(self, key, host, popen, log):
        self.key, self.host, self.popen, self.log = key, host, popen, log

    def running(self):
        return self.popen.poll() is None

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def missing_tools():
    return [t for t in WANTED_TOOLS if shutil.which(t) is None]


def namespaces_unavailable():
    """Why this machine cannot run the lab, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"gslbprobe{os.getpid()}{secrets.token_hex(2)}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True,
                          timeout=10)
    if done.returncode != 0:
        return f"ip netns add failed: {done.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


class Lab:
    """The namespaces, links and processes of one run, and how to break and mend them."""

    def __init__(self, workdir, gslbd_bin, verbose=True):
        self.dir = Path(workdir)
        self.gslbd_bin = str(gslbd_bin)
        self.prefix = f"gslbt{os.getpid() % 100000}{secrets.token_hex(2)}-"
        self.namespaces = []
        self.gateways = {}
        self.procs = {}
        self.order = []
        self.verbose = verbose
        self.t0 = time.monotonic()
        self.timeline = []

    # -- bookkeeping --------------------------------------------------------------------------

    def event(self, what):
        """Notes a step of the scenario with its time since the lab started."""
        t = time.monotonic() - self.t0
        self.timeline.append((t, what))
        if self.verbose:
            print(f"[{t:7.2f}s] {what}", flush=True)

    def ns(self, host):
        return self.prefix + host

    def ip(self, *args, host=None, check=True):
        cmd = ["ip"] + (["-n", self.ns(host)] if host else []) + list(args)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        if check and done.returncode != 0:
            raise LabError(f"{' '.join(cmd)}: {done.stderr.strip()}")
        return done

    def run(self, host, *cmd, check=True, timeout=10):
        done = subprocess.run(["ip", "netns", "exec", self.ns(host), *cmd],
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise LabError(f"{host}: {' '.join(cmd)}: {done.stderr.strip()}")
        return done

    # -- building -----------------------------------------------------------------------------

    def add_host(self, host):
        self.ip("netns", "add", self.ns(host))
        self.namespaces.append(self.ns(host))
        self.ip("link", "set", "lo", "up", host=host)

    def wire(self, host, bridge, address, ifname="eth0", gateway=True):
        """Plugs `host` into `bridge` with a veth pair created inside the switch namespace."""
        port = f"{host}-{ifname}"[-15:]
        self.ip("link", "add", port, "type", "veth", "peer", "name", ifname, "netns",
                self.ns(host), host="sw")
        self.ip("link", "set", port, "master", bridge, "up", host="sw")
        self.ip("addr", "add", f"{address}/24", "dev", ifname, host=host)
        self.ip("link", "set", ifname, "up", host=host)
        if gateway:
            net = address.rsplit(".", 1)[0]
            self.gateways[host] = f"{net}.{ROUTER_HOST}"
            self.ip("route", "add", "default", "via", self.gateways[host], host=host)

    def build(self):
        """Creates every namespace and link, then starts every daemon, bottom up."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.add_host("sw")
        nets = {c.key: c.net for c in CLOUDS} | {"core": CORE_NET}
        for key in nets:
            self.ip("link", "add", f"br-{key}", "type", "bridge", host="sw")
            self.ip("link", "set", f"br-{key}", "up", host="sw")

        self.add_host("rt")
        for key, net in nets.items():
            self.wire("rt", f"br-{key}", f"{net}.{ROUTER_HOST}", ifname=f"eth-{key}",
                      gateway=False)
        self.run("rt", "sysctl", "-qw", "net.ipv4.ip_forward=1")

        for c in CLOUDS:
            for n in (1, 2):
                self.add_host(c.web(n))
                self.wire(c.web(n), f"br-{c.key}", c.web_address(n))
                self.add_host(c.lb(n))
                self.wire(c.lb(n), f"br-{c.key}", c.lb_address(n))
                self.run(c.lb(n), "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1")
            self.add_host(c.ns_host)
            self.wire(c.ns_host, f"br-{c.key}", c.ns_address)
        for host, address in (("client", CLIENT), ("resolver", RESOLVER)):
            self.add_host(host)
            self.wire(host, "br-core", address)
        self.event("namespaces, bridges and routes up")

        for c in CLOUDS:
            for n in (1, 2):
                self.start_web(c, n)
            for n in (1, 2):
                self.start_lb(c, n)
        for c in CLOUDS:
            self.wait_vip(c, c.lb(1), VIP_SETTLE_BOUND)
        self.event("VIPs held by a-lb1 and b-lb1")
        self.start_resolver()
        for c in CLOUDS:
            self.start_gslbd(c)
        self.event("every daemon started")
        return self

    # -- processes ----------------------------------------------------------------------------

    def spawn(self, key, host, cmd, cwd=None):
        """Starts `cmd` in `host`'s namespace, its output in logs/KEY.log."""
        if key in self.procs and self.procs[key].running():
            raise LabError(f"{key} is already running")
        logs = self.dir / "logs"
        logs.mkdir(exist_ok=True)
        log = logs / f"{key}.log"
        with open(log, "ab") as out:
            # Same process group as the test: if the test run is killed as a group, the
            # daemons go with it instead of outliving their namespaces.
            popen = subprocess.Popen(["ip", "netns", "exec", self.ns(host), *cmd], cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT)
        proc = Proc(key, host, popen, log)
        self.procs[key] = proc
        if key not in self.order:
            self.order.append(key)
        return proc

    def stop(self, key, sig=signal.SIGTERM, timeout=5.0):
        """Stops one process by its PID (SIGKILL after `timeout`); returns its exit status."""
        return self.stop_all({key: sig}, timeout)[key]

    def stop_all(self, signals, timeout=5.0):
        """Signals every process of `signals` ({key: signal}) at once, then waits for each
        (SIGKILL after `timeout`); returns {key: exit status}."""
        sent = {}
        for key, sig in signals.items():
            proc = self.procs.get(key)
            if proc is not None and proc.running():
                proc.popen.send_signal(sig)
            sent[key] = proc
        status = {}
        for key, proc in sent.items():
            if proc is None:
                status[key] = None
                continue
            try:
                status[key] = proc.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                status[key] = proc.popen.wait(timeout=timeout)
        return status

    def wait_log(self, key, pattern, timeout, start=0):
        """Waits until process `key`'s log, from character `start` on, matches `pattern`;
        raises if the process exits or the time runs out."""
        rx = re.compile(pattern)
        proc = self.procs[key]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if rx.search(proc.log_text()[start:]):
                return
            if not proc.running():
                break
            time.sleep(0.05)
        raise LabError(f"{key}: no /{pattern}/ in its log within {timeout:.1f}s "
                       f"(running={proc.running()}):\n{proc.log_text()[-3000:]}")

    def wait_port(self, host, address, port, timeout=5.0):
        """Waits until `address:port` accepts TCP connections from inside `host`."""
        probe = ("import socket,sys\n"
                 f"socket.create_connection(('{address}', {port}), timeout=0.3).close()\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run(host, sys.executable, "-c", probe, check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise LabError(f"{address}:{port} not reachable from {host} within {timeout:.1f}s")

    def start_web(self, cloud, n):
        run = self.dir / cloud.web(n)
        run.mkdir(exist_ok=True)
        conf = run / "nginx.conf"
        conf.write_text(nginx_conf(cloud, n, run))
        self.spawn(cloud.web(n), cloud.web(n),
                   ["nginx", "-c", str(conf), "-p", str(run), "-g", "daemon off;"])
        self.wait_port(cloud.web(n), cloud.web_address(n), 80)

    def stop_webs(self, cloud):
        """Stops both web servers of `cloud` at the same moment."""
        self.stop_all({cloud.web(n): signal.SIGTERM for n in (1, 2)})

    def start_lb(self, cloud, n):
        """HAProxy, then keepalived, on load balancer `n` of `cloud`."""
        host = cloud.lb(n)
        run = self.dir / host
        run.mkdir(exist_ok=True)
        cfg = run / "haproxy.cfg"
        cfg.write_text(haproxy_cfg(cloud))
        self.spawn(f"{host}-haproxy", host, ["haproxy", "-db", "-f", str(cfg)])
        conf = run / "keepalived.conf"
        conf.write_text(keepalived_conf(cloud, n))
        self.spawn(f"{host}-keepalived", host,
                   ["keepalived", "-n", "-l", "-D", "-G", "-P", "-f", str(conf),
                    "-p", str(run / "keepalived.pid"), "-r", str(run / "vrrp.pid"),
                    "-c", str(run / "checkers.pid")])

    def kill_lbs(self, cloud):
        """Both load balancers of `cloud` die at the same moment: HAProxy is killed outright,
        keepalived is stopped (SIGTERM, so it gives the VIP up rather than leave it behind)."""
        signals = {}
        for n in (1, 2):
            signals[f"{cloud.lb(n)}-haproxy"] = signal.SIGKILL
            signals[f"{cloud.lb(n)}-keepalived"] = signal.SIGTERM
        self.stop_all(signals)

    def set_link(self, host, up):
        """Pulls (or plugs back) `host`'s network cable: its eth0 goes down or up. The kernel
        drops the default route with the link, so plugging back restores it."""
        self.ip("link", "set", "eth0", "up" if up else "down", host=host)
        if up:
            self.ip("route", "replace", "default", "via", self.gateways[host], host=host)

    def vip_holder(self, cloud):
        """The load balancers whose eth0 has the cloud's VIP right now."""
        held = []
        for n in (1, 2):
            out = self.ip("-4", "-o", "addr", "show", "dev", "eth0", host=cloud.lb(n),
                          check=False).stdout
            if f" {cloud.vip}/" in out:
                held.append(cloud.lb(n))
        return held

    def wait_vip(self, cloud, holder, timeout):
        """Waits until exactly `holder` has the cloud's VIP; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.vip_holder(cloud) == [holder]:
                return time.monotonic() - start
            time.sleep(0.05)
        raise LabError(f"{cloud.vip} not on {holder} within {timeout:.1f}s "
                       f"(held by {self.vip_holder(cloud)})")

    def start_resolver(self):
        run = self.dir / "resolver"
        run.mkdir(exist_ok=True)
        conf = run / "unbound.conf"
        conf.write_text(unbound_conf(run))
        self.spawn("unbound", "resolver", ["unbound", "-d", "-c", str(conf)])
        self.wait_port("resolver", RESOLVER, 53)

    def start_gslbd(self, cloud, wait_ready=True):
        host = cloud.ns_host
        run = self.dir / host
        run.mkdir(exist_ok=True)
        (run / "example.com.zone").write_text(zone_text())
        (run / "gslbd.yaml").write_text(gslbd_yaml(cloud.ns_address, host))
        # The log file is appended to across restarts: only lines of this start count.
        log = self.dir / "logs" / f"{host}.log"
        mark = len(log.read_text(errors="replace")) if log.exists() else 0
        self.spawn(host, host, [self.gslbd_bin, "-c", "gslbd.yaml"], cwd=run)
        if wait_ready:
            self.wait_log(host, r"server: answering", timeout=10.0, start=mark)

    # -- queries from the client ----------------------------------------------------------------

    def ask(self, name=SERVICE, server=RESOLVER, timeout=1, tries=1):
        """dig from the client host: (rcode, sorted addresses), or (None, []) when no answer."""
        done = self.run("client", "dig", f"@{server}", name, "A", f"+time={timeout}",
                        f"+tries={tries}", "+noall", "+comments", "+answer",
                        check=False, timeout=timeout * tries + 5)
        m = re.search(r"status: (\w+)", done.stdout)
        if not m:
            return None, []
        addrs = re.findall(r"\sIN\s+A\s+(\S+)", done.stdout)
        return m.group(1), sorted(addrs)

    # -- teardown -----------------------------------------------------------------------------

    def teardown(self):
        """Stops every process started here, by PID, then deletes this run's namespaces.
        Runs to the end whatever fails, and reports what it could not undo."""
        problems = []
        for key in reversed(self.order):
            try:
                self.stop(key, timeout=3.0)
            except Exception as e:  # keep going: the namespaces must go too
                problems.append(f"stop {key}: {e}")
        for name in reversed(self.namespaces):
            done = subprocess.run(["ip", "netns", "del", name], capture_output=True,
                                  text=True, timeout=10)
            if done.returncode != 0:
                problems.append(f"ip netns del {name}: {done.stderr.strip()}")
        self.namespaces.clear()
        return problems


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["up"])
    p.add_argument("--gslbd", required=True, help="the gslbd binary")
    p.add_argument("--dir", default=None, help="work folder (default: a new one under /tmp)")
    a = p.parse_args(argv)
    why = namespaces_unavailable()
    if why:
        print(f"topology: cannot run here: {why}", file=sys.stderr)
        return 1
    missing = missing_tools()
    if missing:
        print(f"topology: missing tools: {' '.join(missing)} (bash .ci/install-deps)",
              file=sys.stderr)
        return 1
    workdir = a.dir or subprocess.run(["mktemp", "-d", "/tmp/gslbd-topology.XXXXXX"],
                                      capture_output=True, text=True).stdout.strip()
    lab = Lab(workdir, Path(a.gslbd).resolve())
    try:
        lab.build()
        print(f"topology: up in {workdir}; namespaces: {' '.join(lab.namespaces)}")
        print(f"topology: try  ip netns exec {lab.ns('client')} dig @{RESOLVER} {SERVICE}")
        print("topology: Ctrl-C tears it down")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        for problem in lab.teardown():
            print(f"topology: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
