#!/usr/bin/env bash
# dns_vs_knot.sh: queries per second of the Waymark data plane against Knot
# DNS on the same 100,000-record zone, measured with dnsperf.
#
# Each server is pinned to core 0 (taskset) with one worker; dnsperf runs
# on core 1. The query mix is 60% existing names (A), 20% NXDOMAIN, 20%
# NODATA (AAAA at existing names), in a shuffled file dnsperf loops over.
# Rounds alternate between the servers and the median of each is reported,
# which evens out noise from other load on the machine.
#
# OUTSTANDING stays modest because Knot keeps the kernel's default socket
# receive buffer (rmem_default, 208 KiB here) while Waymark asks for 4 MiB:
# with 1000 queries in flight Knot drops bursts, dnsperf waits out each
# lost query, and Knot's qps collapses for a reason that is not query
# handling.
#
# Besides qps, the server's CPU time per answered query (from /proc) is
# reported: when dnsperf or other load rather than the server limits the
# rate, qps says little and CPU per query still compares the servers.
# Loopback only.
#
# Every round also measures Waymark with its metrics on (nsbench -metrics:
# Prometheus query counters and latency, and per-zone counting for the
# tenants' metrics, as `waymark nameserver` runs) beside the plain run, and
# reports the ratio (issue 13: target >= 0.97).
#
# Usage (from the repository root):  bench/dns_vs_knot.sh
# Environment: RECORDS (100000), DURATION seconds per run (10), ROUNDS (5),
#              CLIENTS dnsperf clients (8), OUTSTANDING queries in flight (100),
#              WAYMARK_PORT (5391), KNOT_PORT (5392),
#              NSBENCH_WORKERS Waymark UDP goroutines (1), KNOT_WORKERS (1),
#              NICE niceness of servers and dnsperf (0; -10 as root keeps other
#              load on a shared machine from deciding the result),
#              MEMORY=1 to measure resident memory instead: both servers load
#              a zone of RECORDS records (try RECORDS=1000000) and their
#              VmRSS (steady) and VmHWM (peak, while loading) are printed.
#              ROUTED=1 adds routed records: ROUTED_NAMES (1000) names wt<N>
#              that Waymark serves as weighted groups (3 members, one with a
#              health check) and as many geo<N> as geolocation groups
#              (US-CA, US, EU, default; answered through a GeoIP database
#              from bench/mkgeoip that puts 127.0.0.1 in California). Knot
#              serves the same names as plain A records. A second query
#              file sends 10% of queries there (5% each), the rest as the
#              plain mix. Each round then measures Waymark on the plain mix,
#              Waymark on the routed mix, and Knot on both.
set -euo pipefail

RECORDS=${RECORDS:-100000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
WAYMARK_PORT=${WAYMARK_PORT:-5391}
KNOT_PORT=${KNOT_PORT:-5392}
NSBENCH_WORKERS=${NSBENCH_WORKERS:-1}
KNOT_WORKERS=${KNOT_WORKERS:-1}
NICE=${NICE:-0}
ROUTED=${ROUTED:-0}
ROUTED_NAMES=${ROUTED_NAMES:-1000}
ORIGIN=bench.example.

for cmd in knotd dnsperf taskset go dig; do
	command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs two cores" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The zone: SOA, NS and RECORDS A records h0 .. h(RECORDS-1).
awk -v n="$RECORDS" -v o="$ORIGIN" 'BEGIN {
	printf "$ORIGIN %s\n$TTL 3600\n", o
	printf "@ IN SOA ns1.%s hostmaster.%s 1 7200 900 1209600 300\n", o, o
	printf "@ IN NS ns1.%s\n", o
	printf "ns1 IN A 127.0.0.1\n"
	for (i = 0; i < n - 3; i++)
		printf "h%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$work/$ORIGIN.zone"

# The queries: 60% A at existing names, 20% NXDOMAIN, 20% NODATA.
awk -v n="$RECORDS" -v o="$ORIGIN" 'BEGIN {
	srand(42)
	for (i = 0; i < 100000; i++) {
		r = rand(); h = int(rand() * (n - 3))
		if (r < 0.6) printf "h%d.%s A\n", h, o
		else if (r < 0.8) printf "x%d.%s A\n", h, o
		else printf "h%d.%s AAAA\n", h, o
	}
}' >"$work/queries.txt"

routed_args=()
runs="waymark waymark-metrics knot"
if [ "$ROUTED" = 1 ]; then
	# The routed names, plain in the file (nsbench -routed makes them
	# groups), and a mix with 10% of queries on them.
	awk -v n="$ROUTED_NAMES" 'BEGIN {
		for (i = 0; i < n; i++) printf "wt%d IN A 198.51.%d.%d\ngeo%d IN A 203.0.%d.%d\n", i, int(i / 256) % 256, i % 256, i, int(i / 256) % 256, i % 256
	}' >>"$work/$ORIGIN.zone"
	awk -v n="$RECORDS" -v m="$ROUTED_NAMES" -v o="$ORIGIN" 'BEGIN {
		srand(43)
		for (i = 0; i < 100000; i++) {
			r = rand(); h = int(rand() * (n - 3)); g = int(rand() * m)
			if (r < 0.05) printf "wt%d.%s A\n", g, o
			else if (r < 0.10) printf "geo%d.%s A\n", g, o
			else if (r < 0.64) printf "h%d.%s A\n", h, o
			else if (r < 0.82) printf "x%d.%s A\n", h, o
			else printf "h%d.%s AAAA\n", h, o
		}
	}' >"$work/queries-routed.txt"
	go run ./bench/mkgeoip -o "$work/geo.mmdb"
	routed_args=(-routed -geoip-db "$work/geo.mmdb")
	runs="waymark waymark-metrics waymark-routed knot knot-routed"
fi

cat >"$work/knot.conf" <<CONF
server:
    rundir: "$work"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: $KNOT_WORKERS
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$work/knotdb"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "$work"
    semantic-checks: off
    journal-content: none
    zonefile-load: whole
zone:
  - domain: $ORIGIN
    file: "$work/$ORIGIN.zone"
CONF

go build -o "$work/nsbench" ./bench/nsbench

wait_ready() { # port
	for _ in $(seq 1 1200); do
		if dig +short +time=1 +tries=1 -p "$1" @127.0.0.1 "h1.$ORIGIN" A 2>/dev/null | grep -q 10.0.0.1; then
			return 0
		fi
		sleep 0.1
	done
	echo "server on port $1 did not come up" >&2
	return 1
}

start_server() { # name [extra nsbench flags...]
	local port=$WAYMARK_PORT
	[ "$1" = knot ] && port=$KNOT_PORT
	if dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 "h1.$ORIGIN" A 2>/dev/null | grep -q 10.0.0.1; then
		echo "something already answers on port $port; stop it first" >&2
		exit 1
	fi
	case "$1" in
	waymark)
		GOMAXPROCS=1 nice -n "$NICE" taskset -c 0 "$work/nsbench" -zone "$work/$ORIGIN.zone" -origin "$ORIGIN" \
			-addr "127.0.0.1:$WAYMARK_PORT" -udp-workers "$NSBENCH_WORKERS" "${routed_args[@]}" "${@:2}" 2>"$work/waymark.log" &
		server_pid=$!
		wait_ready "$WAYMARK_PORT"
		;;
	knot)
		nice -n "$NICE" taskset -c 0 knotd -c "$work/knot.conf" 2>"$work/knot.log" &
		server_pid=$!
		wait_ready "$KNOT_PORT"
		;;
	esac
}

check_alive() { # pid
	kill -0 "$1" 2>/dev/null || { echo "server $1 died; its log:" >&2; cat "$work"/*.log >&2; exit 1; }
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

cpu_ticks() { # pid -> user+system clock ticks used so far
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

run_dnsperf() { # port pid [query file] -> "qps cpu-microseconds-per-query"; dnsperf output in $work/last.txt
	local before after
	before=$(cpu_ticks "$2")
	nice -n "$NICE" taskset -c 1 dnsperf -s 127.0.0.1 -p "$1" -d "${3:-$work/queries.txt}" -l "$DURATION" \
		-c "$CLIENTS" -T 1 -q "$OUTSTANDING" >"$work/last.txt" 2>&1
	after=$(cpu_ticks "$2")
	awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '
		/Queries completed:/ { n = $3 }
		/Queries per second:/ { q = $4 }
		END { printf "%.0f %.2f\n", q, (n > 0 ? t / hz / n * 1e6 : 0) }' "$work/last.txt"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

if [ "${MEMORY:-0}" = 1 ]; then
	for server in waymark knot; do
		start_server "$server"
		sleep 2
		echo "$server: $(grep -E 'VmRSS|VmHWM' "/proc/$server_pid/status" | tr -s ' \t\n' ' ')"
		stop_server
	done
	exit 0
fi

declare -A qps cpu
for round in $(seq 1 "$ROUNDS"); do
	for run in $runs; do
		server=${run%-routed}
		qfile=$work/queries.txt
		[ "$run" != "$server" ] && qfile=$work/queries-routed.txt
		extra=()
		if [ "$run" = waymark-metrics ]; then
			server=waymark
			extra=(-metrics)
		fi
		start_server "$server" "${extra[@]}"
		port=$WAYMARK_PORT
		[ "$server" = knot ] && port=$KNOT_PORT
		check_alive "$server_pid"
		read -r q c < <(run_dnsperf "$port" "$server_pid" "$qfile")
		stop_server
		echo "round $round: $run $q qps, $c us CPU/query ($(grep -E "Queries lost|Response codes" -A1 "$work/last.txt" | tr -s " \n" " "))"
		qps[$run]+="$q"$'\n'
		cpu[$run]+="$c"$'\n'
	done
done

wq=$(printf '%s' "${qps[waymark]}" | median)
kq=$(printf '%s' "${qps[knot]}" | median)
wc=$(printf '%s' "${cpu[waymark]}" | median)
kc=$(printf '%s' "${cpu[knot]}" | median)
echo "records=$RECORDS duration=${DURATION}s rounds=$ROUNDS clients=$CLIENTS (server on core 0, dnsperf on core 1)"
echo "waymark median: $wq qps, $wc us CPU/query"
echo "knot    median: $kq qps, $kc us CPU/query"
awk -v w="$wq" -v k="$kq" 'BEGIN { printf "qps ratio waymark/knot: %.2f\n", w / k }'
mq=$(printf '%s' "${qps[waymark-metrics]}" | median)
mc=$(printf '%s' "${cpu[waymark-metrics]}" | median)
echo "waymark metrics on median: $mq qps, $mc us CPU/query"
awk -v m="$mq" -v w="$wq" 'BEGIN { printf "qps ratio metrics on/off: %.3f\n", m / w }'
awk -v w="$wc" -v k="$kc" 'BEGIN { printf "CPU per query ratio knot/waymark: %.2f (above 1: Waymark uses less CPU per answer)\n", k / w }'
if [ "$ROUTED" = 1 ]; then
	wrq=$(printf '%s' "${qps[waymark-routed]}" | median)
	krq=$(printf '%s' "${qps[knot-routed]}" | median)
	wrc=$(printf '%s' "${cpu[waymark-routed]}" | median)
	krc=$(printf '%s' "${cpu[knot-routed]}" | median)
	echo "routed mix (10% on $ROUTED_NAMES weighted + $ROUTED_NAMES geolocation names; Knot answers them as plain records):"
	echo "waymark routed median: $wrq qps, $wrc us CPU/query"
	echo "knot    routed median: $krq qps, $krc us CPU/query"
	awk -v r="$wrq" -v p="$wq" 'BEGIN { printf "waymark routed/plain qps: %.2f\n", r / p }'
	awk -v w="$wrq" -v k="$krq" 'BEGIN { printf "qps ratio waymark routed/knot same mix: %.2f\n", w / k }'
	awk -v w="$wrc" -v k="$krc" 'BEGIN { printf "CPU per query ratio knot/waymark on the routed mix: %.2f\n", k / w }'
fi
