#!/usr/bin/env bash
# The whole test suite: formatting, vet and cross-builds for every supported
# platform, native tests (with and without assembly), and the arm64 tests
# under qemu-user at three CPU tiers (every feature; dotprod without i8mm;
# plain NEON). Needs Go and qemu-user-static (apt-get install qemu-user-static).
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
bad=$(gofmt -l .)
if [[ -n "$bad" ]]; then echo "gofmt needed on:"; echo "$bad"; exit 1; fi

for target in linux/amd64 linux/arm64 darwin/arm64; do
	step "vet + build $target"
	GOOS=${target%/*} GOARCH=${target#*/} go vet ./...
	GOOS=${target%/*} GOARCH=${target#*/} go build -o /dev/null ./...
done
step "vet + build -tags purego"
go vet -tags purego ./...
GOARCH=arm64 go vet -tags purego ./...

# Every go test run goes through scripts/skipcheck: it prints each skipped
# test with its reason and fails the step if a skip is not justified in
# scripts/skipcheck/allow.txt for that run.
tooldir=$(mktemp -d)
trap 'rm -rf "$tooldir"' EXIT
go build -o "$tooldir/skipcheck" ./scripts/skipcheck
checked() { # checked RUN-NAME go test args...
	local run=$1
	shift
	"$@" -json | "$tooldir/skipcheck" -run "$run" -allow scripts/skipcheck/allow.txt
}

# verbose: the test log (every t.Logf line and TestMain's) is printed too
checkedv() { # checkedv RUN-NAME go test args...
	local run=$1
	shift
	"$@" -json >"$tooldir/$run.json" || true
	grep -oE '"Output":"(    |metal-sim: )[^"]*' "$tooldir/$run.json" | sed -e 's/^"Output":"    //' -e 's/^"Output":"//' -e 's/\\n$//' -e 's/\\t/ /g'
	"$tooldir/skipcheck" -run "$run" -allow scripts/skipcheck/allow.txt <"$tooldir/$run.json"
}

# (the Metal backend's model and command tests run in their own step below)
metal_e2e='TestDeviceGoldens|TestDeviceZeroCopy|TestDeviceCogVLM2|TestEvalMetalSim|TestBenchMetalSim|TestRunMetalSim|TestServeMetalSim'
step "go test (linux/amd64)"
# (a slower machine than ours must not hit go test's default 10-minute limit per package)
checked native go test -count=1 -timeout 30m -skip "$metal_e2e" ./...

step "amd64 kernel tiers exercised on this machine (skipped = CPU lacks it; no emulator reaches AVX-512 or AVX-VNNI)"
go test -count=1 -run '^TestTiers$' -v ./kernels/ | grep -E -- '--- (PASS|SKIP|FAIL): TestTiers/(avx|generic)' || true

# Every Metal kernel on the simulated device (the .metal source compiled as
# C++ by clang against kernels/metal/shim), each op against the generic
# reference, then the reference goldens through the Metal backend's decoder
# and `cogedge eval/bench --backend metal-sim`; verbose, so the log shows
# every kernel, shape, tolerance and golden.
step "Metal backend on the simulated device"
checkedv metal go test -count=1 -v ./kernels/metal/
checkedv metal go test -count=1 -v -run "$metal_e2e" ./model/ ./cmd/cogedge/

step "go test -tags purego (generic kernels only)"
checked purego go test -count=1 -tags purego ./quant/... ./kernels/...

# arm64 under qemu-user at three CPU tiers: the packages with
# architecture-specific code, and the model end to end (its goldens then run
# through the NEON kernels of each tier). qemu reports the CPU's features
# through HWCAP, so golang.org/x/sys/cpu sees what a real core of that kind has.
wrapdir=$tooldir
cat >"$wrapdir/go_linux_arm64_exec" <<'WRAP'
#!/bin/sh
exec qemu-aarch64-static -cpu "${QEMU_CPU:-max}" "$@"
WRAP
chmod +x "$wrapdir/go_linux_arm64_exec"
# (kernels/metal is left out: its simulator is host code, tested above.)
arm_pkgs=$(go list ./quant/... ./kernels/... ./gguf/... ./model/... | grep -v /kernels/metal)
for cpu in max neoverse-n1 cortex-a72; do
	step "go test (linux/arm64 under qemu, -cpu $cpu)"
	# emulation is 5-10x slower than native: the default 10-minute timeout is too tight
	PATH="$wrapdir:$PATH" QEMU_CPU=$cpu GOARCH=arm64 checked "arm64-$cpu" go test -count=1 -timeout 30m -skip "$metal_e2e" $arm_pkgs
done
step "all tests passed"
