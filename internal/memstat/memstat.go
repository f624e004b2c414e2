// Package memstat reads how much memory the process holds and how much it
// may still use: resident file-backed and anonymous memory and the peak
// (Linux: the kernel's counters in /proc/self/status; one mapping's
// resident size from /proc/self/smaps), and the memory
// available to new allocations (MemAvailable, bounded by the memory
// cgroup's limit, v1 or v2). Elsewhere it reports what the OS offers
// without cgo and says what it cannot.
package memstat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrUnsupported is returned where the OS offers no such figure.
var ErrUnsupported = errors.New("memstat: not available on this OS")

// Usage is the process's memory at one moment, in bytes. A field is -1
// when the OS does not report it.
type Usage struct {
	Resident int64 // resident set: File + Anon
	File     int64 // resident pages of mapped files (the model's weights)
	Anon     int64 // resident anonymous memory (heap, KV cache, repacked weights)
	Peak     int64 // the largest resident set so far
}

// Budget is how much memory new allocations may take, in bytes.
type Budget struct {
	// Available is what may still be allocated without pushing out memory
	// that cannot be paged (page cache counts as available): the smaller
	// of the system's MemAvailable and the cgroup limit minus the cgroup's
	// anonymous memory.
	Available int64
	// Limit is the memory cgroup's limit, or -1 without one.
	Limit int64
	// Total is the machine's memory (MemTotal).
	Total int64
}

// String describes b in GiB, naming the cgroup limit when there is one.
func (b Budget) String() string {
	s := fmt.Sprintf("%.2f GiB available of %.2f GiB", GiB(b.Available), GiB(b.Total))
	if b.Limit >= 0 {
		s += fmt.Sprintf(", cgroup limit %.2f GiB", GiB(b.Limit))
	}
	return s
}

// GiB converts bytes to GiB.
func GiB(n int64) float64 { return float64(n) / (1 << 30) }

// maxFieldBytes bounds a parsed figure (and so every sum of a few of them)
// far below overflow.
const maxFieldBytes = 1 << 56

// parseKB reads "Key:   123 kB" lines and returns the named keys in bytes
// (keys absent from r are missing from the map).
func parseKB(r io.Reader, keys ...string) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		want := false
		for _, k := range keys {
			want = want || k == key
		}
		if !want {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return nil, fmt.Errorf("memstat: line %q: want \"%s: N kB\"", sc.Text(), key)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 || n > maxFieldBytes>>10 {
			return nil, fmt.Errorf("memstat: line %q: bad size", sc.Text())
		}
		out[key] = n << 10
	}
	return out, sc.Err()
}

// parseStat reads "key value" lines (a cgroup's memory.stat, values in
// bytes) and returns the named keys.
func parseStat(r io.Reader, keys ...string) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		for _, k := range keys {
			if f[0] != k {
				continue
			}
			n, err := parseBytes(f[1])
			if err != nil {
				return nil, fmt.Errorf("memstat: line %q: %w", sc.Text(), err)
			}
			out[k] = n
		}
	}
	return out, sc.Err()
}

// parseBytes reads one cgroup figure: a byte count, or "max" (v2: no
// limit), returned as -1. v1 writes "no limit" as a huge page-aligned
// number; anything above maxFieldBytes is read as no limit too.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return -1, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad byte count %q", s)
	}
	if n > maxFieldBytes {
		return -1, nil
	}
	return int64(n), nil
}

// cgroupPath finds the memory cgroup of the process in /proc/self/cgroup
// text: the v1 "N:memory:/path" line, else the v2 "0::/path" line.
func cgroupPath(r io.Reader) (path string, v2 bool, err error) {
	sc := bufio.NewScanner(r)
	var unified string
	found := false
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "memory" {
				return f[2], false, nil
			}
		}
		if f[0] == "0" && f[1] == "" {
			unified, found = f[2], true
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, err
	}
	if !found {
		return "", false, errors.New("memstat: no memory cgroup in /proc/self/cgroup")
	}
	return unified, true, nil
}
