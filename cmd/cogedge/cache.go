package main

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/imagecache"
	"github.com/cogedge/cogedge/model"
	"github.com/spf13/pflag"
)

// cacheFlags choose the image KV cache (run, chat and serve).
type cacheFlags struct {
	dir     string
	maxMiB  int64
	disable bool
}

func (cf *cacheFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&cf.dir, "cache-dir", "", "image KV cache folder (default: $COGEDGE_CACHE/kv, else cogedge/kv in the user cache folder)")
	fs.Int64Var(&cf.maxMiB, "cache-max-mib", imagecache.DefaultMaxBytes>>20, "size bound of the image KV cache in MiB (least recently used entries go first)")
	fs.BoolVar(&cf.disable, "no-image-cache", false, "always encode and prefill the image (neither read nor write the cache)")
}

// open returns the cache the flags ask for, or nil with --no-image-cache.
func (cf *cacheFlags) open() (*imagecache.Cache, error) {
	if cf.disable {
		return nil, nil
	}
	if cf.maxMiB < 1 {
		return nil, errUsage{fmt.Errorf("--cache-max-mib %d: want at least 1", cf.maxMiB)}
	}
	dir := cf.dir
	if dir == "" && cacheDir() != "" {
		dir = filepath.Join(cacheDir(), "kv")
	}
	if dir == "" {
		var err error
		if dir, err = imagecache.DefaultDir(); err != nil {
			return nil, err
		}
	}
	return imagecache.Open(dir, cf.maxMiB<<20)
}

// imagePrefix fills the empty context c with BOS and the image block of
// the picture at path, from the cache when it has it, and returns the
// slots it put there. verbose (nil: quiet) gets the hit or the encode and
// prefill times. A device context has no image cache (its KV state stays
// on the device): it always encodes and prefills.
func imagePrefix(s *session, c model.Sequence, cache *imagecache.Cache, modelID, path string, verbose io.Writer) ([]slot, error) {
	px, err := s.pixels(path)
	if err != nil {
		return nil, err
	}
	s.m.Advise(model.PartVision, gguf.AdviceWillNeed)
	t0 := time.Now()
	wait := startWait("preparing the image (vision tower and prefill, or the image cache)")
	// once the image rows are computed (once per conversation) the vision
	// tower's pages and buffers go, before the prefill reads the visual
	// experts: the two are never resident together
	releaseVision := func() {
		c.ReleaseVision()
		s.m.Advise(model.PartVision, gguf.AdviceDontNeed)
		// hand the vision scratch (0.3 GiB for the 17B) back to the OS now
		// rather than when the Go scavenger gets to it
		debug.FreeOSMemory()
	}
	var o imagecache.Outcome
	if cc, ok := c.(*model.Context); ok {
		o, err = cache.Prefill(cc, imagecache.NewKey(modelID, s.kv, px), px, releaseVision)
	} else {
		if cache != nil && verbose != nil {
			fmt.Fprintln(verbose, "image cache: not used on the device backend (its KV cache lives on the device)")
		}
		cache = nil
		o.Encode, o.Prefill, err = model.PrefillImage(c, px, releaseVision)
	}
	wait.end()
	if err != nil {
		return nil, err
	}
	if s.meter != nil && !o.Hit {
		enc := t0.Add(o.Load)
		s.meter.span("image encode", enc, enc.Add(o.Encode))
		s.meter.span("image prefill", enc.Add(o.Encode), enc.Add(o.Encode+o.Prefill))
		s.meter.flush()
	}
	// the text after the image and the decode steps use the language
	// expert only
	s.m.Advise(model.PartExperts, gguf.AdviceDontNeed)
	s.m.Advise(model.PartLanguage, gguf.AdviceWillNeed)
	if verbose != nil {
		switch {
		case o.Hit:
			fmt.Fprintf(verbose, "image cache: hit in %s (%.1f ms; vision tower and image prefill skipped)\n", cache.Dir(), ms(o.Load))
		default:
			fmt.Fprintf(verbose, "image encode: %.1f ms, image prefill: %.1f ms (%d slots)\n", ms(o.Encode), ms(o.Prefill), c.Len())
			if cache != nil {
				fmt.Fprintf(verbose, "image cache: miss, stored in %s (%.1f ms)\n", cache.Dir(), ms(o.Load))
			}
		}
		if o.LoadErr != nil {
			fmt.Fprintf(verbose, "image cache: %v\n", o.LoadErr)
		}
	}
	if o.StoreErr != nil && verbose != nil {
		fmt.Fprintf(verbose, "image cache: not stored: %v\n", o.StoreErr)
	}
	prefix := make([]slot, c.Len())
	pad := max(s.m.Text.PAD, 0)
	for i, ty := range s.m.ImagePrefix() {
		prefix[i] = slot{pad, ty}
	}
	prefix[0].id = s.m.Text.BOS
	return prefix, nil
}
