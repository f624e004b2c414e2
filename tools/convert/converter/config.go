package converter

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Architecture is the only Hugging Face architecture the converter reads.
const Architecture = "CogVLMForCausalLM"

// VisionConfig is config.json's vision_config (EVA2-CLIP ViT).
type VisionConfig struct {
	HiddenSize       int     `json:"hidden_size"`
	ImageSize        int     `json:"image_size"`
	InChannels       int     `json:"in_channels"`
	IntermediateSize int     `json:"intermediate_size"`
	LayerNormEps     float64 `json:"layer_norm_eps"`
	NumHeads         int     `json:"num_heads"`
	NumHiddenLayers  int     `json:"num_hidden_layers"`
	NumPositions     int     `json:"num_positions"`
	PatchSize        int     `json:"patch_size"`
	HiddenAct        string  `json:"hidden_act"`
}

// Config is the part of a CogVLM config.json the converter uses.
type Config struct {
	Architectures         []string     `json:"architectures"`
	VocabSize             int          `json:"vocab_size"`
	HiddenSize            int          `json:"hidden_size"`
	IntermediateSize      int          `json:"intermediate_size"`
	NumHiddenLayers       int          `json:"num_hidden_layers"`
	NumAttentionHeads     int          `json:"num_attention_heads"`
	NumKeyValueHeads      int          `json:"num_key_value_heads"`
	HiddenAct             string       `json:"hidden_act"`
	MaxPositionEmbeddings int          `json:"max_position_embeddings"`
	RMSNormEps            float64      `json:"rms_norm_eps"`
	RopeTheta             float64      `json:"rope_theta"`
	TemplateVersion       string       `json:"template_version"`
	PadTokenID            int          `json:"pad_token_id"`
	BOSTokenID            int          `json:"bos_token_id"`
	EOSTokenIDs           TokenIDs     `json:"eos_token_id"`
	TieWordEmbeddings     bool         `json:"tie_word_embeddings"`
	Vision                VisionConfig `json:"vision_config"`
	// NumMultiQueryHeads is CogVLM2's name for the KV head count.
	NumMultiQueryHeads int `json:"num_multi_query_heads"`
	// CogVLM2 marks the CogVLM2 family (cogvlm2-llama3-chat-19B): the
	// checkpoint has the 2x2 downsample conv (model.vision.conv.weight).
	// config.json cannot tell the families apart (same architectures and
	// auto_map), so the converter sets it from the tensors.
	CogVLM2 bool `json:"-"`
}

// CogVLM2 defaults that its remote code hard-codes and its published
// config.json omits (docs/cogvlm2.md §1): CogVLMConfig's
// num_multi_query_heads = 8 and VisionExpertAttention's RoPE base 500000.
const (
	CogVLM2DefaultKVHeads   = 8
	CogVLM2DefaultRopeTheta = 500000
)

// TokenIDs is a token id or a list of them (CogVLM2's eos_token_id is
// [128001, 128009]).
type TokenIDs []int

// UnmarshalJSON accepts a number or an array of numbers.
func (t *TokenIDs) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*t = TokenIDs{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("eos_token_id: want a number or an array of numbers: %w", err)
	}
	*t = many
	return nil
}

// maxConfigSize bounds config.json.
const maxConfigSize = 4 << 20

// LoadConfig reads and validates dir/config.json of a CogVLM (cogvlm2
// false) or CogVLM2 checkpoint.
func LoadConfig(dir string, cogvlm2 bool) (*Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := readSmallFile(path, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("convert: config: %w", err)
	}
	return ParseConfig(raw, path, cogvlm2)
}

// ParseConfig decodes and validates a config.json; name is used in errors.
// Defaults of the CogVLM remote code fill absent optional keys
// (rms_norm_eps 1e-5 as in the released configs, layer_norm_eps 1e-6,
// template_version "chat", 2048 positions, RoPE base 10000). For CogVLM2
// the remote code's defaults differ: 8192 positions, 8 KV heads when
// num_multi_query_heads is absent and RoPE base 500000 when rope_theta is
// (the published config.json has neither key).
func ParseConfig(raw []byte, name string, cogvlm2 bool) (*Config, error) {
	c := &Config{RMSNormEps: 1e-5, TemplateVersion: "chat", MaxPositionEmbeddings: 2048,
		PadTokenID: 0, BOSTokenID: 1, EOSTokenIDs: TokenIDs{2}, CogVLM2: cogvlm2}
	if cogvlm2 {
		c.MaxPositionEmbeddings = 8192
	}
	c.Vision.LayerNormEps = 1e-6
	c.Vision.InChannels = 3
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("convert: %s: %w", name, err)
	}
	switch {
	case c.RopeTheta != 0:
	case cogvlm2:
		c.RopeTheta = CogVLM2DefaultRopeTheta
	default:
		c.RopeTheta = 10000
	}
	if !cogvlm2 && c.NumMultiQueryHeads != 0 && c.NumMultiQueryHeads != c.NumAttentionHeads {
		return nil, fmt.Errorf("convert: %s: num_multi_query_heads %d != num_attention_heads %d: grouped-query attention needs a CogVLM2 checkpoint (with %s)", name, c.NumMultiQueryHeads, c.NumAttentionHeads, cogvlm2Marker)
	}
	if cogvlm2 {
		for _, id := range append([]int{c.BOSTokenID, c.PadTokenID}, c.EOSTokenIDs...) {
			if id < 0 || id >= c.VocabSize {
				return nil, fmt.Errorf("convert: %s: special token id %d outside vocab_size %d", name, id, c.VocabSize)
			}
		}
		if c.NumKeyValueHeads != 0 && c.NumMultiQueryHeads != 0 && c.NumKeyValueHeads != c.NumMultiQueryHeads {
			return nil, fmt.Errorf("convert: %s: num_key_value_heads %d != num_multi_query_heads %d", name, c.NumKeyValueHeads, c.NumMultiQueryHeads)
		}
		if c.NumMultiQueryHeads != 0 {
			c.NumKeyValueHeads = c.NumMultiQueryHeads
		}
		if c.NumKeyValueHeads == 0 {
			c.NumKeyValueHeads = CogVLM2DefaultKVHeads
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("convert: %s: %w", name, err)
	}
	return c, nil
}

// Validate checks that c describes a CogVLM model this converter supports.
func (c *Config) Validate() error {
	if len(c.Architectures) == 0 {
		return fmt.Errorf("no architectures listed (want %s)", Architecture)
	}
	for _, a := range c.Architectures {
		if a != Architecture {
			return fmt.Errorf("unsupported architecture %q (only %s is supported)", a, Architecture)
		}
	}
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	checks := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"vision_config.hidden_size", c.Vision.HiddenSize}, {"vision_config.image_size", c.Vision.ImageSize},
		{"vision_config.in_channels", c.Vision.InChannels}, {"vision_config.intermediate_size", c.Vision.IntermediateSize},
		{"vision_config.num_heads", c.Vision.NumHeads}, {"vision_config.num_hidden_layers", c.Vision.NumHiddenLayers},
		{"vision_config.patch_size", c.Vision.PatchSize},
	}
	for _, k := range checks {
		// 1<<20 keeps every product of two dimensions far from overflow.
		if k.v <= 0 || k.v > 1<<20 {
			return fmt.Errorf("%s = %d out of range", k.name, k.v)
		}
	}
	if !c.CogVLM2 && c.NumKeyValueHeads != c.NumAttentionHeads {
		return fmt.Errorf("num_key_value_heads %d != num_attention_heads %d: grouped-query attention needs a CogVLM2 checkpoint (with model.vision.conv.weight)", c.NumKeyValueHeads, c.NumAttentionHeads)
	}
	if c.NumKeyValueHeads <= 0 || c.NumKeyValueHeads > c.NumAttentionHeads || c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("KV heads %d do not divide num_attention_heads %d", c.NumKeyValueHeads, c.NumAttentionHeads)
	}
	if (c.HiddenSize/max(c.NumAttentionHeads, 1))%2 != 0 {
		return fmt.Errorf("head size %d is odd (RoPE rotates halves)", c.HiddenSize/c.NumAttentionHeads)
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if c.Vision.HiddenSize%c.Vision.NumHeads != 0 {
		return fmt.Errorf("vision_config.hidden_size %d not divisible by num_heads %d", c.Vision.HiddenSize, c.Vision.NumHeads)
	}
	if c.Vision.ImageSize%c.Vision.PatchSize != 0 {
		return fmt.Errorf("vision_config.image_size %d not divisible by patch_size %d", c.Vision.ImageSize, c.Vision.PatchSize)
	}
	g := c.Vision.ImageSize / c.Vision.PatchSize
	if c.CogVLM2 && g < 2 {
		return fmt.Errorf("vision grid %dx%d is smaller than the 2x2 downsample", g, g)
	}
	if c.Vision.NumPositions == 0 {
		c.Vision.NumPositions = g*g + 1
	}
	if c.Vision.NumPositions != g*g+1 {
		return fmt.Errorf("vision_config.num_positions %d != patches+1 = %d", c.Vision.NumPositions, g*g+1)
	}
	if c.TieWordEmbeddings {
		return fmt.Errorf("tie_word_embeddings = true is not a CogVLM checkpoint")
	}
	switch c.TemplateVersion {
	case "chat", "base", "vqa":
	default:
		return fmt.Errorf("template_version %q unknown (want chat, base or vqa)", c.TemplateVersion)
	}
	if c.HiddenAct != "" && c.HiddenAct != "silu" {
		return fmt.Errorf("hidden_act %q unsupported (want silu)", c.HiddenAct)
	}
	if c.Vision.HiddenAct != "" && c.Vision.HiddenAct != "gelu" {
		return fmt.Errorf("vision_config.hidden_act %q unsupported (want gelu)", c.Vision.HiddenAct)
	}
	if !(c.RMSNormEps > 0 && c.RMSNormEps < 1) || !(c.Vision.LayerNormEps > 0 && c.Vision.LayerNormEps < 1) {
		return fmt.Errorf("norm epsilons out of range (rms_norm_eps %g, vision layer_norm_eps %g)", c.RMSNormEps, c.Vision.LayerNormEps)
	}
	if c.MaxPositionEmbeddings <= 0 {
		return fmt.Errorf("max_position_embeddings = %d out of range", c.MaxPositionEmbeddings)
	}
	return nil
}
