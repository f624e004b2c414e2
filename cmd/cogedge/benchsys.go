package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
)

// benchSystem is the machine and the kernel path a bench ran on: with the
// table's t/s and bandwidth lines, what an owner of hardware the project
// cannot test on (a Raspberry Pi 5, a Jetson) sends back.
type benchSystem struct {
	Platform  string   `json:"platform"`            // GOOS/GOARCH
	CPUModel  string   `json:"cpu_model,omitempty"` // from /proc/cpuinfo
	CPUs      int      `json:"n_cpus"`
	Features  []string `json:"cpu_features"` // the features the kernels look for that the CPU has
	Tier      string   `json:"kernel_tier"`  // the implementation tier in use
	Packed    int      `json:"packed_matrices"`
	Language  int      `json:"language_matrices"`
	Layouts   []string `json:"packed_layouts,omitempty"`
	GoVersion string   `json:"go_version"`
}

// describeSystem fills a benchSystem for model m.
func describeSystem(m *model.Model) *benchSystem {
	s := &benchSystem{
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		CPUModel:  cpuModel(),
		CPUs:      runtime.NumCPU(),
		Tier:      kernelTier(),
		GoVersion: runtime.Version(),
	}
	d := kernels.Detected()
	for _, f := range []struct {
		on   bool
		name string
	}{{d.AVX2, "avx2+fma+f16c"}, {d.AVXVNNI, "avx-vnni"}, {d.AVX512VNNI, "avx512-vnni"}, {d.AVX512BF16, "avx512-bf16"},
		{d.ASIMD, "asimd"}, {d.DotProd, "dotprod"}, {d.I8MM, "i8mm"}} {
		if f.on {
			s.Features = append(s.Features, f.name)
		}
	}
	for _, w := range m.LanguageWeights() {
		s.Language++
		if w.Packed {
			s.Packed++
			if l := kernels.PackedLayout(w.Type); !slices.Contains(s.Layouts, l) {
				s.Layouts = append(s.Layouts, l)
			}
		}
	}
	slices.Sort(s.Layouts)
	return s
}

// kernelTier names the kernels' active implementation tier.
func kernelTier() string {
	active := kernels.Active()
	name := "generic"
	for _, im := range kernels.Implementations() {
		if im.Features == active {
			name = im.Name
		}
	}
	return name
}

// String is the system line under the bench table.
func (s *benchSystem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "system: %s, %d CPUs", s.Platform, s.CPUs)
	if s.CPUModel != "" {
		fmt.Fprintf(&b, " (%s)", s.CPUModel)
	}
	feats := "none"
	if len(s.Features) > 0 {
		feats = strings.Join(s.Features, " ")
	}
	fmt.Fprintf(&b, "; CPU features: %s; kernel tier: %s; %d of %d language matrices repacked", feats, s.Tier, s.Packed, s.Language)
	if len(s.Layouts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(s.Layouts, ", "))
	}
	fmt.Fprintf(&b, "; %s", s.GoVersion)
	return b.String()
}

// armParts names the Arm Ltd. cores (implementer 0x41) by their
// /proc/cpuinfo "CPU part".
var armParts = map[uint64]string{
	0xd03: "Cortex-A53", 0xd04: "Cortex-A35", 0xd05: "Cortex-A55", 0xd07: "Cortex-A57",
	0xd08: "Cortex-A72", 0xd09: "Cortex-A73", 0xd0a: "Cortex-A75", 0xd0b: "Cortex-A76",
	0xd0c: "Neoverse-N1", 0xd0d: "Cortex-A77", 0xd40: "Neoverse-V1", 0xd41: "Cortex-A78",
	0xd42: "Cortex-A78AE", 0xd44: "Cortex-X1", 0xd46: "Cortex-A510", 0xd47: "Cortex-A710",
	0xd48: "Cortex-X2", 0xd49: "Neoverse-N2", 0xd4f: "Neoverse-V2",
}

// cpuModel reads the CPU's name from /proc/cpuinfo: "model name" where
// the kernel gives one (x86), else the Arm cores' parts, counted
// ("4× Cortex-A76"); "" when neither is there (macOS, other systems).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	var name string
	var impl uint64
	counts := map[string]int{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "model name":
			if name == "" {
				name = val
			}
		case "CPU implementer":
			impl, _ = strconv.ParseUint(val, 0, 64)
		case "CPU part":
			p, _ := strconv.ParseUint(val, 0, 64)
			part := fmt.Sprintf("implementer %#x part %#x", impl, p)
			if n, ok := armParts[p]; ok && impl == 0x41 {
				part = n
			}
			if counts[part] == 0 {
				order = append(order, part)
			}
			counts[part]++
		}
	}
	if name != "" {
		return name
	}
	var parts []string
	for _, p := range order {
		parts = append(parts, fmt.Sprintf("%d× %s", counts[p], p))
	}
	return strings.Join(parts, " + ")
}
