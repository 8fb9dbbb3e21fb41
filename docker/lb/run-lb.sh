#!/bin/bash
# One load-balancer host: HAProxy bound to the floating IP (ip_nonlocal_bind lets it bind before
# the address arrives) and keepalived moving that IP between this host and its peer by VRRP.
# If either daemon exits, the other is stopped and the container exits, so a half-alive host
# never holds the VIP; the restart policy brings the host back whole.
#   run-lb HAPROXY_CFG KEEPALIVED_CONF
set -euo pipefail

haproxy_cfg=$1
keepalived_conf=$2

haproxy -db -f "$haproxy_cfg" &
haproxy_pid=$!
keepalived -n -l -G -P -f "$keepalived_conf" -p /run/keepalived.pid -r /run/vrrp.pid &
keepalived_pid=$!

# SIGTERM (docker stop): keepalived gives the VIP up with a priority-0 advertisement, so the
# peer takes over at once instead of after three missed advertisements.
stop() {
    kill -TERM "$keepalived_pid" "$haproxy_pid" 2>/dev/null || true
}
trap stop TERM INT

status=0
wait -n "$haproxy_pid" "$keepalived_pid" 2>/dev/null || status=$?
stop
wait "$haproxy_pid" "$keepalived_pid" 2>/dev/null || true
exit "$status"
