# Shared by bench/run and bench/callgrind: packages, the gslbd build, the zone, query file and
# server configs, starting and stopping servers by PID, /proc readings, answer checks.
# Sourced, not run. Expects ROOT, BENCH, CONFIGS, BUILD, WORK, DURATION and PIDS to be set.

# Ports on 127.0.0.1, one per server so that a slow stop cannot collide with the next start.
declare -A PORT=([gslbd-rr]=15301 [gslbd-distance]=15302 [gslbd-flap]=15303
                 [gdnsd]=15304 [nsd]=15305 [knot]=15306)
HTTP_PORT=18680
[[ -v WRAP ]] || WRAP=()

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Stops one process we started: SIGTERM, then SIGKILL after 5 s.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    if [[ ${KEEP:-0} != 1 ]]; then
        rm -rf "$WORK"
    else
        log "work dir kept: $WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# 1. Packages.
PACKAGES=(dnsperf gdnsd nsd knot dnsutils nginx-light valgrind python3 procps iproute2 curl git
          g++ cmake make pkg-config libldns-dev libyaml-cpp-dev libboost-dev libcurl4-openssl-dev)

install_packages() {
    local todo=() pkg policy=/usr/sbin/policy-rc.d made_policy=0
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -qx 'install ok installed' ||
            todo+=("$pkg")
    done
    ((${#todo[@]} == 0)) && return 0
    [[ $(id -u) -eq 0 ]] || die "must run as root to install ${todo[*]}"
    log "installing ${todo[*]}"
    # gdnsd, nsd, knot and nginx would start system services; the benchmark runs its own.
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# held back by gslbd bench/run\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${todo[@]}" \
        >"$WORK/apt.log" || {
        ((made_policy)) && rm -f "$policy"
        tail -20 "$WORK/apt.log" >&2
        die "apt-get install failed"
    }
    ((made_policy)) && rm -f "$policy"
    return 0
}

# ---------------------------------------------------------------------------------------------
# 2. gslbd, Release (with symbols, which do not change the code, for bench/callgrind).
build_gslbd() {
    log "building gslbd (Release) in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGSLBD_TESTS=OFF \
        -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -g" >"$WORK/cmake.log" ||
        { tail -20 "$WORK/cmake.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD" -j"$(nproc)" --target gslbd >>"$WORK/cmake.log" 2>&1 ||
        { grep -E 'error|Error' "$WORK/cmake.log" | head -20 >&2; die "build failed"; }
}

# ---------------------------------------------------------------------------------------------
# Zone files, query file, configs.

# The query mix, 1000 lines, the same for every server: 40% app A, 40% app AAAA, 10% static
# names (cycling through six), 10% NXDOMAIN (distinct names).
make_queries() {
    local statics=("www.example.com A" "www.example.com AAAA" "mail.example.com A"
                   "example.com MX" "example.com TXT" "ns1.example.com A")
    local i
    for ((i = 0; i < 1000; i++)); do
        case $((i % 10)) in
            0 | 1 | 2 | 3) echo "app.example.com A" ;;
            4 | 5 | 6 | 7) echo "app.example.com AAAA" ;;
            8) echo "${statics[$(((i / 10) % 6))]}" ;;
            9) echo "nx-$i.example.com A" ;;
        esac
    done >"$WORK/queries.txt"
}

# render TEMPLATE OUT PORT WORKERS DIR
render() {
    sed -e "s|@PORT@|$3|g" -e "s|@WORKERS@|$4|g" -e "s|@DIR@|$5|g" \
        -e "s|@HTTP_PORT@|$HTTP_PORT|g" "$1" >"$2"
}

# prepare SERVER WORKERS DIR: writes the server's config and zone into DIR.
prepare() {
    local server=$1 workers=$2 dir=$3 port=${PORT[$1]}
    mkdir -p "$dir"
    case $server in
        gslbd-*)
            render "$CONFIGS/$server.yaml.in" "$dir/gslbd.yaml" "$port" "$workers" "$dir"
            cp "$CONFIGS/zone.static" "$dir/example.com.zone"
            ;;
        gdnsd)
            mkdir -p "$dir/zones" "$dir/run" "$dir/state"
            render "$CONFIGS/gdnsd.config.in" "$dir/config" "$port" "$workers" "$dir"
            cat "$CONFIGS/zone.static" "$CONFIGS/app.gdnsd" >"$dir/zones/example.com"
            ;;
        nsd)
            render "$CONFIGS/nsd.conf.in" "$dir/nsd.conf" "$port" "$workers" "$dir"
            cat "$CONFIGS/zone.static" "$CONFIGS/app.static" >"$dir/example.com.zone"
            ;;
        knot)
            mkdir -p "$dir/db"
            render "$CONFIGS/knot.conf.in" "$dir/knot.conf" "$port" "$workers" "$dir"
            cat "$CONFIGS/zone.static" "$CONFIGS/app.static" >"$dir/example.com.zone"
            ;;
    esac
}

# start_server SERVER DIR: starts it in the background; sets SERVER_PID. Refuses a port that
# something already listens on: with SO_REUSEPORT, a leftover server would silently take a
# share of the queries.
start_server() {
    local server=$1 dir=$2
    if [[ -n $(ss -Hlun "sport = :${PORT[$server]}") ]]; then
        ss -Hlunp "sport = :${PORT[$server]}" >&2
        die "udp port ${PORT[$server]} is already in use; stop that process first"
    fi
    # WRAP (an array, e.g. valgrind and its options) runs in front of the server when set.
    case $server in
        gslbd-*) "${WRAP[@]}" "$BUILD/gslbd" --config "$dir/gslbd.yaml" --log-level warning \
            >"$dir/out.log" 2>&1 & ;;
        gdnsd) "${WRAP[@]}" gdnsd -c "$dir" start >"$dir/out.log" 2>&1 & ;;
        nsd) "${WRAP[@]}" nsd -d -c "$dir/nsd.conf" >"$dir/out.log" 2>&1 & ;;
        knot) "${WRAP[@]}" knotd -c "$dir/knot.conf" >"$dir/out.log" 2>&1 & ;;
    esac
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
}

# ---------------------------------------------------------------------------------------------
# Measurements.

# The process and all its descendants (NSD forks one process per server-count).
tree() {
    local pid=$1 child
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        tree "$child"
    done
}

# CPU time (user + system) of the process tree, in clock ticks.
cpu_ticks() {
    local pid total=0 t
    for pid in $(tree "$1"); do
        # Fields after the ") " that closes the command name: utime is the 12th, stime the 13th.
        t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

# Resident memory of the process tree, in KiB: "VmRSS RssAnon", each summed over the processes
# (so pages shared between NSD's processes, or with other programs, count once per process).
rss_kb() {
    local pid rss=0 anon=0 r a
    for pid in $(tree "$1"); do
        read -r r a < <(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {print r + 0, a + 0}' \
            "/proc/$pid/status" 2>/dev/null) || continue
        rss=$((rss + r))
        anon=$((anon + a))
    done
    echo "$rss $anon"
}

# wait_ready PORT [SECONDS]: until the server answers the SOA (at most 15 s by default).
wait_ready() {
    local i
    for ((i = 0; i < ${2:-15} * 10; i++)); do
        if dig @127.0.0.1 -p "$1" +tries=1 +time=1 +short example.com SOA 2>/dev/null |
            grep -q hostmaster; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# settled_answers SERVER: check_answers, retried for up to 12 s while health checks settle (a
# probe that timed out at start takes rise x interval to come back); says why only at the end.
settled_answers() {
    local i
    for ((i = 0; i < 12; i++)); do
        check_answers "$1" 2>/dev/null && return 0
        sleep 1
    done
    check_answers "$1"
}

# check_answers SERVER: the same answers from every server (the flapping one may hold 2 of
# the 4 addresses of a family, as madrid and boston come and go).
check_answers() {
    local server=$1 port=${PORT[$1]} got want status
    local -a q=(@127.0.0.1 -p "$port" +tries=2 +time=1)
    for family in A AAAA; do
        got=$(dig "${q[@]}" +short app.example.com "$family" | sort | tr '\n' ' ')
        if [[ $family == A ]]; then
            want="127.0.0.21 127.0.0.22 127.0.0.23 127.0.0.24 "
        else
            want="2001:db8::21 2001:db8::22 2001:db8::23 2001:db8::24 "
        fi
        if [[ $got != "$want" ]]; then
            if [[ $server == gslbd-flap && ($got == "${want#* * }") ]]; then
                continue
            fi
            log "$server: app.example.com $family answered '$got', expected '$want'"
            return 1
        fi
    done
    got=$(dig "${q[@]}" +short www.example.com A)
    [[ $got == 192.0.2.80 ]] || { log "$server: www A answered '$got'"; return 1; }
    got=$(dig "${q[@]}" +short example.com MX)
    [[ $got == "10 mail.example.com." ]] || { log "$server: MX answered '$got'"; return 1; }
    status=$(dig "${q[@]}" nx-9.example.com A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
    [[ $status == NXDOMAIN ]] || { log "$server: nx-9 answered $status"; return 1; }
    status=$(dig "${q[@]}" +norec app.example.com A | grep -c 'flags: qr aa') || true
    [[ $status == 1 ]] || { log "$server: app A is not authoritative"; return 1; }
}

# dnsperf_run PORT OUT ARGS...: bounded by -l and -n always.
dnsperf_run() {
    local port=$1 out=$2
    shift 2
    timeout $((DURATION + 30)) dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries.txt" -e \
        -l "$DURATION" "$@" >"$out" 2>&1 || true
}

# field FILE LABEL: the first number after "LABEL:" in dnsperf's output.
field() {
    sed -n "s/^ *$2: *\([0-9.]*\).*/\1/p" "$1" | head -1
}


# Starts the health-check target of gslbd and gdnsd (nginx on 127.0.0.21-24).
start_nginx() {
    local i
    mkdir -p "$WORK/nginx"
    render "$CONFIGS/nginx.conf.in" "$WORK/nginx/nginx.conf" 0 0 "$WORK/nginx"
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/out.log" 2>&1 &
    PIDS+=("$!")
    for ((i = 0; i < 50; i++)); do
        curl -sf --noproxy '*' -o /dev/null "http://127.0.0.24:$HTTP_PORT/healthz" && return 0
        sleep 0.1
    done
    die "nginx did not start (see $WORK/nginx)"
}

pkgver() { dpkg-query -W -f='${Version}' "$1"; }

# One line: the machine and the versions compared.
machine_info() {
    printf '%s CPUs, %s, Linux %s; dnsperf %s, gdnsd %s, nsd %s, knot %s, gslbd %s' \
        "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
        "$(uname -r)" "$(dnsperf -h 2>&1 | sed -n 's/^Version //p')" "$(pkgver gdnsd)" \
        "$(pkgver nsd)" "$(pkgver knot)" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
}
