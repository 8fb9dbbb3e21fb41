#!/usr/bin/python3
"""Real sites on loopback: per site one HAProxy (stats page, a frontend with /healthz) in front
of two nginx web servers. Used by the demo (.ci/demo) and by the end-to-end health tests.

A site lives on one loopback address (127.0.0.11 for madrid...):
  ADDRESS:8080  HAProxy frontend; /healthz answers 200 while at least one web server is up
  ADDRESS:8404  HAProxy stats; /stats;csv is what gslbd's haproxy check reads
  ADDRESS:9001, ADDRESS:9002  the two nginx web servers (backend "web", servers web1 and web2)

Every process runs daemonised with a PID file under the run directory and is stopped by that
PID, never by name.

Command line:
  sites.py start [--dir DIR] [--site NAME=ADDRESS ...]   start sites (default: madrid, boston)
  sites.py stop-backend SITE N [--dir DIR]                stop web server N (1 or 2) of SITE
  sites.py start-backend SITE N [--dir DIR]               start it again
  sites.py stop-haproxy SITE [--dir DIR] / start-haproxy SITE [--dir DIR]
  sites.py stop [--dir DIR]                               stop everything under DIR
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DIR = Path("/tmp/gslbd-demo-sites")
DEFAULT_SITES = {"madrid": "127.0.0.11", "boston": "127.0.0.12"}
FRONTEND_PORT = 8080
STATS_PORT = 8404
BACKEND_PORTS = (9001, 9002)
# HAProxy checks its web servers this often; a stopped server is DOWN after fall x inter.
BACKEND_CHECK_INTER_MS = 300

HAPROXY_CFG = """\
global
    log stderr format short local0 warning

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind {address}:{frontend}
    monitor-uri /healthz
    monitor fail if {{ nbsrv(web) lt 1 }}
    default_backend web

backend web
    option httpchk GET /
    default-server inter {inter}ms fall 2 rise 2
    server web1 {address}:{b1} check
    server web2 {address}:{b2} check

listen stats
    bind {address}:{stats}
    stats enable
    stats uri /stats
    stats refresh 5s
{auth}"""

NGINX_CFG = """\
daemon on;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen {address}:{port};
        location / {{ default_type text/plain; return 200 "{site} web{n}\\n"; }}
    }}
}}
"""


def _pid(path):
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return None if _zombie(pid) else pid


def _zombie(pid):
    """A process that has exited but not been reaped yet (state Z) counts as stopped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _stop_pidfile(path, timeout=5.0):
    pid = _pid(path)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        if _zombie(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)


def _wait_port(address, port, timeout=5.0):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Sites:
    """The sites under one run directory."""

    def __init__(self, run_dir=DEFAULT_DIR):
        self.dir = Path(run_dir)

    def _site_dir(self, site):
        return self.dir / site

    def address(self, site):
        return (self._site_dir(site) / "address").read_text().strip()

    def start(self, sites=None, stats_auth=None):
        """Starts `sites` ({name: address}); `stats_auth` ({name: "user:password"}) puts a
        site's stats page behind basic auth."""
        for site, address in (sites or DEFAULT_SITES).items():
            d = self._site_dir(site)
            d.mkdir(parents=True, exist_ok=True)
            (d / "address").write_text(address + "\n")
            auth = (stats_auth or {}).get(site)
            if auth:
                (d / "stats_auth").write_text(auth + "\n")
            for n in (1, 2):
                self.start_backend(site, n)
            self.start_haproxy(site)
        return self

    def start_backend(self, site, n):
        address = self.address(site)
        run = self._site_dir(site) / f"web{n}"
        run.mkdir(parents=True, exist_ok=True)
        if _pid(run / "nginx.pid") is not None:
            return
        conf = run / "nginx.conf"
        conf.write_text(NGINX_CFG.format(run=run, address=address, port=BACKEND_PORTS[n - 1],
                                         site=site, n=n))
        subprocess.run(["nginx", "-c", str(conf), "-p", str(run)], check=True,
                       stdout=subprocess.DEVNULL)
        if not _wait_port(address, BACKEND_PORTS[n - 1]):
            raise RuntimeError(f"nginx {site} web{n} did not listen on {address}")

    def stop_backend(self, site, n):
        _stop_pidfile(self._site_dir(site) / f"web{n}" / "nginx.pid")

    def start_haproxy(self, site):
        address = self.address(site)
        run = self._site_dir(site) / "haproxy"
        run.mkdir(parents=True, exist_ok=True)
        if _pid(run / "haproxy.pid") is not None:
            return
        conf = run / "haproxy.cfg"
        auth_file = self._site_dir(site) / "stats_auth"
        auth = f"    stats auth {auth_file.read_text().strip()}\n" if auth_file.exists() else ""
        conf.write_text(HAPROXY_CFG.format(run=run, address=address, frontend=FRONTEND_PORT, auth=auth,
                                           stats=STATS_PORT, b1=BACKEND_PORTS[0],
                                           b2=BACKEND_PORTS[1], inter=BACKEND_CHECK_INTER_MS))
        subprocess.run(["haproxy", "-D", "-f", str(conf), "-p", str(run / "haproxy.pid")],
                       check=True, stdout=subprocess.DEVNULL)
        if not _wait_port(address, STATS_PORT):
            raise RuntimeError(f"haproxy {site} did not listen on {address}:{STATS_PORT}")

    def stop_haproxy(self, site):
        _stop_pidfile(self._site_dir(site) / "haproxy" / "haproxy.pid")

    def stop(self):
        if not self.dir.exists():
            return
        for d in sorted(p for p in self.dir.iterdir() if p.is_dir()):
            _stop_pidfile(d / "haproxy" / "haproxy.pid")
            for n in (1, 2):
                _stop_pidfile(d / f"web{n}" / "nginx.pid")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("command", choices=["start", "stop", "stop-backend", "start-backend",
                                       "stop-haproxy", "start-haproxy"])
    p.add_argument("args", nargs="*")
    p.add_argument("--dir", default=str(DEFAULT_DIR))
    p.add_argument("--site", action="append", default=[], metavar="NAME=ADDRESS")
    a = p.parse_args(argv)
    sites = Sites(a.dir)
    if a.command == "start":
        chosen = dict(s.split("=", 1) for s in a.site) or None
        sites.start(chosen)
        for site in (chosen or DEFAULT_SITES):
            address = sites.address(site)
            print(f"site {site}: haproxy http://{address}:{STATS_PORT}/stats "
                  f"frontend http://{address}:{FRONTEND_PORT}/ "
                  f"web servers {address}:{BACKEND_PORTS[0]} {address}:{BACKEND_PORTS[1]}")
    elif a.command == "stop":
        sites.stop()
    elif a.command in ("stop-backend", "start-backend"):
        if len(a.args) != 2 or a.args[1] not in ("1", "2"):
            p.error(f"{a.command} needs SITE and N (1 or 2)")
        getattr(sites, a.command.replace("-", "_"))(a.args[0], int(a.args[1]))
    else:
        if len(a.args) != 1:
            p.error(f"{a.command} needs SITE")
        getattr(sites, a.command.replace("-", "_"))(a.args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
