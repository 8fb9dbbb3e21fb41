#!/usr/bin/env bash
# Runs health_bench against a local nginx and HAProxy on loopback addresses (127.0.0.2-9 for
# nginx, 127.0.0.10 for the HAProxy stats page), then stops both by PID.
#
#   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGSLBD_BENCH=ON -DGSLBD_TESTS=OFF
#   cmake --build build-bench --target health_bench
#   bench/run_health_bench.sh build-bench/bench/health_bench [health_bench options...]
#
# Needs nginx and haproxy on PATH. Bounded: the run is killed after duration + 60 s.
set -euo pipefail

bin=${1:?usage: run_health_bench.sh PATH/TO/health_bench [options]}
shift
work=$(mktemp -d /tmp/gslbd-bench.XXXXXX)
nginx_port=18580
stats_port=18581
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

listens=""
for i in 2 3 4 5 6 7 8 9; do
    listens+="        listen 127.0.0.$i:$nginx_port;"$'\n'
done
cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server {
$listens        location /healthz { return 200 "ok\n"; }
    }
}
CONF

cat > "$work/haproxy.cfg" <<CONF
global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend stats
    bind 127.0.0.10:$stats_port
    stats enable
    stats uri /stats
backend web
    option httpchk GET /healthz
    default-server inter 2s
    server w1 127.0.0.2:$nginx_port check
    server w2 127.0.0.3:$nginx_port check
    server w3 127.0.0.4:$nginx_port check
CONF

nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 &
pids+=($!)

# Wait (at most 5 s) until both answer.
for _ in $(seq 50); do
    if curl -sf --noproxy '*' -o /dev/null "http://127.0.0.2:$nginx_port/healthz" &&
        curl -sf --noproxy '*' -o /dev/null "http://127.0.0.10:$stats_port/stats;csv"; then
        break
    fi
    sleep 0.1
done

addresses=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
timeout 120 "$bin" --addresses "$addresses" --nginx-port "$nginx_port" \
    --haproxy-url "http://127.0.0.10:$stats_port/stats;csv" "$@"
