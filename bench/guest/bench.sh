#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest driver of "make bench" (see bench/run): runs every workload
# under every mode, in one boot, and prints machine-readable lines:
#   SIZE,<clock>,<fast_free_mb>    the fast node's free memory that sizes follow
#   ROUND,<clock>,<workload>,<scenario>,<mode>,<rep>,<round>,<mops>,<stall_ms>
#   STAT,<clock>,<workload>,<scenario>,<mode>,<rep>,<steady_mops>,<promoted>,
#        <demoted>,<remaps>,<tpm_commits>,<tpm_aborts>,<hint_faults>,<stall_ms>,<secs>,
#        <user_s>,<sys_s>,<kpromoted_s>,<kswapd_s>,<queued>,<dropped>,<promote_fail>,
#        <candidates>,<tlb_shootdowns>,<round1_mops>,<fast_misses>,<slow_misses>,
#        <backoff_drops>,<redemoted>
# user_s and sys_s: all CPUs (/proc/stat; system includes irq and softirq);
# kpromoted_s and kswapd_s: CPU time of those kernel threads, a subset of
# sys_s; queued, dropped, promote_fail: kpromoted's queue (nomad_promote_*);
# candidates: pgpromote_candidate (hint faults that chose promotion);
# tlb_shootdowns: TLB shootdown IPIs received (/proc/interrupts "TLB");
# fast_misses, slow_misses: the tier model's cache misses on each node
# (nomad_tierstat; empty without the model); backoff_drops, redemoted:
# candidates the promotion back-off dropped, pages demoted again soon
# after NOMAD promoted them (nomad_promote_drop_backoff, _redemoted).
#
#   PROF,<clock>,<workload>,<scenario>,<mode>,<rep>,<rank>,<percent>,<comm>,<symbol>
#        (with profile=1: the top symbols of a system-wide perf profile)
#
#   bench.sh [clock=C] [scale=N] [reps=N] [rounds=N] [workloads=W,...]
#            [scenarios=S,...] [micro=V,...] [orders=O,...] [profile=0|1]
#            [modes=M,...] [limit=0|1] [fast_free=MB]
# scale multiplies the round length (accesses, iterations, operations);
# sizes follow fast_free, the free memory of the fast node (measured at
# start unless given).  workloads: micro, pagerank, redis, liblinear.
# scenarios: small, medium, large (micro-benchmark), ycsb-a, ycsb-b
# (redis); a workload runs those of its scenarios that are named, all of
# them if none is (pagerank: pressure, liblinear: l1r-lr).  micro: the micro-benchmark's
# access variants line-read, line-write (50 % writes), page-read,
# page-write; orders: zipf, uniform.  modes: a subset of notier, tpp,
# async, tpm, nomad (default all).  limit=1: only the "limit" mode (the
# working set bound to the fast node, no NUMA balancing, no demotion), for
# a boot whose fast node holds everything; give it the fast_free of the
# normal boot so that sizes are the same.
clock=wall scale=1 reps=1 rounds=6 workloads=micro,pagerank,redis
scenarios=small,medium,large,ycsb-a,ycsb-b micro=page-read,page-write orders=uniform
profile=0 limit=0 fast_free="" modes="notier tpp async tpm nomad"
for a in "$@"; do
	k=${a%%=*}
	case $k in
	clock | scale | reps | rounds | workloads | scenarios | micro | orders | profile | limit | fast_free | modes)
		eval "$k=\${a#*=}" ;;
	*) echo "bench: unknown argument '$a'" >&2; exit 2 ;;
	esac
done
workloads=$(echo "$workloads" | tr , ' ')
scenarios=$(echo "$scenarios" | tr , ' ')
micro=$(echo "$micro" | tr , ' ')
orders=$(echo "$orders" | tr , ' ')
G=/nomad
MODES=$(echo "$modes" | tr , ' ')
[ "$limit" = 1 ] && MODES=limit
PROFILE=$profile
PROF_TOP=${PROF_TOP:-12}
if [ "$PROFILE" = 1 ] && ! perf version >/dev/null 2>&1; then
	echo "bench: profile=1 but perf does not run in this guest" >&2
	exit 2
fi

say() { echo "bench: $*" >&2; }
# fd 3: the console, also while run() sends a workload's output to /tmp/out
exec 3>&2
# info LINE: into the workload's output and onto the console
info() {
	echo "$*"
	echo "bench:   $*" >&3
}

# fast: a node with CPUs; slow: a memory node without
fast=$(cut -d, -f1 /sys/devices/system/node/has_cpu | cut -d- -f1)
slow=""
for d in /sys/devices/system/node/node[0-9]*; do
	n=${d##*node}
	[ "$n" = "$fast" ] && continue
	[ -z "$slow" ] && slow=$n
done
[ -n "$slow" ] || { echo "bench: no CPU-less memory node" >&2; exit 2; }

echo 100 >/sys/kernel/debug/sched/numa_balancing/scan_delay_ms
echo 100 >/sys/kernel/debug/sched/numa_balancing/scan_period_min_ms
echo 1000 >/sys/kernel/debug/sched/numa_balancing/scan_period_max_ms

setmode() {
	case $1 in
	notier | limit) nb=0 dem=false a=0 t=0 s=0 ;;
	tpp) nb=2 dem=true a=0 t=0 s=0 ;;
	async) nb=2 dem=true a=1 t=0 s=0 ;;
	tpm) nb=2 dem=true a=1 t=1 s=0 ;;
	nomad) nb=2 dem=true a=1 t=1 s=1 ;;
	esac
	echo $dem >/sys/kernel/mm/numa/demotion_enabled
	echo $a >/proc/sys/vm/nomad_async_promotion
	echo $t >/proc/sys/vm/nomad_transactional_migration
	echo $s >/proc/sys/vm/nomad_shadow
	echo $nb >/proc/sys/kernel/numa_balancing
}

free_mb() {
	awk '/MemFree/ {print int($4 / 1024)}' /sys/devices/system/node/node$1/meminfo
}

# CPU time in clock ticks (USER_HZ, 100 on x86): "user system kpromoted kswapd"
cputime() {
	awk '/^cpu / {printf "%d %d ", $2 + $3, $4 + $7 + $8}' /proc/stat
	cat /proc/[0-9]*/stat 2>/dev/null | awk '
		$2 ~ /^\(kpromoted/ {kp += $14 + $15}
		$2 ~ /^\(kswapd/ {ks += $14 + $15}
		END {printf "%d %d\n", kp, ks}'
}

# TLB shootdown IPIs received, all CPUs
tlb_count() {
	awk '$1 == "TLB:" {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i} END {print n + 0}' \
		/proc/interrupts
}

# the tier model's misses: "fast slow", or "" without the model
misses() {
	"$G/nomad_tierstat" 2>/dev/null |
		awk -v f="$fast" -v s="$slow" '$2 == f {m1 = $6} $2 == s {m2 = $6}
			END {if (NR) print m1, m2}'
}

# run WORKLOAD SCENARIO MODE REP COMMAND...
run() {
	w=$1 sc=$2 m=$3 rep=$4
	shift 4
	# Same reclaim state for every mode: if kswapd gave up on the fast
	# node (e.g. full while demotion was off), wake it up again; see
	# nomad_revive.c.
	echo true >/sys/kernel/mm/numa/demotion_enabled
	"$G/nomad_revive" "$fast" || say "could not revive kswapd on node $fast"
	setmode "$m"
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/stat_refresh
	cp /proc/vmstat /tmp/v0
	c0=$(cputime)
	tlb0=$(tlb_count)
	m0=$(misses)
	t0=$(cut -d' ' -f1 /proc/uptime)
	if [ "$PROFILE" = 1 ]; then
		# cpu-clock: TCG has no hardware PMU; 100 Hz per CPU keeps the
		# data (in tmpfs, i.e. guest memory) and the overhead small.
		# perf starts disabled and is enabled through its control
		# fifo: its start-up takes longer than some runs under TCG,
		# and the ack says it is sampling before the run begins.
		rm -f /tmp/perf.data /tmp/perf.ctl /tmp/perf.ack
		mkfifo /tmp/perf.ctl /tmp/perf.ack
		exec 9<>/tmp/perf.ack
		perf record -a -g -e cpu-clock -F 100 -D -1 -q -o /tmp/perf.data \
			--control fifo:/tmp/perf.ctl,/tmp/perf.ack >/tmp/perf.log 2>&1 &
		ppid=$!
		echo enable >/tmp/perf.ctl
		read -r ack <&9
	fi
	"$@" >/tmp/out 2>&1
	rc=$?
	if [ "$PROFILE" = 1 ]; then
		kill -INT "$ppid"
		wait "$ppid"
		exec 9<&-
	fi
	t1=$(cut -d' ' -f1 /proc/uptime)
	tlb1=$(tlb_count)
	m1=$(misses)
	c1=$(cputime)
	echo 1 >/proc/sys/vm/stat_refresh
	cp /proc/vmstat /tmp/v1
	setmode notier
	echo 0 >/proc/sys/vm/nomad_shadow
	if [ $rc -ne 0 ]; then
		say "$w $sc $m failed (exit $rc): $(tail -1 /tmp/out)"
		return
	fi
	awk -v c="$clock" -v w="$w" -v sc="$sc" -v m="$m" -v rep="$rep" \
		'/^round/ {printf "ROUND,%s,%s,%s,%s,%s,%s,%s,%s\n", c, w, sc, m, rep, $2, $8, $10}' /tmp/out
	awk -v c="$clock" -v w="$w" -v sc="$sc" -v m="$m" -v rep="$rep" -v secs="$t0 $t1" \
		-v cpu="$c0 $c1" -v hz=100 -v tlb=$((tlb1 - tlb0)) -v miss="$m0 $m1" '
		FILENAME == "/tmp/v0" { v0[$1] = $2; next }
		FILENAME == "/tmp/v1" { d[$1] = $2 - v0[$1]; next }
		/^round/ { stall += $10; if ($2 == 1) r1 = $8 }
		/^summary/ { steady = $3 }
		END {
			split(secs, t, " ")
			split(cpu, u, " ")
			printf "STAT,%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%d,%d,%.1f,%.1f", c, w, sc, m, rep,
				steady, d["pgpromote_success"],
				d["pgdemote_kswapd"] + d["pgdemote_direct"],
				d["nomad_shadow_demote_remap"], d["nomad_tpm_commit"],
				d["nomad_tpm_abort_dirty"] + d["nomad_tpm_abort_ref"],
				d["numa_hint_faults"], stall, t[2] - t[1]
			split(miss, mm, " ")
			printf ",%.2f,%.2f,%.2f,%.2f,%d,%d,%d,%d,%d,%s,%s,%s,%d,%d\n",
				(u[5] - u[1]) / hz, (u[6] - u[2]) / hz,
				(u[7] - u[3]) / hz, (u[8] - u[4]) / hz,
				d["nomad_promote_queued"],
				d["nomad_promote_drop_dup"] + d["nomad_promote_drop_full"] +
				d["nomad_promote_drop_nomem"] + d["nomad_promote_drop_stale"],
				d["nomad_promote_fail"], d["pgpromote_candidate"], tlb, r1,
				miss != "" ? mm[3] - mm[1] : "", miss != "" ? mm[4] - mm[2] : "",
				d["nomad_promote_drop_backoff"], d["nomad_promote_redemoted"]
		}' /tmp/v0 /tmp/v1 /tmp/out
	[ "$PROFILE" = 1 ] && perf report -i /tmp/perf.data --stdio -q --no-children \
		-g none --sort comm,sym --percent-limit 0.1 2>/dev/null |
		awk -v c="$clock" -v w="$w" -v sc="$sc" -v m="$m" -v rep="$rep" -v top="$PROF_TOP" '
		$1 ~ /%$/ && n < top {
			n++; pct = $1; sub(/%/, "", pct); comm = $2
			sym = $3; for (i = 4; i <= NF; i++) sym = sym " " $i
			gsub(/,/, ";", sym)
			printf "PROF,%s,%s,%s,%s,%s,%d,%s,%s,%s\n", c, w, sc, m, rep, n, pct, comm, sym }'
	say "$clock $w $sc $m rep $rep: $(awk '/^summary/ {print $3}' /tmp/out) Mops/s steady, $(awk -v a="$t0" -v b="$t1" 'BEGIN {print int(b - a)}') s"
}

# rotate the order of the modes from one workload to the next
i=0
rotate() {
	set -- $MODES
	k=0
	while [ $k -lt $((i % $#)) ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k + 1))
	done
	i=$((i + 1))
	order="$*"
}

has() {
	case " $workloads " in *" $1 "*) return 0 ;; esac
	return 1
}

# pick "SCENARIOS OF A WORKLOAD": those of them that $scenarios names, all
# of them if it names none
pick() {
	pk=""
	for pk_s in $1; do
		case " $scenarios " in *" $pk_s "*) pk="$pk $pk_s" ;; esac
	done
	echo "${pk:-$1}"
}

shmem_mb() {
	awk '/Shmem:/ {print int($4 / 1024)}' /sys/devices/system/node/node$1/meminfo
}

# The thrashing pass the application workloads run between their load
# and their measured phase (the NOMAD paper's setup): nomad_thrash writes
# and reads THRASH_MB, bound to the fast node when demotion is on, so
# that the idle application's pages are demoted (see nomad_thrash.c).
thrash_pass() {
	if [ "$limit" = 1 ]; then
		# no demotion in the limit: the pass could only fill the fast node
		echo "thrash: skipped in the limit"
		return 0
	fi
	"$G/nomad_thrash" --mb "$1" --passes 2 --bind "$fast"
}

# Redis (Debian's redis-server, bundled by bench/run) with our YCSB
# driver over a unix socket; a fresh server per mode.  The load and the
# measured operations are separate nomad_redis runs with the thrashing
# pass in between; the run phase still checks every value it reads.
#   redis_ycsb THRASH_MB NOMAD_REDIS_ARGS...
R=/nomad/redis
redis_ycsb() {
	rd_tmb=$1
	shift
	rm -f /tmp/redis.sock
	# Not started under numactl: a user-set policy (--preferred,
	# --membind without --balancing) lacks MPOL_F_MOF, so mpol_misplaced()
	# never promotes its pages.  The default policy is what a user of a
	# tiered machine runs with: fast node first, the slow one when full.
	"$R/ld-linux-x86-64.so.2" --library-path "$R" "$R/redis-server" --port 0 \
		--unixsocket /tmp/redis.sock --save "" --appendonly no \
		--logfile /tmp/redis.log &
	pid=$!
	"$G/nomad_redis" --socket /tmp/redis.sock --phase load "$@" &&
		thrash_pass "$rd_tmb" >/tmp/thrash &&
		info "redis: $(cat /tmp/thrash)" &&
		"$G/nomad_redis" --socket /tmp/redis.sock --phase run "$@"
	rc=$?
	kill "$pid"
	wait "$pid"
	return $rc
}

# Liblinear (Debian's liblinear-tools, bundled by bench/run): train -s 6
# (L1-regularised logistic regression, as in the NOMAD paper) on the
# dataset nomad_lingen wrote to $LL on the slow node, then predict on the
# test set.  The run:
#   1. train starts with the default policy and loads the dataset: its
#      feature_node arrays fill the fast node first, the rest goes to the
#      slow node.  -s 6 then builds a transposed (column-major) copy of
#      the same size, which is what the solver iterates over.
#   2. "Loaded" is: the dataset file has been opened and closed again,
#      train's RSS holds both copies (MIN_KB; the transposed copy's pages
#      are touched in step with the copying), and it did not grow in the
#      last 0.1 s sample (the solver's own arrays are allocated).  train
#      is then stopped (SIGSTOP), the thrashing pass runs, and train goes
#      on (SIGCONT): the solver starts with its data cold.  If RSS stops
#      growing below MIN_KB for 3 s, the thrash runs anyway (and says so).
#   3. One round per Newton iteration of train's log ("iter N  #CD cycles
#      C"), timed by the guest clock when its line arrives; the work of a
#      round is nonzeros x CD cycles (every cycle counted as a full pass
#      over the data, an upper bound: the solver shrinks its active set),
#      so mops = million nonzeros visited per second.  Same data, same
#      iterations in every mode (train's random order comes from rand()
#      without a seed), so round r compares across modes; steady = mean
#      of the last 3 rounds, as elsewhere.
#   4. Check: predict's accuracy on the test set must reach LL_MIN_ACC %
#      (the generator's 3 % label noise leaves ~97 % reachable; a trained
#      model gets ~95 %, a broken one ~50 %).
#   liblinear_train THRASH_MB NONZEROS MIN_KB
L=/nomad/liblinear
LL=/tmp/liblinear
LL_MIN_ACC=${LL_MIN_ACC:-90}
node_mb() {	# PID: "fast/slow" MiB of its memory (numa_maps)
	awk -v f="N$fast=" -v s="N$slow=" '
		{ for (i = 2; i <= NF; i++) {
			if (index($i, f) == 1) a += substr($i, length(f) + 1)
			if (index($i, s) == 1) b += substr($i, length(s) + 1) } }
		END { printf "%d/%d", a / 256, b / 256 }' "/proc/$1/numa_maps" 2>/dev/null
}
liblinear_train() {
	ll_tmb=$1 ll_nnz=$2 ll_min_kb=$3
	rm -f "$LL/model" "$LL/log" "$LL/fifo" "$LL/pred"
	mkfifo "$LL/fifo"
	# every line of train's log, stamped with the guest clock
	while IFS= read -r line; do
		read -r up _ </proc/uptime
		echo "$up $line"
	done <"$LL/fifo" >"$LL/log" &
	ll_spid=$!
	read -r ll_ts _ </proc/uptime
	"$L/ld-linux-x86-64.so.2" --library-path "$L" "$L/train" -s 6 -e "$LL_EPS" \
		"$LL/train" "$LL/model" >"$LL/fifo" 2>&1 &
	ll_tpid=$!
	# file: 0 not opened yet, 1 open, 2 closed again
	ll_loaded=0 ll_file=0 ll_last=0 ll_same=0
	while kill -0 "$ll_tpid" 2>/dev/null; do
		sleep 0.1
		if [ $ll_file != 2 ]; then
			ll_o=0
			for ll_f in /proc/"$ll_tpid"/fd/*; do
				[ "$(readlink "$ll_f")" = "$LL/train" ] && ll_o=1
			done
			[ $ll_o = 1 ] && ll_file=1
			[ $ll_o = 0 ] && [ $ll_file = 1 ] && ll_file=2
			continue
		fi
		ll_rss=0
		while read -r ll_k ll_v _; do
			[ "$ll_k" = VmRSS: ] && ll_rss=$ll_v
		done <"/proc/$ll_tpid/status"
		if [ "$ll_rss" -gt "$ll_last" ]; then
			ll_last=$ll_rss ll_same=0
			continue
		fi
		ll_same=$((ll_same + 1))
		# a train whose copies are smaller than we think: go on anyway
		if [ "$ll_rss" -ge "$ll_min_kb" ] || [ "$ll_same" -ge 30 ]; then
			[ "$ll_rss" -ge "$ll_min_kb" ] ||
				info "liblinear: RSS $ll_rss KiB stays below $ll_min_kb KiB, thrashing anyway"
			kill -STOP "$ll_tpid"
			ll_loaded=1
			break
		fi
	done
	if [ $ll_loaded = 0 ]; then
		wait "$ll_tpid"
		wait "$ll_spid"
		echo "liblinear: train ended before it had loaded (or stopped growing): $(tail -1 "$LL/log")"
		return 1
	fi
	read -r ll_t0 _ </proc/uptime
	info "liblinear: loaded after $(awk -v a="$ll_ts" -v b="$ll_t0" 'BEGIN {print b - a}') s," \
		"RSS $((ll_rss / 1024)) MiB, fast/slow MiB $(node_mb "$ll_tpid")"
	thrash_pass "$ll_tmb" >"$LL/thrash" || {
		kill -9 "$ll_tpid"
		wait "$ll_tpid"
		wait "$ll_spid"
		return 1
	}
	info "liblinear: $(cat "$LL/thrash"); then fast/slow MiB $(node_mb "$ll_tpid")"
	read -r ll_t0 _ </proc/uptime
	kill -CONT "$ll_tpid"
	wait "$ll_tpid"
	ll_rc=$?
	wait "$ll_spid"
	if [ $ll_rc != 0 ]; then
		echo "liblinear: train failed (exit $ll_rc): $(tail -1 "$LL/log")"
		return 1
	fi
	awk -v t0="$ll_t0" -v nnz="$ll_nnz" -v out="$LL/steady" '
		$2 == "iter" && $1 < t0 { early++ }
		$2 == "iter" && $1 >= t0 { n++; secs[n] = $1 - t0; t0 = $1; cyc[n] = $6 }
		/optimization finished/ { done = 1 }
		END {
			if (early)
				print "liblinear: " early " iterations before the thrash (not counted)"
			if (!done || !n) {
				print "liblinear: no iterations in the log"
				exit 1
			}
			for (r = 1; r <= n; r++) {
				s = secs[r] > 0.005 ? secs[r] : 0.005	# /proc/uptime: 10 ms
				w = nnz * cyc[r]
				printf "round %d nnz %.0f secs %.4f mops %.4f stall_ms 0.0\n",
					r, w, s, w / s / 1e6
				if (r > n - 3)
					steady += w / s / 1e6 / (n < 3 ? n : 3)
				total += secs[r]
			}
			printf "liblinear: %d iterations in %.2f s after the thrash\n", n, total
			printf "steady %.4f\n", steady >out
		}' "$LL/log" >"$LL/rounds"
	ll_rc=$?
	grep '^round' "$LL/rounds"
	grep '^liblinear' "$LL/rounds" | while IFS= read -r ll_l; do info "$ll_l"; done
	[ $ll_rc = 0 ] || return 1
	"$L/ld-linux-x86-64.so.2" --library-path "$L" "$L/predict" \
		"$LL/test" "$LL/model" "$LL/pred" >"$LL/acc" 2>&1
	ll_acc=$(sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p' "$LL/acc")
	if [ -z "$ll_acc" ]; then
		echo "liblinear: predict failed: $(tail -1 "$LL/acc")"
		return 1
	fi
	info "liblinear: $(tail -1 "$LL/acc")"
	read -r _ ll_steady <"$LL/steady"
	echo "summary steady_mops $ll_steady fast_pages 0 total_pages 0 accuracy $ll_acc"
	if ! awk -v a="$ll_acc" -v m="$LL_MIN_ACC" 'BEGIN { exit !(a >= m) }'; then
		echo "liblinear: accuracy $ll_acc % is below $LL_MIN_ACC %"
		return 1
	fi
}

[ -n "$fast_free" ] || fast_free=$(free_mb "$fast")
echo "SIZE,$clock,$fast_free"
say "$clock clock: sizes follow $fast_free MB, the fast node's free memory"
acc_page=$((300000 * scale))
acc_line=$((2000000 * scale))
iters=$((6 * scale))
[ $iters -lt 4 ] && iters=4
ops=$((60000 * scale))
# Liblinear dataset: one-hot fields (nonzeros per row) over this many features
LL_FIELDS=${LL_FIELDS:-16}
LL_FEATURES=${LL_FEATURES:-3200}
# train's stopping tolerance: 0.1 is 4 Newton iterations here (the default
# 0.01 takes 8 and 2.5x as long for the same test accuracy)
LL_EPS=${LL_EPS:-0.1}
for rep in $(seq 1 "$reps"); do
	# The paper's shape: a cold set A written first fills the fast node;
	# then the working set B is written on the slow node and accessed.
	# small: B 60 % of the fast node's free memory, medium 100 %, large:
	# no A, one set of 200 % written with the default policy.
	has micro && for sc in $(pick "small medium large"); do
		case $sc in
		small) amb=$((fast_free * 90 / 100)) bmb=$((fast_free * 60 / 100)) pol=slow ;;
		medium) amb=$((fast_free * 90 / 100)) bmb=$fast_free pol=slow ;;
		large) amb=0 bmb=$((fast_free * 2)) pol=default ;;
		esac
		[ "$limit" = 1 ] && pol=fast
		for v in $micro; do
			case $v in
			line-read) x="--access line --write 0" n=$acc_line ;;
			line-write) x="--access line --write 50" n=$acc_line ;;
			page-read | page-write) x="--access $v" n=$acc_page ;;
			*) say "unknown micro-benchmark variant $v"; continue ;;
			esac
			for o in $orders; do
				rotate
				for m in $order; do
					# shellcheck disable=SC2086
					run "micro-$v-$o" "$sc" "$m" "$rep" "$G/nomad_bench" \
						--cold-mb "$amb" --mb "$bmb" --b-policy "$pol" $x \
						--order "$o" --rounds "$rounds" --accesses "$n" \
						--slow-node "$slow" --fast-node "$fast"
				done
			done
		done
	done
	# graph workload: working set larger than the fast node
	if has pagerank; then
		gn=$slow
		[ "$limit" = 1 ] && gn=$fast	# built on the fast node
		rotate
		for m in $order; do
			run pagerank pressure "$m" "$rep" "$G/nomad_pagerank" \
				--mb $((fast_free * 13 / 10)) --iters "$iters" --slow-node "$gn"
		done
	fi
	# key-value store: dataset 1.5x the fast node's free memory, 4 KiB
	# values; YCSB-A 50 % reads, YCSB-B 95 %; thrashing pass of 2x the
	# free memory between load and run
	if has redis; then
		if [ -x "$R/redis-server" ]; then
			for sc in $(pick "ycsb-a ycsb-b"); do
				rp=95
				[ "$sc" = ycsb-a ] && rp=50
				rotate
				for m in $order; do
					run redis "$sc" "$m" "$rep" redis_ycsb $((fast_free * 2)) \
						--keys $((fast_free * 256 * 3 / 2)) --value 4000 \
						--read "$rp" --rounds "$rounds" --ops "$ops"
				done
			done
		else
			say "redis-server is not in the guest, Redis skipped"
		fi
	fi
	# machine learning: train's two copies of the dataset (rows and
	# columns, 16 B per nonzero each) 1.3x the fast node's free memory;
	# the dataset file is written once, on the slow node, and read by
	# every mode's train; thrashing pass of 2x the free memory
	if has liblinear; then
		if [ -x "$L/train" ] && [ -x "$L/predict" ]; then
			rm -rf "$LL"
			mkdir -p "$LL"
			# a user-set policy: the page cache of the file stays put
			numactl --membind="$slow" "$G/nomad_lingen" --mb $((fast_free * 13 / 20)) \
				--fields "$LL_FIELDS" --features "$LL_FEATURES" \
				"$LL/train" "$LL/test" >"$LL/gen" 2>&1 ||
				say "nomad_lingen failed: $(tail -1 "$LL/gen")"
			# lingen rows R test_rows T features F nonzeros Z train_bytes B
			# shellcheck disable=SC2046
			set -- $(tail -1 "$LL/gen")
			if [ "$1" = lingen ]; then
				say "liblinear: $3 rows, $9 nonzeros, file $((${11} / 1048576)) MiB," \
					"shmem fast/slow $(shmem_mb "$fast")/$(shmem_mb "$slow") MiB"
				rotate
				for m in $order; do
					run liblinear l1r-lr "$m" "$rep" liblinear_train \
						$((fast_free * 2)) "$9" $(($9 * 32 / 1024 * 95 / 100))
				done
			fi
			rm -rf "$LL"
		else
			say "Liblinear is not in the guest, Liblinear skipped"
		fi
	fi
done
say "done"
