package metal

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
)

// simCompilerVersion is the minimum clang major version: clang 14 lacks
// _Float16 on x86-64 without AVX512-FP16.
const simCompilerVersion = 15

// FindClang returns the clang++ the simulator uses: $COGEDGE_CLANG, else
// the newest clang++-N (N ≥ 15) on PATH, else clang++ if it is new enough.
func FindClang() (string, error) {
	if c := os.Getenv("COGEDGE_CLANG"); c != "" {
		return c, nil
	}
	for v := 20; v >= simCompilerVersion; v-- {
		if p, err := exec.LookPath("clang++-" + strconv.Itoa(v)); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("clang++"); err == nil {
		out, _ := exec.Command(p, "--version").Output()
		if m := regexp.MustCompile(`version (\d+)`).FindSubmatch(out); m != nil {
			if v, _ := strconv.Atoi(string(m[1])); v >= simCompilerVersion {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("metal-sim: no clang++ %d or newer (apt-get install clang-16, or set COGEDGE_CLANG)", simCompilerVersion)
}
