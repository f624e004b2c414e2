package model

import (
	"fmt"
	"math"

	"github.com/cogedge/cogedge/gguf"
)

// TextConfig holds the decoder hyperparameters, read from
// `{arch}.*` keys and checked against the tensor shapes.
type TextConfig struct {
	Arch          string  // general.architecture: "cogvlm" or "llama"
	Vocab         int     // rows of token_embd
	Hidden        int     // embedding_length
	Layers        int     // block_count
	Heads         int     // attention.head_count
	HeadsKV       int     // attention.head_count_kv (= Heads when absent)
	HeadDim       int     // Hidden / Heads
	FFN           int     // feed_forward_length (language expert)
	RMSEps        float32 // attention.layer_norm_rms_epsilon
	RopeBase      float32 // rope.freq_base (10000 when absent)
	RopeNeoX      bool    // rotate-half pairs (i, i+d/2); false = adjacent pairs (llama's converter permutes Q/K)
	ContextLength int     // context_length (informational; 0 when absent)
	Experts       bool    // the file has visual-expert tensors (blk.N.vis_*)
	FusedQKV      bool    // blk.N.attn_qkv (else attn_q/attn_k/attn_v)
	BOS, EOS, PAD int32   // special ids (-1 when absent); PAD is the image placeholder
	EOT           int32   // end of turn (tokenizer.ggml.eot_token_id, CogVLM2's 128009; -1 when absent)
}

// IsStop reports whether generation ends at id: EOS, or EOT when the
// model has one (CogVLM2 stops on 128001 and 128009).
func (c *TextConfig) IsStop(id int32) bool {
	return id == c.EOS || (c.EOT >= 0 && id == c.EOT)
}

// VisionConfig holds the vision tower and adapter hyperparameters, read
// from `clip.vision.*` (and `cogvlm.vision.*`) keys and tensor shapes.
type VisionConfig struct {
	ImageSize  int     // input side in pixels
	PatchSize  int     // patch side in pixels
	Channels   int     // 3
	Patches    int     // (ImageSize/PatchSize)^2
	Hidden     int     // ViT width
	Layers     int     // ViT layers
	Heads      int     // ViT heads
	FFN        int     // ViT MLP width
	LNEps      float32 // ViT LayerNorm eps (1e-6)
	AdapterFFN int     // GLU inner width
	AdapterEps float32 // adapter LayerNorm eps (1e-5)
	ImageMean  [3]float32
	ImageStd   [3]float32
	// Downsample: the ViT output, CLS dropped, goes through a 2x2 stride-2
	// conv on the patch grid before the adapter (CogVLM2; v.conv.weight).
	Downsample bool
	Grid       int // patches per side (ImageSize/PatchSize)
	// Rows is the number of rows the adapter maps: Patches, or
	// (Grid/2)^2 with Downsample (an odd grid drops its last row and column).
	Rows        int
	ImageTokens int // Rows + 2 (boi, eoi)
}

// openAI CLIP normalisation constants (the defaults when the file has none).
var (
	clipMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	clipStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// metaSource reads keys from the first file that has them.
type metaSource struct{ files []*gguf.File }

func (m metaSource) str(key string) (string, bool) {
	for _, f := range m.files {
		if v, ok := f.String(key); ok {
			return v, true
		}
	}
	return "", false
}

func (m metaSource) uint(key string) (uint64, bool, error) {
	for _, f := range m.files {
		if _, present := f.Value(key); present {
			v, ok := f.Uint(key)
			if !ok {
				return 0, true, fmt.Errorf("model: key %q: not a non-negative integer", key)
			}
			return v, true, nil
		}
	}
	return 0, false, nil
}

func (m metaSource) float(key string) (float64, bool, error) {
	for _, f := range m.files {
		if _, present := f.Value(key); present {
			v, ok := f.Float(key)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, true, fmt.Errorf("model: key %q: not a finite number", key)
			}
			return v, true, nil
		}
	}
	return 0, false, nil
}

func (m metaSource) float32s(key string) ([]float32, bool) {
	for _, f := range m.files {
		if v, ok := f.Float32s(key); ok {
			return v, true
		}
	}
	return nil, false
}

// intKey reads an integer key that must lie in [1, maxDim]; def is used
// when the key is absent (def <= 0 makes the key required).
func (m metaSource) intKey(key string, def int) (int, error) {
	v, ok, err := m.uint(key)
	if err != nil {
		return 0, err
	}
	if !ok {
		if def <= 0 {
			return 0, fmt.Errorf("model: required key %q missing", key)
		}
		return def, nil
	}
	if v == 0 || v > maxDim {
		return 0, fmt.Errorf("model: key %q: value %d out of range [1,%d]", key, v, maxDim)
	}
	return int(v), nil
}

func (m metaSource) floatKey(key string, def float64) (float32, error) {
	v, ok, err := m.float(key)
	if err != nil {
		return 0, err
	}
	if !ok {
		return float32(def), nil
	}
	return float32(v), nil
}

func (m metaSource) tokenID(key string) int32 {
	v, ok, err := m.uint(key)
	if err != nil || !ok || v > math.MaxInt32 {
		return -1
	}
	return int32(v)
}

// readTextConfig reads the decoder hyperparameters of arch from md and
// checks them against the tensors in ts.
func readTextConfig(md metaSource, ts *tensorSource) (TextConfig, error) {
	var c TextConfig
	arch, ok := md.str("general.architecture")
	if !ok {
		return c, fmt.Errorf("model: key %q missing", "general.architecture")
	}
	c.Arch = arch
	switch arch {
	case "cogvlm":
		c.RopeNeoX = true
	case "llama":
		c.RopeNeoX = false
	default:
		return c, fmt.Errorf("model: architecture %q is not supported (want cogvlm or llama)", arch)
	}
	p := arch + "."
	var err error
	if c.Hidden, err = md.intKey(p+"embedding_length", 0); err != nil {
		return c, err
	}
	if c.Layers, err = md.intKey(p+"block_count", 0); err != nil {
		return c, err
	}
	// every layer must exist before anything is sized by the count
	if !ts.has(fmt.Sprintf("blk.%d.attn_norm.weight", c.Layers-1)) {
		return c, fmt.Errorf("model: key %q = %d but tensor blk.%d.attn_norm.weight is missing", p+"block_count", c.Layers, c.Layers-1)
	}
	if c.Heads, err = md.intKey(p+"attention.head_count", 0); err != nil {
		return c, err
	}
	if c.HeadsKV, err = md.intKey(p+"attention.head_count_kv", c.Heads); err != nil {
		return c, err
	}
	if c.Hidden%c.Heads != 0 || c.Heads%c.HeadsKV != 0 {
		return c, fmt.Errorf("model: %d heads (%d kv) do not divide embedding length %d", c.Heads, c.HeadsKV, c.Hidden)
	}
	c.HeadDim = c.Hidden / c.Heads
	if c.HeadDim%2 != 0 {
		return c, fmt.Errorf("model: head dimension %d is odd", c.HeadDim)
	}
	if rd, ok, err := md.uint(p + "rope.dimension_count"); err != nil {
		return c, err
	} else if ok && rd != uint64(c.HeadDim) {
		return c, fmt.Errorf("model: key %q = %d: partial RoPE is not supported (head dim %d)", p+"rope.dimension_count", rd, c.HeadDim)
	}
	if c.RMSEps, err = md.floatKey(p+"attention.layer_norm_rms_epsilon", 1e-5); err != nil {
		return c, err
	}
	if c.RopeBase, err = md.floatKey(p+"rope.freq_base", 10000); err != nil {
		return c, err
	}
	if !(c.RMSEps > 0) || !(c.RopeBase > 1) {
		return c, fmt.Errorf("model: rms eps %g or rope base %g out of range", c.RMSEps, c.RopeBase)
	}
	if v, ok, err := md.uint(p + "context_length"); err != nil {
		return c, err
	} else if ok && v <= maxDim {
		c.ContextLength = int(v)
	}
	emb, err := ts.matrix("token_embd.weight", c.Hidden, 0)
	if err != nil {
		return c, err
	}
	c.Vocab = emb.Rows
	gate, err := ts.matrix("blk.0.ffn_gate.weight", c.Hidden, 0)
	if err != nil {
		return c, err
	}
	c.FFN = gate.Rows
	if ff, ok, err := md.uint(p + "feed_forward_length"); err != nil {
		return c, err
	} else if ok && ff != uint64(c.FFN) {
		return c, fmt.Errorf("model: key %q = %d but blk.0.ffn_gate.weight has %d rows", p+"feed_forward_length", ff, c.FFN)
	}
	c.FusedQKV = ts.has("blk.0.attn_qkv.weight")
	c.Experts = ts.has("blk.0.vis_attn_qkv.weight")
	c.BOS = md.tokenID("tokenizer.ggml.bos_token_id")
	c.EOS = md.tokenID("tokenizer.ggml.eos_token_id")
	c.PAD = md.tokenID("tokenizer.ggml.padding_token_id")
	c.EOT = md.tokenID("tokenizer.ggml.eot_token_id")
	if c.BOS < 0 {
		c.BOS = 1
	}
	if c.EOS < 0 {
		c.EOS = 2
	}
	for _, id := range []int32{c.BOS, c.EOS, c.PAD, c.EOT} {
		if int(id) >= c.Vocab {
			return c, fmt.Errorf("model: special token id %d outside the vocabulary of %d", id, c.Vocab)
		}
	}
	return c, nil
}

// readVisionConfig reads the vision tower hyperparameters. It returns nil
// when the files hold no vision tower.
func readVisionConfig(md metaSource, ts *tensorSource, textHidden int) (*VisionConfig, error) {
	if !ts.has("v.patch_embd.weight") {
		return nil, nil
	}
	c := &VisionConfig{Channels: 3}
	_, pt, _ := ts.find("v.patch_embd.weight")
	// Conv2d weight (Hv, C, ps, ps) is stored as ggml {ps, ps, C, Hv} or
	// flattened {C*ps*ps, Hv}; both are the same bytes.
	var err error
	d := dims(pt)
	if last := d[len(d)-1]; last == 0 || last > maxDim || len(d) == 1 {
		return nil, fmt.Errorf("model: tensor %q: shape %v is not a patch filter", "v.patch_embd.weight", pt.Shape)
	}
	c.Hidden = int(d[len(d)-1])
	if h, ok, err := md.uint("clip.vision.embedding_length"); err != nil {
		return nil, err
	} else if ok && h != uint64(c.Hidden) {
		return nil, fmt.Errorf("model: key clip.vision.embedding_length = %d but v.patch_embd.weight has %d filters", h, c.Hidden)
	}
	switch len(d) {
	case 4:
		if d[0] != d[1] || d[2] != 3 || d[0] == 0 || d[0] > 1024 {
			return nil, fmt.Errorf("model: tensor %q: shape %v is not a square 3-channel patch filter", "v.patch_embd.weight", pt.Shape)
		}
		c.PatchSize = int(d[0])
	default:
		ps, err := md.intKey("clip.vision.patch_size", 0)
		if err != nil {
			return nil, err
		}
		c.PatchSize = ps
	}
	if ps, ok, err := md.uint("clip.vision.patch_size"); err != nil {
		return nil, err
	} else if ok && ps != uint64(c.PatchSize) {
		return nil, fmt.Errorf("model: key clip.vision.patch_size = %d, patch filter is %d", ps, c.PatchSize)
	}
	pos, err := ts.matrix("v.position_embd.weight", c.Hidden, 0)
	if err != nil {
		return nil, err
	}
	c.Patches = pos.Rows - 1
	g := int(math.Round(math.Sqrt(float64(c.Patches))))
	if c.Patches < 1 || g*g != c.Patches {
		return nil, fmt.Errorf("model: tensor v.position_embd.weight: %d rows is not a square patch grid plus CLS", pos.Rows)
	}
	c.ImageSize = g * c.PatchSize
	for _, key := range []string{"clip.vision.image_size", "cogvlm.vision.image_size"} {
		if s, ok, err := md.uint(key); err != nil {
			return nil, err
		} else if ok && s != uint64(c.ImageSize) {
			return nil, fmt.Errorf("model: key %q = %d but the position embedding fits %d (a %dx%d grid of %d px patches)", key, s, c.ImageSize, g, g, c.PatchSize)
		}
	}
	if c.Heads, err = md.intKey("clip.vision.attention.head_count", 0); err != nil {
		return nil, err
	}
	if c.Hidden%c.Heads != 0 {
		return nil, fmt.Errorf("model: %d vision heads do not divide width %d", c.Heads, c.Hidden)
	}
	c.Layers = 0
	for ts.has(fmt.Sprintf("v.blk.%d.attn_qkv.weight", c.Layers)) || ts.has(fmt.Sprintf("v.blk.%d.attn_q.weight", c.Layers)) {
		c.Layers++
		if c.Layers > 4096 {
			return nil, fmt.Errorf("model: too many vision layers")
		}
	}
	if n, ok, err := md.uint("clip.vision.block_count"); err != nil {
		return nil, err
	} else if ok && n != uint64(c.Layers) {
		return nil, fmt.Errorf("model: key clip.vision.block_count = %d but the file has %d vision layers", n, c.Layers)
	}
	if c.Layers == 0 {
		return nil, fmt.Errorf("model: vision tower has no layers (v.blk.0.attn_qkv.weight missing)")
	}
	fc1, err := ts.matrix("v.blk.0.ffn_up.weight", c.Hidden, 0)
	if err != nil {
		return nil, err
	}
	c.FFN = fc1.Rows
	if c.LNEps, err = md.floatKey("clip.vision.attention.layer_norm_epsilon", 1e-6); err != nil {
		return nil, err
	}
	if c.AdapterEps, err = md.floatKey("cogvlm.adapter.layer_norm_epsilon", 1e-5); err != nil {
		return nil, err
	}
	gate, err := ts.matrix("mm.gate.weight", textHidden, 0)
	if err != nil {
		return nil, err
	}
	c.AdapterFFN = gate.Rows
	c.ImageMean, c.ImageStd = clipMean, clipStd
	if m, ok := md.float32s("clip.vision.image_mean"); ok {
		if len(m) != 3 {
			return nil, fmt.Errorf("model: key clip.vision.image_mean has %d values, want 3", len(m))
		}
		copy(c.ImageMean[:], m)
	}
	if s, ok := md.float32s("clip.vision.image_std"); ok {
		if len(s) != 3 || s[0] == 0 || s[1] == 0 || s[2] == 0 {
			return nil, fmt.Errorf("model: key clip.vision.image_std: want 3 non-zero values, got %v", s)
		}
		copy(c.ImageStd[:], s)
	}
	c.Grid = g
	c.Rows = c.Patches
	if ts.has("v.conv.weight") {
		c.Downsample = true
		if g < 2 {
			return nil, fmt.Errorf("model: a %dx%d patch grid is too small for the 2x2 downsample (v.conv.weight)", g, g)
		}
		c.Rows = (g / 2) * (g / 2)
	}
	c.ImageTokens = c.Rows + 2
	return c, nil
}
