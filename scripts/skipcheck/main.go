// Command skipcheck reads `go test -json` from stdin, prints a short
// report (packages, failures with their output, every skipped test with
// its reason) and exits non-zero if a test failed or if a test was skipped
// without an entry in the allowlist for this run. It keeps CI from passing
// while a test that should run on the CI machine quietly skips.
//
//	go test -json ./... | go run ./scripts/skipcheck -run native -allow scripts/skipcheck/allow.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Output     string
	Elapsed    float64
}

// rule allows skips of the tests matching Test in packages ending in
// Package during the runs listed in Runs.
type rule struct {
	Runs    []string
	Package string
	Test    *regexp.Regexp
	Why     string
	Line    int
}

// parseAllow reads the allowlist: one rule a line, four fields separated
// by runs of spaces or tabs — comma-separated run names, package path
// suffix, test-name regexp, and the justification (the rest of the line).
// Blank lines and lines starting with # are ignored.
func parseAllow(r io.Reader) ([]rule, error) {
	var rules []rule
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			return nil, fmt.Errorf("allowlist line %d: want runs, package, test regexp and a reason, got %q", n, line)
		}
		re, err := regexp.Compile(f[2])
		if err != nil {
			return nil, fmt.Errorf("allowlist line %d: %w", n, err)
		}
		rules = append(rules, rule{Runs: strings.Split(f[0], ","), Package: f[1], Test: re, Why: strings.Join(f[3:], " "), Line: n})
	}
	return rules, sc.Err()
}

// allowed returns the rule that allows skipping test in pkg during run.
func allowed(rules []rule, run, pkg, test string) (rule, bool) {
	for _, r := range rules {
		if !contains(r.Runs, run) && !contains(r.Runs, "all") {
			continue
		}
		if (pkg == r.Package || strings.HasSuffix(pkg, "/"+r.Package)) && r.Test.MatchString(test) {
			return r, true
		}
	}
	return rule{}, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// skipReason extracts the message t.Skip printed from a test's output.
func skipReason(lines []string) string {
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, " ")
}

// result is what check found.
type result struct {
	failed     []string // package or package.Test
	skipped    []string // report lines
	unexpected int
	packages   int
	allowed    map[int]*group // by allowlist line
}

// group is the allowed skips of one rule.
type group struct {
	rule   rule
	tests  []string
	reason string // the first skip message seen
}

// check consumes the event stream, writing failures' output and the
// package summary to w as they come.
func check(in io.Reader, w io.Writer, rules []rule, run string) (result, error) {
	res := result{allowed: map[int]*group{}}
	output := map[string][]string{}
	dec := json.NewDecoder(in)
	for {
		var e event
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			return res, fmt.Errorf("reading go test -json: %w", err)
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "build-fail":
			res.failed = append(res.failed, e.ImportPath+" (build)")
		case "output":
			output[key] = append(output[key], e.Output)
		case "fail":
			if e.Test == "" {
				// A timeout or crash ends tests that never report: print
				// what they wrote, and the package's own output.
				for _, k := range sortedKeys(output) {
					if strings.HasPrefix(k, e.Package+" ") && k != key {
						fmt.Fprint(w, strings.Join(output[k], ""))
						delete(output, k)
					}
				}
				fmt.Fprint(w, strings.Join(output[key], ""))
				fmt.Fprintf(w, "FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
				res.failed = append(res.failed, e.Package)
				res.packages++
			} else {
				fmt.Fprint(w, strings.Join(output[key], ""))
				res.failed = append(res.failed, e.Package+"."+e.Test)
			}
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(w, "ok\t%s\t%.1fs\n", e.Package, e.Elapsed)
				res.packages++
			}
		case "skip":
			if e.Test == "" { // a package without tests
				continue
			}
			reason := skipReason(output[key])
			if r, ok := allowed(rules, run, e.Package, e.Test); ok {
				g := res.allowed[r.Line]
				if g == nil {
					g = &group{rule: r, reason: reason}
					res.allowed[r.Line] = g
				}
				g.tests = append(g.tests, short(e.Package)+" "+e.Test)
			} else {
				res.skipped = append(res.skipped, fmt.Sprintf("  NOT ALLOWED  %s %s: %s", short(e.Package), e.Test, reason))
				res.unexpected++
			}
		}
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			delete(output, key)
		}
	}
	sort.Strings(res.skipped)
	var lines []int
	for l := range res.allowed {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	for _, l := range lines {
		g := res.allowed[l]
		sort.Strings(g.tests)
		res.skipped = append(res.skipped, fmt.Sprintf("  allowed (allow.txt:%d, %s): %d: %s\n      e.g. %q",
			l, g.rule.Why, len(g.tests), strings.Join(g.tests, ", "), g.reason))
	}
	return res, nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func short(pkg string) string {
	if i := strings.Index(pkg, "/cogedge/cogedge/"); i >= 0 {
		return pkg[i+len("/cogedge/cogedge/"):]
	}
	return pkg
}

func main() {
	run := flag.String("run", "native", "name of this test run, matched against the allowlist's first column")
	allowPath := flag.String("allow", "scripts/skipcheck/allow.txt", "allowlist of justified skips")
	flag.Parse()
	f, err := os.Open(*allowPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipcheck:", err)
		os.Exit(2)
	}
	rules, err := parseAllow(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "skipcheck: %s: %v\n", *allowPath, err)
		os.Exit(2)
	}
	res, err := check(os.Stdin, os.Stdout, rules, *run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipcheck:", err)
		os.Exit(2)
	}
	n := res.unexpected
	for _, g := range res.allowed {
		n += len(g.tests)
	}
	fmt.Printf("\nskipped tests (%s run): %d\n", *run, n)
	for _, s := range res.skipped {
		fmt.Println(s)
	}
	switch {
	case len(res.failed) > 0:
		fmt.Printf("\nFAILED: %s\n", strings.Join(res.failed, ", "))
		os.Exit(1)
	case res.unexpected > 0:
		fmt.Printf("\n%d skipped test(s) not in %s: a test that should run here did not\n", res.unexpected, *allowPath)
		os.Exit(1)
	case res.packages == 0:
		fmt.Println("\nno test results read")
		os.Exit(1)
	}
}
