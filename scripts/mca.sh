#!/usr/bin/env bash
# mca.sh — static throughput estimates for cogedge's arm64 inner loops, and
# optionally for another implementation's, at the same llvm-mca CPU models.
#
# Builds the arm64 test binaries of kernels/neon and kernels, checks every
# WORD-encoded instruction in their .s files against llvm-mc, disassembles
# each kernel symbol (Go asm functions carry an .abi0 suffix) with
# llvm-objdump, extracts its hot loop (the innermost loop holding the most
# multiply instructions) and runs llvm-mca on it for each CPU model,
# printing cycles per 32 weights. For a GEMM loop the count is per 32
# weight×activation-row products (a loop over 8 weight rows × 4 activation
# rows × one 32-element block does 32 such "weights" per row pair, 1024 in
# all), so decode and prefill figures read the same way: cycles per 32 MACs.
#
# llvm-mca has no faithful model of these cores (LLVM 16 schedules
# cortex-a76 and neoverse-n1 with its Cortex-A57 model and apple-m1 with the
# Cyclone one): use the figures to compare loops at the same -mcpu, not as
# absolute speeds.
#
# Usage:
#   scripts/mca.sh                      # verify WORDs, measure our loops
#   scripts/mca.sh -ref DIR             # also measure the reference loops
#                                       # listed in REF_LOOPS below from
#                                       # DIR/<cpu>/*.s (see "Reference")
#   scripts/mca.sh -loop FILE.s FUNC WEIGHTS
#                                       # measure FUNC's hot loop in one GNU
#                                       # assembly file, WEIGHTS per iteration
#
# Reference: the comparison with llama.cpp's arm64 kernels uses assembly the
# user compiles from a llama.cpp checkout, outside this repository (none of
# its code belongs here). For each CPU model in CPUS, compile its
# ggml/src/ggml-cpu/arch/arm/repack.cpp and quants.c with clang-16 to
# assembly into DIR/<cpu>/, e.g. for cortex-a76:
#   clang-16 --target=aarch64-linux-gnu -mcpu=cortex-a76+i8mm -O3 -S \
#     -Iggml/include -Iggml/src -Iggml/src/ggml-cpu -D_GNU_SOURCE [-std=c++17] \
#     ggml/src/ggml-cpu/arch/arm/repack.cpp -o DIR/cortex-a76/repack.cpp.s
# (+i8mm so the SMMLA GEMM is compiled too; the dotprod kernels are compiled
# either way; the cross headers come from Debian's libc6-dev-arm64-cross and
# libstdc++-12-dev-arm64-cross). bench/ARM64.md records the commit and table.
#
# The elementwise kernels (quantizers, conversions, attention dots, exp,
# norms) are measured differently: their generic twins call out and branch,
# so no single loop stands for them. BenchmarkHotOps runs one call of each
# (1024 values) between two marker calls under qemu-aarch64 -d exec; the
# instructions executed in between, as qemu's translation blocks list them,
# are scheduled once by llvm-mca, for the Go twin and for the assembly.
#
# Needs qemu-user-static, llvm-16 (llvm-mca-16, llvm-mc-16, llvm-objdump-16; the clang-16
# package brings them) or llvm-14, python3 and Go.
#
# Adding a loop: append a line to OUR_LOOPS (package, symbol, weights per
# iteration, and the SDOT/SMMLA multiply-adds per iteration when they are
# not the weights, e.g. a K-quant loop that also dots the mins with the
# activation sums) or REF_LOOPS (function, weights per iteration,
# instruction that marks the hot loop).
set -euo pipefail
cd "$(dirname "$0")/.."

tool() { command -v "$1-16" || command -v "$1-14" || command -v "$1"; }
MCA=$(tool llvm-mca)
OBJDUMP=$(tool llvm-objdump)
MC=$(tool llvm-mc)
ATTR=+dotprod,+i8mm,+fullfp16
CPUS="cortex-a76 neoverse-n1 apple-m1"
ITER=1000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package  symbol  weights-per-iteration (×activation rows for GEMMs)  [multiply-adds]
OUR_LOOPS="
kernels/neon dotQ4_0Q8_0SDOT 128
kernels/neon dotQ4_0Q8_0NEON 128
kernels/neon dotQ8_0Q8_0SDOT 128
kernels/neon dotQ8_0Q8_0NEON 128
kernels/neon dotQ4_KQ8_KSDOT 256
kernels/neon dotQ4_KQ8_KNEON 256
kernels/neon dot2x2Q4_0Q8_0SMMLA 512
kernels gemvQ4_0x8SDOT 512
kernels gemvQ4_Kx8SDOT 2048 2176
kernels gemvQ6_Kx8SDOT 2048
kernels gemvIQ4_NLx8SDOT 512
kernels gemvQ8_0x8SDOT 512
kernels gemmQ8x4SDOT 1024
"

# the elementwise ops of kernels/BenchmarkHotOps, traced under qemu (the
# environment may name fewer)
HOT_OPS=${HOT_OPS:-"quantQ8_1 quantQ8_K fp32ToFP16 dotF32 dotF16 axpyF32 axpyF16 expSub scoresF16 weightedF16 RMSNorm LayerNorm"}

# function  weights-per-iteration  marker  (llama.cpp 66d65ec names)
REF_LOOPS="
ggml_gemv_q4_0_4x4_q8_0 128 sdot
ggml_gemv_q4_0_4x8_q8_0 128 sdot
ggml_gemm_q4_0_4x4_q8_0 2048 sdot
ggml_gemm_q4_0_4x8_q8_0 2048 smmla
ggml_gemv_q8_0_4x4_q8_0 128 sdot
ggml_gemv_iq4_nl_4x4_q8_0 128 sdot
ggml_vec_dot_q4_0_q8_0 64 sdot
ggml_vec_dot_q8_0_q8_0 64 sdot
ggml_gemv_q4_K_8x4_q8_K 512 sdot
ggml_gemv_q4_K_8x8_q8_K 512 sdot
ggml_vec_dot_q4_K_q8_K 256 sdot
ggml_gemv_q6_K_8x4_q8_K 256 sdot
ggml_vec_dot_q6_K_q8_K 256 sdot
"

# mca LOOPFILE WEIGHTS NAME: print cycles per 32 weights for each CPU model.
mca() {
	local loop=$1 weights=$2 name=$3 line
	line=$(printf '%-32s' "$name")
	for cpu in $CPUS; do
		local cyc
		cyc=$("$MCA" -mtriple=aarch64 -mcpu="$cpu" -mattr="$ATTR" -iterations=$ITER "$loop" 2>/dev/null |
			awk '/^Total Cycles:/ {print $3}')
		line+=$(awk -v c="$cyc" -v w="$weights" -v n="$ITER" -v cpu="$cpu" \
			'BEGIN { printf "  %s %5.2f", cpu, c / n / (w / 32) }')
	done
	echo "$line   cyc/32w  ($(grep -vc '^\.Lloop:' "$loop") instr/iter, $weights weights)"
}

# hotloop MARKER: assembly on stdin (llvm-objdump -d output or clang -S
# output of one function) → the hot loop on stdout, as llvm-mca input: of
# the innermost loops (a backward branch with no other loop inside), the
# one with the most MARKER instructions (ties: the longest).
cat >"$work/hotloop.py" <<'PY'
import re, subprocess, sys
marker, mc, attr = sys.argv[1:4]
words = []  # .inst words, decoded in one llvm-mc call at the end
def decode(word):
    words.append(word)
    return "\0%d" % (len(words) - 1)
rows, labels = [], {}   # rows: (key, text); labels: name -> row index
for raw in sys.stdin:
    line = raw.rstrip("\n")
    m = re.match(r"\s*([0-9a-f]+):\s+(\S.*)$", line)  # objdump
    if m:
        text = re.sub(r"\s*<[^>]*>\s*$", "", m.group(2)).strip()
        if text.startswith(("<unknown>", "udf", ".")):
            continue
        labels["0x" + m.group(1)] = len(rows)
        rows.append(text)
        continue
    m = re.match(r"^([.\w$]+):", line)  # clang -S label
    if m:
        labels[m.group(1)] = len(rows)
        continue
    text = re.sub(r"//.*", "", line).strip()
    m = re.match(r"\.inst\s+0x([0-9a-fA-F]{8})$", text)  # inline asm's encoded words
    if m:
        rows.append(decode(int(m.group(1), 16)))
        continue
    if not text or text.startswith(".") or text.startswith("#"):
        continue
    rows.append(text)
if words:
    out = subprocess.run([mc, "--disassemble", "-triple=aarch64", "-mattr=" + attr],
        input="\n".join(",".join("0x%02x" % (w >> s & 0xFF) for s in (0, 8, 16, 24)) for w in words),
        capture_output=True, text=True, check=True).stdout
    dec = [l.strip() for l in out.splitlines() if l.strip() and not l.strip().startswith(".")]
    assert len(dec) == len(words), "llvm-mc decoded %d of %d words" % (len(dec), len(words))
    rows = [dec[int(t[1:])] if t.startswith("\0") else t for t in rows]
br = re.compile(r"^(b(\.\w+)?|cbn?z|tbn?z)\s+(.*,\s*)?(\S+)$")
loops = []
for i, text in enumerate(rows):
    b = br.match(text)
    if not b:
        continue
    t = b.group(4)
    if t.startswith("0x"):
        t = "0x" + t[2:].lstrip("0").rjust(1, "0")
        t = next((k for k in labels if k.startswith("0x") and int(k, 16) == int(t, 16)), t)
    if t in labels and labels[t] <= i:
        loops.append((labels[t], i))
if not loops:
    sys.exit("no loop found")
inner = [l for l in loops if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in loops)]
def score(l):
    body = rows[l[0]:l[1] + 1]
    return (sum(1 for t in body if t.split()[0] == marker), l[1] - l[0])
s, e = max(inner, key=score)
if score((s, e))[0] == 0:
    sys.exit("no loop with " + marker)
print(".Lloop:")
for text in rows[s:e + 1]:
    b = br.match(text)
    if b:  # every branch in the body to the loop head: llvm-mca ignores targets
        text = text[:b.start(4)] + ".Lloop"
    print("\t" + text)
PY
hotloop() { python3 "$work/hotloop.py" "$1" "$MC" "$ATTR"; }

# macs LOOPFILE: multiply-adds per iteration of a loop made of SDOT/UDOT
# (16 each) and SMMLA (32 each): a check on the weights column.
macs() { awk '$1 ~ /^[su]dot$/ {n += 16} $1 == "smmla" {n += 32} END {print n + 0}' "$1"; }

if [[ ${1:-} == -loop ]]; then
	[[ $# -eq 4 ]] || { echo "usage: $0 -loop FILE.s FUNC WEIGHTS" >&2; exit 2; }
	awk -v f="$3" '$0 ~ "^" f ":" {on=1; next} on && /^\.Lfunc_end/ {exit} on' "$2" | hotloop sdot >"$work/ext.s"
	mca "$work/ext.s" "$4" "$3"
	exit 0
fi
ref=
if [[ ${1:-} == -ref ]]; then
	[[ $# -eq 2 && -d $2 ]] || { echo "usage: $0 -ref DIR" >&2; exit 2; }
	ref=$2
fi

echo "== build"
for pkg in kernels/neon kernels; do
	GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$work/$(basename $pkg).test" ./$pkg
done

echo "== WORD encodings vs llvm-mc"
cat $(ls kernels/neon/*_arm64.s kernels/*_arm64.s 2>/dev/null) | grep -E '^\s*WORD\s+\$0x[0-9a-f]{8} // ' |
	sed -E 's/^\s*WORD\s+\$0x([0-9a-f]{8}) \/\/ ([^(]*[^( ]).*$/\1\t\2/' | sort -u >"$work/words"
cut -f2 "$work/words" >"$work/words.s"
"$MC" -triple=aarch64 -mattr=$ATTR -show-encoding "$work/words.s" |
	sed -nE 's/.*encoding: \[0x(..),0x(..),0x(..),0x(..)\].*/\4\3\2\1/p' >"$work/enc"
paste "$work/words" "$work/enc" | awk -F'\t' '
	$1 != $3 { bad++; printf "MISMATCH %s: WORD 0x%s, llvm-mc 0x%s\n", $2, $1, $3 }
	END { if (bad) exit 1; printf "%d distinct WORDs match llvm-mc\n", NR }'

echo "== cogedge loops (llvm-mca $($MCA --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p'), $ITER iterations; cycles per 32 weights)"
mod=$(go list -m)
while read -r pkg sym weights want; do
	[[ -n $pkg ]] || continue
	bin="$work/$(basename "$pkg").test"
	"$OBJDUMP" -d --no-show-raw-insn --mattr=$ATTR --disassemble-symbols="$mod/$pkg.$sym.abi0" "$bin" >"$work/$sym.dis"
	if grep -q '<unknown>' "$work/$sym.dis"; then
		echo "$sym: llvm-objdump cannot decode some words" >&2
		exit 1
	fi
	marker=sdot
	case $sym in *SMMLA*) marker=smmla ;; *NEON*) marker=smull ;; esac
	grep -qw "$marker" "$work/$sym.dis" || marker=sdot
	hotloop "$marker" <"$work/$sym.dis" >"$work/$sym.s"
	want=${want:-$weights}
	if m=$(macs "$work/$sym.s") && [[ $m != 0 && $m != "$want" ]]; then
		echo "$sym: the hot loop does $m multiply-adds per iteration, the table says $want" >&2
		exit 1
	fi
	mca "$work/$sym.s" "$weights" "$sym"
done <<<"$OUR_LOOPS"

TRACE_N=1024
echo "== elementwise kernels (kernels/ops_arm64.s) beside the Go compiler's code for their generic twins"
echo "   llvm-mca over the instructions one call on $TRACE_N values executes (qemu -d exec trace of"
echo "   BenchmarkHotOps, -cpu max), scheduled once; cycles per value"
cat >"$work/trace.py" <<'PY'
import re, subprocess, sys
binp, logp, mca, objdump, attr, n = sys.argv[1:7]
cpus = sys.argv[7:]
rx = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] (\S+)")
tbs, window = [], None  # the TBs between the first two traceMark calls
with open(logp, errors="replace") as f:
    for line in f:
        m = rx.match(line)
        if not m:
            continue
        sym = m.group(2)
        if sym.endswith(".traceMark"):
            if window:
                break
            window = []
            continue
        if window is not None and not sym.startswith("runtime."):
            window.append((int(m.group(1), 16), sym))
if not window:
    sys.exit("no traced call between two traceMark calls")
syms = sorted(set(s for _, s in window))
dis = subprocess.run([objdump, "-d", "--no-show-raw-insn", "--mattr=" + attr] +
    ["--disassemble-symbols=" + s for s in syms] + [binp], capture_output=True, text=True, check=True).stdout
ins = {}
for line in dis.splitlines():
    m = re.match(r"\s*([0-9a-f]+):\s+(\S.*)$", line)
    if m:
        ins[int(m.group(1), 16)] = re.sub(r"\s*<[^>]*>\s*$", "", m.group(2)).strip()
# A translation block runs from its address to its first branch (or to
# where the next block starts); branch targets become one label.
br = re.compile(r"^(b(\.\w+)?|bl|br|blr|ret|cbn?z|tbn?z)\b")
out = []
for k, (pc, _) in enumerate(window):
    nxt = window[k + 1][0] if k + 1 < len(window) else None
    a = pc
    while a in ins:
        t = ins[a]
        if t.startswith("<unknown>"):
            sys.exit("undecodable instruction at 0x%x" % a)
        out.append("\t" + re.sub(r"^((b(\.\w+)?|bl|cbn?z|tbn?z)\s+(.*,\s*)?)0x[0-9a-f]+$", r"\1.Lx", t))
        if br.match(t):
            break
        a += 4
        if a == nxt:
            break
src = ".Lx:\n" + "\n".join(out) + "\n"
res = []
for cpu in cpus:
    r = subprocess.run([mca, "-mtriple=aarch64", "-mcpu=" + cpu, "-mattr=" + attr, "-iterations=1"],
        input=src, capture_output=True, text=True, check=True).stdout
    res.append("%s %6.2f" % (cpu, int(re.search(r"Total Cycles:\s+(\d+)", r).group(1)) / int(n)))
print("  ".join(res) + "   cyc/value  (%.2f instr/value)" % (len(out) / int(n)))
PY
for op in $HOT_OPS; do
	for side in go asm; do
		qemu-aarch64-static -cpu max -d exec,nochain -D "$work/trace.log" "$work/kernels.test" \
			-test.run '^$' -test.bench "^BenchmarkHotOps\$/^$op\$/^$side\$" -test.benchtime 1x >/dev/null
		printf '%-28s' "$op ($side)"
		python3 "$work/trace.py" "$work/kernels.test" "$work/trace.log" "$MCA" "$OBJDUMP" "$ATTR" "$TRACE_N" $CPUS
		rm -f "$work/trace.log"
	done
done

[[ -n $ref ]] || exit 0
echo "== reference loops from $ref (per -mcpu directory; cycles per 32 weights)"
while read -r fn weights marker; do
	[[ -n $fn ]] || continue
	line=$(printf '%-32s' "$fn")
	for cpu in $CPUS; do
		awk -v f="$fn" '$0 ~ "^" f ":" {on=1; next} on && /^\.Lfunc_end/ {exit} on' "$ref/$cpu"/*.s >"$work/$fn.$cpu.fn"
		hotloop "$marker" <"$work/$fn.$cpu.fn" >"$work/$fn.$cpu.s"
		macs=$(macs "$work/$fn.$cpu.s")
		if [[ $macs != "$weights" ]]; then
			echo "$fn at $cpu: the hot loop does $macs multiply-adds per iteration, the table says $weights" >&2
			exit 1
		fi
		cyc=$("$MCA" -mtriple=aarch64 -mcpu="$cpu" -mattr="$ATTR" -iterations=$ITER "$work/$fn.$cpu.s" 2>/dev/null |
			awk '/^Total Cycles:/ {print $3}')
		line+=$(awk -v c="$cyc" -v w="$weights" -v n="$ITER" -v cpu="$cpu" \
			'BEGIN { printf "  %s %5.2f", cpu, c / n / (w / 32) }')
	done
	echo "$line   cyc/32w  ($(grep -vc '^\.Lloop:' "$work/$fn.cortex-a76.s" 2>/dev/null || echo ?) instr/iter at cortex-a76, $weights weights)"
done <<<"$REF_LOOPS"
