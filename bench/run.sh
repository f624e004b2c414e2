#!/usr/bin/env bash
# bench/run.sh: the synthetic CogVLM-17B under memory limits, and side by
# side with llama.cpp. Not part of `go test`; results go to bench/RESULTS.md
# by hand (see there for what was measured and how to read it).
#
# Usage: bench/run.sh [limits|compare|stream|all]
#
#   limits   one image question per model type, unconstrained and inside
#            memory cgroups of $LIMITS GiB (v1 memory.limit_in_bytes or v2
#            memory.max, whichever the machine has; needs root): wall time,
#            per-phase times and memory (cogedge run --verbose), the
#            cgroup's peak, major faults, OOM kills
#   compare  cogedge against llama.cpp on the same files and threads,
#            paired and interleaved ($ROUNDS rounds): pp512/tg128 (cogedge
#            bench, llama-bench) and one image question (cogedge run,
#            llama-mtmd-cli): image encode, image prefill, time to first
#            token, peak RSS; needs $LLAMA_BIN
#   stream   cogedge's streaming-read figure (bench --stream-only, what tg
#            is reported against) beside an independent read loop
#            ($STREAM_C: a binary built outside this repository, printing
#            "best X GB/s"), $ROUNDS interleaved pairs
#
# Environment:
#   WORK     folder for the model files, logs and tools (default /tmp/cogedge-bench;
#            the two synthetic pairs take ~20 GB)
#   TYPES    model types (default "q4_0 q4_k_m")
#   LIMITS   cgroup limits in GiB (default "8 6 5 4")
#   THREADS  threads (default 2)
#   ROUNDS   paired rounds for compare (default 2)
#   LLAMA_BIN folder holding llama-bench and llama-mtmd-cli (a CPU-only
#            Release build of llama.cpp made outside this repository)
#   STREAM_C an independent streaming-read program for `stream` (run with
#            OMP_NUM_THREADS=$THREADS)
#   KEEP     1 keeps the model files afterwards (default: deleted)
#   SKIP_UNLIMITED  1 skips the unconstrained run of limits
set -euo pipefail
shopt -s nullglob

here=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/cogedge-bench}
TYPES=${TYPES:-"q4_0 q4_k_m"}
LIMITS=${LIMITS:-"8 6 5 4"}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
IMAGE=$here/testdata/images/chelsea.png
QUESTION="What is in the image?"
mode=${1:-all}
mkdir -p "$WORK/logs" "$WORK/cache"
export COGEDGE_CACHE=$WORK/cache # the packed files (--repack file) and the image cache
log() { printf '%s  load %s  %s\n' "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$*" | tee -a "$WORK/logs/summary.txt"; }

build() {
	(cd "$here" && CGO_ENABLED=0 go build -o "$WORK/cogedge" ./cmd/cogedge && CGO_ENABLED=0 go build -o "$WORK/convert" ./tools/convert)
}

# model TYPE: make the synthetic pair (text + mmproj) unless present
model() {
	local t=$1 out=$WORK/cogvlm-17b-$1.gguf
	if [[ ! -f $out || ! -f $WORK/mmproj-cogvlm-17b-$t.gguf ]]; then
		log "generating the synthetic 17B $t"
		"$WORK/convert" --synthetic cogvlm-17b -t "$t" --split-mmproj --threads "$THREADS" -o "$out" >"$WORK/logs/convert-$t.log" 2>&1
	fi
}

# uncache FILE...: drop the files' page cache (so a run reads them from
# disk and its cgroup is charged for them)
uncache() { for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }

# warm FILE...: read the files into the page cache
warm() { cat "$@" >/dev/null; }

# cgroup_make GiB: create a memory cgroup beside this shell's, print its folder
cgroup_make() {
	local bytes=$(($1 << 30)) dir
	if grep -q '^[0-9]*:memory:' /proc/self/cgroup; then # v1
		dir=/sys/fs/cgroup/memory$(grep '^[0-9]*:memory:' /proc/self/cgroup | cut -d: -f3)/cogedge-bench-$$-$1g
		mkdir "$dir"
		echo "$bytes" >"$dir/memory.limit_in_bytes"
		[[ -f $dir/memory.memsw.limit_in_bytes ]] && echo "$bytes" >"$dir/memory.memsw.limit_in_bytes" || true
	else # v2
		dir=/sys/fs/cgroup$(grep '^0::' /proc/self/cgroup | cut -d: -f3)/cogedge-bench-$$-$1g
		mkdir "$dir"
		echo "$bytes" >"$dir/memory.max"
		echo 0 >"$dir/memory.swap.max" 2>/dev/null || true
	fi
	echo "$dir"
}

# cgroup_report DIR: peak, OOM kills and reclaim counters of the group
cgroup_report() {
	local d=$1
	if [[ -f $d/memory.limit_in_bytes ]]; then
		echo "cgroup peak $(($(cat "$d/memory.max_usage_in_bytes") >> 20)) MiB, limit hits $(cat "$d/memory.failcnt"), $(grep -E '^oom_kill ' "$d/memory.oom_control" || echo 'oom_kill ?'), $(grep -E '^total_pgmajfault |^total_pgpgout ' "$d/memory.stat" | tr '\n' ' ')"
	else
		echo "cgroup peak $(($(cat "$d/memory.peak" 2>/dev/null || echo 0) >> 20)) MiB, $(grep -E '^(oom_kill|max) ' "$d/memory.events" | tr '\n' ' '), $(grep -E '^(pgmajfault|pgsteal|workingset_refault_file) ' "$d/memory.stat" | tr '\n' ' ')"
	fi
}

cgroup_remove() {
	local d=$1
	[[ -f $d/memory.force_empty ]] && echo 0 >"$d/memory.force_empty" 2>/dev/null || true
	rmdir "$d"
}

# field TEXT FILE: the last word of /usr/bin/time -v's line holding TEXT
field() { grep "$1" "$2" | awk '{print $NF}'; }

# ask TYPE NAME [GiB]: one image question, unconstrained or in a cgroup
ask() {
	local t=$1 name=$2 gib=${3:-} out=$WORK/logs/$2.log dir="" code=0
	local m=$WORK/cogvlm-17b-$t.gguf p=$WORK/mmproj-cogvlm-17b-$t.gguf
	uncache "$m" "$p" "$WORK"/cache/*.packed.gguf
	local cmd=("$WORK/cogedge" run -m "$m" --mmproj "$p" --image "$IMAGE" -p "$QUESTION" -n 16 -t "$THREADS" --temp 0 --verbose --no-image-cache)
	if [[ -n $gib ]]; then
		dir=$(cgroup_make "$gib")
		/usr/bin/time -v sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$dir" "${cmd[@]}" >"$out" 2>&1 || code=$?
	else
		/usr/bin/time -v "${cmd[@]}" >"$out" 2>&1 || code=$?
	fi
	log "$name: exit $code, wall $(field 'Elapsed (wall' "$out"), user $(field 'User time' "$out") s, sys $(field 'System time' "$out") s, max RSS $(($(field 'Maximum resident' "$out") >> 10)) MiB, major faults $(field 'Major (requiring' "$out"), file system inputs $(field 'File system inputs' "$out") blocks"
	grep -E '^(memory|load|image encode|prefill|decode)' "$out" | sed 's/^/    /' | tee -a "$WORK/logs/summary.txt" || true
	if [[ -n $dir ]]; then
		log "    $(cgroup_report "$dir")"
		cgroup_remove "$dir"
	fi
}

limits() {
	for t in $TYPES; do
		model "$t"
		# the packed file the cgroup runs map (--repack auto picks it there)
		"$WORK/cogedge" run -m "$WORK/cogvlm-17b-$t.gguf" --repack file -p hi -n 1 -t "$THREADS" >/dev/null 2>&1 || true
		[[ ${SKIP_UNLIMITED:-0} == 1 ]] || ask "$t" "$t-unlimited"
		for g in $LIMITS; do
			ask "$t" "$t-${g}g" "$g"
		done
	done
}

compare() {
	[[ -x ${LLAMA_BIN:-}/llama-bench ]] || { echo "set LLAMA_BIN to a llama.cpp build's bin folder" >&2; exit 2; }
	for t in $TYPES; do
		model "$t"
		local m=$WORK/cogvlm-17b-$t.gguf p=$WORK/mmproj-cogvlm-17b-$t.gguf
		for r in $(seq "$ROUNDS"); do
			log "$t round $r: cogedge bench"
			"$WORK/cogedge" bench -m "$m" -p 512 -n 128 -t "$THREADS" -r 1 2>&1 | tee -a "$WORK/logs/summary.txt"
			log "$t round $r: llama-bench"
			"$LLAMA_BIN/llama-bench" -m "$m" -p 512 -n 128 -t "$THREADS" -r 1 2>/dev/null | tee -a "$WORK/logs/summary.txt"
			# both programs' time to first token excludes loading, and llama.cpp's
			# load reads every weight into memory: read the files into the page
			# cache first so that cogedge's mapped weights are not read from disk
			# inside its timed phases either (and llama.cpp's load likewise)
			warm "$m" "$p"
			log "$t round $r: cogedge image question"
			/usr/bin/time -v "$WORK/cogedge" run -m "$m" --mmproj "$p" --image "$IMAGE" -p "$QUESTION" -n 1 -t "$THREADS" --temp 0 --verbose --no-image-cache >"$WORK/logs/cmp-cogedge-$t-$r.log" 2>&1 || true
			grep -E '^(image encode|prefill|memory: (load|image|prefill))|Elapsed|Maximum resident' "$WORK/logs/cmp-cogedge-$t-$r.log" | sed 's/^/    /' | tee -a "$WORK/logs/summary.txt"
			# time to first token: image encode + image prefill + the text's prefill (load excluded)
			awk '/^image encode:/ {t += $3 + $7} /^prefill:/ && match($0, /in [0-9.]+ ms/) {t += substr($0, RSTART + 3, RLENGTH - 6)} END {printf "    cogedge time to first token (after load): %.1f ms\n", t}' "$WORK/logs/cmp-cogedge-$t-$r.log" | tee -a "$WORK/logs/summary.txt"
			warm "$m" "$p"
			log "$t round $r: llama-mtmd-cli image question"
			/usr/bin/time -v "$LLAMA_BIN/llama-mtmd-cli" -m "$m" --mmproj "$p" --image "$IMAGE" -p "$QUESTION" -n 1 -t "$THREADS" --temp 0 --chat-template vicuna >"$WORK/logs/cmp-llama-$t-$r.log" 2>&1 || true
			grep -E 'encoded in|decoded .* in|prompt eval time|load time|Elapsed|Maximum resident' "$WORK/logs/cmp-llama-$t-$r.log" | sed 's/^/    /' | tee -a "$WORK/logs/summary.txt"
			# time to first token: llama.cpp's prompt eval timer already spans the image encode, its image
			# batches and the text (load excluded), so the "slice encoded in" line is not added again
			awk '/prompt eval time/ {for (i = 1; i <= NF; i++) if ($i == "=") {t += $(i+1); break}} END {printf "    llama.cpp time to first token (after load): %.1f ms\n", t}' "$WORK/logs/cmp-llama-$t-$r.log" | tee -a "$WORK/logs/summary.txt"
		done
	done
}

stream() {
	[[ -x ${STREAM_C:-} ]] || { echo "set STREAM_C to an independent streaming-read program" >&2; exit 2; }
	for r in $(seq "$ROUNDS"); do
		log "stream round $r: $(OMP_NUM_THREADS=$THREADS "$STREAM_C" | grep -E '^best') (STREAM_C, $THREADS threads)"
		log "stream round $r: $("$WORK/cogedge" bench --stream-only -t "$THREADS")"
	done
}

build
log "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB"
case $mode in
limits) limits ;;
compare) compare ;;
stream) stream ;;
all) limits && compare ;;
*) echo "usage: $0 [limits|compare|stream|all]" >&2; exit 2 ;;
esac
if [[ ${KEEP:-0} != 1 ]]; then
	rm -f "$WORK"/cogvlm-17b-*.gguf "$WORK"/mmproj-cogvlm-17b-*.gguf
fi
