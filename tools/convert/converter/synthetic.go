package converter

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/cogedge/cogedge/model/tokenizer"
	"github.com/cogedge/cogedge/quant"
)

// SyntheticConfigs are the model shapes Synthetic can write.
var SyntheticConfigs = map[string]Config{
	// cogvlm-17b: THUDM/cogvlm-chat-hf (cogvlm.md §1), 17,639,685,376 parameters.
	"cogvlm-17b": {
		Architectures: []string{Architecture}, VocabSize: 32000, HiddenSize: 4096, IntermediateSize: 11008,
		NumHiddenLayers: 32, NumAttentionHeads: 32, NumKeyValueHeads: 32, MaxPositionEmbeddings: 2048,
		RMSNormEps: 1e-5, RopeTheta: 10000, TemplateVersion: "chat", BOSTokenID: 1, EOSTokenIDs: TokenIDs{2},
		Vision: VisionConfig{HiddenSize: 1792, ImageSize: 490, InChannels: 3, IntermediateSize: 15360,
			LayerNormEps: 1e-6, NumHeads: 16, NumHiddenLayers: 63, NumPositions: 1226, PatchSize: 14},
	},
	// cogvlm2-19b: THUDM/cogvlm2-llama3-chat-19B (docs/cogvlm2.md §1),
	// 19,503,105,280 parameters plus the 32 RoPE inv_freq buffers.
	"cogvlm2-19b": {
		Architectures: []string{Architecture}, VocabSize: 128256, HiddenSize: 4096, IntermediateSize: 14336,
		NumHiddenLayers: 32, NumAttentionHeads: 32, NumKeyValueHeads: 8, MaxPositionEmbeddings: 8192,
		RMSNormEps: 1e-5, RopeTheta: CogVLM2DefaultRopeTheta, TemplateVersion: "chat",
		BOSTokenID: 128000, EOSTokenIDs: TokenIDs{128001, 128009}, PadTokenID: 128002, CogVLM2: true,
		Vision: VisionConfig{HiddenSize: 1792, ImageSize: 1344, InChannels: 3, IntermediateSize: 15360,
			LayerNormEps: 1e-6, NumHeads: 16, NumHiddenLayers: 63, NumPositions: 9217, PatchSize: 14},
	},
	// mid: a few hundred MB, for quicker benchmarks (about 0.3 B parameters).
	"mid": {
		Architectures: []string{Architecture}, VocabSize: 32000, HiddenSize: 1024, IntermediateSize: 2816,
		NumHiddenLayers: 8, NumAttentionHeads: 8, NumKeyValueHeads: 8, MaxPositionEmbeddings: 2048,
		RMSNormEps: 1e-5, RopeTheta: 10000, TemplateVersion: "chat", BOSTokenID: 1, EOSTokenIDs: TokenIDs{2},
		Vision: VisionConfig{HiddenSize: 512, ImageSize: 224, InChannels: 3, IntermediateSize: 2048,
			LayerNormEps: 1e-6, NumHeads: 8, NumHiddenLayers: 8, NumPositions: 257, PatchSize: 14},
	},
	// tiny: the reference's make_tiny.py "tiny" preset.
	"tiny": {
		Architectures: []string{Architecture}, VocabSize: 32000, HiddenSize: 256, IntermediateSize: 512,
		NumHiddenLayers: 2, NumAttentionHeads: 4, NumKeyValueHeads: 4, MaxPositionEmbeddings: 2048,
		RMSNormEps: 1e-5, RopeTheta: 10000, TemplateVersion: "chat", BOSTokenID: 1, EOSTokenIDs: TokenIDs{2},
		Vision: VisionConfig{HiddenSize: 256, ImageSize: 56, InChannels: 3, IntermediateSize: 512,
			LayerNormEps: 1e-6, NumHeads: 4, NumHiddenLayers: 2, NumPositions: 17, PatchSize: 14},
	},
}

// SyntheticPresets returns the names Synthetic accepts, sorted.
func SyntheticPresets() []string {
	out := make([]string, 0, len(SyntheticConfigs))
	for n := range SyntheticConfigs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Synthetic writes a model of the named shape with random weights to out:
// typ (or opt.Preset) decides the tensor types as for Convert, and
// quantized blocks are generated directly (random codes, fp16 scales of a
// realistic size for N(0, 0.02) weights), so writing a 17B model costs
// little more than the disk writes. The bytes depend only on the preset,
// the types and opt.Seed. The tokenizer is opt.Tokenizer's when given,
// else a synthetic byte-level vocabulary of the model's vocab size.
func Synthetic(ctx context.Context, preset string, out string, typ quant.Type, opt Options) error {
	c, ok := SyntheticConfigs[strings.ToLower(preset)]
	if !ok {
		return fmt.Errorf("convert: unknown synthetic preset %q (known: %s)", preset, strings.Join(SyntheticPresets(), ", "))
	}
	cfg := c
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("convert: synthetic %s: %w", preset, err)
	}
	opt.Output = out
	opt.Type = typ
	mix, err := opt.mix()
	if err != nil {
		return err
	}
	var tok []KV
	if opt.Tokenizer != "" {
		if tok, err = tokenizerKeys(opt); err != nil {
			return err
		}
	} else {
		v := SyntheticVocab(cfg.VocabSize)
		if cfg.CogVLM2 {
			llama3Specials(v)
		}
		if err := v.Validate(); err != nil {
			return fmt.Errorf("convert: synthetic vocabulary: %w", err)
		}
		tok = vocabKeys(v)
	}
	tok = withKeys(tok, specialKeys(&cfg))
	name := opt.Name
	if name == "" {
		name = "cogvlm-synthetic-" + strings.ToLower(preset)
	}
	specs := Layout(&cfg)
	source := func(i int, s *Spec, t quant.Type, rowBytes int) fillFunc {
		if s.Role == "rope_inv_freq" {
			return invFreqFill(cfg.RopeTheta, int(s.Shape[0]))
		}
		seed := mix64(opt.Seed ^ mix64(uint64(i)+0x5eed))
		return synthFill(s.Kind, t, seed, int(s.Shape[0]), rowBytes)
	}
	return writeModel(ctx, opt, &cfg, specs, mix, name, tok, source)
}

// SyntheticVocab returns a SentencePiece-style vocabulary of n pieces
// (n ≥ 259): <unk>, <s>, </s>, the 256 byte pieces, then "▁", printable
// ASCII characters and generated lowercase pieces with descending scores.
// It tokenizes any text (through byte fallback) but means nothing.
func SyntheticVocab(n int) *tokenizer.Vocab {
	v := &tokenizer.Vocab{Model: "llama", BOS: 1, EOS: 2, UNK: 0, PAD: -1, AddBOS: true, AddSpacePrefix: true}
	add := func(piece string, typ int32) {
		v.Tokens = append(v.Tokens, piece)
		v.Scores = append(v.Scores, -float32(len(v.Tokens)-1))
		v.Types = append(v.Types, typ)
	}
	add("<unk>", tokenizer.TypeUnknown)
	add("<s>", tokenizer.TypeControl)
	add("</s>", tokenizer.TypeControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), tokenizer.TypeByte)
	}
	for i := range v.Scores {
		v.Scores[i] = 0
	}
	seen := map[string]bool{}
	piece := func(p string) {
		if len(v.Tokens) < n && !seen[p] {
			seen[p] = true
			add(p, tokenizer.TypeNormal)
		}
	}
	piece("▁")
	for c := byte('!'); c <= '~'; c++ {
		piece(string(c))
	}
	const letters = "etaoinshrdlcumwfgypbvkjxqz"
	for length := 1; len(v.Tokens) < n; length++ {
		idx := make([]int, length)
		for len(v.Tokens) < n {
			var b strings.Builder
			for _, k := range idx {
				b.WriteByte(letters[k])
			}
			piece("▁" + b.String())
			piece(b.String())
			// next combination (odometer)
			j := length - 1
			for j >= 0 {
				idx[j]++
				if idx[j] < len(letters) {
					break
				}
				idx[j] = 0
				j--
			}
			if j < 0 {
				break
			}
		}
	}
	v.Tokens, v.Scores, v.Types = v.Tokens[:n], v.Scores[:n], v.Types[:n]
	return v
}

// llama3Specials turns the last 256 pieces of a synthetic vocabulary of
// Llama-3's size into its special tokens (control pieces named as Llama-3
// names them), with BOS <|begin_of_text|> 128000 and EOS <|end_of_text|>
// 128001, so a synthetic CogVLM2 has the real special ids.
func llama3Specials(v *tokenizer.Vocab) {
	const first = 128000
	if len(v.Tokens) < first+256 {
		return
	}
	names := map[int]string{0: "<|begin_of_text|>", 1: "<|end_of_text|>", 6: "<|start_header_id|>", 7: "<|end_header_id|>", 9: "<|eot_id|>"}
	reserved := 0
	for k := 0; k < 256; k++ {
		name, ok := names[k]
		if !ok {
			name = fmt.Sprintf("<|reserved_special_token_%d|>", reserved)
			reserved++
		}
		v.Tokens[first+k], v.Types[first+k], v.Scores[first+k] = name, tokenizer.TypeControl, 0
	}
	v.BOS, v.EOS = first, first+1
}

// invFreqFill writes RoPE inverse frequencies base^(-2i/d) for i < n, d =
// 2n (what a CogVLM2 checkpoint stores, before its BF16 rounding), as F32.
func invFreqFill(base float64, n int) fillFunc {
	return func(out []byte, row0, rows int, _ *scratch) error {
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(1/math.Pow(base, float64(2*i)/float64(2*n)))))
		}
		return nil
	}
}

// rng is wyrand: tiny, fast and good enough for synthetic weights.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// uniform returns a float32 in [-1, 1).
func (r *rng) uniform() float32 {
	return float32(int32(r.next()>>32)) * (1.0 / (1 << 31))
}

// fill writes random bytes over b.
func (r *rng) fill(b []byte) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, r.next())
		b = b[8:]
	}
	if len(b) > 0 {
		var t [8]byte
		binary.LittleEndian.PutUint64(t[:], r.next())
		copy(b, t[:])
	}
}

// mix64 is splitmix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// weightSigma is the standard deviation synthetic matrices aim at.
const weightSigma = 0.02

// scale returns base·(1 ± 25%) as fp16 bits.
func (r *rng) scale(base float32) uint16 {
	return quant.FP32ToFP16(base * (1 + 0.25*r.uniform()))
}

// synthFill returns a fill function producing random rows of type t.
// Every chunk is seeded from (seed, first row), so the output does not
// depend on the number of workers.
func synthFill(kind Kind, t quant.Type, seed uint64, cols, rowBytes int) fillFunc {
	return func(out []byte, row0, n int, _ *scratch) error {
		r := rng{mix64(seed + uint64(row0)*0x9e3779b97f4a7c15)}
		switch t {
		case quant.F32, quant.F16, quant.BF16:
			center, spread := float32(0), float32(weightSigma*1.7320508)
			if kind == Norm {
				center, spread = 1, 0.1
			}
			es := t.TypeSize()
			for i := 0; i < n*cols; i++ {
				x := center + spread*r.uniform()
				switch t {
				case quant.F32:
					binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
				case quant.F16:
					binary.LittleEndian.PutUint16(out[es*i:], quant.FP32ToFP16(x))
				default:
					binary.LittleEndian.PutUint16(out[es*i:], quant.FP32ToBF16(x))
				}
			}
			return nil
		}
		r.fill(out)
		bs := t.TypeSize()
		put := func(b []byte, off int, h uint16) { binary.LittleEndian.PutUint16(b[off:], h) }
		for off := 0; off+bs <= len(out); off += bs {
			b := out[off : off+bs]
			switch t {
			case quant.Q4_0: // x = (q-8)·d, std(q) ≈ 4.6
				put(b, 0, r.scale(weightSigma/4.6))
			case quant.Q4_1: // x = q·d + m
				d := weightSigma / 4.6 * (1 + 0.25*r.uniform())
				put(b, 0, quant.FP32ToFP16(d))
				put(b, 2, quant.FP32ToFP16(-8*d))
			case quant.Q5_0: // x = (q-16)·d, std(q) ≈ 9.2
				put(b, 0, r.scale(weightSigma/9.2))
			case quant.Q5_1:
				d := weightSigma / 9.2 * (1 + 0.25*r.uniform())
				put(b, 0, quant.FP32ToFP16(d))
				put(b, 2, quant.FP32ToFP16(-16*d))
			case quant.Q8_0: // x = q·d, std(q) ≈ 74
				put(b, 0, r.scale(weightSigma/74))
			case quant.IQ4_NL: // x = d·kvalues[q], std ≈ 70
				put(b, 0, r.scale(weightSigma/70))
			case quant.Q4_K: // x = d·sc·q − dmin·m, sc, m in 0..63, q in 0..15
				d := weightSigma / (31.5 * 4.6) * (1 + 0.25*r.uniform())
				put(b, 0, quant.FP32ToFP16(d))
				put(b, 2, quant.FP32ToFP16(d*7.5))
			case quant.Q5_K: // q in 0..31
				d := weightSigma / (31.5 * 9.2) * (1 + 0.25*r.uniform())
				put(b, 0, quant.FP32ToFP16(d))
				put(b, 2, quant.FP32ToFP16(d*15.5))
			case quant.Q6_K: // x = d·sc·(q−32), sc int8, d at offset 208
				put(b, 208, r.scale(weightSigma/(64*18.5)))
			default:
				return fmt.Errorf("convert: synthetic: type %s not supported", t)
			}
		}
		return nil
	}
}
