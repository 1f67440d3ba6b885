#!/usr/bin/env bash
# abuse.sh (make abuse; part of make bench): the attacks of issue 16 against
# the Waymark data plane and Knot DNS side by side, in one run, on loopback.
#
#   1. idle TCP flood: CONNS_IDLE (5000) idle connections from 40 loopback
#      addresses, each reopened as soon as the server closes it, while a
#      legitimate client at 127.0.0.1 opens a new connection every 100 ms
#      with one query: share answered within 2 s. Waymark is also run with
#      --tcp-max-conns 1024 and Knot with tcp-max-clients 1024, five times
#      below the attack: then every reconnect evicts a connection and the
#      attackers churn.
#   2. slow TCP senders: CONNS_SLOW (1100) connections each sending one
#      query every 8 s, same probe.
#   3. UDP flood to one "spoofed" source: FLOOD_RATE (50000) queries/s for a
#      ~1.1 kB TXT answer from 127.0.0.99; full answers, truncated answers
#      and octets per second that reach 127.0.0.99. Both servers limit at
#      RRL_RATE (20) responses/s with slip RRL_SLIP (2), cookies on; Waymark
#      is also measured with RRL off for reference.
#   5. a legitimate client's p50/p99 latency and loss (from another /24,
#      200 queries/s) during a random-name flood from 127.0.0.99, both
#      servers with RRL and cookies, Waymark also without RRL. (Run before
#      part 4.)
#   4. queries per second of the normal mix (60% A, 20% NXDOMAIN, 20% NODATA
#      over 100,000 names, dnsperf from 127.0.0.1) against Waymark with RRL
#      accounting and cookies on (rate 1,000,000: every answer counted,
#      none limited, since dnsperf is one client), the same with a client
#      cookie in every query (dnsperf -E 10:…, so every answer computes a
#      server cookie), and off, alternating, median of ROUNDS (5); qps and
#      the server's CPU time per query.
#
# Each server runs on core 0 (one UDP and one TCP worker for Knot,
# GOMAXPROCS=1 for Waymark); attackers and dnsperf run on core 1. Every
# process started is stopped on exit; each step is bounded by a timeout.
#
# Environment: DURATION seconds per measurement (15), ROUNDS (5),
# WAYMARK_PORT (16001), KNOT_PORT (16002), CONNS_IDLE, CONNS_SLOW,
# FLOOD_RATE, RRL_RATE, RRL_SLIP, SKIP (e.g. "4 5").
set -uo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-5}
WAYMARK_PORT=${WAYMARK_PORT:-16001}
KNOT_PORT=${KNOT_PORT:-16002}
CONNS_IDLE=${CONNS_IDLE:-5000}
CONNS_SLOW=${CONNS_SLOW:-1100}
FLOOD_RATE=${FLOOD_RATE:-50000}
RRL_RATE=${RRL_RATE:-20}
RRL_SLIP=${RRL_SLIP:-2}
SKIP=" ${SKIP:-} "
ORIGIN=bench.example.
RECORDS=100000

for cmd in knotd dnsperf taskset go dig; do
	command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 1; }
done
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/waymark-abuse.XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

awk -v n="$RECORDS" -v o="$ORIGIN" 'BEGIN {
	printf "$ORIGIN %s\n$TTL 3600\n", o
	printf "@ IN SOA ns1.%s hostmaster.%s 1 7200 900 1209600 300\n", o, o
	printf "@ IN NS ns1.%s\n", o
	printf "ns1 IN A 127.0.0.1\n"
	s = ""; for (i = 0; i < 250; i++) s = s "x"
	for (i = 0; i < 4; i++) printf "big IN TXT \"%d%s\"\n", i, s
	for (i = 0; i < n - 8; i++)
		printf "h%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$work/$ORIGIN.zone"
awk -v n="$RECORDS" -v o="$ORIGIN" 'BEGIN {
	srand(42)
	for (i = 0; i < 100000; i++) {
		r = rand(); h = int(rand() * (n - 8))
		if (r < 0.6) printf "h%d.%s A\n", h, o
		else if (r < 0.8) printf "x%d.%s A\n", h, o
		else printf "h%d.%s AAAA\n", h, o
	}
}' >"$work/queries.txt"

cat >"$work/knot.conf" <<CONF
server:
    rundir: "$work"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: error
database:
    storage: "$work/knotdb"
mod-rrl:
  - id: default
    rate-limit: $RRL_RATE
    slip: $RRL_SLIP
mod-cookies:
  - id: default
template:
  - id: default
    storage: "$work"
    semantic-checks: off
    journal-content: none
    zonefile-load: whole
    global-module: [ mod-cookies/default, mod-rrl/default ]
zone:
  - domain: $ORIGIN
    file: "$work/$ORIGIN.zone"
CONF

# The same with Knot's TCP client limit at 1,024, to compare with Waymark's
# --tcp-max-conns 1024 under an attack five times the limit.
sed 's/^    tcp-workers: 1$/    tcp-workers: 1\n    tcp-max-clients: 1024/' "$work/knot.conf" >"$work/knot-1024.conf"

go build -o "$work/nsbench" ./bench/nsbench || exit 1
go build -o "$work/abuse" ./bench/abuse || exit 1

wait_ready() { # port
	for _ in $(seq 1 600); do
		dig +short +tcp +time=1 +tries=1 -p "$1" @127.0.0.1 "h1.$ORIGIN" A 2>/dev/null | grep -q 10.0.0.1 && return 0
		sleep 0.1
	done
	echo "server on port $1 did not come up" >&2
	return 1
}

start() { # waymark|knot [nsbench flags...]
	local who=$1
	shift
	case "$who" in
	waymark)
		GOMAXPROCS=1 taskset -c 0 "$work/nsbench" -zone "$work/$ORIGIN.zone" -origin "$ORIGIN" \
			-addr "127.0.0.1:$WAYMARK_PORT" -udp-workers 1 "$@" 2>>"$work/waymark.log" &
		server_pid=$!
		wait_ready "$WAYMARK_PORT"
		;;
	knot | knot-1024)
		local conf=$work/knot.conf
		[ "$who" = knot-1024 ] && conf=$work/knot-1024.conf
		taskset -c 0 knotd -c "$conf" 2>>"$work/knot.log" &
		server_pid=$!
		wait_ready "$KNOT_PORT"
		;;
	esac
}

stop() {
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
}

port_of() { case "$1" in knot*) echo "$KNOT_PORT" ;; *) echo "$WAYMARK_PORT" ;; esac; }

srcs=$(seq -s, -f '127.0.0.%g' 2 41)
waymark_on=(-rrl-rate "$RRL_RATE" -rrl-slip "$RRL_SLIP" -cookies)

if [[ $SKIP != *" 1 "* ]]; then
	echo "== 1. new TCP queries answered during $CONNS_IDLE idle connections"
	for who in waymark knot waymark-1024 knot-1024; do
		if [ "$who" = waymark-1024 ]; then start waymark "${waymark_on[@]}" -tcp-max-conns 1024 || exit 1; else start "$who" "${waymark_on[@]}" || exit 1; fi
		printf '%-13s ' "$who"
		timeout -k 5 $((DURATION + 60)) taskset -c 1 "$work/abuse" idle -target "127.0.0.1:$(port_of "$who")" \
			-src "$srcs" -conns "$CONNS_IDLE" -duration "${DURATION}s" -qname "h1.$ORIGIN"
		stop
	done
fi

if [[ $SKIP != *" 2 "* ]]; then
	echo "== 2. new TCP queries answered during $CONNS_SLOW slow connections (one query every 8 s each)"
	for who in waymark knot; do
		start "$who" "${waymark_on[@]}" || exit 1
		printf '%-8s ' "$who"
		timeout -k 5 $((DURATION + 60)) taskset -c 1 "$work/abuse" slow -target "127.0.0.1:$(port_of "$who")" \
			-src "$srcs" -conns "$CONNS_SLOW" -every 8s -duration "${DURATION}s" -qname "h1.$ORIGIN"
		stop
	done
fi

if [[ $SKIP != *" 3 "* ]]; then
	echo "== 3. answers per second to one spoofed source (127.0.0.99), $FLOOD_RATE queries/s for big.$ORIGIN TXT; RRL rate $RRL_RATE, slip $RRL_SLIP"
	for who in waymark knot waymark-no-rrl; do
		if [ "$who" = waymark-no-rrl ]; then start waymark || exit 1; else start "$who" "${waymark_on[@]}" || exit 1; fi
		printf '%-15s ' "$who"
		timeout -k 5 $((DURATION + 30)) taskset -c 1 "$work/abuse" flood -target "127.0.0.1:$(port_of "$who")" \
			-src 127.0.0.99 -rate "$FLOOD_RATE" -duration "${DURATION}s" -qname "big.$ORIGIN" -qtype TXT
		stop
		[ "$who" = waymark ] && grep -h "nsbench: tcp_" "$work/waymark.log" | tail -1 | sed 's/^nsbench: /                waymark counters: /'
	done
fi

if [[ $SKIP != *" 5 "* ]]; then
	echo "== 5. a legitimate client's latency (127.0.1.1, 200 queries/s) during a random-name flood of $FLOOD_RATE/s from 127.0.0.99"
	for who in waymark knot waymark-no-rrl; do
		if [ "$who" = waymark-no-rrl ]; then start waymark || exit 1; else start "$who" "${waymark_on[@]}" || exit 1; fi
		printf '%-15s ' "$who"
		timeout -k 5 $((DURATION + 30)) taskset -c 1 "$work/abuse" legit -target "127.0.0.1:$(port_of "$who")" \
			-src 127.0.0.99 -rate "$FLOOD_RATE" -duration "${DURATION}s" -qname "h1.$ORIGIN"
		stop
	done
fi

if [[ $SKIP != *" 4 "* ]]; then
	echo "== 4. qps of the normal mix, RRL accounting and cookies on vs off (median of $ROUNDS)"
	declare -A qps cpu
	for round in $(seq 1 "$ROUNDS"); do
		for mode in on cookie off; do
			if [ "$mode" = off ]; then start waymark || exit 1; else start waymark -rrl-rate 1000000 -cookies || exit 1; fi
			# "cookie": every query carries a client cookie (as BIND and
			# Unbound send), so each answer computes a server cookie.
			ecookie=()
			[ "$mode" = cookie ] && ecookie=(-E 10:0102030405060708)
			before=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
			taskset -c 1 timeout -k 5 $((DURATION + 30)) dnsperf -s 127.0.0.1 -p "$WAYMARK_PORT" -d "$work/queries.txt" \
				-l "$DURATION" -c 8 -T 1 -q 100 "${ecookie[@]}" >"$work/dnsperf.txt" 2>&1
			after=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
			stop
			read -r q c < <(awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '
				/Queries completed:/ { n = $3 }
				/Queries per second:/ { q = $4 }
				END { printf "%.0f %.2f\n", q, (n > 0 ? t / hz / n * 1e6 : 0) }' "$work/dnsperf.txt")
			echo "round $round: $mode $q qps, $c us server CPU/query"
			qps[$mode]+="$q"$'\n'
			cpu[$mode]+="$c"$'\n'
		done
	done
	median() { sort -n | awk 'NF { v[++n] = $1 } END { print v[int((n + 1) / 2)] }'; }
	on=$(printf '%s' "${qps[on]}" | median)
	off=$(printf '%s' "${qps[off]}" | median)
	con=$(printf '%s' "${cpu[on]}" | median)
	coff=$(printf '%s' "${cpu[off]}" | median)
	echo "median: on $on qps ($con us CPU/query), off $off qps ($coff us CPU/query)"
	awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "qps ratio on/off: %.3f\n", a / b }'
	awk -v a="$con" -v b="$coff" 'BEGIN { if (a > 0) printf "CPU per query ratio off/on: %.3f (1 = no cost)\n", b / a }'
	ck=$(printf '%s' "${qps[cookie]}" | median)
	cck=$(printf '%s' "${cpu[cookie]}" | median)
	echo "median: cookie $ck qps ($cck us CPU/query)"
	awk -v a="$ck" -v b="$off" 'BEGIN { if (b > 0) printf "qps ratio cookie/off: %.3f\n", a / b }'
	awk -v a="$cck" -v b="$coff" 'BEGIN { if (a > 0) printf "CPU per query ratio off/cookie: %.3f (1 = no cost)\n", b / a }'
fi
