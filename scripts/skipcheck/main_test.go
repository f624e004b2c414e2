package main

import (
	"bytes"
	"strings"
	"testing"
)

const allowText = `# comment
native,purego kernels ^TestTiers/avxvnni$ CPU lacks it
all model/imageproc ^TestExternal$ manual
`

func events(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestCheck(t *testing.T) {
	rules, err := parseAllow(strings.NewReader(allowText))
	if err != nil || len(rules) != 2 {
		t.Fatalf("parseAllow: %d rules, %v", len(rules), err)
	}
	const k, ip = "github.com/cogedge/cogedge/kernels", "github.com/cogedge/cogedge/model/imageproc"
	skipTiers := events(
		`{"Action":"run","Package":"`+k+`","Test":"TestTiers/avxvnni"}`,
		`{"Action":"output","Package":"`+k+`","Test":"TestTiers/avxvnni","Output":"    tiers_test.go:34: CPU lacks AVX-VNNI\n"}`,
		`{"Action":"skip","Package":"`+k+`","Test":"TestTiers/avxvnni"}`,
		`{"Action":"skip","Package":"`+ip+`","Test":"TestExternal"}`,
		`{"Action":"pass","Package":"`+k+`"}`,
	)
	for _, tc := range []struct {
		name, run, in string
		failed        int
		unexpected    int
		report        string
	}{
		{"allowed skips", "native", skipTiers, 0, 0, "CPU lacks AVX-VNNI"},
		{"rule for other runs", "arm64-max", skipTiers, 0, 1, "NOT ALLOWED  kernels TestTiers/avxvnni"},
		{"unlisted skip", "native", events(`{"Action":"skip","Package":"`+k+`","Test":"TestMatMul"}`, `{"Action":"pass","Package":"`+k+`"}`), 0, 1, "NOT ALLOWED"},
		{"package suffix must match whole segments", "native", events(`{"Action":"skip","Package":"x/notkernels","Test":"TestTiers/avxvnni"}`, `{"Action":"pass","Package":"x/notkernels"}`), 0, 1, "NOT ALLOWED"},
		{"failed test", "native", events(`{"Action":"output","Package":"`+k+`","Test":"TestX","Output":"boom\n"}`, `{"Action":"fail","Package":"`+k+`","Test":"TestX"}`, `{"Action":"fail","Package":"`+k+`"}`), 2, 0, ""},
		{"timeout inside a test", "native", events(`{"Action":"run","Package":"`+k+`","Test":"TestSlow"}`, `{"Action":"output","Package":"`+k+`","Test":"TestSlow","Output":"panic: test timed out after 10m0s\n"}`, `{"Action":"fail","Package":"`+k+`"}`), 1, 0, ""},
		{"build failure", "native", events(`{"ImportPath":"x [x.test]","Action":"build-output","Output":"syntax error\n"}`, `{"ImportPath":"x [x.test]","Action":"build-fail"}`, `{"Action":"fail","Package":"x"}`), 2, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := check(strings.NewReader(tc.in), &out, rules, tc.run)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.failed) != tc.failed || res.unexpected != tc.unexpected {
				t.Errorf("failed %v, unexpected %d; want %d failures, %d unexpected", res.failed, res.unexpected, tc.failed, tc.unexpected)
			}
			if all := strings.Join(res.skipped, "\n"); !strings.Contains(all, tc.report) {
				t.Errorf("skip report %q lacks %q", all, tc.report)
			}
			if tc.name == "failed test" && !strings.Contains(out.String(), "boom") {
				t.Errorf("failure output not printed: %q", out.String())
			}
			if tc.name == "timeout inside a test" && !strings.Contains(out.String(), "timed out") {
				t.Errorf("output of the unfinished test not printed: %q", out.String())
			}
		})
	}
}

func TestParseAllowErrors(t *testing.T) {
	for _, bad := range []string{"native kernels ^Test$\n", "native kernels ^Test( reason\n"} {
		if _, err := parseAllow(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
