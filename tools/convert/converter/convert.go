// Package converter turns a Hugging Face CogVLM checkpoint into one GGUF
// file (or a llama.cpp text + mmproj pair), streaming one tensor at a time,
// and writes synthetic models of the real shapes for tests and benchmarks.
//
// Tensor names and metadata follow llama.cpp (architecture "cogvlm" for the
// language model, "clip" keys for the vision tower); what llama.cpp cannot
// express goes in cogvlm.* keys. README.md ("GGUF layout") lists them.
package converter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cogedge/cogedge/internal/outfile"
	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/cogedge/cogedge/quant"
	"github.com/klauspost/compress/zstd"
	"github.com/schollz/progressbar/v3"
)

// Options controls a conversion.
type Options struct {
	Input     string // Hugging Face checkpoint folder
	Tokenizer string // tokenizer.model or tokenizer.json; "" = look in Input
	Output    string // the GGUF to write (the text GGUF with SplitMMProj)
	// Type is the storage type of the matrices when Preset is empty.
	Type quant.Type
	// VisionType and ExpertType override the matrices of the vision tower
	// + adapter and of the visual experts when VisionTypeSet / ExpertTypeSet.
	VisionType, ExpertType quant.Type
	// Preset is a named mix ("q4_k_m", "q8_0", …, see Presets); it wins
	// over Type.
	Preset string
	// SplitMMProj writes llama.cpp's pair: the text GGUF at Output and the
	// vision GGUF next to it as "mmproj-<name>".
	SplitMMProj bool
	Threads     int       // quantization workers (0 = all CPUs)
	Progress    io.Writer // progress bar destination (nil = quiet)

	VisionTypeSet, ExpertTypeSet bool
	// NoTokenizer allows a file without tokenizer.ggml.* keys.
	NoTokenizer bool
	// Pure gives every matrix the same type (no output.weight promotion,
	// no per-layer raises).
	Pure bool
	// Zstd also writes "<output>.zst", a zstd-compressed copy of each file.
	Zstd bool
	// Name is general.name (default: the input folder's name).
	Name string
	// Seed drives Synthetic's random weights.
	Seed uint64
}

// mix resolves the type recipe of o.
func (o *Options) mix() (Mix, error) {
	var (
		m   Mix
		err error
	)
	if o.Preset != "" {
		m, err = ParseMix(o.Preset)
	} else {
		m, err = MixForType(o.Type)
	}
	if err != nil {
		return Mix{}, err
	}
	m.Pure = o.Pure
	if o.VisionTypeSet {
		if !writable(o.VisionType) {
			return Mix{}, fmt.Errorf("convert: vision type %s cannot be written", o.VisionType)
		}
		t := o.VisionType
		m.Vision = &t
	}
	if o.ExpertTypeSet {
		if !writable(o.ExpertType) {
			return Mix{}, fmt.Errorf("convert: expert type %s cannot be written", o.ExpertType)
		}
		t := o.ExpertType
		m.Expert = &t
	}
	return m, nil
}

// MMProjPath returns where the vision GGUF of a split conversion to out
// goes: "mmproj-<base>" in the same folder, as llama.cpp names them.
func MMProjPath(out string) string {
	return filepath.Join(filepath.Dir(out), "mmproj-"+filepath.Base(out))
}

// Convert converts the checkpoint opt.Input to opt.Output. On any error,
// or when ctx is cancelled, nothing is left at the output paths.
func Convert(ctx context.Context, opt Options) error {
	if opt.Input == "" || opt.Output == "" {
		return errors.New("convert: input folder and output file are required")
	}
	// a folder or a symlink to nothing as OUT is refused before the work
	if err := outfile.Check(opt.Output, outfile.Options{}); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	mix, err := opt.mix()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(opt.Input, "config.json")
	rawCfg, err := readSmallFile(cfgPath, maxConfigSize)
	if err != nil {
		return fmt.Errorf("convert: config: %w", err)
	}
	ck, err := OpenCheckpoint(opt.Input)
	if err != nil {
		return err
	}
	defer ck.Close()
	// The tensors, not config.json, tell CogVLM2 from CogVLM-1.
	_, cogvlm2 := ck.Tensor(cogvlm2Marker)
	cfg, err := ParseConfig(rawCfg, cfgPath, cogvlm2)
	if err != nil {
		return err
	}
	_, invFreq := ck.Tensor("model.layers.0.self_attn.rotary_emb.inv_freq")
	specs := layout(cfg, invFreq)
	srcs, err := matchCheckpoint(ck, specs)
	if err != nil {
		return err
	}
	tok, err := tokenizerKeys(opt)
	if err != nil {
		return err
	}
	tok = withKeys(tok, specialKeys(cfg))
	name := opt.Name
	if name == "" {
		abs, _ := filepath.Abs(opt.Input)
		name = filepath.Base(abs)
	}
	source := func(i int, s *Spec, typ quant.Type, rowBytes int) fillFunc {
		t := srcs[i]
		cols := int(s.Shape[0])
		return quantizeFill(s.Name, typ, cols, rowBytes, func(dst []float32, row0, n int, sc *scratch) error {
			var err error
			sc.raw, err = t.ReadF32(dst, int64(row0)*int64(cols), int64(n)*int64(cols), sc.raw)
			return err
		})
	}
	return writeModel(ctx, opt, cfg, specs, mix, name, tok, source)
}

// matchCheckpoint finds the HF tensor of every spec and checks its shape;
// tensors of the checkpoint that no spec uses are an error (except RoPE
// buffers).
func matchCheckpoint(ck *Checkpoint, specs []Spec) ([]*STTensor, error) {
	out := make([]*STTensor, len(specs))
	used := map[string]bool{}
	for i := range specs {
		s := &specs[i]
		t, ok := ck.Tensor(s.HF)
		if !ok {
			return nil, fmt.Errorf("convert: tensor %q (for %s) missing from the checkpoint", s.HF, s.Name)
		}
		if want := s.HFShape(); !slices.Equal(want, t.Shape) {
			return nil, fmt.Errorf("convert: tensor %q: shape %v, config.json implies %v", s.HF, t.Shape, want)
		}
		out[i] = t
		used[s.HF] = true
	}
	for _, n := range ck.Names() {
		if !used[n] && !ignoredHF(n) {
			return nil, fmt.Errorf("convert: tensor %q in the checkpoint is not part of a CogVLM model", n)
		}
	}
	return out, nil
}

// tokenizerKeys loads the vocabulary named by opt (or found in
// opt.Input) and returns its tokenizer.ggml.* keys.
func tokenizerKeys(opt Options) ([]KV, error) {
	path := opt.Tokenizer
	if path == "" && opt.Input != "" {
		for _, n := range []string{"tokenizer.model", "tokenizer.json"} {
			p := filepath.Join(opt.Input, n)
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if opt.NoTokenizer {
			return nil, nil
		}
		return nil, fmt.Errorf("convert: no tokenizer: %s has no tokenizer.model or tokenizer.json (CogVLM uses lmsys/vicuna-7b-v1.5's); pass --tokenizer PATH or --no-tokenizer", opt.Input)
	}
	v, err := loadVocab(path)
	if err != nil {
		return nil, fmt.Errorf("convert: tokenizer: %w", err)
	}
	return vocabKeys(v), nil
}

// cogvlm2Marker is the tensor only CogVLM2 checkpoints have.
const cogvlm2Marker = "model.vision.conv.weight"

// specialKeys returns the ids CogVLM2's config.json fixes, as llama.cpp's
// tokenizer.ggml.* keys: bos_token_id (128000), eos_token_id[0] (128001),
// the second stop id eos_token_id[1] as eot_token_id (128009) and
// pad_token_id, the image placeholder (128002), as padding_token_id. They
// win over the tokenizer's (whose tokenizer.json has no pad and one eos).
func specialKeys(c *Config) []KV {
	if !c.CogVLM2 {
		return nil
	}
	kv := []KV{{"tokenizer.ggml.bos_token_id", uint32(c.BOSTokenID)}}
	if len(c.EOSTokenIDs) > 0 {
		kv = append(kv, KV{"tokenizer.ggml.eos_token_id", uint32(c.EOSTokenIDs[0])})
	}
	if len(c.EOSTokenIDs) > 1 {
		kv = append(kv, KV{"tokenizer.ggml.eot_token_id", uint32(c.EOSTokenIDs[1])})
	}
	return append(kv, KV{"tokenizer.ggml.padding_token_id", uint32(c.PadTokenID)})
}

// withKeys returns kvs with each entry of over replacing the entry of the
// same key, or appended.
func withKeys(kvs, over []KV) []KV {
	for _, o := range over {
		i := slices.IndexFunc(kvs, func(kv KV) bool { return kv.Key == o.Key })
		if i >= 0 {
			kvs[i] = o
		} else {
			kvs = append(kvs, o)
		}
	}
	return kvs
}

func vocabKeys(v *tokenizer.Vocab) []KV {
	var out []KV
	for _, kv := range v.GGUFKeys() {
		out = append(out, KV{kv.Key, kv.Value})
	}
	return out
}

// sourceFunc returns the fill function producing tensor i (spec s) as typ.
type sourceFunc func(i int, s *Spec, typ quant.Type, rowBytes int) fillFunc

// writeModel writes specs to opt.Output (and its mmproj with
// SplitMMProj), one tensor in memory at a time.
func writeModel(ctx context.Context, opt Options, cfg *Config, specs []Spec, mix Mix, name string, tok []KV, source sourceFunc) (err error) {
	types := make([]quant.Type, len(specs))
	sizes := make([]int, len(specs))
	var total, maxSize int64
	for i := range specs {
		s := &specs[i]
		types[i] = mix.TypeFor(s)
		rowBytes, err := types[i].RowSize(int64(s.Shape[0]))
		if err != nil {
			return fmt.Errorf("convert: tensor %q: %w", s.Name, err)
		}
		sz := rowBytes * int64(s.Elements()/s.Shape[0])
		sizes[i] = int(sz)
		total += sz
		maxSize = max(maxSize, sz)
	}

	outs := []*outFile{}
	defer func() {
		if err != nil {
			for _, o := range outs {
				o.abort()
			}
		}
	}()
	text, err := createOut(opt.Output)
	if err != nil {
		return err
	}
	outs = append(outs, text)
	vision := text
	if opt.SplitMMProj {
		if vision, err = createOut(MMProjPath(opt.Output)); err != nil {
			return err
		}
		outs = append(outs, vision)
	}
	dest := func(s *Spec) *outFile {
		if s.Group == Vision {
			return vision
		}
		return text
	}

	var kvs []KV
	kvs = append(kvs, generalKeys("cogvlm", name, mix.FileType, false)...)
	kvs = append(kvs, textKeys(cfg)...)
	if !opt.SplitMMProj {
		kvs = append(kvs, visionKeys(cfg)...)
	}
	kvs = append(kvs, tok...)
	if err := setKVs(text, kvs); err != nil {
		return err
	}
	if opt.SplitMMProj {
		kvs = append(generalKeys("clip", name, mix.FileType, true), visionKeys(cfg)...)
		if err := setKVs(vision, kvs); err != nil {
			return err
		}
	}
	for i := range specs {
		s := &specs[i]
		if err := dest(s).w.AddTensor(s.Name, types[i], s.Shape); err != nil {
			return fmt.Errorf("convert: %s: %w", dest(s).path, err)
		}
	}

	var bar *progressbar.ProgressBar
	if opt.Progress != nil {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(opt.Progress),
			progressbar.OptionSetDescription("writing "+filepath.Base(opt.Output)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(opt.Progress) }),
		)
	}
	p := newPool(opt.Threads)
	buf := make([]byte, maxSize)
	for i := range specs {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := &specs[i]
		cols := int(s.Shape[0])
		rows := int(s.Elements() / s.Shape[0])
		out := buf[:sizes[i]]
		if err := p.run(ctx, out, rows, cols, sizes[i]/rows, source(i, s, types[i], sizes[i]/rows)); err != nil {
			return err
		}
		if err := dest(s).w.WriteTensor(s.Name, out); err != nil {
			return fmt.Errorf("convert: %s: %w", dest(s).path, err)
		}
		if bar != nil {
			bar.Add64(int64(sizes[i]))
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, o := range outs {
		if err := o.finish(); err != nil {
			for _, prev := range outs[:i] {
				os.Remove(prev.path) // all or nothing
			}
			return err
		}
	}
	if opt.Zstd {
		for _, o := range outs {
			if err := CompressFile(ctx, o.path, o.path+".zst", opt.Threads); err != nil {
				return err
			}
		}
	}
	return nil
}

func setKVs(o *outFile, kvs []KV) error {
	for _, kv := range kvs {
		if err := o.w.SetKV(kv.Key, kv.Value); err != nil {
			return fmt.Errorf("convert: %s: key %q: %w", o.path, kv.Key, err)
		}
	}
	return nil
}

// loadVocab reads a tokenizer file, decompressing it first when its name
// ends in ".zst" (how testdata keeps the LLaMA tokenizer.json).
func loadVocab(path string) (*tokenizer.Vocab, error) {
	if !strings.HasSuffix(path, ".zst") {
		return tokenizer.LoadVocabFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	data, err := io.ReadAll(io.LimitReader(dec, tokenizer.MaxVocabFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > tokenizer.MaxVocabFileSize {
		return nil, fmt.Errorf("%s: decompresses to more than %d bytes", path, tokenizer.MaxVocabFileSize)
	}
	return tokenizer.ParseVocab(data, path)
}
