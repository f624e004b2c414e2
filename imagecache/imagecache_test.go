package imagecache

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cogedge/cogedge/model"
	"github.com/klauspost/compress/zstd"
)

const tinyModel = "../testdata/cogvlm-tiny.gguf"

func openModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Open(tinyModel, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func newContext(t *testing.T, m *model.Model, kv model.KVType) *model.Context {
	t.Helper()
	c, err := m.NewContext(model.ContextOptions{Size: 64, KV: kv, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// randomPixels is a deterministic stand-in for a preprocessed picture.
func randomPixels(m *model.Model, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	px := make([]float32, m.PixelCount())
	for i := range px {
		px[i] = r.Float32()*4 - 2
	}
	return px
}

// answerLogits prefills the image of px into an empty context through
// cache c (nil: no cache), then the text ids, and returns the last slot's
// logits and how the prefix was made.
func answerLogits(t *testing.T, c *Cache, ctx *model.Context, key Key, px []float32) ([]float32, Outcome) {
	t.Helper()
	ctx.Reset()
	o, err := c.Prefill(ctx, key, px, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.StoreErr != nil {
		t.Fatal(o.StoreErr)
	}
	logits := make([]float32, ctx.Model().Text.Vocab)
	if err := ctx.Forward(model.Batch{Tokens: []int32{319, 1799, 29973}}, model.Output{Logits: logits}); err != nil {
		t.Fatal(err)
	}
	return logits, o
}

// TestHitEqualsMiss: the second prefill of a picture comes from the cache
// and the answer's logits equal those of the computed prefix bit for bit
// (and those of a context that never saw the cache), for both KV types.
func TestHitEqualsMiss(t *testing.T) {
	m := openModel(t)
	id, err := ModelID(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	px := randomPixels(m, 1)
	for _, kv := range []model.KVType{model.KVF16, model.KVF32} {
		c, err := Open(t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		key := NewKey(id, kv, px)
		ref, o := answerLogits(t, nil, newContext(t, m, kv), key, px)
		if o.Hit {
			t.Fatal("no cache, yet a hit")
		}
		miss, o := answerLogits(t, c, newContext(t, m, kv), key, px)
		if o.Hit || o.LoadErr != nil {
			t.Fatalf("kv %d: first prefill: hit %v, load error %v", kv, o.Hit, o.LoadErr)
		}
		hit, o := answerLogits(t, c, newContext(t, m, kv), key, px)
		if !o.Hit || o.Encode != 0 || o.Prefill != 0 {
			t.Fatalf("kv %d: second prefill: %+v, want a hit without encode or prefill", kv, o)
		}
		if !bytes.Equal(f32bytes(miss), f32bytes(ref)) || !bytes.Equal(f32bytes(hit), f32bytes(ref)) {
			t.Fatalf("kv %d: logits after a cached prefix differ from the computed one", kv)
		}
		// another picture or KV type is another entry
		if NewKey(id, kv, randomPixels(m, 2)).file() == key.file() {
			t.Error("two pictures share an entry")
		}
	}
	if NewKey(id, model.KVF16, px) == NewKey(id, model.KVF32, px) {
		t.Error("the KV type is not in the key")
	}
}

// TestEncodedHook: Prefill calls its hook once per miss, after the vision
// tower and before the prefill (the context still empty), never on a hit;
// dropping the vision scratch there leaves the answer unchanged.
func TestEncodedHook(t *testing.T) {
	m := openModel(t)
	id, err := ModelID(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	px := randomPixels(m, 5)
	key := NewKey(id, model.KVF16, px)
	ref, _ := answerLogits(t, nil, newContext(t, m, model.KVF16), key, px)
	c, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := newContext(t, m, model.KVF16)
	for _, wantHit := range []bool{false, true} {
		calls, lenAtCall := 0, -1
		ctx.Reset()
		o, err := c.Prefill(ctx, key, px, func() {
			calls++
			lenAtCall = ctx.Len()
			ctx.ReleaseVision()
		})
		if err != nil {
			t.Fatal(err)
		}
		if o.Hit != wantHit {
			t.Fatalf("hit %v, want %v", o.Hit, wantHit)
		}
		switch {
		case wantHit && calls != 0:
			t.Errorf("hit: hook called %d times, want never", calls)
		case !wantHit && (calls != 1 || lenAtCall != 0):
			t.Errorf("miss: hook called %d times with %d slots filled, want once before the prefill (0 slots)", calls, lenAtCall)
		}
		logits := make([]float32, m.Text.Vocab)
		if err := ctx.Forward(model.Batch{Tokens: []int32{319, 1799, 29973}}, model.Output{Logits: logits}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f32bytes(logits), f32bytes(ref)) {
			t.Errorf("hit %v: logits differ from a prefill without the hook", wantHit)
		}
	}
}

// f32bytes is x's bit patterns, for exact comparisons.
func f32bytes(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TestDamagedEntries: an entry that is corrupt, truncated, foreign or not
// an entry at all is reported, removed and recomputed; the answer is the
// one without a cache, and the rewritten entry is used next time.
func TestDamagedEntries(t *testing.T) {
	m := openModel(t)
	id, err := ModelID(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	px := randomPixels(m, 3)
	key := NewKey(id, model.KVF16, px)
	other := NewKey(id, model.KVF16, randomPixels(m, 4))
	ctx := newContext(t, m, model.KVF16)
	ref, _ := answerLogits(t, nil, ctx, key, px)

	// a good entry of key and of other, to damage
	src, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	answerLogits(t, src, ctx, key, px)
	answerLogits(t, src, ctx, other, randomPixels(m, 4))
	good, err := os.ReadFile(filepath.Join(src.dir, key.file()))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := os.ReadFile(filepath.Join(src.dir, other.file()))
	if err != nil {
		t.Fatal(err)
	}
	plain := decompress(t, good)

	for _, tc := range []struct {
		name  string
		entry []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a zstd stream at all")},
		{"truncated", good[:len(good)/2]},
		{"bit flip in the compressed stream", flip(good, len(good)/2)},
		{"state byte changed, recompressed", compress(t, flip(plain, len(plain)/2))},
		{"checksum changed, recompressed", compress(t, flip(plain, len(plain)-1))},
		{"header dimension changed, recompressed", compress(t, flip(plain, len(magic)+4+len(key.String())+1))},
		{"state cut, recompressed", compress(t, plain[:len(plain)-100])},
		{"extra bytes, recompressed", compress(t, append(append([]byte(nil), plain...), 0))},
		{"another picture's entry", foreign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Open(t.TempDir(), 0)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(c.dir, key.file())
			if err := os.WriteFile(path, tc.entry, 0o644); err != nil {
				t.Fatal(err)
			}
			got, o := answerLogits(t, c, ctx, key, px)
			if o.Hit || o.LoadErr == nil {
				t.Fatalf("damaged entry: hit %v, load error %v", o.Hit, o.LoadErr)
			}
			if !bytes.Equal(f32bytes(got), f32bytes(ref)) {
				t.Fatal("answer after a damaged entry differs from the uncached one")
			}
			again, o := answerLogits(t, c, ctx, key, px)
			if !o.Hit || !bytes.Equal(f32bytes(again), f32bytes(ref)) {
				t.Fatalf("the recomputed entry was not stored or differs (hit %v, %v)", o.Hit, o.LoadErr)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x40
	return out
}

func decompress(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compress(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEviction: the folder keeps to its bound by dropping the entry used
// least recently (a hit counts as a use).
func TestEviction(t *testing.T) {
	m := openModel(t)
	ctx := newContext(t, m, model.KVF16)
	dir := t.TempDir()
	probe, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	pxs := [][]float32{randomPixels(m, 10), randomPixels(m, 11), randomPixels(m, 12)}
	keys := make([]Key, 3)
	for i := range keys {
		keys[i] = NewKey("m", model.KVF16, pxs[i])
	}
	answerLogits(t, probe, ctx, keys[0], pxs[0])
	fi, err := os.Stat(filepath.Join(probe.dir, keys[0].file()))
	if err != nil {
		t.Fatal(err)
	}
	// room for two entries (they all have about the same size)
	c, err := Open(dir, 2*fi.Size()+fi.Size()/2)
	if err != nil {
		t.Fatal(err)
	}
	answerLogits(t, c, ctx, keys[0], pxs[0])
	answerLogits(t, c, ctx, keys[1], pxs[1])
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, keys[0].file()), old, old)
	os.Chtimes(filepath.Join(dir, keys[1].file()), old.Add(time.Minute), old.Add(time.Minute))
	if _, o := answerLogits(t, c, ctx, keys[0], pxs[0]); !o.Hit { // entry 0 is now the newest
		t.Fatal("entry 0 missing before eviction")
	}
	answerLogits(t, c, ctx, keys[2], pxs[2])
	for i, want := range []bool{true, false, true} {
		_, err := os.Stat(filepath.Join(dir, keys[i].file()))
		if got := err == nil; got != want {
			t.Errorf("entry %d present %v, want %v", i, got, want)
		}
	}
}

// TestModelID: the fingerprint changes with any part of the file it reads
// and with the list of files.
func TestModelID(t *testing.T) {
	data, err := os.ReadFile(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "b.gguf")
	os.WriteFile(a, data, 0o644)
	os.WriteFile(b, flip(data, len(data)-10), 0o644)
	ida, _ := ModelID(a)
	idb, _ := ModelID(b)
	idab, _ := ModelID(a, b)
	ida2, _ := ModelID(a, "")
	if ida == idb || ida == idab || ida != ida2 {
		t.Errorf("ids: a %s, b %s, a+b %s, a+\"\" %s", ida, idb, idab, ida2)
	}
	if _, err := ModelID(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

// BenchmarkFirstToken measures the time to the first token's logits of a
// question about a picture: BOS + image block (miss: vision tower and
// prefill, then stored; hit: restored from the cache) and 16 text slots.
// COGEDGE_BENCH_MODEL names the model (default: the tiny test model), e.g.
// the synthetic mid: go run ./tools/convert --synthetic mid -t q4_0 -o mid.gguf
func BenchmarkFirstToken(b *testing.B) {
	path := os.Getenv("COGEDGE_BENCH_MODEL")
	if path == "" {
		path = tinyModel
	}
	m, err := model.Open(path, "")
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	id, err := ModelID(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx, err := m.NewContext(model.ContextOptions{Size: 1 + m.Vision.ImageTokens + 16})
	if err != nil {
		b.Fatal(err)
	}
	defer ctx.Close()
	px := randomPixels(m, 1)
	key := NewKey(id, model.KVF16, px)
	text := make([]int32, 16)
	for i := range text {
		text[i] = int32(100 + i)
	}
	logits := make([]float32, m.Text.Vocab)
	first := func(b *testing.B, c *Cache, wantHit bool) {
		ctx.Reset()
		o, err := c.Prefill(ctx, key, px, nil)
		if err != nil || o.Hit != wantHit || o.StoreErr != nil {
			b.Fatalf("prefill: %v, %+v", err, o)
		}
		if err := ctx.Forward(model.Batch{Tokens: text}, model.Output{Logits: logits}); err != nil {
			b.Fatal(err)
		}
	}
	// cpu-ms/op: CPU time of the process per first token, which other
	// load on a shared machine changes much less than the wall time
	cpuPerOp := func(b *testing.B, cpu0 float64) {
		if cpu := processCPUSeconds() - cpu0; cpu > 0 {
			b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
		}
	}
	b.Run("miss", func(b *testing.B) {
		cpu0 := processCPUSeconds()
		for b.Loop() {
			c, err := Open(b.TempDir(), 0)
			if err != nil {
				b.Fatal(err)
			}
			first(b, c, false)
		}
		cpuPerOp(b, cpu0)
	})
	b.Run("hit", func(b *testing.B) {
		c, err := Open(b.TempDir(), 0)
		if err != nil {
			b.Fatal(err)
		}
		first(b, c, false)
		cpu0 := processCPUSeconds()
		for b.Loop() {
			first(b, c, true)
		}
		cpuPerOp(b, cpu0)
	})
}

// processCPUSeconds is the user+system CPU time of the process so far.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
