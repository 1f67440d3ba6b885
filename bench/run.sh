#!/usr/bin/env bash
# bench/run.sh (make bench): every Waymark benchmark, each next to a peer
# measured in the same run, and one summary table at the end. See
# docs/benchmarks.md for what each figure means.
#
#   1. control plane through the real HTTP API (bench/cpbench) vs pgbench, and the
#      same batches through the Route 53 API (XML + SigV4) vs the JSON API
#   2. nameserver memory and cold start, 1,000,000 records: the production
#      binaries (waymark api + waymark nameserver, bench/nsprod, bench/nsmem) vs Knot DNS
#   3. Go benchmarks of ./dataplane and ./api
#   4. DNS queries per second vs Knot (bench/dns_vs_knot.sh, when present)
#  12. nameserver qps with query logging on for the queried zone vs off (bench/qlogbench)
#  13. cold start of a signed 1M-record zone (bench/dnssec_coldstart.sh)
#   5. propagation latency, submit → INSYNC (internal/e2e, when present)
#   6. abuse beside Knot: TCP floods, spoofed-source UDP flood, RRL cost (bench/abuse.sh)
#   7. views and sharding: one `waymark nameserver` serving 8 pool names
#      (100,000 zones on sets of 4) vs one view vs Knot, qps over 8
#      addresses; RSS and cold start of a node serving 2 of 8 names
#   8. DNSSEC: signed answers vs Knot pre-signed and mod-onlinesign, DO=0
#      signed vs unsigned (bench/dnssec_vs_knot.sh, when present)
#   9. control plane under one abusive tenant (bench/cpabuse against the
#      waymark api binary, API on core 0, load generator on core 1): other
#      tenants' GET p99 during exports and 4,000 long polls vs idle, and
#      PostgreSQL transactions/s per 1,000 waiters
#  10. registrar lifecycle: one pass over 10,000 domains expiring at once,
#      without auto-renew (delegations withdrawn) and with (renewed and
#      charged) (BenchmarkLifecycle10k in ./registrar)
#  14. registrar: register → SUCCESSFUL with the delegation INSYNC (p99),
#      registrations/s into one TLD with 16 clients, EPP checks/s on one
#      session, RDAP domain lookups (p99) (Go benchmarks in ./registrar,
#      ./registrar/regepp, ./registrar/regrdap)
#  11. zone transfers vs Knot (bench/xfrbench): IXFR bytes and time after one
#      change to a 100,000-record zone, AXFR time and peak memory growth of a
#      1,000,000-record zone
#
# Loopback only; every server it starts is stopped on exit. Servers are
# pinned to core 0 and load generators to core 1 where that matters (parts
# 2, 4 and 7). Bounded: each step has a timeout; parts 1-6 take 18–28
# minutes on two cores, part 7 another 2–6 (skipped when the budget is spent).
#
# Environment: DURATION seconds per throughput run (10), RECORDS for part 2
# (1000000), SKIP (space-separated part numbers to skip, e.g. "4 5"),
# BUDGET seconds for the whole run (1500),
# DATABASE_URL base (postgres://postgres@127.0.0.1:5432), NSMEM_PORT (5421),
# KNOT_PORT (5422), API_PORT (5423), NATS_PORT (5424), NS_SAMPLES (times
# after exec at which part 2 reads VmRSS: 8s,30s,60s; the last is the
# reported figure; 8s,30s,60s,120s for two minutes, 8s,20s for a quick
# run), NS_FLAGS (extra `waymark nameserver` flags, e.g. --memory-limit
# 400MiB), NS_LAYOUTS (one many), PROPAGATION_N changes (300), VIEWS_PORT (24053) and
# VIEWS_KNOT_PORT (24054) on 127.0.0.1-8 and VIEWS_ROUNDS (2) for part 7,
# KEEP=1 keeps the work dir,
# BENCH_REV=<git revision> benchmarks that commit (exported with git archive
# into the work dir) instead of the working tree — for a stable figure
# while the tree is being edited.
set -uo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
RECORDS=${RECORDS:-1000000}
SKIP=" ${SKIP:-} "
PGBASE=${DATABASE_URL_BASE:-postgres://postgres@127.0.0.1:5432}
NSMEM_PORT=${NSMEM_PORT:-5421}
KNOT_PORT=${KNOT_PORT:-5422}
API_PORT=${API_PORT:-5423}
NATS_PORT=${NATS_PORT:-5424}
NS_SAMPLES=${NS_SAMPLES:-8s,30s,60s}
NS_FLAGS=${NS_FLAGS:-}
NS_LAYOUTS=${NS_LAYOUTS:-one many}
PROPAGATION_N=${PROPAGATION_N:-300}
VIEWS_PORT=${VIEWS_PORT:-24053}
VIEWS_KNOT_PORT=${VIEWS_KNOT_PORT:-24054}
VIEWS_ROUNDS=${VIEWS_ROUNDS:-2}
PGUSER=${PGUSER:-postgres}
PGHOST=${PGHOST:-127.0.0.1}
export PGUSER PGHOST

# The whole run is bounded by BUDGET seconds (1500): each step's timeout is
# its own limit or what is left of the budget, whichever is smaller.
BUDGET=${BUDGET:-1500}
deadline=$(($(date +%s) + BUDGET))
budget() { # LIMIT -> seconds for the next step
	local left=$((deadline - $(date +%s)))
	[ "$left" -lt 5 ] && left=5
	echo $(($1 < left ? $1 : left))
}

work=$(mktemp -d /tmp/waymark-bench.XXXXXX)
results=$work/results.txt
: >"$results"
started=$(date +%s)

cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${BENCH_REV:-}" ]; then
	rev=$(git rev-parse --short "$BENCH_REV") || exit 1
	mkdir "$work/src" && git archive "$rev" | tar -x -C "$work/src" || exit 1
	cd "$work/src" || exit 1
	echo "benchmarking commit $rev (exported to $work/src)"
else
	rev="working tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	[ -n "$(git status --porcelain -- '*.go' 2>/dev/null)" ] && rev="$rev + uncommitted changes"
fi

say() { printf '\n=== %s (%ds)\n' "$*" $(($(date +%s) - started)); }
skip() { # PART: true when the part is to be skipped, by request or out of budget
	[[ $SKIP == *" $1 "* ]] && return 0
	if [ $((deadline - $(date +%s))) -lt 30 ]; then
		echo "=== part $1 skipped: the ${BUDGET}s budget is spent"
		put "part $1" skipped "budget spent"
		return 0
	fi
	return 1
}
# put KEY VALUE [NOTE]: one line of the summary table.
put() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$results"; }
# result FILE KEY: the value of "RESULT KEY v" in FILE, or "-".
result() { awk -v k="$2" '$1 == "RESULT" && $2 == k { v = $3 } END { print (v == "" ? "-" : v) }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# ---------------------------------------------------------------- tools
need=()
command -v knotd >/dev/null || need+=(knot)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v pgbench >/dev/null || need+=(postgresql-client)
command -v taskset >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${need[@]}" || { apt-get update && apt-get install -y "${need[@]}"; } || {
		echo "cannot install ${need[*]}" >&2
		exit 1
	}
fi
[ "$(nproc)" -ge 2 ] || { echo "bench: needs two cores (servers on 0, load on 1)" >&2; exit 1; }
psql -d postgres -Atc 'select 1' >/dev/null || { echo "bench: PostgreSQL is required on $PGHOST:5432" >&2; exit 1; }

say "build"
go build -o "$work/cpbench" ./bench/cpbench && go build -o "$work/nsmem" ./bench/nsmem &&
	go build -o "$work/nsprod" ./bench/nsprod && go build -o "$work/waymark" ./cmd/waymark || exit 1
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
put load_avg_start "$(cut -d' ' -f1 /proc/loadavg)" "1-min load average before the run (2 cores)"

# ---------------------------------------------------------------- 1
# pgbench_tps LABEL ARGS...: TPS of one 16-client pgbench run.
pgbench_tps() {
	local label=$1
	shift
	timeout -k 5 $(budget 60) pgbench -n -c 16 -j 2 -T "$DURATION" "$@" waymark_pgbench >"$work/pgbench-$label.txt" 2>&1 || true
	awk '/^tps = / { printf "%.0f", $3 }' "$work/pgbench-$label.txt" | tail -1
}
# mean A B: the mean of the non-empty of two numbers, or "-".
mean() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { n = (a > 0) + (b > 0); if (n) printf "%.0f", (a + b) / n; else print "-" }'; }
if ! skip 1; then
	# Two peers: pgbench's simple-update (-N: three statements and an insert
	# in one transaction), and the same update followed by a NOTIFY in the
	# transaction, as every change batch does to wake the relay. PostgreSQL
	# serialises the commits of transactions that NOTIFY (a database-wide
	# lock held through the commit's WAL flush), so the second is the
	# ceiling of any design that notifies per commit on this disk.
	cat >"$work/notify.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT pg_notify('bench', '');
END;
SQL
	say "1. control plane: pgbench peers (16 clients, ${DURATION}s each)"
	psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_pgbench WITH (FORCE)' -c 'CREATE DATABASE waymark_pgbench' &&
		timeout -k 5 $(budget 120) pgbench -i -q -s 16 waymark_pgbench >"$work/pgbench-init.txt" 2>&1 || { cat "$work/pgbench-init.txt"; exit 1; }
	n1=$(pgbench_tps n-before -N)
	y1=$(pgbench_tps notify-before -f "$work/notify.sql")
	echo "pgbench before: simple-update ${n1:--} tps, update+NOTIFY ${y1:--} tps"

	say "1. control plane: cpbench through the HTTP API (${DURATION}s per run)"
	timeout -k 5 $(budget 300) "$work/cpbench" -duration "${DURATION}s" -database-url "$PGBASE/waymark_bench?sslmode=disable" | tee "$work/cp.txt"
	n2=$(pgbench_tps n-after -N)
	y2=$(pgbench_tps notify-after -f "$work/notify.sql")
	echo "pgbench after: simple-update ${n2:--} tps, update+NOTIFY ${y2:--} tps"
	tpsN=$(mean "$n1" "$n2")
	tpsY=$(mean "$y1" "$y2")
	psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_pgbench WITH (FORCE)' -c 'DROP DATABASE IF EXISTS waymark_bench WITH (FORCE)' || true

	c=$work/cp.txt
	wm=$(result "$c" cp_single_16_batches_per_s)
	put cp.single.1client.batches_per_s "$(result "$c" cp_single_1_batches_per_s)" "p50 $(result "$c" cp_single_1_p50_ms) ms, p99 $(result "$c" cp_single_1_p99_ms) ms"
	put cp.single.16clients.batches_per_s "$wm" "p50 $(result "$c" cp_single_16_p50_ms) ms, p99 $(result "$c" cp_single_16_p99_ms) ms; target >= 1000"
	put cp.batch100.16clients.batches_per_s "$(result "$c" cp_batch100_16_batches_per_s)" "p50 $(result "$c" cp_batch100_16_p50_ms) ms, p99 $(result "$c" cp_batch100_16_p99_ms) ms"
	r1=$(result "$c" r53_single_16_batches_per_s)
	r100=$(result "$c" r53_batch100_16_batches_per_s)
	put r53.single.16clients.batches_per_s "$r1" "Route 53 API (XML + SigV4), right after the JSON run; p50 $(result "$c" r53_single_16_p50_ms) ms, p99 $(result "$c" r53_single_16_p99_ms) ms"
	put r53.batch100.16clients.batches_per_s "$r100" "p50 $(result "$c" r53_batch100_16_p50_ms) ms, p99 $(result "$c" r53_batch100_16_p99_ms) ms"
	put "ratio: Route 53 XML ÷ JSON, single-record batches" "$(ratio "$r1" "$wm")" "target >= 0.8"
	na=$(result "$c" cp_single_16_noaudit_batches_per_s)
	put cp.single.16clients.noaudit.batches_per_s "$na" "the audit log off, right after the run with it; p50 $(result "$c" cp_single_16_noaudit_p50_ms) ms, p99 $(result "$c" cp_single_16_noaudit_p99_ms) ms"
	put "ratio: batches/s with the audit log ÷ without" "$(ratio "$wm" "$na")" "single-record batches, 16 clients; target >= 0.95"
	put "ratio: Route 53 XML ÷ JSON, 100-record batches" "$(ratio "$r100" "$(result "$c" cp_batch100_16_batches_per_s)")" "target >= 0.8"
	put cp.list.max100.p50_ms "$(result "$c" list100_p50_ms)" "p99 $(result "$c" list100_p99_ms) ms; 10,000-set zone walked in pages of 100"
	put cp.list.max300.first.p50_ms "$(result "$c" list300_first_p50_ms)" "p99 $(result "$c" list300_first_p99_ms) ms"
	put pgbench.simple-update.16clients.tps "$tpsN" "mean of before (${n1:--}) and after (${n2:--})"
	put pgbench.update+notify.16clients.tps "$tpsY" "mean of before (${y1:--}) and after (${y2:--})"
	put "ratio: waymark batches/s ÷ pgbench tps" "$(ratio "$wm" "$tpsN")" "single-record batches vs simple-update, 16 clients each"
	put "ratio: waymark batches/s ÷ pgbench+NOTIFY tps" "$(ratio "$wm" "$tpsY")" "vs the NOTIFY-per-commit ceiling"
fi

# ---------------------------------------------------------------- 2
knot_conf() { # dir [listen] -> writes dir/knot/knot.conf
	mkdir -p "$1/knot/run" "$1/knot/db"
	{
		cat <<CONF
server:
    rundir: "$1/knot/run"
    listen: ${2:-127.0.0.1@$KNOT_PORT}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$1/knot/db"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "$1/zones"
    file: "%s.zone"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
CONF
		cat "$1/knot-zones.conf"
	} >"$1/knot/knot.conf"
}
# wait_http URL: until it answers 200 (30 s at most).
wait_http() {
	local i
	for i in $(seq 300); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "bench: $1 did not come up" >&2
	return 1
}
if ! skip 2; then
	# The production binaries, as an operator starts them: `waymark api`
	# (PostgreSQL, NATS) and `waymark nameserver` against it, each in its
	# own process; NATS is nsprod natsd (the nats-server library, as
	# `waymark dev` embeds it). The data set is the same as Knot's.
	export WAYMARK_MASTER_KEY=$(printf '%064d' 1) WAYMARK_JWT_KEY=$(printf '%064d' 2) WAYMARK_ADMIN_TOKEN=bench-admin-token-0123456789
	nsdb="$PGBASE/waymark_nsbench?sslmode=disable"
	last_sample=${NS_SAMPLES##*,}
	for layout in $NS_LAYOUTS; do
		skip 2 && break
		d=$work/ns-$layout
		say "2. nameserver memory and cold start: $RECORDS records, layout '$layout'"
		timeout -k 5 $(budget 180) "$work/nsmem" gen -layout "$layout" -records "$RECORDS" -out "$d" || exit 1
		knot_conf "$d"
		psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_nsbench WITH (FORCE)' -c 'CREATE DATABASE waymark_nsbench' || exit 1
		timeout -k 5 $(budget 300) "$work/nsprod" seed -database-url "$nsdb" -layout "$layout" -records "$RECORDS" || exit 1
		"$work/nsprod" natsd -listen "127.0.0.1:$NATS_PORT" -dir "$d/nats" >"$d/natsd.log" 2>&1 &
		natsd_pid=$!
		taskset -c 1 "$work/waymark" api --database-url "$nsdb" --nats-url "nats://127.0.0.1:$NATS_PORT" \
			--listen "127.0.0.1:$API_PORT" >"$d/api.log" 2>&1 &
		api_pid=$!
		wait_http "http://127.0.0.1:$API_PORT/readyz" || exit 1
		m() { taskset -c 1 timeout -k 5 "$(budget 300)" "$work/nsmem" measure -probe "$d/probe.txt" "$@"; }
		ns() { # the nameserver command line, as an operator would run it
			# --rrl-off: the probes all come from 127.0.0.1, one client to
			# response rate limiting; Knot runs without its rrl module too.
			echo taskset -c 0 "$work/waymark" nameserver --region bench --node-id "bench-$layout" \
				--listen "127.0.0.1:$NSMEM_PORT" --api "http://127.0.0.1:$API_PORT" \
				--nats-url "nats://127.0.0.1:$NATS_PORT" --cache-dir "$d/cache" --rrl-off $NS_FLAGS
		}
		m -label knot -samples "$NS_SAMPLES" -addr "127.0.0.1:$KNOT_PORT" -- \
			taskset -c 0 knotd -c "$d/knot/knot.conf" | tee "$d/knot.txt"
		# From the control plane: an empty cache directory. On its way out
		# (SIGTERM) the nameserver writes its cache, if the cache loop
		# had not yet.
		m -label cp -samples "$NS_SAMPLES" -addr "127.0.0.1:$NSMEM_PORT" -- $(ns) 2>"$d/ns-cp.log" | tee "$d/cp.txt"
		# While it is away, changes: 100 new record sets in the big zone,
		# or one in each of 100 zones. From the cache, with the control
		# plane and NATS up, the node loads its cache and fetches only
		# those, from the stream.
		if [ "$layout" = one ]; then chg="-zones 1 -sets 100"; else chg="-zones 100 -sets 1"; fi
		timeout -k 5 $(budget 120) "$work/nsprod" change -database-url "$nsdb" $chg || exit 1
		m -label cache -samples "$NS_SAMPLES" -addr "127.0.0.1:$NSMEM_PORT" -- $(ns) 2>"$d/ns-cache.log" | tee "$d/cache.txt"
		grep -h -E 'caught up|loaded the' "$d/ns-cp.log" "$d/ns-cache.log" | cut -c1-200
		kill "$api_pid" "$natsd_pid" 2>/dev/null
		wait "$api_pid" "$natsd_pid" 2>/dev/null
		# Extra, labelled: the harness (nsmem serve: the same node from
		# the snapshot file, then runtime.GC + debug.FreeOSMemory on
		# SIGUSR1), the figure earlier versions of this table reported.
		m -label harness -usr1 -addr "127.0.0.1:$NSMEM_PORT" -snapshot "$d/snapshot.json" -- \
			taskset -c 0 "$work/nsmem" serve -addr "127.0.0.1:$NSMEM_PORT" -snapshot-url '{URL}' | tee "$d/harness.txt"
		desc="1 zone"
		[ "$layout" = many ] && desc="$((RECORDS / 10)) zones of 10"
		at=$(awk -v s="$last_sample" 'BEGIN { sub(/s$/, "", s); print s }')
		k=$(result "$d/knot.txt" "knot_rss_${at}s_mib")
		o=$(result "$d/cp.txt" "cp_rss_${at}s_mib")
		put "ns.$layout.rss_mib.waymark" "$o" "$desc; production binary, RSS ${at} s after exec, no help; at first answer $(result "$d/cp.txt" cp_rss_ready_mib)"
		put "ns.$layout.hwm_mib.waymark" "$(result "$d/cp.txt" cp_hwm_mib)" "VmHWM, peak during the load (from the control plane)"
		put "ns.$layout.rss_mib.waymark_cache" "$(result "$d/cache.txt" "cache_rss_${at}s_mib")" "started from the cache; VmHWM $(result "$d/cache.txt" cache_hwm_mib)"
		put "ns.$layout.rss_mib.knot" "$k" "$desc; RSS ${at} s after exec; VmHWM $(result "$d/knot.txt" knot_hwm_mib)"
		put "ratio: ns.$layout RSS waymark ÷ knot" "$(ratio "$o" "$k")" "target <= 1.0, later <= 0.8"
		put "ns.$layout.coldstart_ms.cp" "$(result "$d/cp.txt" cp_load_ms)" "exec → every probe answered; snapshot from waymark api (PostgreSQL)"
		caught=$(sed -n 's/.*caught up from the zone stream.* events=\([0-9]*\).*/\1/p' "$d/ns-cache.log" | head -1)
		put "ns.$layout.coldstart_ms.cache" "$(result "$d/cache.txt" cache_load_ms)" "exec → every probe answered; on-disk cache + ${caught:-no} events caught up from the stream"
		put "ns.$layout.coldstart_ms.knot" "$(result "$d/knot.txt" knot_load_ms)" "exec → every probe answered; master files"
		put "ratio: ns.$layout cold start waymark(cp) ÷ knot" "$(ratio "$(result "$d/cp.txt" cp_load_ms)" "$(result "$d/knot.txt" knot_load_ms)")" "target < 2"
		put "ratio: ns.$layout cold start waymark(cache) ÷ knot" "$(ratio "$(result "$d/cache.txt" cache_load_ms)" "$(result "$d/knot.txt" knot_load_ms)")" "target <= 1"
		put "ns.$layout.rss_mib.harness_gc" "$(result "$d/harness.txt" harness_rss_mib)" "extra: bench harness (nsmem serve), after a forced GC + FreeOSMemory; cold start $(result "$d/harness.txt" harness_load_ms) ms from a file"
		rm -rf "$d"
	done
	psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_nsbench WITH (FORCE)' || true
fi

# ---------------------------------------------------------------- 3
if ! skip 3; then
	say "3. Go benchmarks (./dataplane ./api ./api/route53, -benchtime 2s)"
	timeout -k 5 $(budget 300) go test -timeout "$(budget 300)s" -run '^$' -bench . -benchtime 2s ./dataplane/ ./api/ ./api/route53/ 2>&1 | tee "$work/gobench.txt"
	awk '/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		note = ""
		for (i = 5; i < NF; i += 2) note = note $i " " $(i + 1) "; "
		printf "go.%s\t%s %s\t%s\n", name, $3, $4, note
	}' "$work/gobench.txt" >>"$results"
fi

# ---------------------------------------------------------------- 4
if ! skip 4; then
	if [ -x bench/dns_vs_knot.sh ]; then
		say "4. DNS queries per second vs Knot (bench/dns_vs_knot.sh)"
		timeout -k 5 $(budget 400) bench/dns_vs_knot.sh 2>&1 | tee "$work/dns.txt"
		d=$work/dns.txt
		put dns.qps.waymark "$(awk '/^waymark +median:/ { print $3 }' "$d")" "median of rounds; $(awk '/^waymark +median:/ { print $5 }' "$d") µs CPU/query; server on core 0, dnsperf on core 1"
		put dns.qps.knot "$(awk '/^knot +median:/ { print $3 }' "$d")" "$(awk '/^knot +median:/ { print $5 }' "$d") µs CPU/query"
		put "ratio: dns qps waymark ÷ knot" "$(awk '/ratio waymark\/knot:/ { print $NF }' "$d")" ""
		put dns.qps.waymark.metrics "$(awk '/^waymark metrics on median:/ { print $5 }' "$d")" "Prometheus query metrics and per-zone counting on (nsbench -metrics)"
		put "ratio: dns qps metrics on ÷ off" "$(awk '/^qps ratio metrics on\/off:/ { print $NF }' "$d")" "same run, median of rounds; target >= 0.97"
		put "ratio: dns CPU/query knot ÷ waymark" "$(awk '/^CPU per query ratio/ { print $6 }' "$d")" "above 1: Waymark spends less CPU per answer"
	else
		echo "bench/dns_vs_knot.sh not present: skipped"
	fi
fi

# ---------------------------------------------------------------- 5
if ! skip 5; then
	if ls internal/e2e/*_test.go >/dev/null 2>&1 && grep -q 'func BenchmarkPropagation' internal/e2e/*_test.go; then
		say "5. propagation latency, submit → INSYNC, 3 nameservers ($PROPAGATION_N changes)"
		timeout -k 5 $(budget 300) go test -timeout "$(budget 300)s" ./internal/e2e/ -run '^$' -bench Propagation -benchtime "${PROPAGATION_N}x" 2>&1 | tee "$work/prop.txt"
		awk '/^BenchmarkPropagation/ {
			for (i = 5; i < NF; i += 2) printf "propagation.%s\t%s\t%s\n", $(i + 1), $i, ""
		}' "$work/prop.txt" >>"$results"
	else
		echo "internal/e2e BenchmarkPropagation not present: skipped"
	fi
fi

# ---------------------------------------------------------------- 6
if ! skip 6; then
	say "6. abuse beside Knot: TCP floods, UDP flood to a spoofed source, RRL cost (bench/abuse.sh)"
	timeout -k 5 $(budget 600) bench/abuse.sh 2>&1 | tee "$work/abuse.txt"
	a=$work/abuse.txt
	pct() { awk -v m="$1" -v w="$2" '$2 == m && $1 == w { for (i = 3; i <= NF; i++) if ($i ~ /^pct=/) { sub("pct=", "", $i); print $i } }' "$a"; }
	fl() { awk -v w="$1" -v k="$2" '$1 == w && $2 == "flood" { for (i = 3; i <= NF; i++) if ($i ~ "^" k "=") { sub(k "=", "", $i); print $i } }' "$a"; }
	put abuse.tcp_idle_5000.answered_pct.waymark "$(pct idle waymark)" "new TCP queries answered during 5,000 idle connections"
	put abuse.tcp_idle_5000.answered_pct.knot "$(pct idle knot)" ""
	put abuse.tcp_idle_5000.answered_pct.waymark_1024 "$(pct idle waymark-1024)" "--tcp-max-conns 1024: the attack is 5x the limit"
	put abuse.tcp_idle_5000.answered_pct.knot_1024 "$(pct idle knot-1024)" "tcp-max-clients 1024"
	put abuse.tcp_slow_1100.answered_pct.waymark "$(pct slow waymark)" "during 1,100 connections sending a query every 8 s"
	put abuse.tcp_slow_1100.answered_pct.knot "$(pct slow knot)" ""
	put abuse.flood.answers_per_s.waymark "$(fl waymark answers_per_s)" "full answers/s reaching the spoofed source; RRL 20/s slip 2"
	put abuse.flood.answers_per_s.knot "$(fl knot answers_per_s)" "mod-rrl rate-limit 20, slip 2"
	put abuse.flood.octets_per_s.waymark "$(fl waymark octets_per_s)" "all octets reaching the spoofed source, truncated answers included"
	put abuse.flood.octets_per_s.knot "$(fl knot octets_per_s)" ""
	put abuse.flood.octets_per_s.waymark_no_rrl "$(fl waymark-no-rrl octets_per_s)" "RRL off, for reference"
	lg() { awk -v w="$1" -v k="$2" '$1 == w && $2 == "legit" { for (i = 3; i <= NF; i++) if ($i ~ "^" k "=") { sub(k "=", "", $i); print $i } }' "$a"; }
	put abuse.legit_p99_us.waymark "$(lg waymark p99_us)" "legitimate client during a random-name flood; lost $(lg waymark lost_pct) %"
	put abuse.legit_p99_us.knot "$(lg knot p99_us)" "lost $(lg knot lost_pct) %"
	put "ratio: qps RRL+cookies on ÷ off" "$(awk '/^qps ratio on\/off:/ { print $NF }' "$a")" "normal mix, median of rounds"
	put "ratio: CPU/query off ÷ on" "$(awk '/^CPU per query ratio off\/on:/ { print $6 }' "$a")" "1 = RRL and cookies cost nothing"
	put "ratio: qps client cookies in every query ÷ off" "$(awk '/^qps ratio cookie\/off:/ { print $NF }' "$a")" "RRL and cookies on, dnsperf -E 10:…; median of rounds"
fi

# ---------------------------------------------------------------- 7
# Views and sharding, through the production nameserver (`waymark
# nameserver`, NATS pointed at a closed port, the snapshot served by nsmem
# measure as the control plane would; --rrl-off, since every query comes
# from 127.0.0.1 and Knot here has no mod-rrl: part 6 measures RRL). The same 100,000 zones of 10 records
# on random sets of 4 of 8 pool names ns1..ns8.bench.test. on 127.0.0.1..8:
#   views  the pool of 8 names, one view each (every zone in 4 of them)
#   one    one pool name listening on the same 8 addresses, every zone in
#          its one view (same sockets, same load: only the views differ)
#   knot   Knot on the same 8 addresses, the same zones
#   shard  --serve ns1,ns2: the zones on sets holding either (the filtered
#          snapshot the control plane sends such a node)
# qps: 8 dnsperf processes on core 1, one per address, each with the queries
# of zones visible on its name, summed; the server on core 0. Rounds
# alternate the servers; each figure is the mean of the rounds.
if ! skip 7; then
	d=$work/views
	say "7. views and sharding: 100,000 zones on sets of 4 of 8 pool names"
	timeout -k 5 "$(budget 120)" "$work/nsmem" genviews -out "$d" || exit 1
	p8= p1=ns1.bench.test.= knot_listen=
	for i in 1 2 3 4 5 6 7 8; do
		p8+="ns$i.bench.test.=127.0.0.$i,"
		p1+="127.0.0.$i/"
		knot_listen+="127.0.0.$i@$VIEWS_KNOT_PORT, "
	done
	knot_conf "$d" "[ ${knot_listen%, } ]"
	cat >"$d/perf8.sh" <<'SH'
#!/bin/sh
# perf8.sh DIR PORT DURATION: one dnsperf per address 127.0.0.1..8, summed.
for k in 1 2 3 4 5 6 7 8; do
	dnsperf -s "127.0.0.$k" -p "$2" -d "$1/queries-$k.txt" -l "$3" -c 1 -T 1 -q 16 >"$1/perf-$k.out" 2>&1 &
done
wait
awk '/Queries per second:/ { q += $4 } /Queries lost:/ { l += $3 } END { printf "RESULT qps %.0f\nRESULT lost %d\n", q, l }' "$1"/perf-[1-8].out
SH
	chmod +x "$d/perf8.sh"
	vm() { # label pool snapshot [--serve names] [-then ...]: one waymark nameserver
		local label=$1 pool=$2 snap=$3
		shift 3
		local then=()
		[ "${1:-}" = -then ] && then=(-then "$2") && shift 2
		WAYMARK_ADMIN_TOKEN=bench WAYMARK_NAMESERVERS=$pool taskset -c 1 timeout -k 5 "$(budget 240)" \
			"$work/nsmem" measure -label "$label" -addr "127.0.0.1:$VIEWS_PORT" -probe "$d/probe.txt" \
			-snapshot "$snap" "${then[@]}" -- taskset -c 0 "$work/waymark" nameserver --region bench \
			--node-id "bench-$label" --listen "127.0.0.1:$VIEWS_PORT" --nats-url nats://127.0.0.1:1 --api '{URL}' --rrl-off "$@"
	}
	for r in $(seq 1 "$VIEWS_ROUNDS"); do
		skip 7 && break
		o=$d/round$r.txt
		vm views "$p8" "$d/snapshot-views.json" -then "$d/perf8.sh $d $VIEWS_PORT $DURATION" 2>"$d/views.log" | tee -a "$o"
		vm one "$p1" "$d/snapshot-one.json" -then "$d/perf8.sh $d $VIEWS_PORT $DURATION" 2>"$d/one.log" | tee -a "$o"
		taskset -c 1 timeout -k 5 "$(budget 240)" "$work/nsmem" measure -label knot -addr "127.0.0.1:$VIEWS_KNOT_PORT" \
			-probe "$d/probe.txt" -then "$d/perf8.sh $d $VIEWS_KNOT_PORT $DURATION" -- \
			taskset -c 0 knotd -c "$d/knot/knot.conf" 2>"$d/knot.log" | tee -a "$o"
		vm shard "$p8" "$d/snapshot-shard.json" --serve ns1,ns2 2>"$d/shard.log" | tee -a "$o"
	done
	# Each RESULT qps line follows its server's own lines: tag it with the
	# label of the RESULT line before it.
	awk '$1 == "RESULT" { if ($2 == "qps" || $2 == "lost") $2 = lbl "_" $2; else { lbl = $2; sub(/_.*/, "", lbl) } print }' "$d"/round*.txt >"$d/all.txt"
	vmean() { awk -v k="$1" '$1 == "RESULT" && $2 == k { s += $3; n++; v = v (v == "" ? "" : ", ") $3 } END { if (n) printf "%.1f\t%s\n", s / n, v; else print "-\t" }' "$d/all.txt"; }
	fig() { vmean "$1" | cut -f1; }
	each() { vmean "$1" | cut -f2; }
	q8=$(fig views_qps) q1=$(fig one_qps) qk=$(fig knot_qps)
	put views.qps.8views "$q8" "one nameserver, 8 pool names on 127.0.0.1-8, 100,000 zones on sets of 4; rounds: $(each views_qps); lost $(each views_lost)"
	put views.qps.1view "$q1" "same zones, one pool name on the same 8 addresses; rounds: $(each one_qps)"
	put views.qps.knot "$qk" "Knot on the same 8 addresses; rounds: $(each knot_qps)"
	put "ratio: views qps 8 views ÷ 1 view" "$(ratio "$q8" "$q1")" "target >= 0.95"
	put "ratio: views qps 8 views ÷ knot" "$(ratio "$q8" "$qk")" "target >= 1"
	zs=$(grep -o '"id":' "$d/snapshot-shard.json" | wc -l)
	# Our RSS is read once every probe answers (no GC is forced: the
	# production binary has no hook for it), so it holds the decoded
	# snapshot's garbage; Knot's once stable.
	for k in rss_ready_mib load_ms; do
		a=$(fig "views_$k") b=$(fig "shard_$k")
		put "views.$k.serve8of8" "$a" "rounds: $(each "views_$k")"
		put "views.$k.serve2of8" "$b" "--serve ns1,ns2: $zs of 100,000 zones; rounds: $(each "shard_$k")"
		put "views.$k.1view" "$(fig "one_$k")" "rounds: $(each "one_$k")"
		put "ratio: views $k 2 of 8 ÷ 8 of 8" "$(ratio "$b" "$a")" ""
	done
	put views.rss_mib.knot "$(fig knot_rss_mib)" "100,000 zones; cold start $(fig knot_load_ms) ms"
	[ -n "${KEEP:-}" ] || rm -rf "$d/zones"
fi

# ---------------------------------------------------------------- 8
if ! skip 8; then
	if [ -x bench/dnssec_vs_knot.sh ]; then
		say "8. DNSSEC: signed answers vs Knot (bench/dnssec_vs_knot.sh)"
		DURATION=$DURATION timeout -k 5 $(budget 300) bench/dnssec_vs_knot.sh 2>&1 | tee "$work/dnssec.txt"
		d=$work/dnssec.txt
		for k in waymark/positive/1 knot-presigned/positive/1 knot-onlinesign/positive/1 waymark/nxdomain/1 knot-onlinesign/nxdomain/1 waymark/positive/0 waymark-unsigned/positive/0; do
			put "dnssec.qps.$k" "$(awk -v k="$k" '$1 == k { print $2 }' "$d")" "median of rounds; DO=1 unless /0"
		done
		put "ratio: dnssec cached signed ÷ knot pre-signed" "$(awk '/^signed positive/ { print $(NF-3) }' "$d")" "target ≥ 0.8"
		put "ratio: dnssec unique NXDOMAIN ÷ knot onlinesign" "$(awk '/^unique NXDOMAIN/ { print $(NF-3) }' "$d")" "target ≥ 1.5"
		put "ratio: dnssec DO=0 signed ÷ unsigned" "$(awk '/^DO=0 on the signed/ { print $(NF-3) }' "$d")" "target ≥ 0.95"
	else
		echo "bench/dnssec_vs_knot.sh not present: skipped"
	fi
fi

# ---------------------------------------------------------------- 9
if ! skip 9; then
	say "9. control plane under one abusive tenant: exports and 4,000 long polls (bench/cpabuse)"
	# The real `waymark api` (its own process, default limits) on core 0,
	# the load generator on core 1.
	go build -o "$work/cpabuse" ./bench/cpabuse &&
		timeout -k 5 $(budget 300) taskset -c 1 "$work/cpabuse" -duration "${DURATION}s" \
			-waymark "$work/waymark" -api-cpus 0 \
			-database-url "$PGBASE/waymark_cpabuse_bench?sslmode=disable" 2>&1 | tee "$work/cpabuse.txt"
	c=$work/cpabuse.txt
	put "ratio: GET p99 during exports + 4,000 long polls ÷ idle" "$(awk '/^ratio GET p99/ { print $NF }' "$c")" "other tenants; target ≤ 2"
	put "cpabuse.xact_per_s_per_1000_waiters" "$(awk '/^transactions\/s per 1000 waiters/ { print $NF }' "$c")" "pg_stat_database deltas above idle; target ≤ 50"
	psql -d postgres -qc 'DROP DATABASE IF EXISTS waymark_cpabuse_bench WITH (FORCE)' || true
fi

# ---------------------------------------------------------------- 10
if ! skip 10; then
	say "10. registrar lifecycle: 10,000 domains expiring at once, one pass (BenchmarkLifecycle10k)"
	timeout -k 5 $(budget 400) go test -timeout "$(budget 400)s" -run '^$' -bench 'Lifecycle10k' -benchtime 1x ./registrar/ 2>&1 | tee "$work/lifecycle.txt"
	for k in expire autorenew; do
		put "registrar.lifecycle_10k_$k" "$(awk -v k="$k" '$1 ~ ("Lifecycle10k/" k) { for (i = 2; i < NF; i++) if ($(i + 1) == "s/pass") print $i " s" }' "$work/lifecycle.txt")" \
			"one lifecycle pass over 10,000 domains expiring at once; target ≤ 30 s"
	done
fi

# ---------------------------------------------------------------- 11
if ! skip 11; then
	say "11. zone transfers vs Knot: IXFR after one change (100,000 records), AXFR (1,000,000) (bench/xfrbench)"
	go build -o "$work/xfrbench" ./bench/xfrbench &&
		timeout -k 5 $(budget 400) "$work/xfrbench" run -waymark-port "${XFR_PORT:-5425}" -knot-port "${XFR_KNOT_PORT:-5426}" 2>&1 | tee "$work/xfr.txt"
	x=$work/xfr.txt
	put "xfr.waymark_ixfr_bytes" "$(result "$x" waymark_ixfr_bytes)" "IXFR after one change to a 100,000-record zone (Knot: $(result "$x" knot_ixfr_bytes))"
	put "ratio: IXFR bytes waymark ÷ knot" "$(result "$x" ratio_ixfr_bytes)" "both send the difference only"
	put "ratio: AXFR time 1M records waymark ÷ knot" "$(result "$x" ratio_axfr_ms)" "$(result "$x" waymark_axfr_ms) ms vs $(result "$x" knot_axfr_ms) ms"
	put "xfr.waymark_axfr_peak_growth_mib" "$(result "$x" waymark_axfr_peak_growth_mib)" "peak RSS growth during a 1M-record AXFR, MiB (Knot: $(result "$x" knot_axfr_peak_growth_mib)); zone RSS $(result "$x" waymark_rss_before_mib) MiB"
fi

# ---------------------------------------------------------------- 12
if ! skip 12; then
	say "12. nameserver qps with query logging on for the queried zone vs off, one process (bench/qlogbench)"
	go build -o "$work/qlogbench" ./bench/qlogbench &&
		timeout -k 5 $(budget 200) "$work/qlogbench" -addr "127.0.0.1:${QLOG_PORT:-5427}" -duration "$DURATION" 2>&1 | tee "$work/qlog.txt"
	q=$work/qlog.txt
	put "ratio: nameserver qps query logging on ÷ off" "$(awk '/^ratio_on_off/ { print $2 }' "$q")" \
		"$(awk '/^qps_logging_on/ { print $2 }' "$q") vs $(awk '/^qps_logging_off/ { print $2 }' "$q") qps, dnsperf alternating zones of one server, entries to JetStream; dropped $(awk '/^entries_dropped/ { print $2 }' "$q"); target ≥ 0.8"
fi

# ---------------------------------------------------------------- 13
if ! skip 13; then
	say "13. cold start of a signed 1M-record zone, from the cache and from the control plane (bench/dnssec_coldstart.sh)"
	timeout -k 5 $(budget 420) bench/dnssec_coldstart.sh 2>&1 | tee "$work/coldstart.txt"
	c=$work/coldstart.txt
	put "dnssec.coldstart_signed_cache_ms" "$(result "$c" dnssec_coldstart_ms.signed.cache)" \
		"signed 1M records, exec → 100 probes answered with RRSIG, from the on-disk cache; target < 2000 (unsigned: $(result "$c" dnssec_coldstart_ms.unsigned.cache))"
	put "dnssec.coldstart_signed_cp_ms" "$(result "$c" dnssec_coldstart_ms.signed.cp)" \
		"the same from the control plane's snapshot, an empty cache (unsigned: $(result "$c" dnssec_coldstart_ms.unsigned.cp))"
fi

# ---------------------------------------------------------------- 14
if ! skip 14; then
	say "14. registrar: register → SUCCESSFUL p99, 16 clients' registrations/s, EPP checks/s per session, RDAP p99"
	r=$work/registrar.txt
	timeout -k 5 $(budget 300) go test -timeout "$(budget 300)s" -run '^$' -bench 'RegisterInsync' -benchtime 300x ./registrar/ 2>&1 | tee "$r"
	timeout -k 5 $(budget 300) go test -timeout "$(budget 300)s" -run '^$' -bench 'RegisterParallel16' -benchtime 2000x ./registrar/ 2>&1 | tee -a "$r"
	timeout -k 5 $(budget 300) go test -timeout "$(budget 300)s" -run '^$' -bench 'EPPCheckPerSession' -benchtime "${DURATION}s" ./registrar/regepp/ 2>&1 | tee -a "$r"
	timeout -k 5 $(budget 300) go test -timeout "$(budget 300)s" -run '^$' -bench 'RDAPDomain' -benchtime 5000x ./registrar/regrdap/ 2>&1 | tee -a "$r"
	# metric BENCH UNIT: the value reported with UNIT on BENCH's line.
	metric() { awk -v b="$1" -v u="$2" '$1 ~ ("^Benchmark" b) { for (i = 2; i < NF; i++) if ($(i + 1) == u) print $i }' "$r"; }
	put "registrar.register_insync_p99_ms" "$(metric RegisterInsync p99-ms)" "hosted_zone create → SUCCESSFUL (zone + TLD change INSYNC), one after another; p50 $(metric RegisterInsync p50-ms) ms; target ≤ 1000"
	put "registrar.registrations_per_s_16_clients" "$(metric RegisterParallel16 registrations/s)" "16 tenants into one TLD, hosted_zone create, committed; target ≥ 100"
	put "registrar.epp_checks_per_s_per_session" "$(metric EPPCheckPerSession checks/s)" "domain:check over TLS, one session, built-in registry on PostgreSQL"
	put "registrar.rdap_domain_p99_us" "$(metric RDAPDomain p99-µs)" "GET /domain/{name}, 1,000 domains, one client; $(metric RDAPDomain lookups/s) lookups/s"
fi

# ---------------------------------------------------------------- summary
put load_avg_end "$(cut -d' ' -f1 /proc/loadavg)" "1-min load average after the run"
say "summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $rev, $(nproc) cores, $(go version | cut -d' ' -f3))"
awk -F'\t' '{ printf "%-52s %14s  %s\n", $1, $2, $3 }' "$results"
