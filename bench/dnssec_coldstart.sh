#!/usr/bin/env bash
# dnssec_coldstart.sh: cold start of a signed zone of 1,000,000 records
# (issue 10: "cold start of a signed 1M-record zone under 2 s"), measured
# from the production binary as an operator starts it, beside the same zone
# unsigned in the same run.
#
# What runs: PostgreSQL holding the zone (bench/nsprod seed: SOA, NS and
# 999,998 A records, the data set of part 2 of make bench), `waymark api`
# and a NATS server (nsprod natsd), then `waymark nameserver --cache-dir
# DIR` with WAYMARK_FLEET_KEY, started by `nsmem measure -do`: exec → every
# one of 100 probe names spread over the zone answered NOERROR over UDP with
# DO=1 and its RRSIG (so the ZSK is unwrapped and signing works; the
# unsigned phase probes without DO, as part 2 of make bench). Two starts per phase: "cp" (an empty cache directory: the snapshot
# from waymark api, which reads PostgreSQL) and "cache" (the on-disk cache
# the first start wrote on SIGTERM, then the zone stream from the cache's
# sequence). Phase "unsigned" first; then the zone is signed through the
# control plane's service (nsprod sign: EnableDNSSEC, a KSK and a ZSK) and
# phase "signed" runs the same two starts. Signing is online (the
# nameserver signs answers as they are asked, dataplane/sign.go), so a
# signed load differs from an unsigned one only by the signing material
# (DNSKEYs, their signatures, the wrapped ZSK). The nameserver runs on core
# 0; the API, NATS and the prober on core 1. Loopback only.
#
# (Knot loading the same zone pre-signed would be the natural peer, but
# Knot signing a million records took 22 minutes on this shared machine, and
# its dump of them did not complete; Knot's unsigned cold start of this
# zone is part 2 of make bench.)
#
# Usage (from the repository root):  bench/dnssec_coldstart.sh
# Environment: RECORDS (1000000), ROUNDS (2), ALGORITHM (13; 15 for
#   Ed25519), DNS_PORT (5441), API_PORT (5443), NATS_PORT (5444),
#   DATABASE_URL_BASE (postgres://postgres@127.0.0.1:5432; the database
#   waymark_dnssec_bench is dropped and recreated), KEEP=1 keeps the work
#   directory.
set -euo pipefail

RECORDS=${RECORDS:-1000000}
ROUNDS=${ROUNDS:-2}
ALGORITHM=${ALGORITHM:-13}
DNS_PORT=${DNS_PORT:-5441}
API_PORT=${API_PORT:-5443}
NATS_PORT=${NATS_PORT:-5444}
PGBASE=${DATABASE_URL_BASE:-postgres://postgres@127.0.0.1:5432}
export PGUSER=${PGUSER:-postgres} PGHOST=${PGHOST:-127.0.0.1}

for cmd in go psql taskset curl; do
	command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs two cores" >&2; exit 1; }

work=$(mktemp -d /tmp/waymark-dnssec-cold.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_dnssec_bench WITH (FORCE)' 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
result() { awk -v k="$2" '$1 == "RESULT" && $2 == k { v = $3 } END { print (v == "" ? "-" : v) }' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

go build -o "$work/waymark" ./cmd/waymark
go build -o "$work/nsmem" ./bench/nsmem
go build -o "$work/nsprod" ./bench/nsprod

d=$work/data
"$work/nsmem" gen -layout one -records "$RECORDS" -out "$d" >/dev/null
export WAYMARK_MASTER_KEY=$(printf '%064d' 1) WAYMARK_JWT_KEY=$(printf '%064d' 2)
export WAYMARK_FLEET_KEY=$(printf '%064d' 3) WAYMARK_ADMIN_TOKEN=bench-admin-token-0123456789
db="$PGBASE/waymark_dnssec_bench?sslmode=disable"
psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_dnssec_bench WITH (FORCE)' -c 'CREATE DATABASE waymark_dnssec_bench'
"$work/nsprod" seed -database-url "$db" -layout one -records "$RECORDS"
"$work/nsprod" natsd -listen "127.0.0.1:$NATS_PORT" -dir "$work/nats" >"$work/natsd.log" 2>&1 &
pids+=($!)
taskset -c 1 "$work/waymark" api --database-url "$db" --nats-url "nats://127.0.0.1:$NATS_PORT" \
	--listen "127.0.0.1:$API_PORT" >"$work/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$API_PORT/readyz" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$API_PORT/readyz" || { cat "$work/api.log" >&2; exit 1; }

# measure: -do once the zone is signed (an answer counts only with its
# RRSIG); the unsigned zone is probed as part 2 of make bench probes it.
do_flag=
measure() { taskset -c 1 timeout -k 5 300 "$work/nsmem" measure $do_flag -probe "$d/probe.txt" "$@"; }
ns() {
	echo taskset -c 0 "$work/waymark" nameserver --region bench --node-id bench-dnssec \
		--listen "127.0.0.1:$DNS_PORT" --api "http://127.0.0.1:$API_PORT" \
		--nats-url "nats://127.0.0.1:$NATS_PORT" --cache-dir "$work/cache" --rrl-off
}

declare -A ms
phase() { # name
	for round in $(seq 1 "$ROUNDS"); do
		rm -rf "$work/cache"
		measure -label cp -addr "127.0.0.1:$DNS_PORT" -- $(ns) 2>"$work/ns-cp.log" | tee "$work/cp.txt"
		measure -label cache -addr "127.0.0.1:$DNS_PORT" -- $(ns) 2>"$work/ns-cache.log" | tee "$work/cache.txt"
		grep -h -E 'caught up|loaded the' "$work/ns-cp.log" "$work/ns-cache.log" | cut -c1-200 || true
		for k in cp cache; do
			v=$(result "$work/$k.txt" "${k}_load_ms")
			echo "$1 round $round: $k $v ms"
			ms[$1/$k]+="$v"$'\n'
		done
	done
}
phase unsigned
"$work/nsprod" sign -database-url "$db" -algorithm "$ALGORITHM"
do_flag=-do
phase signed
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
m() { printf '%s' "${ms[$1]}" | median; }
echo "records=$RECORDS algorithm=$ALGORITHM rounds=$ROUNDS (nameserver on core 0; api, nats, prober on core 1); exec → 100 probes answered (signed: with RRSIG), median of rounds (of two: the lower)"
for k in signed/cp signed/cache unsigned/cp unsigned/cache; do
	printf 'RESULT dnssec_coldstart_ms.%s %s\n' "${k/\//.}" "$(m "$k")"
done
awk -v c="$(m signed/cache)" -v p="$(m signed/cp)" 'BEGIN { printf "signed 1M-record zone, cold start from the cache: %.2f s, from the control plane: %.2f s (target < 2 s)\n", c / 1000, p / 1000 }'
awk -v s="$(m signed/cache)" -v u="$(m unsigned/cache)" -v sp="$(m signed/cp)" -v up="$(m unsigned/cp)" 'BEGIN { printf "signed / unsigned: from the cache %.2f, from the control plane %.2f\n", s / u, sp / up }'
