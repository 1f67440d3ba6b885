#!/usr/bin/env bash
# dnssec_vs_knot.sh: signed answers per second, Waymark's online signer
# against Knot DNS serving the same zone pre-signed (dnssec-signing: on)
# and Knot's online signer (mod-onlinesign), measured with dnsperf -D (DO=1)
# in the same run; and Waymark's DO=0 rate on the signed zone against the
# same zone unsigned (signing must cost DO=0 queries nothing).
#
# Mixes: "positive" loops over 100,000 A queries of existing names (after
# the first pass every signature is in the cache); "nxdomain" sends
# NXDOMAIN_NAMES distinct names that do not exist, each once per pass, so
# every answer of the first pass is a fresh compact-denial signature.
# Each server is pinned to core 0 with one worker; dnsperf runs on core 1.
# Loopback only.
#
# Usage (from the repository root):  bench/dnssec_vs_knot.sh
# Environment: RECORDS (10000), DURATION seconds per run (8), ROUNDS (2),
#              CLIENTS (8), OUTSTANDING (100), NXDOMAIN_NAMES (2000000),
#              WAYMARK_PORT (5393), KNOT_PORT (5394), NICE (0).
set -euo pipefail

RECORDS=${RECORDS:-10000}
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-2}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
NXDOMAIN_NAMES=${NXDOMAIN_NAMES:-2000000}
WAYMARK_PORT=${WAYMARK_PORT:-5393}
KNOT_PORT=${KNOT_PORT:-5394}
NICE=${NICE:-0}
ORIGIN=signbench.example.

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

awk -v n="$RECORDS" -v o="$ORIGIN" 'BEGIN {
	printf "$ORIGIN %s\n$TTL 3600\n", o
	printf "@ IN SOA ns1.%s hostmaster.%s 1 7200 900 1209600 300\n", o, o
	printf "@ IN NS ns1.%s\n", o
	printf "ns1 IN A 127.0.0.1\n"
	for (i = 0; i < n - 3; i++)
		printf "h%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$work/zone"
awk -v n="$RECORDS" -v o="$ORIGIN" 'BEGIN { srand(42); for (i = 0; i < 100000; i++) printf "h%d.%s A\n", int(rand() * (n - 3)), o }' >"$work/positive.txt"
awk -v n="$NXDOMAIN_NAMES" -v o="$ORIGIN" 'BEGIN { for (i = 0; i < n; i++) printf "nx%d.%s A\n", i, o }' >"$work/nxdomain.txt"

knot_conf() { # name extra-zone-lines
	mkdir -p "$work/$1/db" "$work/$1/keys"
	cp "$work/zone" "$work/$1/$ORIGIN.zone"
	cat >"$work/$1.conf" <<CONF
server:
    rundir: "$work/$1"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$work/$1/db"
log:
  - target: stderr
    any: error
policy:
  - id: ecdsa
    algorithm: ecdsap256sha256
    nsec3: off
template:
  - id: default
    storage: "$work/$1"
    semantic-checks: off
    journal-content: none
    zonefile-load: whole
    zonefile-sync: -1
zone:
  - domain: $ORIGIN
    file: "$work/$1/$ORIGIN.zone"
$2
CONF
}
knot_conf knot-presigned "    dnssec-signing: on
    dnssec-policy: ecdsa"
knot_conf knot-onlinesign "    module: mod-onlinesign"

go build -o "$work/nsbench" ./bench/nsbench

wait_ready() { # port
	for _ in $(seq 1 1200); do
		if dig +dnssec +short +time=1 +tries=1 -p "$1" @127.0.0.1 "h1.$ORIGIN" A 2>/dev/null | grep -q 10.0.0.1; then
			return 0
		fi
		sleep 0.1
	done
	echo "server on port $1 did not come up" >&2
	cat "$work"/*.log >&2
	return 1
}

start_server() { # name -> port in $port
	case "$1" in
	waymark | waymark-unsigned)
		port=$WAYMARK_PORT
		local sign=-sign
		[ "$1" = waymark-unsigned ] && sign=
		GOMAXPROCS=1 nice -n "$NICE" taskset -c 0 "$work/nsbench" -zone "$work/zone" -origin "$ORIGIN" \
			-addr "127.0.0.1:$WAYMARK_PORT" -udp-workers 1 $sign 2>"$work/$1.log" &
		;;
	knot-*)
		port=$KNOT_PORT
		nice -n "$NICE" taskset -c 0 knotd -c "$work/$1.conf" 2>"$work/$1.log" &
		;;
	esac
	server_pid=$!
	wait_ready "$port"
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

run_dnsperf() { # port query-file do(0|1) -> qps
	local flags=()
	[ "$3" = 1 ] && flags=(-D)
	nice -n "$NICE" taskset -c 1 dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$DURATION" \
		-c "$CLIENTS" -T 1 -q "$OUTSTANDING" "${flags[@]}" >"$work/last.txt" 2>&1
	awk '/Queries per second:/ { printf "%.0f\n", $4 }' "$work/last.txt"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Each line: server mix do.
runs="waymark positive 1
knot-presigned positive 1
knot-onlinesign positive 1
waymark nxdomain 1
knot-presigned nxdomain 1
knot-onlinesign nxdomain 1
waymark positive 0
waymark-unsigned positive 0"

declare -A qps
for round in $(seq 1 "$ROUNDS"); do
	while read -r server mix do; do
		start_server "$server"
		q=$(run_dnsperf "$port" "$work/$mix.txt" "$do")
		if [ "$do" = 1 ] && ! dig +dnssec +time=1 +tries=1 -p "$port" @127.0.0.1 "h1.$ORIGIN" A | grep -q RRSIG; then
			echo "$server does not sign" >&2
			exit 1
		fi
		stop_server
		echo "round $round: $server $mix DO=$do: $q qps ($(grep -E "Response codes" "$work/last.txt" | tr -s ' '))"
		qps[$server/$mix/$do]+="$q"$'\n'
	done <<<"$runs"
done

m() { printf '%s' "${qps[$1]}" | median; }
echo "records=$RECORDS duration=${DURATION}s rounds=$ROUNDS clients=$CLIENTS nxdomain names=$NXDOMAIN_NAMES (server on core 0, dnsperf on core 1)"
for k in waymark/positive/1 knot-presigned/positive/1 knot-onlinesign/positive/1 waymark/nxdomain/1 knot-presigned/nxdomain/1 knot-onlinesign/nxdomain/1 waymark/positive/0 waymark-unsigned/positive/0; do
	printf '%-28s %s qps\n' "$k" "$(m "$k")"
done
awk -v w="$(m waymark/positive/1)" -v k="$(m knot-presigned/positive/1)" 'BEGIN { printf "signed positive, waymark (cache) / knot pre-signed: %.2f (target >= 0.8)\n", w / k }'
awk -v w="$(m waymark/nxdomain/1)" -v k="$(m knot-onlinesign/nxdomain/1)" 'BEGIN { printf "unique NXDOMAIN, waymark / knot mod-onlinesign: %.2f (target >= 1.5)\n", w / k }'
awk -v s="$(m waymark/positive/0)" -v u="$(m waymark-unsigned/positive/0)" 'BEGIN { printf "DO=0 on the signed zone / unsigned: %.2f (target >= 0.95)\n", s / u }'
