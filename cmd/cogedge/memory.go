package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cogedge/cogedge/internal/memstat"
	"github.com/cogedge/cogedge/internal/zstdcache"
	"github.com/cogedge/cogedge/model"
)

// Where the repacked language path lives (--repack).
const (
	repackAuto   = "auto"   // file when the model files exceed the available memory, else memory
	repackMemory = "memory" // anonymous memory: fastest to set up, never paged out
	repackFile   = "file"   // a packed file in the cache folder, mapped: reclaimable, reused by later runs
)

// availableMemory is memstat.Available (tests replace it).
var availableMemory = memstat.Available

// loadOptions turns --repack into model.LoadOptions for the model files
// (already mappable paths), and says which place was chosen.
func loadOptions(mode string, paths ...string) (model.LoadOptions, string, error) {
	switch mode {
	case repackMemory:
		return model.LoadOptions{}, repackMemory, nil
	case repackFile:
	case repackAuto, "": // "": a command without the flag
		var total int64
		for _, p := range paths {
			if st, err := os.Stat(p); err == nil {
				total += st.Size()
			}
		}
		if b, err := availableMemory(); err != nil || total <= b.Available {
			return model.LoadOptions{}, repackMemory, nil
		}
	default:
		return model.LoadOptions{}, "", errUsage{fmt.Errorf("--repack %q: want auto, memory or file", mode)}
	}
	pf, err := packedPath(paths[0])
	if err != nil {
		return model.LoadOptions{}, "", err
	}
	return model.LoadOptions{PackedFile: pf}, repackFile, nil
}

// packedPath names the packed file of the model file at path in the cache
// folder (COGEDGE_CACHE, else the user cache folder): the file's base name
// and a hash of its absolute path. The model checks the file's contents.
func packedPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir := cacheDir()
	if dir == "" {
		dir = zstdcache.DefaultDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("packed file: %w", err)
	}
	h := sha256.Sum256([]byte(abs))
	base := strings.TrimSuffix(filepath.Base(abs), ".gguf")
	return filepath.Join(dir, base+"-"+hex.EncodeToString(h[:6])+".packed.gguf"), nil
}

// checkFit refuses a context whose anonymous memory (KV cache, scratch
// and, for an image, the vision scratch) exceeds the memory available
// (MemAvailable, bounded by a cgroup limit): without swap it cannot be
// paged out. A file-backed language path that does not fit beside it is
// only a warning: decode then pages it in from the file, slower but
// within the limit. With verbose it reports the plan first.
func checkFit(m *model.Model, o model.ContextOptions, image, langAnon bool, stderr io.Writer, verbose bool) error {
	p, err := m.PlanMemory(o)
	if err != nil {
		return err
	}
	anon := p.KV + p.Scratch
	if image {
		anon += p.Vision
	}
	where := "anonymous memory, already allocated"
	if !langAnon {
		where = "file-backed"
	}
	b, berr := availableMemory()
	if verbose {
		fmt.Fprintf(stderr, "memory plan: KV cache %.1f MiB (%d slots), scratch %.1f MiB, vision scratch %.1f MiB, language path %.2f GiB (%s)\n",
			mib(p.KV), p.Slots, mib(p.Scratch), mib(p.Vision), memstat.GiB(p.Language), where)
		if berr == nil {
			fmt.Fprintf(stderr, "memory budget: %s; the context takes %.2f GiB\n", b, memstat.GiB(anon))
		} else {
			fmt.Fprintf(stderr, "memory budget: unknown (%v)\n", berr)
		}
	}
	if berr != nil {
		return nil
	}
	if anon > b.Available {
		return fmt.Errorf("not enough memory for a context of %d slots: KV cache %.1f MiB + scratch %.1f MiB (+ vision scratch %.1f MiB) = %.2f GiB, but %s; lower -c, or use --kv-type f16",
			p.Slots, mib(p.KV), mib(p.Scratch), mib(p.Vision), memstat.GiB(anon), b)
	}
	// decode needs the context and the language path; the vision scratch
	// is gone by then
	if dec := p.KV + p.Scratch + p.Language; !langAnon && dec > b.Available {
		fmt.Fprintf(stderr, "cogedge: warning: the language path (%.2f GiB) and the context (%.2f GiB) exceed the memory available (%s): decoding will page weights in from the file\n",
			memstat.GiB(p.Language), memstat.GiB(p.KV+p.Scratch), b)
	}
	return nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// cpuNote is a phase's CPU time and how many threads' worth of its wall
// time that is (", CPU 57.1 s = 1.93 threads"): a phase well below the
// thread count waited (for I/O, or on one thread's serial work).
func cpuNote(w memstat.Window) string {
	if w.CPU < 0 || w.Wall <= 0 {
		return ""
	}
	return fmt.Sprintf(", CPU %.1f s = %.2f threads", w.CPU.Seconds(), w.CPU.Seconds()/w.Wall.Seconds())
}

// phaseMeter prints, per phase of a run (--verbose), its wall time and the
// process's memory at its end and at most over it (sampled every 100 ms
// and at the end of each phase end marks).
type phaseMeter struct {
	w       io.Writer
	smp     *memstat.Sampler
	pending []phase
}

type phase struct {
	name     string
	from, to time.Time
}

func newPhaseMeter(w io.Writer) *phaseMeter {
	return &phaseMeter{w: w, smp: memstat.StartSampler(100 * time.Millisecond)}
}

func (p *phaseMeter) stop() { p.smp.Stop() }

// end marks the end of phase name, begun at from, now.
func (p *phaseMeter) end(name string, from time.Time) {
	p.smp.Sample()
	p.span(name, from, time.Now())
}

// span records phase name over [from, to] (ended earlier, e.g. inside a
// library call that reports durations).
func (p *phaseMeter) span(name string, from, to time.Time) {
	p.pending = append(p.pending, phase{name, from, to})
}

// flush prints the phases recorded since the last flush.
func (p *phaseMeter) flush() {
	for _, ph := range p.pending {
		w := p.smp.Window(ph.from, ph.to)
		if w.N == 0 || w.End.Resident < 0 {
			u, err := memstat.Read()
			if err == nil && u.Resident < 0 && u.Peak >= 0 {
				fmt.Fprintf(p.w, "memory: %-13s %8.1f ms%s; process peak %.2f GiB (resident, file-backed and anonymous figures need task_info, which needs cgo on this OS)\n",
					ph.name, ms(w.Wall), cpuNote(w), memstat.GiB(u.Peak))
			} else {
				fmt.Fprintf(p.w, "memory: %-13s %8.1f ms; no memory sample in this phase\n", ph.name, ms(w.Wall))
			}
			continue
		}
		fmt.Fprintf(p.w, "memory: %-13s %8.1f ms%s; resident %.2f GiB (file %.2f, anon %.2f) at the end, at most %.2f GiB (file %.2f, anon %.2f); process peak %.2f GiB\n",
			ph.name, ms(w.Wall), cpuNote(w), memstat.GiB(w.End.Resident), memstat.GiB(w.End.File), memstat.GiB(w.End.Anon),
			memstat.GiB(w.Max.Resident), memstat.GiB(w.Max.File), memstat.GiB(w.Max.Anon), memstat.GiB(w.Max.Peak))
	}
	p.pending = p.pending[:0]
}
