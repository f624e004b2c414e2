package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/quant"
)

// TestBenchSystem checks the system line of the table and the system
// object of -o json: the platform, the kernel tier in use, and how many
// language matrices were repacked — all of them when the kernels have a
// fast packed kernel for the model's type on this CPU (tinyQ8 is Q8_0:
// arm64 with the dot product), none otherwise.
func TestBenchSystem(t *testing.T) {
	args := []string{"bench", "-m", tinyQ8, "-p", "0", "-n", "2", "-r", "1", "-t", "1", "--stream-mib", "0"}
	var md, js, errb bytes.Buffer
	if code := run(args, &md, &errb); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	if code := run(append(args, "-o", "json"), &js, &errb); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	var rs []benchResult
	if err := json.Unmarshal(js.Bytes(), &rs); err != nil || len(rs) != 1 || rs[0].System == nil {
		t.Fatalf("json %v: %s", err, js.String())
	}
	s := rs[0].System
	if s.Platform != runtime.GOOS+"/"+runtime.GOARCH || s.CPUs != runtime.NumCPU() || s.Language == 0 {
		t.Errorf("system %+v", s)
	}
	want := 0
	if kernels.PackedFast(quant.Q8_0) {
		want = s.Language
	}
	if s.Packed != want {
		t.Errorf("%d of %d matrices repacked, want %d (PackedFast(Q8_0) = %v)", s.Packed, s.Language, want, kernels.PackedFast(quant.Q8_0))
	}
	if !strings.Contains(rs[0].Backend, s.Tier) {
		t.Errorf("backend %q does not name the tier %q", rs[0].Backend, s.Tier)
	}
	line := regexp.MustCompile(`(?m)^system: ` + regexp.QuoteMeta(s.Platform) + `, [0-9]+ CPUs.*; CPU features: [^;]+; kernel tier: ` +
		regexp.QuoteMeta(s.Tier) + `; ([0-9]+) of ([0-9]+) language matrices repacked`)
	m := line.FindStringSubmatch(md.String())
	if m == nil || m[1] != strconv.Itoa(s.Packed) || m[2] != strconv.Itoa(s.Language) {
		t.Errorf("no system line matching the json in:\n%s", md.String())
	}
}
