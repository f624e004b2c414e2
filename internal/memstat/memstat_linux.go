package memstat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"
)

// Read returns the process's resident memory and its peak from the
// kernel's counters in /proc/self/status (RssAnon; RssFile + RssShmem;
// VmHWM): the split /proc/self/smaps_rollup gives, without walking the
// page tables, so sampling it every 100 ms costs next to nothing even
// with a 10 GB model mapped.
func Read() (Usage, error) {
	u := Usage{Resident: -1, File: -1, Anon: -1, Peak: -1}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return u, fmt.Errorf("memstat: %w", err)
	}
	v, err := parseKB(f, "RssAnon", "RssFile", "RssShmem", "VmHWM")
	f.Close()
	if err != nil {
		return u, err
	}
	anon, ok1 := v["RssAnon"]
	file, ok2 := v["RssFile"]
	if !ok1 || !ok2 {
		return u, fmt.Errorf("memstat: /proc/self/status: no RssAnon and RssFile lines")
	}
	u.Anon, u.File = anon, file+v["RssShmem"]
	u.Resident = u.Anon + u.File
	if p, ok := v["VmHWM"]; ok {
		// The kernel folds per-thread RSS deltas into these counters lazily,
		// so RssAnon+RssFile can run a few pages past VmHWM; the peak is
		// never below what is resident now.
		u.Peak = max(p, u.Resident)
	}
	return u, nil
}

// MappingResident returns the resident bytes of the mapping that holds
// b[0] (the Rss of its line in /proc/self/smaps): e.g. how much of a
// mapped model file this process keeps in memory.
func MappingResident(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("memstat: MappingResident of an empty slice")
	}
	addr := uint64(uintptr(unsafe.Pointer(&b[0])))
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("memstat: %w", err)
	}
	return mappingRss(string(data), addr)
}

// mappingRss finds the mapping containing addr in smaps text and returns
// its Rss.
func mappingRss(smaps string, addr uint64) (int64, error) {
	in := false
	for _, line := range strings.Split(smaps, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := addrRange(f[0]); ok && len(f) >= 5 {
			in = lo <= addr && addr < hi
			continue
		}
		if in && f[0] == "Rss:" {
			v, err := parseKB(strings.NewReader(line), "Rss")
			if err != nil {
				return 0, err
			}
			return v["Rss"], nil
		}
	}
	return 0, fmt.Errorf("memstat: no mapping holds address %#x", addr)
}

// addrRange parses "lo-hi" (hex) from the first field of a smaps header.
func addrRange(s string) (lo, hi uint64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(a+" "+b, "%x %x", &lo, &hi); err != nil || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

// Available returns the memory new allocations may take: MemAvailable from
// /proc/meminfo, bounded by the memory cgroup's limit minus its anonymous
// memory (v1 memory.limit_in_bytes and memory.stat total_rss, or v2
// memory.max and memory.stat anon).
func Available() (Budget, error) {
	b := Budget{Limit: -1}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return b, fmt.Errorf("memstat: %w", err)
	}
	v, err := parseKB(f, "MemAvailable", "MemTotal")
	f.Close()
	if err != nil {
		return b, err
	}
	avail, ok1 := v["MemAvailable"]
	total, ok2 := v["MemTotal"]
	if !ok1 || !ok2 {
		return b, fmt.Errorf("memstat: /proc/meminfo: no MemAvailable and MemTotal lines")
	}
	b.Available, b.Total = avail, total
	if limit, anon, err := cgroupMemory(); err == nil && limit >= 0 {
		b.Limit = limit
		b.Available = min(b.Available, max(limit-anon, 0))
	}
	return b, nil
}

// cgroupMemory returns the memory cgroup's limit (-1: none) and anonymous
// memory.
func cgroupMemory() (limit, anon int64, err error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return -1, 0, err
	}
	path, v2, err := cgroupPath(f)
	f.Close()
	if err != nil {
		return -1, 0, err
	}
	dir := filepath.Join("/sys/fs/cgroup", path)
	limitFile, anonKey := "memory.max", "anon"
	if !v2 {
		dir = filepath.Join("/sys/fs/cgroup/memory", path)
		limitFile, anonKey = "memory.limit_in_bytes", "total_rss"
	}
	data, err := os.ReadFile(filepath.Join(dir, limitFile))
	if err != nil {
		return -1, 0, err
	}
	if limit, err = parseBytes(string(data)); err != nil || limit < 0 {
		return -1, 0, err
	}
	sf, err := os.Open(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return -1, 0, err
	}
	defer sf.Close()
	st, err := parseStat(sf, anonKey)
	if err != nil {
		return -1, 0, err
	}
	return limit, st[anonKey], nil
}
