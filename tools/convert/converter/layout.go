package converter

import (
	"fmt"
	"strings"
)

// Kind says what a tensor is, which decides how it may be stored.
type Kind int

// Tensor kinds.
const (
	// Matrix is a 2-D weight used in a matmul (or the token embedding):
	// quantizable.
	Matrix Kind = iota
	// Norm is a normalization weight (kept F32).
	Norm
	// Bias is a bias vector (kept F32).
	Bias
	// Embedding is a small learned table added or concatenated as is: the
	// CLS token, position embeddings, boi/eoi (kept F32).
	Embedding
	// Patch is the ViT patch convolution, whose rows (ne0 = patch size)
	// cannot be block-quantized (F32, or F16 for an F16 file).
	Patch
)

// Group is the part of the model a tensor belongs to; type overrides apply
// per group.
type Group int

// Tensor groups.
const (
	Text   Group = iota // the language model (Vicuna) and its embeddings
	Expert              // the per-layer visual expert of the language model
	Vision              // the ViT, the GLU adapter and boi/eoi (the mmproj part)
)

// Spec is one tensor of the output GGUF.
type Spec struct {
	Name  string   // GGUF name (llama.cpp's)
	HF    string   // Hugging Face name
	Shape []uint64 // ggml order: Shape[0] is the contiguous dimension
	Kind  Kind
	Group Group
	// Role is the llama.cpp-style role used by the type mixes
	// ("attn_qkv", "ffn_down", "output", "token_embd", …).
	Role string
	// Layer and Layers locate a per-layer tensor (Layer -1 otherwise).
	Layer, Layers int
	// HFDims, when set, is the PyTorch shape where it is not Shape
	// reversed (the same elements in the same order, another view).
	HFDims []int64
}

// Elements returns the number of elements of s.
func (s *Spec) Elements() uint64 {
	n := uint64(1)
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// HFShape returns the PyTorch shape (Shape reversed, unless HFDims says
// otherwise).
func (s *Spec) HFShape() []int64 {
	if s.HFDims != nil {
		return append([]int64(nil), s.HFDims...)
	}
	out := make([]int64, len(s.Shape))
	for i, d := range s.Shape {
		out[len(s.Shape)-1-i] = int64(d)
	}
	return out
}

// Layout lists every tensor of the converted model in file order: the
// language model first (llama.cpp's cogvlm names), then the vision tower,
// adapter and boi/eoi (llama.cpp's clip names). Shapes follow from c.
//
// CogVLM2 adds (llama.cpp has no CogVLM2 names; these follow its style):
//   - blk.N.vis_attn_qkv.bias: the vision expert's QKV bias;
//   - blk.N.rope_inv_freq: the checkpoint's RoPE inverse frequencies
//     (model.layers.N.self_attn.rotary_emb.inv_freq, BF16 values widened
//     to F32), when the checkpoint has them;
//   - v.conv.weight, v.conv.bias: the 2x2 stride-2 downsample conv, the
//     weight as a matrix [4·Hv, Hv] whose row o holds W[o, i, ky, kx] at
//     i·4 + ky·2 + kx (the checkpoint's own element order), so it is
//     quantized and multiplied like any matrix.
//
// Both QKV matrices are [H, (heads + 2·kv_heads)·head_dim]: Q rows, then
// K, then V, head-major in each block, as in the checkpoint.
func Layout(c *Config) []Spec {
	return layout(c, true)
}

// layout is Layout; invFreq false leaves out CogVLM2's rope_inv_freq
// tensors (for checkpoints that do not store them).
func layout(c *Config, invFreq bool) []Spec {
	H, I, V := uint64(c.HiddenSize), uint64(c.IntermediateSize), uint64(c.VocabSize)
	hd := H / uint64(c.NumAttentionHeads)
	QKV := uint64(c.NumAttentionHeads+2*c.NumKeyValueHeads) * hd
	vc := c.Vision
	Hv, Iv, P, C := uint64(vc.HiddenSize), uint64(vc.IntermediateSize), uint64(vc.PatchSize), uint64(vc.InChannels)
	L, Lv := c.NumHiddenLayers, vc.NumHiddenLayers
	var out []Spec
	add := func(name, hf string, kind Kind, g Group, role string, layer, layers int, shape ...uint64) {
		out = append(out, Spec{Name: name, HF: hf, Shape: shape, Kind: kind, Group: g, Role: role, Layer: layer, Layers: layers})
	}
	add("token_embd.weight", "model.embed_tokens.weight", Matrix, Text, "token_embd", -1, 0, H, V)
	for n := 0; n < L; n++ {
		b, p := fmt.Sprintf("blk.%d.", n), fmt.Sprintf("model.layers.%d.", n)
		add(b+"attn_norm.weight", p+"input_layernorm.weight", Norm, Text, "attn_norm", n, L, H)
		if c.CogVLM2 && invFreq {
			add(b+"rope_inv_freq", p+"self_attn.rotary_emb.inv_freq", Embedding, Text, "rope_inv_freq", n, L, hd/2)
		}
		add(b+"attn_qkv.weight", p+"self_attn.language_expert_query_key_value.weight", Matrix, Text, "attn_qkv", n, L, H, QKV)
		add(b+"attn_output.weight", p+"self_attn.language_expert_dense.weight", Matrix, Text, "attn_output", n, L, H, H)
		add(b+"vis_attn_qkv.weight", p+"self_attn.vision_expert_query_key_value.weight", Matrix, Expert, "attn_qkv", n, L, H, QKV)
		if c.CogVLM2 {
			add(b+"vis_attn_qkv.bias", p+"self_attn.vision_expert_query_key_value.bias", Bias, Expert, "attn_qkv", n, L, QKV)
		}
		add(b+"vis_attn_output.weight", p+"self_attn.vision_expert_dense.weight", Matrix, Expert, "attn_output", n, L, H, H)
		add(b+"ffn_norm.weight", p+"post_attention_layernorm.weight", Norm, Text, "ffn_norm", n, L, H)
		add(b+"ffn_gate.weight", p+"mlp.language_mlp.gate_proj.weight", Matrix, Text, "ffn_gate", n, L, H, I)
		add(b+"ffn_up.weight", p+"mlp.language_mlp.up_proj.weight", Matrix, Text, "ffn_up", n, L, H, I)
		add(b+"ffn_down.weight", p+"mlp.language_mlp.down_proj.weight", Matrix, Text, "ffn_down", n, L, I, H)
		add(b+"vis_gate.weight", p+"mlp.vision_mlp.gate_proj.weight", Matrix, Expert, "ffn_gate", n, L, H, I)
		add(b+"vis_up.weight", p+"mlp.vision_mlp.up_proj.weight", Matrix, Expert, "ffn_up", n, L, H, I)
		add(b+"vis_down.weight", p+"mlp.vision_mlp.down_proj.weight", Matrix, Expert, "ffn_down", n, L, I, H)
	}
	add("output_norm.weight", "model.norm.weight", Norm, Text, "output_norm", -1, 0, H)
	add("output.weight", "lm_head.weight", Matrix, Text, "output", -1, 0, H, V)

	const v = "model.vision."
	add("v.patch_embd.weight", v+"patch_embedding.proj.weight", Patch, Vision, "patch_embd", -1, 0, P, P, C, Hv)
	add("v.patch_embd.bias", v+"patch_embedding.proj.bias", Bias, Vision, "patch_embd", -1, 0, Hv)
	add("v.class_embd", v+"patch_embedding.cls_embedding", Embedding, Vision, "class_embd", -1, 0, Hv, 1)
	add("v.position_embd.weight", v+"patch_embedding.position_embedding.weight", Embedding, Vision, "position_embd", -1, 0, Hv, uint64(vc.NumPositions))
	for m := 0; m < Lv; m++ {
		b, p := fmt.Sprintf("v.blk.%d.", m), fmt.Sprintf("%stransformer.layers.%d.", v, m)
		add(b+"attn_qkv.weight", p+"attention.query_key_value.weight", Matrix, Vision, "attn_qkv", m, Lv, Hv, 3*Hv)
		add(b+"attn_qkv.bias", p+"attention.query_key_value.bias", Bias, Vision, "attn_qkv", m, Lv, 3*Hv)
		add(b+"attn_out.weight", p+"attention.dense.weight", Matrix, Vision, "attn_output", m, Lv, Hv, Hv)
		add(b+"attn_out.bias", p+"attention.dense.bias", Bias, Vision, "attn_output", m, Lv, Hv)
		add(b+"ln1.weight", p+"input_layernorm.weight", Norm, Vision, "ln1", m, Lv, Hv)
		add(b+"ln1.bias", p+"input_layernorm.bias", Bias, Vision, "ln1", m, Lv, Hv)
		add(b+"ffn_up.weight", p+"mlp.fc1.weight", Matrix, Vision, "ffn_up", m, Lv, Hv, Iv)
		add(b+"ffn_up.bias", p+"mlp.fc1.bias", Bias, Vision, "ffn_up", m, Lv, Iv)
		add(b+"ffn_down.weight", p+"mlp.fc2.weight", Matrix, Vision, "ffn_down", m, Lv, Iv, Hv)
		add(b+"ffn_down.bias", p+"mlp.fc2.bias", Bias, Vision, "ffn_down", m, Lv, Hv)
		add(b+"ln2.weight", p+"post_attention_layernorm.weight", Norm, Vision, "ln2", m, Lv, Hv)
		add(b+"ln2.bias", p+"post_attention_layernorm.bias", Bias, Vision, "ln2", m, Lv, Hv)
	}
	if c.CogVLM2 {
		add("v.conv.weight", v+"conv.weight", Matrix, Vision, "v_conv", -1, 0, 4*Hv, Hv)
		out[len(out)-1].HFDims = []int64{int64(Hv), int64(Hv), 2, 2}
		add("v.conv.bias", v+"conv.bias", Bias, Vision, "v_conv", -1, 0, Hv)
	}
	add("mm.model.fc.weight", v+"linear_proj.linear_proj.weight", Matrix, Vision, "mm_fc", -1, 0, Hv, H)
	add("mm.post_fc_norm.weight", v+"linear_proj.norm1.weight", Norm, Vision, "mm_norm", -1, 0, H)
	add("mm.post_fc_norm.bias", v+"linear_proj.norm1.bias", Bias, Vision, "mm_norm", -1, 0, H)
	add("mm.gate.weight", v+"linear_proj.gate_proj.weight", Matrix, Vision, "mm_gate", -1, 0, H, I)
	add("mm.up.weight", v+"linear_proj.dense_h_to_4h.weight", Matrix, Vision, "mm_up", -1, 0, H, I)
	add("mm.down.weight", v+"linear_proj.dense_4h_to_h.weight", Matrix, Vision, "mm_down", -1, 0, I, H)
	add("v.boi", v+"boi", Embedding, Vision, "boi", -1, 0, H, 1, 1)
	add("v.eoi", v+"eoi", Embedding, Vision, "eoi", -1, 0, H, 1, 1)
	return out
}

// ignoredHF reports whether an HF tensor is deliberately not converted:
// the RoPE inverse-frequency buffers some CogVLM-1 checkpoints carry
// (cogedge, like llama.cpp, recomputes them from the base; CogVLM2's are
// converted, see Layout).
func ignoredHF(name string) bool {
	return strings.HasSuffix(name, ".rotary_emb.inv_freq")
}

// ParamCount returns the number of parameters of the model described by c.
func ParamCount(c *Config) uint64 {
	var n uint64
	for _, s := range Layout(c) {
		n += s.Elements()
	}
	return n
}
