// Package imagecache keeps the KV state of BOS + an image block on disk, so
// that a second question about the same picture skips the vision tower and
// the image prefill (most of the time to the first token).
//
// An entry is keyed by the model files, the image's preprocessed pixels,
// the compute backend and the KV cache type. It is one zstd-compressed file
// holding a header (the full key and the state's dimensions), the state
// (model.Context.WriteState) and the SHA-256 of both; an entry is restored
// only if everything matches, and a corrupt, truncated or foreign entry is
// removed and recomputed, never trusted. The folder is bounded in bytes:
// storing evicts the entries used least recently (a hit refreshes the
// entry's modification time).
package imagecache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/model"
	"github.com/klauspost/compress/zstd"
)

// Cache is a folder of cached image prefixes. Its methods are safe for
// concurrent use by one process.
type Cache struct {
	dir      string
	maxBytes int64
	mu       sync.Mutex
}

// DefaultMaxBytes bounds a cache folder unless told otherwise: a few
// entries of the 17B model (644 MB each at f16 before compression).
const DefaultMaxBytes = 4 << 30

// DefaultDir returns the cache folder used when none is given: "kv" in
// cogedge's folder of the user cache directory.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("imagecache: no user cache folder: %w", err)
	}
	return filepath.Join(d, "cogedge", "kv"), nil
}

// Open returns the cache in dir (created if missing), holding at most
// maxBytes of entries (0 means DefaultMaxBytes).
func Open(dir string, maxBytes int64) (*Cache, error) {
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxBytes < 0 {
		return nil, fmt.Errorf("imagecache: size bound %d bytes: want a positive size", maxBytes)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	return &Cache{dir: dir, maxBytes: maxBytes}, nil
}

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Key identifies one cached prefix.
type Key struct {
	Model   string   // ModelID of the model files
	Image   [32]byte // SHA-256 of the preprocessed pixels (float32, little-endian)
	Backend string   // the kernels that computed it (Backend)
	KV      string   // KV cache type: "f16" or "f32"
}

// NewKey returns the key of pixels (the vision tower's input) for a model
// with ID modelID and a KV cache of type kv, on the active kernels.
func NewKey(modelID string, kv model.KVType, pixels []float32) Key {
	h := sha256.New()
	var b [4 << 10]byte
	for i := 0; i < len(pixels); {
		n := 0
		for ; n+4 <= len(b) && i < len(pixels); i++ {
			binary.LittleEndian.PutUint32(b[n:], math.Float32bits(pixels[i]))
			n += 4
		}
		h.Write(b[:n])
	}
	k := Key{Model: modelID, Backend: Backend(), KV: "f16"}
	if kv == model.KVF32 {
		k.KV = "f32"
	}
	h.Sum(k.Image[:0])
	return k
}

// String is the key's full text, stored in the entry and compared on load.
func (k Key) String() string {
	return fmt.Sprintf("model=%s image=%x backend=%s kv=%s", k.Model, k.Image, k.Backend, k.KV)
}

// file is the entry's file name: a hash of the key.
func (k Key) file() string {
	s := sha256.Sum256([]byte(k.String()))
	return hex.EncodeToString(s[:16]) + entryExt
}

const entryExt = ".kv.zst"

// Backend names the active CPU kernels: states computed by different
// kernels differ in rounding, so they are cached apart.
func Backend() string {
	f := kernels.Active()
	var parts []string
	for _, p := range []struct {
		on   bool
		name string
	}{{f.AVX2, "avx2"}, {f.AVX512VNNI, "avx512vnni"}, {f.AVX512BF16, "avx512bf16"}, {f.AVXVNNI, "avxvnni"}, {f.ASIMD, "asimd"}, {f.DotProd, "dotprod"}, {f.I8MM, "i8mm"}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	if len(parts) == 0 {
		return "cpu-generic"
	}
	return "cpu-" + strings.Join(parts, "+")
}

// ModelID fingerprints model files (the GGUF and an optional mmproj; empty
// paths are skipped) by their sizes and SHA-256 of their first and last
// MiB and 64 samples of 4 KiB spread over each: cheap on a 10 GB file, and
// different for any two files that differ in header or weights at more
// than a few bytes.
func ModelID(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		if p == "" {
			continue
		}
		if err := fingerprint(h, p); err != nil {
			return "", fmt.Errorf("imagecache: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

func fingerprint(h hash.Hash, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	binary.Write(h, binary.LittleEndian, size)
	read := func(off, n int64) error {
		n = min(n, size-off)
		if n <= 0 {
			return nil
		}
		_, err := io.Copy(h, io.NewSectionReader(f, off, n))
		return err
	}
	if err := read(0, 1<<20); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i := int64(0); i < 64; i++ {
		if err := read(size/64*i, 4<<10); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := read(max(0, size-1<<20), 1<<20); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// entry header: magic, then uint32 fields and the key.
var magic = []byte("cogedge-kv\x00\x01")

// header is what an entry says about its state.
type header struct {
	key                   string
	layers, kvDim, kvType uint32
	slots                 uint32
	stateBytes            uint64
}

func (h *header) write(w io.Writer) error {
	var b bytes.Buffer
	b.Write(magic)
	binary.Write(&b, binary.LittleEndian, uint32(len(h.key)))
	b.WriteString(h.key)
	binary.Write(&b, binary.LittleEndian, [4]uint32{h.layers, h.kvDim, h.kvType, h.slots})
	binary.Write(&b, binary.LittleEndian, h.stateBytes)
	_, err := w.Write(b.Bytes())
	return err
}

// readHeader reads a header, refusing a key longer than maxKey bytes.
func readHeader(r io.Reader, maxKey int) (header, error) {
	var h header
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(r, m); err != nil {
		return h, fmt.Errorf("magic: %w", err)
	}
	if !bytes.Equal(m, magic) {
		return h, errors.New("not a cogedge KV cache entry (bad magic)")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return h, fmt.Errorf("key length: %w", err)
	}
	if int64(n) > int64(maxKey) {
		return h, fmt.Errorf("key of %d bytes: the expected key has %d", n, maxKey)
	}
	k := make([]byte, n)
	if _, err := io.ReadFull(r, k); err != nil {
		return h, fmt.Errorf("key: %w", err)
	}
	h.key = string(k)
	var f [4]uint32
	if err := binary.Read(r, binary.LittleEndian, &f); err != nil {
		return h, fmt.Errorf("dimensions: %w", err)
	}
	h.layers, h.kvDim, h.kvType, h.slots = f[0], f[1], f[2], f[3]
	if err := binary.Read(r, binary.LittleEndian, &h.stateBytes); err != nil {
		return h, fmt.Errorf("state size: %w", err)
	}
	return h, nil
}

// want is the header an entry for key must carry to restore into ctx.
func want(ctx *model.Context, key Key, slots int) header {
	t := &ctx.Model().Text
	return header{key: key.String(), layers: uint32(t.Layers), kvDim: uint32(t.HeadsKV * t.HeadDim),
		kvType: uint32(ctx.KVType()), slots: uint32(slots), stateBytes: uint64(ctx.StateBytes(slots))}
}

// Load restores the entry of key into ctx (emptied first) as the slots
// types. It reports whether it did; a missing entry is a miss, and an
// entry that fails any check is removed, reported as a miss and returned
// as err (for a diagnostic: the caller recomputes either way). After a
// miss ctx is empty.
func (c *Cache) Load(ctx *model.Context, key Key, types []model.TokenType) (hit bool, err error) {
	path := filepath.Join(c.dir, key.file())
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		ctx.Reset()
		return false, nil
	}
	if err != nil {
		ctx.Reset()
		return false, fmt.Errorf("imagecache: %w", err)
	}
	err = c.restore(f, ctx, key, types)
	f.Close()
	if err != nil {
		ctx.Reset()
		os.Remove(path)
		return false, fmt.Errorf("imagecache: %s: ignored and removed: %w", path, err)
	}
	now := time.Now()
	os.Chtimes(path, now, now) // least recently used goes first
	return true, nil
}

func (c *Cache) restore(f io.Reader, ctx *model.Context, key Key, types []model.TokenType) error {
	zr, err := zstd.NewReader(bufio.NewReaderSize(f, 1<<20), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return err
	}
	defer zr.Close()
	sum := sha256.New()
	r := io.TeeReader(zr, sum)
	w := want(ctx, key, len(types))
	h, err := readHeader(r, len(w.key))
	if err != nil {
		return err
	}
	if h != w {
		return fmt.Errorf("entry is for %+v, want %+v", h, w)
	}
	if err := ctx.ReadState(r, types); err != nil {
		return err
	}
	var stored [sha256.Size]byte
	got := sum.Sum(nil)
	if _, err := io.ReadFull(zr, stored[:]); err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	if !bytes.Equal(got, stored[:]) {
		return errors.New("checksum mismatch")
	}
	var extra [1]byte
	if n, _ := zr.Read(extra[:]); n != 0 {
		return errors.New("bytes after the checksum")
	}
	return nil
}

// Store writes the first len(types) slots of ctx as the entry of key
// (through a temporary file renamed into place), then evicts the least
// recently used entries until the folder fits its bound.
func (c *Cache) Store(ctx *model.Context, key Key, types []model.TokenType) error {
	if ctx.Len() < len(types) {
		return fmt.Errorf("imagecache: store %d slots: the context holds %d", len(types), ctx.Len())
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*"+entryExt)
	if err != nil {
		return fmt.Errorf("imagecache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	zw, err := zstd.NewWriter(bw, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("imagecache: %w", err)
	}
	sum := sha256.New()
	w := io.MultiWriter(zw, sum)
	h := want(ctx, key, len(types))
	if err := h.write(w); err != nil {
		return fmt.Errorf("imagecache: %s: %w", tmp.Name(), err)
	}
	if err := ctx.WriteState(w, len(types)); err != nil {
		return fmt.Errorf("imagecache: %s: %w", tmp.Name(), err)
	}
	if _, err := zw.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("imagecache: %s: %w", tmp.Name(), err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("imagecache: %s: %w", tmp.Name(), err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("imagecache: %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("imagecache: %s: %w", tmp.Name(), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.Rename(tmp.Name(), filepath.Join(c.dir, key.file())); err != nil {
		return fmt.Errorf("imagecache: %w", err)
	}
	ok = true
	return c.evict()
}

// evict removes the least recently used entries until the folder's
// entries fit c.maxBytes. Callers hold c.mu.
func (c *Cache) evict() error {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("imagecache: %w", err)
	}
	type ent struct {
		path string
		size int64
		used time.Time
	}
	var ents []ent
	total := int64(0)
	for _, de := range des {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), entryExt) || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		ents = append(ents, ent{filepath.Join(c.dir, de.Name()), fi.Size(), fi.ModTime()})
		total += fi.Size()
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].used.Before(ents[j].used) })
	for _, e := range ents {
		if total <= c.maxBytes {
			break
		}
		if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("imagecache: evict: %w", err)
		}
		total -= e.size
	}
	return nil
}

// Outcome says how Prefill filled a context.
type Outcome struct {
	Hit bool // restored from the cache (no image encode, no prefill)
	// LoadErr is why an entry present in the cache was not used (it was
	// removed and recomputed), StoreErr why the result could not be
	// stored: neither stops Prefill.
	LoadErr, StoreErr error
	Encode, Prefill   time.Duration // time in the vision tower and the prefill (on a miss)
	Load              time.Duration // time restoring or storing the entry
}

// Prefill puts BOS and the image block of pixels into the empty context
// ctx: from the cache c when it holds key (c may be nil: no cache), else
// by running the vision tower and the prefill, then storing the result.
// The slots are those of ctx.Model().PromptBatch(text, image) before the
// text, so a prompt's text can follow with Forward. encoded, when not nil,
// runs once the vision tower is done and before the prefill starts (on a
// miss only): the vision tower's pages and scratch can go there, so that
// they are not resident beside the visual experts the prefill reads.
func (c *Cache) Prefill(ctx *model.Context, key Key, pixels []float32, encoded func()) (Outcome, error) {
	var o Outcome
	m := ctx.Model()
	types := m.ImagePrefix()
	if types == nil {
		return o, model.ErrNoVision
	}
	if ctx.Len() != 0 {
		return o, fmt.Errorf("imagecache: prefill needs an empty context (it holds %d slots)", ctx.Len())
	}
	t0 := time.Now()
	if c != nil {
		o.Hit, o.LoadErr = c.Load(ctx, key, types)
		o.Load = time.Since(t0)
		if o.Hit {
			return o, nil
		}
	}
	t0 = time.Now()
	emb := make([]float32, m.ImageEmbeds())
	if err := ctx.EncodeImage(emb, pixels); err != nil {
		return o, err
	}
	if encoded != nil {
		encoded()
	}
	o.Encode = time.Since(t0) // releasing the tower ends its phase
	t0 = time.Now()
	b := m.PromptBatch(nil, emb)
	if err := ctx.Forward(b, model.Output{}); err != nil {
		ctx.Reset()
		return o, err
	}
	o.Prefill = time.Since(t0)
	if c != nil {
		t0 = time.Now()
		o.StoreErr = c.Store(ctx, key, types)
		o.Load += time.Since(t0)
	}
	return o, nil
}
