package main

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchMarkdown runs `cogedge bench` on the tiny model and checks the
// llama-bench table: header, alignment row, one row per test with positive
// t/s, and the bandwidth and image lines under it.
func TestBenchMarkdown(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-m", tinyQ8, "-p", "8", "-n", "4", "-r", "2", "-t", "2", "--image", "--stream-mib", "8", "--progress"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) < 5 {
		t.Fatalf("want a header, an alignment row and 3 tests, got:\n%s", out.String())
	}
	cells := func(line string) []string {
		if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
			t.Fatalf("not a table row: %q", line)
		}
		parts := strings.Split(line[1:len(line)-1], "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	if got, want := strings.Join(cells(lines[0]), ","), "model,size,params,backend,threads,test,t/s"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	align := cells(lines[1])
	for i, want := range []string{"-", ":", ":", "-", ":", ":", ":"} {
		if !regexp.MustCompile(`^-+:?$`).MatchString(align[i]) || strings.HasSuffix(align[i], ":") != (want == ":") {
			t.Errorf("alignment cell %d = %q", i, align[i])
		}
	}
	tps := regexp.MustCompile(`^([0-9.]+) ± ([0-9.]+)$`)
	for i, test := range []string{"pp8", "tg4", "img56"} {
		row := cells(lines[2+i])
		if len(row) != 7 {
			t.Fatalf("row %q has %d cells, want 7", lines[2+i], len(row))
		}
		if !strings.HasPrefix(row[0], "cogvlm ") || !strings.HasSuffix(row[0], " Q8_0") {
			t.Errorf("model %q, want cogvlm … Q8_0", row[0])
		}
		if !strings.HasSuffix(row[1], " MiB") || !strings.HasSuffix(row[2], " M") || !strings.HasPrefix(row[3], "CPU") || row[4] != "2" {
			t.Errorf("row %q: size, params, backend or threads malformed", lines[2+i])
		}
		if row[5] != test {
			t.Errorf("test %q, want %q", row[5], test)
		}
		m := tps.FindStringSubmatch(row[6])
		if m == nil {
			t.Fatalf("t/s %q is not mean ± stddev", row[6])
		}
		if mean, _ := strconv.ParseFloat(m[1], 64); !(mean > 0) {
			t.Errorf("%s: t/s mean %v, want > 0", test, mean)
		}
	}
	rest := strings.Join(lines[5:], "\n")
	if !regexp.MustCompile(`tg4: [0-9.]+ GB of weights per token, [0-9.]*[1-9][0-9.]* GB/s = [0-9]+% of the streaming-read bandwidth \([0-9.]*[1-9][0-9.]* GB/s, 2 threads\)`).MatchString(rest) {
		t.Errorf("no tg bandwidth line in:\n%s", rest)
	}
	if !regexp.MustCompile(`img56: [0-9.]+ ± [0-9.]+ ms per image \(18 image rows\), [0-9.]+ GFLOP per image = [0-9.]*[1-9][0-9.]* GFLOP/s`).MatchString(rest) {
		t.Errorf("no image line in:\n%s", rest)
	}
	if n := strings.Count(errb.String(), "cogedge bench: "); n != 6 {
		t.Errorf("--progress printed %d lines, want 6 (3 tests x 2 runs):\n%s", n, errb.String())
	}
}

// TestBenchJSON checks that -o json is an array of results with one
// positive sample per repetition and the derived figures filled in.
func TestBenchJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-m", tinyQ8, "-p", "6", "-n", "3", "-r", "3", "-t", "1", "--image", "--stream-mib", "8", "-o", "json", "--no-warmup"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	var rs []benchResult
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("%v in:\n%s", err, out.String())
	}
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3", len(rs))
	}
	for i, want := range []struct {
		test       string
		np, ng, ni int
	}{{"pp6", 6, 0, 0}, {"tg3", 0, 3, 0}, {"img56", 0, 0, 18}} {
		r := rs[i]
		if r.Test != want.test || r.NPrompt != want.np || r.NGen != want.ng || r.NImage != want.ni {
			t.Errorf("result %d: test %q n_prompt %d n_gen %d n_image_rows %d, want %+v", i, r.Test, r.NPrompt, r.NGen, r.NImage, want)
		}
		if r.Threads != 1 || r.SizeBytes == 0 || r.Params == 0 || r.Filename != tinyQ8 {
			t.Errorf("%s: threads %d size %d params %d file %q", r.Test, r.Threads, r.SizeBytes, r.Params, r.Filename)
		}
		if len(r.SamplesNS) != 3 || len(r.SamplesTS) != 3 {
			t.Fatalf("%s: %d/%d samples, want 3", r.Test, len(r.SamplesNS), len(r.SamplesTS))
		}
		n := float64(want.np + want.ng + want.ni)
		for j := range r.SamplesNS {
			if r.SamplesNS[j] <= 0 || math.Abs(r.SamplesTS[j]-n*1e9/float64(r.SamplesNS[j])) > 1e-6*r.SamplesTS[j] {
				t.Errorf("%s sample %d: %d ns, %v t/s for %v units", r.Test, j, r.SamplesNS[j], r.SamplesTS[j], n)
			}
		}
		if !(r.AvgNS > 0 && r.AvgTS > 0 && r.StddevNS >= 0 && r.StddevTS >= 0) {
			t.Errorf("%s: avg/stddev %v %v %v %v", r.Test, r.AvgNS, r.StddevNS, r.AvgTS, r.StddevTS)
		}
	}
	tg := rs[1]
	if tg.WeightBytesPerToken == 0 || tg.WeightBytesPerToken > rs[0].SizeBytes || !(tg.WeightGBs > 0) || !(tg.StreamGBs > 0) ||
		math.Abs(tg.BandwidthFraction-tg.WeightGBs/tg.StreamGBs) > 1e-9 {
		t.Errorf("tg bandwidth fields: %+v", tg)
	}
	img := rs[2]
	if !(img.ImageMS > 0) || !(img.ImageGFLOP > 0) || math.Abs(img.ImageGFLOPps-img.ImageGFLOP/(img.ImageMS/1e3)) > 1e-6*img.ImageGFLOPps {
		t.Errorf("image fields: %+v", img)
	}
}

// TestBenchMetalSim: `bench --backend metal-sim` runs pp and tg through
// the Metal backend (simulated) and reports the device's read bandwidth
// measured by its read kernel.
func TestBenchMetalSim(t *testing.T) {
	needSim(t)
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-m", tinyQ8, "--backend", "metal-sim", "-p", "2", "-n", "1", "-r", "1", "--no-warmup", "--stream-mib", "1", "-o", "json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	var rs []benchResult
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("%v in:\n%s", err, out.String())
	}
	if len(rs) != 2 || rs[0].Test != "pp2" || rs[1].Test != "tg1" {
		t.Fatalf("results %+v, want pp2 and tg1", rs)
	}
	for _, r := range rs {
		if !strings.HasPrefix(r.Backend, "Metal: metal-sim") || !(r.AvgTS > 0) {
			t.Errorf("%s: backend %q, %v t/s", r.Test, r.Backend, r.AvgTS)
		}
	}
	if tg := rs[1]; !(tg.StreamGBs > 0) || !(tg.WeightGBs > 0) {
		t.Errorf("tg bandwidth fields: %+v", tg)
	}
}

// TestBenchStreamOnly: --stream-only prints the streaming-read figure
// alone, for the thread count and buffer asked, as text and as JSON.
func TestBenchStreamOnly(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--stream-only", "-t", "1", "--stream-mib", "4"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !regexp.MustCompile(`^streaming read: [0-9.]*[1-9][0-9.]* GB/s \(1 threads, 4 MiB buffer, best pass; CPU[^)]*\)+\n$`).MatchString(out.String()) {
		t.Errorf("output %q", out.String())
	}
	out.Reset()
	if code := run([]string{"bench", "--stream-only", "-t", "2", "--stream-mib", "3", "-o", "json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Threads   int     `json:"n_threads"`
		MiB       int     `json:"buffer_mib"`
		StreamGBs float64 `json:"stream_read_gb_per_s"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if r.Threads != 2 || r.MiB != 3 || !(r.StreamGBs > 0) || math.IsInf(r.StreamGBs, 0) {
		t.Errorf("json %+v: want 2 threads, 3 MiB and a positive finite rate", r)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no model", []string{"bench"}, 2, "-m MODEL is required"},
		{"bad reps", []string{"bench", "-m", tinyQ8, "-r", "0"}, 2, "-r 0"},
		{"bad threads", []string{"bench", "-m", tinyQ8, "-t", "0"}, 2, "--threads 0"},
		{"negative prompt", []string{"bench", "-m", tinyQ8, "-p", "-1"}, 2, "-p -1"},
		{"bad format", []string{"bench", "-m", tinyQ8, "-o", "csv"}, 2, `-o "csv"`},
		{"nothing", []string{"bench", "-m", tinyQ8, "-p", "0", "-n", "0"}, 2, "nothing to measure"},
		{"extra arg", []string{"bench", "-m", tinyQ8, "x"}, 2, `unexpected argument "x"`},
		{"bad backend", []string{"bench", "-m", tinyQ8, "--backend", "cuda"}, 2, `--backend "cuda"`},
		{"missing file", []string{"bench", "-m", "does-not-exist.gguf", "-p", "1", "-n", "0"}, 1, "does-not-exist.gguf"},
		{"stream-only with a model", []string{"bench", "--stream-only", "-m", tinyQ8}, 2, "--stream-only measures the machine"},
		{"stream-only without a buffer", []string{"bench", "--stream-only", "--stream-mib", "0"}, 2, "--stream-mib 0"},
		{"stream-only on metal", []string{"bench", "--stream-only", "--backend", "metal"}, 2, "--stream-only measures the CPU"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(c.args, &out, &errb); code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, errb.String())
			}
			if !strings.Contains(errb.String(), c.msg) {
				t.Errorf("stderr %q does not mention %q", errb.String(), c.msg)
			}
		})
	}
}

func TestMeanStddev(t *testing.T) {
	for _, c := range []struct {
		xs       []float64
		mean, sd float64
	}{
		{nil, 0, 0},
		{[]float64{3}, 3, 0},
		{[]float64{1, 3}, 2, math.Sqrt2},
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
	} {
		m, sd := meanStddev(c.xs)
		if math.Abs(m-c.mean) > 1e-12 || math.Abs(sd-c.sd) > 1e-12 {
			t.Errorf("meanStddev(%v) = %v, %v; want %v, %v", c.xs, m, sd, c.mean, c.sd)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, c := range []struct {
		n                 uint64
		size, count, name string
	}{
		{4789504, "4.57 MiB", "4.79 M", "5M"},
		{1 << 30, "1.00 GiB", "1.07 B", "1.1B"},
		{17_640_000_000, "16.43 GiB", "17.64 B", "17B"},
		{6_738_415_616, "6.28 GiB", "6.74 B", "6.7B"},
	} {
		if got := sizeLabel(c.n); got != c.size {
			t.Errorf("sizeLabel(%d) = %q, want %q", c.n, got, c.size)
		}
		if got := countLabel(c.n); got != c.count {
			t.Errorf("countLabel(%d) = %q, want %q", c.n, got, c.count)
		}
		if got := paramLabel(c.n); got != c.name {
			t.Errorf("paramLabel(%d) = %q, want %q", c.n, got, c.name)
		}
	}
}

// TestSigDigits: values below 1 keep two significant digits.
func TestSigDigits(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{557.74, "557.7"}, {1, "1.0"}, {0.5, "0.50"}, {0.0123, "0.012"}, {0.000004, "0.000004"}, {0, "0.0"}} {
		if got := sigDigits(c.v); got != c.want {
			t.Errorf("sigDigits(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
