#!/usr/bin/env bash
# mca.sh — static throughput estimates for kernels/neon's inner loops.
#
# Builds the kernels/neon arm64 test binary, checks every WORD-encoded
# instruction in dot_arm64.s against llvm-mc, disassembles the kernel
# symbols (Go asm functions carry an .abi0 suffix) with llvm-objdump,
# extracts each innermost loop (target of the last backward branch up to
# that branch) and runs llvm-mca on it for cortex-a76 and apple-m1, printing
# cycles per 32-weight block (per 256-weight super-block for K-quants).
#
# llvm-mca has no faithful model of these cores (cortex-a76 uses the A57
# model, apple-m1 the Cyclone one: docs testing.md §3.1): use the figures to
# compare loops, not as absolute speeds.
#
# Usage:
#   scripts/mca.sh                      # verify WORDs, measure our loops
#   scripts/mca.sh -loop FILE.s LABEL N # measure the loop starting at LABEL
#                                       # in a GNU assembly file (e.g. clang -S
#                                       # output of another implementation),
#                                       # N blocks per iteration
# Needs llvm-14 (llvm-mc-14, llvm-objdump-14, llvm-mca-14) or llvm-mca-16,
# python3 and Go.
set -euo pipefail
cd "$(dirname "$0")/.."

MCA=$(command -v llvm-mca-16 || command -v llvm-mca-14 || command -v llvm-mca)
OBJDUMP=$(command -v llvm-objdump-14 || command -v llvm-objdump-16 || command -v llvm-objdump)
MC=$(command -v llvm-mc-14 || command -v llvm-mc-16 || command -v llvm-mc)
ATTR=+dotprod,+i8mm,+fullfp16
CPUS="cortex-a76 apple-m1"
ITER=1000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# mca LOOPFILE BLOCKS LABEL: print cycles per block for each CPU model.
mca() {
	local loop=$1 blocks=$2 name=$3 line
	line=$(printf '%-28s' "$name")
	for cpu in $CPUS; do
		local cyc
		cyc=$("$MCA" -mtriple=aarch64 -mcpu="$cpu" -mattr="$ATTR" -iterations=$ITER "$loop" 2>/dev/null |
			awk '/^Total Cycles:/ {print $3}')
		line+=$(awk -v c="$cyc" -v b="$blocks" -v n="$ITER" -v cpu="$cpu" \
			'BEGIN { printf "  %s %6.2f cyc/block", cpu, c / n / b }')
	done
	echo "$line  ($(grep -c . "$loop") instructions/iteration, $blocks blocks)"
}

# innermost FILE: GNU asm lines on stdin (objdump body) → loop on stdout.
innermost() {
	python3 -c '
import re, sys
rows = []  # (addr, text)
for raw in sys.stdin:
    m = re.match(r"\s*([0-9a-f]+):\s+(\S.*)$", raw)
    if not m:
        continue
    text = re.sub(r"\s*<[^>]*>\s*$", "", m.group(2)).strip()
    if text.startswith("<unknown>") or text.startswith("udf") or text.startswith("."):
        continue
    rows.append((int(m.group(1), 16), text))
last = None
for i, (addr, text) in enumerate(rows):
    b = re.match(r"(b(\.\w+)?|cbn?z|tbn?z)\s+(.*,\s*)?0x([0-9a-f]+)$", text)
    if b and int(b.group(4), 16) <= addr:
        last = (i, int(b.group(4), 16))
if last is None:
    sys.exit("no backward branch: no loop")
end, target = last
start = next(i for i, (a, _) in enumerate(rows) if a == target)
print(".Lloop:")
for addr, text in rows[start:end]:
    print("\t" + text)
b = re.match(r"(\S+)\s+(.*,\s*)?0x[0-9a-f]+$", rows[end][1])
print("\t" + b.group(1) + " " + (b.group(2) or "") + ".Lloop")
'
}

if [[ ${1:-} == -loop ]]; then
	[[ $# -eq 4 ]] || { echo "usage: $0 -loop FILE.s LABEL BLOCKS" >&2; exit 2; }
	file=$2 label=$3 blocks=$4
	# The loop: from LABEL to the first branch back to it.
	awk -v l="$label" '
		$0 ~ "^" l ":" { on = 1; print ".Lloop:"; next }
		on && /^[ \t]*(\/\/|\.)/ { next }
		on && /^[.A-Za-z_0-9]+:/ { next }
		on { sub(/\/\/.*/, ""); if ($0 ~ l "[ \t]*$") { sub(l, ".Lloop"); print; exit } print }
	' "$file" >"$work/ext.s"
	mca "$work/ext.s" "$blocks" "$label"
	exit 0
fi

echo "== build"
GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$work/neon.test" ./kernels/neon

echo "== WORD encodings vs llvm-mc"
grep -E '^\s*WORD\s+\$0x[0-9a-f]{8} // ' kernels/neon/dot_arm64.s |
	sed -E 's/^\s*WORD\s+\$0x([0-9a-f]{8}) \/\/ (.*)$/\1\t\2/' | sort -u >"$work/words"
cut -f2 "$work/words" >"$work/words.s"
"$MC" -triple=aarch64 -mattr=$ATTR -show-encoding "$work/words.s" |
	sed -nE 's/.*encoding: \[0x(..),0x(..),0x(..),0x(..)\].*/\4\3\2\1/p' >"$work/enc"
paste "$work/words" "$work/enc" | awk -F'\t' '
	$1 != $3 { bad++; printf "MISMATCH %s: WORD 0x%s, llvm-mc 0x%s\n", $2, $1, $3 }
	END { if (bad) exit 1; printf "%d distinct WORDs match llvm-mc\n", NR }'

echo "== loops (llvm-mca $($MCA --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p'), $ITER iterations)"
pkg=github.com/cogedge/cogedge/kernels/neon
for spec in Q4_0Q8_0SDOT:4 Q8_0Q8_0SDOT:4 Q4_KQ8_KSDOT:1 Q4_0Q8_0NEON:4 Q8_0Q8_0NEON:4 Q4_KQ8_KNEON:1 2x2Q4_0Q8_0SMMLA:4; do
	name=${spec%%:*} blocks=${spec##*:}
	sym="$pkg.dot$name.abi0"
	"$OBJDUMP" -d --no-show-raw-insn --mattr=$ATTR --disassemble-symbols="$sym" "$work/neon.test" >"$work/$name.dis"
	if grep -q '<unknown>' "$work/$name.dis"; then
		echo "$name: llvm-objdump cannot decode some words" >&2
		exit 1
	fi
	innermost <"$work/$name.dis" >"$work/$name.s"
	mca "$work/$name.s" "$blocks" "dot$name"
done
