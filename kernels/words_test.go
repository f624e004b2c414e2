package kernels

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wordLine is a WORD directive with its GNU mnemonic in a comment (a
// parenthesised note after it is dropped), the way the arm64 assembly
// spells instructions Go's assembler lacks.
var wordLine = regexp.MustCompile(`^\s*WORD\s+\$0x([0-9a-f]{8})\s*//\s*([^(]*[^(\s])`)

// TestWordEncodings re-assembles the mnemonic of every WORD in this
// package's arm64 assembly with llvm-mc and requires the same word. It
// needs llvm-mc (Debian llvm-16, which .ci/run installs): without it the
// test skips, unless COGEDGE_REQUIRE_LLVM_MC is set.
func TestWordEncodings(t *testing.T) {
	mc := ""
	for _, name := range []string{"llvm-mc-16", "llvm-mc-14", "llvm-mc"} {
		if p, err := exec.LookPath(name); err == nil {
			mc = p
			break
		}
	}
	if mc == "" {
		if os.Getenv("COGEDGE_REQUIRE_LLVM_MC") != "" {
			t.Fatal("llvm-mc not found and COGEDGE_REQUIRE_LLVM_MC is set")
		}
		t.Skip("llvm-mc not installed (apt-get install llvm-16)")
	}
	files, err := filepath.Glob("*_arm64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no arm64 assembly found: %v", err)
	}
	type word struct{ hex, gnu, where string }
	seen := map[string]word{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := wordLine.FindStringSubmatch(line); m != nil {
				seen[m[2]] = word{m[1], m[2], fmt.Sprintf("%s:%d", f, i+1)}
			} else if strings.Contains(line, "WORD") {
				t.Errorf("%s:%d: WORD without its mnemonic: %q", f, i+1, line)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no WORD directives found")
	}
	var words []word
	var src bytes.Buffer
	for _, w := range seen {
		words = append(words, w)
		src.WriteString(w.gnu + "\n")
	}
	cmd := exec.Command(mc, "-triple=aarch64", "-mattr=+dotprod,+i8mm,+fullfp16", "-show-encoding")
	cmd.Stdin = &src
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", mc, err, out)
	}
	enc := regexp.MustCompile(`encoding: \[0x(..),0x(..),0x(..),0x(..)\]`).FindAllStringSubmatch(string(out), -1)
	if len(enc) != len(words) {
		t.Fatalf("llvm-mc gave %d encodings for %d instructions:\n%s", len(enc), len(words), out)
	}
	for i, w := range words {
		e := enc[i]
		if got := e[4] + e[3] + e[2] + e[1]; got != w.hex {
			t.Errorf("%s: WORD $0x%s but llvm-mc encodes %q as 0x%s", w.where, w.hex, w.gnu, got)
		}
	}
	t.Logf("%d distinct WORD instructions match %s", len(words), filepath.Base(mc))
}
