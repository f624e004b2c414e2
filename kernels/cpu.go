package kernels

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/cpu"
)

// Features lists the CPU features the kernels may use. The package reads
// them once from golang.org/x/sys/cpu; tests switch them off with
// SetFeatures so that every implementation runs under the same test.
type Features struct {
	// AVX2 means AVX2, FMA and F16C together (amd64): the amd64 assembly
	// needs all three.
	AVX2 bool
	// AVX512VNNI means AVX-512 F, BW, VL and VNNI together (amd64): the
	// prefill GEMM micro-kernel uses VPDPBUSD on 512-bit registers. It is
	// only used together with AVX2.
	AVX512VNNI bool
	// AVX512BF16 is AVX-512 BF16 on top of AVX512VNNI (amd64, e.g. AMD
	// Zen 4, Intel Sapphire Rapids): VDPBF16PS for the attention that
	// AttnParams.BF16 allows. Only used together with AVX512VNNI.
	AVX512BF16 bool
	// AVXVNNI is the VEX-encoded VPDPBUSD on 256-bit registers (Intel
	// Alder Lake and later, AMD Zen 5): the prefill GEMM without AVX-512.
	// Only used together with AVX2.
	AVXVNNI bool
	// ASIMD, DotProd and I8MM are the arm64 features kernels/neon uses.
	ASIMD, DotProd, I8MM bool
}

// detected is what the CPU offers; it never changes after start-up.
var detected = Features{
	AVX2: cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C,
	AVX512VNNI: cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C &&
		cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI,
	AVX512BF16: cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C &&
		cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512BF16,
	AVXVNNI: cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C && cpu.X86.HasAVXVNNI,
	ASIMD:   cpu.ARM64.HasASIMD,
	DotProd: cpu.ARM64.HasASIMDDP,
	I8MM:    cpu.ARM64.HasI8MM,
}

// l2Bytes is the L2 cache of one core in bytes, read once: from Linux's
// sysfs where it says, else 1 MiB on amd64 (Zen 4) and 512 KiB on arm64
// (the Cortex-A76 of the Raspberry Pi 5).
var l2Bytes = readL2Bytes()

func readL2Bytes() int {
	for i := 0; i < 8; i++ {
		dir := fmt.Sprintf("/sys/devices/system/cpu/cpu0/cache/index%d/", i)
		level, err1 := os.ReadFile(dir + "level")
		typ, err2 := os.ReadFile(dir + "type")
		size, err3 := os.ReadFile(dir + "size")
		if err1 != nil || err2 != nil || err3 != nil {
			break
		}
		if strings.TrimSpace(string(level)) == "2" && strings.TrimSpace(string(typ)) != "Instruction" {
			if n, ok := parseCacheSize(string(size)); ok {
				return n
			}
		}
	}
	if runtime.GOARCH == "arm64" {
		return 512 << 10
	}
	return 1 << 20
}

// parseCacheSize reads a sysfs cache size ("1024K", "2M", bytes without a
// suffix); sizes outside 64 KiB..64 MiB are rejected as implausible for
// one core's L2.
func parseCacheSize(s string) (int, bool) {
	s = strings.TrimSpace(s)
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > (64<<20)/mul || n*mul < 64<<10 {
		return 0, false
	}
	return n * mul, true
}

var (
	featMu sync.Mutex
	active Features
)

func init() { SetFeatures(detected) }

// Detected returns the features the CPU offers.
func Detected() Features { return detected }

// Active returns the features the kernels currently use.
func Active() Features {
	featMu.Lock()
	defer featMu.Unlock()
	return active
}

// SetFeatures restricts the kernels to the features in f that the CPU also
// offers, rebuilds the dispatch table and returns the previous setting.
// It is meant for tests and benchmarks; it must not run while another
// goroutine is inside a kernel.
func SetFeatures(f Features) (previous Features) {
	featMu.Lock()
	defer featMu.Unlock()
	previous = active
	active = Features{
		AVX2:       f.AVX2 && detected.AVX2,
		AVX512VNNI: f.AVX512VNNI && f.AVX2 && detected.AVX512VNNI,
		AVX512BF16: f.AVX512BF16 && f.AVX512VNNI && f.AVX2 && detected.AVX512BF16,
		AVXVNNI:    f.AVXVNNI && f.AVX2 && detected.AVXVNNI,
		ASIMD:      f.ASIMD && detected.ASIMD,
		DotProd:    f.DotProd && detected.DotProd,
		I8MM:       f.I8MM && detected.I8MM,
	}
	t := genericImpl()
	archImpl(&t, active)
	impl = t
	return previous
}

// Implementations returns the named feature sets worth testing on this
// machine: "generic" first, then each accelerated tier the CPU supports.
func Implementations() []struct {
	Name     string
	Features Features
} {
	type named = struct {
		Name     string
		Features Features
	}
	out := []named{{"generic", Features{}}}
	d := detected
	if d.AVX2 {
		out = append(out, named{"avx2", Features{AVX2: true}})
	}
	if d.AVXVNNI {
		out = append(out, named{"avxvnni", Features{AVX2: true, AVXVNNI: true}})
	}
	if d.AVX512VNNI {
		// with BF16 where the CPU has it: only bf16 attention (opt-in)
		// differs, and TestAttnBF16 switches it off and on itself
		out = append(out, named{"avx512vnni", Features{AVX2: true, AVXVNNI: d.AVXVNNI, AVX512VNNI: true, AVX512BF16: d.AVX512BF16}})
	}
	if d.ASIMD {
		out = append(out, named{"neon", Features{ASIMD: true}})
	}
	if d.ASIMD && d.DotProd {
		out = append(out, named{"dotprod", Features{ASIMD: true, DotProd: true}})
	}
	if d.ASIMD && d.DotProd && d.I8MM {
		out = append(out, named{"i8mm", Features{ASIMD: true, DotProd: true, I8MM: true}})
	}
	return out
}
