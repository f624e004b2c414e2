package memstat

import (
	"strings"
	"testing"
)

func TestParseKB(t *testing.T) {
	cases := []struct {
		name, in string
		want     map[string]int64
		err      bool
	}{
		{"rollup", "55ea-7ffd ---p 00000000 00:00 0  [rollup]\nRss:  1632 kB\nPss: 195 kB\nAnonymous:   112 kB\n",
			map[string]int64{"Rss": 1632 << 10, "Anonymous": 112 << 10}, false},
		{"missing", "Pss: 1 kB\n", map[string]int64{}, false},
		{"unit", "Rss: 12 MB\n", nil, true},
		{"negative", "Rss: -1 kB\n", nil, true},
		{"huge", "Rss: 99999999999999999 kB\n", nil, true},
		{"junk", "Rss: x kB\n", nil, true},
	}
	for _, c := range cases {
		got, err := parseKB(strings.NewReader(c.in), "Rss", "Anonymous")
		if (err != nil) != c.err {
			t.Errorf("%s: err %v, want error %v", c.name, err, c.err)
			continue
		}
		if c.err {
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s = %d, want %d", c.name, k, got[k], v)
			}
		}
	}
}

func TestParseBytesAndStat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"4294967296\n", 4 << 30, false},
		{"max\n", -1, false},
		{"9223372036854771712", -1, false}, // v1's "no limit"
		{"-5", 0, true},
		{"", 0, true},
	} {
		got, err := parseBytes(c.in)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.err)
		}
	}
	st, err := parseStat(strings.NewReader("cache 356880384\nrss 321822720\ntotal_rss 421822720\nanon 5\n"), "total_rss", "anon")
	if err != nil || st["total_rss"] != 421822720 || st["anon"] != 5 || len(st) != 2 {
		t.Errorf("parseStat = %v, %v", st, err)
	}
	if _, err := parseStat(strings.NewReader("anon x\n"), "anon"); err == nil {
		t.Errorf("parseStat accepted a non-number")
	}
}

func TestCgroupPath(t *testing.T) {
	for _, c := range []struct {
		in   string
		path string
		v2   bool
		err  bool
	}{
		{"9:name=systemd:/\n4:memory:/process_api/a8f0\n0::/\n", "/process_api/a8f0", false, false},
		{"5:cpu,memory:/x\n", "/x", false, false},
		{"0::/user.slice/app\n", "/user.slice/app", true, false},
		{"3:cpuset:/\n", "", false, true},
	} {
		p, v2, err := cgroupPath(strings.NewReader(c.in))
		if (err != nil) != c.err || p != c.path || v2 != c.v2 {
			t.Errorf("cgroupPath(%q) = %q, %v, %v; want %q, %v, error %v", c.in, p, v2, err, c.path, c.v2, c.err)
		}
	}
}

func TestBudgetString(t *testing.T) {
	b := Budget{Available: 3 << 30, Total: 24 << 30, Limit: 4 << 30}
	if got, want := b.String(), "3.00 GiB available of 24.00 GiB, cgroup limit 4.00 GiB"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	b.Limit = -1
	if got, want := b.String(), "3.00 GiB available of 24.00 GiB"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func FuzzParsers(f *testing.F) {
	f.Add("Rss: 12 kB\nAnonymous: 4 kB\n")
	f.Add("7f00-7f10 r--s 00000000 00:00 0 /m\nRss: 8 kB\n")
	f.Add("4:memory:/a\n0::/b\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseKB(strings.NewReader(s), "Rss", "Anonymous")
		_, _ = parseStat(strings.NewReader(s), "anon")
		_, _, _ = cgroupPath(strings.NewReader(s))
		_, _ = parseBytes(s)
	})
}
