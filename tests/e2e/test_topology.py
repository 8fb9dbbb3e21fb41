"""gslbd in its real deployment: two clouds, each a keepalived pair with HAProxy in front of two
nginx web servers; two gslbd instances; an Unbound resolver whose stub zone points at them; a
client that asks the resolver with dig. Everything runs in network namespaces on documentation
addresses (tests/topology/topology.py draws the map).

The tests run in file order against one topology; each one breaks something, checks what the
client sees through the resolver, and mends it before the next. Every bound comes from the
intervals in topology.py: a cloud must leave the answers within fall x interval + timeout (the
checks) + the service TTL (the resolver's cache), and stay in them through a VRRP takeover, which
is shorter than fall x interval. Run with `pytest -s` to see the timeline and the failover times.

Needs root and network namespaces; skipped, with the reason, where the machine does not allow
them.
"""

import os
import signal
import sys
import time

import pytest

from conftest import GSLBD_BIN, SOURCE_DIR

sys.path.insert(0, str(SOURCE_DIR / "tests" / "topology"))
import topology as topo  # noqa: E402

CLOUD_A, CLOUD_B = topo.CLOUDS
BOTH = sorted([CLOUD_A.vip, CLOUD_B.vip])

POLL_STEP = 0.1
SLACK = 2.0
# A cloud whose checks fail is out of both instances' answers after this, and out of the
# resolver's cache SERVICE_TTL later.
CHECKS_DETECT = topo.CHECK_FALL * topo.CHECK_INTERVAL + topo.CHECK_TIMEOUT
HAPROXY_DETECT = (topo.HAPROXY_FALL + 1) * topo.HAPROXY_INTER_MS / 1000.0
LEAVE_BOUND = CHECKS_DETECT + topo.SERVICE_TTL + SLACK
RETURN_BOUND = topo.CHECK_RISE * topo.CHECK_INTERVAL + topo.CHECK_TIMEOUT + topo.SERVICE_TTL \
    + topo.VIP_SETTLE_BOUND + SLACK
# A cloud counts as gone once no answer has held it for this long: every cached answer that
# could still hold it has expired by then.
GONE_FOR = topo.SERVICE_TTL + 1.0
# A VRRP takeover: the backup waits 3 advertisements plus skew, then sends gratuitous ARP.
TAKEOVER_BOUND = 4 * topo.VRRP_ADVERT + SLACK

# The failover figures measured by this run, printed at the end.
FIGURES = {}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    why = topo.namespaces_unavailable()
    if why:
        pytest.skip(f"cannot build the namespace topology: {why}")
    if not os.access(GSLBD_BIN, os.X_OK):
        pytest.fail(f"gslbd binary not found or not executable: {GSLBD_BIN} "
                    "(build it, or set GSLBD_BIN)")
    missing = topo.missing_tools()
    if missing:
        pytest.fail(f"missing tools for the topology test: {' '.join(missing)} "
                    "(bash .ci/install-deps installs them)")
    lab = topo.Lab(tmp_path_factory.mktemp("topology"), GSLBD_BIN)
    try:
        lab.build()
        yield lab
    finally:
        problems = lab.teardown()
        print("\ntimeline (seconds since the topology started):")
        for t, what in lab.timeline:
            print(f"  {t:7.2f}  {what}")
        for what, took in FIGURES.items():
            print(f"failover: {what}: {took:.2f}s")
        assert not problems, f"teardown left things behind: {problems}"


def logs(lab):
    return "\n".join(f"--- {key} ---\n{lab.procs[key].log_text()[-2000:]}"
                     for key in ("ns1", "ns2", "unbound") if key in lab.procs)


def log_mark(lab, key):
    return len(lab.procs[key].log_text())


def log_since(lab, key, mark):
    return lab.procs[key].log_text()[mark:]


def wait_answer(lab, wanted, bound):
    """Polls the resolver from the client until it answers exactly `wanted`; returns the
    seconds it took or fails with the last answer seen."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < bound:
        last = lab.ask()
        if last == ("NOERROR", wanted):
            return time.monotonic() - start
        time.sleep(POLL_STEP)
    pytest.fail(f"client never got {wanted} within {bound:.1f}s; last answer {last}\n"
                + logs(lab))


def watch_present(lab, vip, seconds):
    """Polls for `seconds`; every answer must be NOERROR and hold `vip`. Returns the number
    of answers seen."""
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        rcode, addrs = lab.ask()
        assert rcode == "NOERROR" and vip in addrs, \
            f"answer without {vip}: {rcode} {addrs}\n" + logs(lab)
        count += 1
        time.sleep(POLL_STEP)
    return count


def measure_leave(lab, vip, failed_at, bound):
    """Polls every POLL_STEP from the failure on until no answer has held `vip` for GONE_FOR;
    returns the seconds from the failure to the last answer that still held it (0 if none)."""
    last_seen = None
    gone_since = None
    while True:
        rcode, addrs = lab.ask()
        now = time.monotonic()
        if vip in addrs:
            last_seen, gone_since = now, None
        elif rcode == "NOERROR" and addrs:
            gone_since = gone_since or now
        if gone_since is not None and now - gone_since >= GONE_FOR:
            break
        if now - failed_at > bound + GONE_FOR:
            pytest.fail(f"{vip} still answered {now - failed_at:.1f}s after the failure "
                        f"(last answer {rcode} {addrs})\n" + logs(lab))
        time.sleep(POLL_STEP)
    took = 0.0 if last_seen is None else last_seen - failed_at
    assert took <= bound, f"{vip} answered until {took:.2f}s after the failure (> {bound:.1f}s)"
    return took


@pytest.fixture
def healthy(lab):
    """Both clouds answered through the resolver before the test starts."""
    wait_answer(lab, BOTH, RETURN_BOUND)
    return lab


def test_both_clouds_answer(healthy):
    lab = healthy
    assert lab.vip_holder(CLOUD_A) == [CLOUD_A.lb(1)]
    assert lab.vip_holder(CLOUD_B) == [CLOUD_B.lb(1)]
    # Both instances answer on their own too, with the same set.
    for cloud in topo.CLOUDS:
        assert lab.ask(server=cloud.ns_address) == ("NOERROR", BOTH)
    watch_present(lab, CLOUD_A.vip, 1.0)
    lab.event("both clouds answer through the resolver")


def test_master_loss_keeps_cloud_a(healthy):
    """Pulling the VRRP master's cable moves the VIP to the backup faster than the checks can
    fall, so cloud A never leaves the answers: not at the takeover, not at the preemption."""
    lab = healthy
    marks = {key: log_mark(lab, key) for key in ("ns1", "ns2")}
    lab.event("a-lb1 (VRRP master) cable pulled")
    lab.set_link(CLOUD_A.lb(1), up=False)
    try:
        start = time.monotonic()
        took = lab.wait_vip(CLOUD_A, CLOUD_A.lb(2), TAKEOVER_BOUND)
        lab.event(f"a-lb2 holds the VIP after {took:.2f}s")
        FIGURES["VRRP takeover after the master's cable is pulled"] = took
        # Watch past the point where the checks would have fallen, and past the cache.
        left = CHECKS_DETECT + topo.SERVICE_TTL + 1.0 - (time.monotonic() - start)
        n = watch_present(lab, CLOUD_A.vip, max(left, 1.0))
        lab.event(f"cloud A in all {n} answers while a-lb2 serves")
    finally:
        lab.set_link(CLOUD_A.lb(1), up=True)
    lab.event("a-lb1 cable plugged back")
    took = lab.wait_vip(CLOUD_A, CLOUD_A.lb(1), TAKEOVER_BOUND)
    lab.event(f"a-lb1 preempted the VIP back after {took:.2f}s")
    n = watch_present(lab, CLOUD_A.vip, CHECKS_DETECT + 1.0)
    lab.event(f"cloud A in all {n} answers after the preemption")
    for key, mark in marks.items():
        assert "site down site=cloud-a" not in log_since(lab, key, mark), logs(lab)


def test_cloud_a_leaves_when_both_load_balancers_die(healthy):
    lab = healthy
    marks = {key: log_mark(lab, key) for key in ("ns1", "ns2")}
    failed_at = time.monotonic()
    lab.event("both cloud A load balancers killed (haproxy SIGKILL, keepalived SIGTERM)")
    try:
        lab.kill_lbs(CLOUD_A)
        took = measure_leave(lab, CLOUD_A.vip, failed_at, LEAVE_BOUND)
        lab.event(f"last answer holding cloud A {took:.2f}s after the failure")
        FIGURES["cloud A, both load balancers killed"] = took
        assert lab.ask() == ("NOERROR", [CLOUD_B.vip])
        for key, mark in marks.items():
            assert "site down site=cloud-a" in log_since(lab, key, mark), logs(lab)
    finally:
        for n in (1, 2):
            if not lab.procs[f"{CLOUD_A.lb(n)}-keepalived"].running():
                lab.start_lb(CLOUD_A, n)
    lab.event("cloud A load balancers started again")
    took = wait_answer(lab, BOTH, RETURN_BOUND)
    lab.event(f"cloud A back in the answers after {took:.2f}s")


def test_cloud_b_leaves_when_its_web_servers_stop(healthy):
    lab = healthy
    marks = {key: log_mark(lab, key) for key in ("ns1", "ns2")}
    failed_at = time.monotonic()
    lab.event("both cloud B web servers stopped")
    try:
        lab.stop_webs(CLOUD_B)
        took = measure_leave(lab, CLOUD_B.vip, failed_at, LEAVE_BOUND + HAPROXY_DETECT)
        lab.event(f"last answer holding cloud B {took:.2f}s after the failure")
        FIGURES["cloud B, both web servers stopped"] = took
        assert lab.ask() == ("NOERROR", [CLOUD_A.vip])
        # The VIP still answers; HAProxy's own checks are what took the cloud out.
        assert lab.vip_holder(CLOUD_B) == [CLOUD_B.lb(1)]
        for key, mark in marks.items():
            text = log_since(lab, key, mark)
            assert "backend web has 0/2 servers up" in text, logs(lab)
            assert "site down site=cloud-b" in text, logs(lab)
    finally:
        for n in (1, 2):
            if not lab.procs[CLOUD_B.web(n)].running():
                lab.start_web(CLOUD_B, n)
    lab.event("cloud B web servers started again")
    took = wait_answer(lab, BOTH, RETURN_BOUND)
    lab.event(f"cloud B back in the answers after {took:.2f}s")


def test_resolver_answers_through_ns2_when_ns1_dies(healthy):
    lab = healthy
    lab.event("gslbd ns1 killed (SIGKILL)")
    lab.stop("ns1", signal.SIGKILL)
    try:
        assert lab.ask(server=CLOUD_A.ns_address) == (None, [])
        assert lab.ask(server=CLOUD_B.ns_address) == ("NOERROR", BOTH)
        # Past the cache: every answer now needs a query to an authoritative server. The
        # resolver may spend a timeout on ns1 before it asks ns2, hence the longer dig wait.
        deadline = time.monotonic() + 2 * topo.SERVICE_TTL + 1.0
        slowest = 0.0
        count = 0
        while time.monotonic() < deadline:
            start = time.monotonic()
            answer = lab.ask(timeout=3)
            slowest = max(slowest, time.monotonic() - start)
            assert answer == ("NOERROR", BOTH), f"answer {answer} with ns1 dead\n" + logs(lab)
            count += 1
            time.sleep(POLL_STEP)
        lab.event(f"all {count} answers complete through ns2 (slowest {slowest:.2f}s)")
    finally:
        lab.start_gslbd(CLOUD_A)
    lab.event("gslbd ns1 started again")
    assert lab.ask(server=CLOUD_A.ns_address) == ("NOERROR", BOTH)
