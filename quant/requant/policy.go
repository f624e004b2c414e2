package requant

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cogedge/cogedge/quant"
)

// This file decides each tensor's type. It follows llama-quantize at
// llama.cpp commit 66d65ec2 (src/llama-quant.cpp: llama_model_quantize_impl
// and llama_tensor_get_type), restricted to the mixes of ftype.go:
//
// Which tensors are quantized: names ending in "weight" with at least two
// dimensions, except "_norm.weight", "ffn_gate_inp.weight", "altup",
// "laurel", "per_layer_model_proj", "position_embd.weight",
// "token_types.weight", "ssm_conv1d", "shortconv.conv.weight", the RWKV
// "time_mix_*" weights, "attn_rel_b.weight" and anything containing
// ".position_embd.". Every other tensor (1-D norms and biases, CogVLM's
// v.class_embd, v.boi, v.eoi, v.position_embd.weight) is copied unchanged.
//
// The type of a quantized tensor, for a quantized mix and without --pure
// (F32/F16/BF16 mixes convert every candidate to that type):
//   - output.weight, and token_embd.weight when the file has no
//     output.weight (tied embeddings): Q8_0 for arch "falcon" or when ne0 is
//     not a multiple of the mix's block size; otherwise Q6_K unless the mix
//     is Q8_0 (which stays Q8_0).
//   - token_embd.weight otherwise: the mix's type (llama.cpp changes it only
//     for IQ1/IQ2/IQ3/TQ mixes, which we do not produce).
//   - names containing "attn_v.weight" (i = index among them, n = number of
//     attn_v/attn_qkv/attn_kv_b weights): IQ4_NL with n_head/n_head_kv >= 4
//     → Q5_K; Q4_K_M and Q5_K_M → Q6_K when use_more_bits(i, n); Q4_K_S → Q5_K
//     for i < 4; 8 experts → Q8_0.
//   - "attn_k.weight": 8 experts → Q8_0.
//   - "ffn_down" (i = index among them, n = block_count): Q4_K_M → Q6_K when
//     use_more_bits(i, n) (falcon: Q6_K for i < n/16, else Q5_K when
//     use_more_bits, else Q4_K); IQ4_NL → Q5_K for i < n/8; Q5_K_M → Q6_K
//     when use_more_bits; Q4_K_S (not falcon) → Q5_K for i < n/8.
//   - "attn_output.weight": with 8 experts, Q4_K_S/Q4_K_M/IQ4_NL → Q5_K.
//   - "attn_qkv.weight" (also CogVLM's vis_attn_qkv and v.blk.*.attn_qkv):
//     Q4_K_M → Q5_K, Q5_K_M → Q6_K.
//   - use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2.
//   - llama.cpp's 70B rule (attn_v Q4_K → Q5_K when the model is a 70B
//     LLaMA) is not implemented.
//
// Then, when ne0 is not a multiple of the chosen type's block size, the
// llama.cpp fallback: Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and F16 when
// even that does not divide ne0 (e.g. the ViT patch embedding, ne0 = 14);
// for the 32-block types, where llama.cpp gives up, F16 directly.
//
// Tensors are processed, and written, in llama.cpp's order: by layer number
// parsed from a "blk.N." prefix (-1 when absent), then by name. The layer
// indices i above count tensors in that order, as llama.cpp does; in a
// CogVLM file the vision tower's "v.blk.N." tensors keep their own counters
// (and their n is the number of vision layers), so they do not shift the
// text model's choices — llama.cpp has no rule for mixed files.
//
// Differences from llama-quantize, on purpose: --type-for overrides apply
// with --pure too (llama.cpp ignores them there), and --pure leaves a tensor
// whose ne0 is not a multiple of the block size unchanged (llama.cpp
// aborts), and so does a mix of 32-block types, which falls back to F16
// (llama.cpp aborts). There is no importance matrix.

// Override forces the type of tensors whose name matches Pattern
// (llama-quantize --tensor-type). The first matching override wins.
type Override struct {
	Pattern *regexp.Regexp
	Type    quant.Type
}

// tensorMeta is what the policy needs to know about one tensor.
type tensorMeta struct {
	name  string
	typ   quant.Type
	shape []uint64
}

// modelInfo holds the hyperparameters the rules consult.
type modelInfo struct {
	arch      string
	nLayer    int // {arch}.block_count
	nExpert   int // {arch}.expert_count
	nGQA      int // head_count / head_count_kv (0 if unknown)
	hasOutput bool
}

// family is the tensor-name prefix that owns the layer counters: "" for the
// language model, "v." for the vision tower (anything before "blk.").
func family(name string) string {
	if i := strings.Index(name, "blk."); i > 0 {
		return name[:i]
	}
	return ""
}

// layerOf parses llama.cpp's sscanf(name, "blk.%d.", &layer): the number
// after a "blk." prefix, or -1 when there is none.
func layerOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	end := 0
	if end < len(rest) && (rest[0] == '-' || rest[0] == '+') {
		end++
	}
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return -1
	}
	return n
}

// sortLlama orders tensors as llama_model_loader's weights_map does.
func sortLlama(ts []tensorMeta) {
	sort.SliceStable(ts, func(a, b int) bool {
		la, lb := layerOf(ts[a].name), layerOf(ts[b].name)
		if la != lb {
			return la < lb
		}
		return ts[a].name < ts[b].name
	})
}

// shouldQuantize is llama-quantize's filter of candidate tensors.
func shouldQuantize(name string, nDims int) bool {
	if !strings.HasSuffix(name, "weight") || nDims < 2 {
		return false
	}
	for _, s := range []string{"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj",
		"ssm_conv1d", "shortconv.conv.weight", "attn_rel_b.weight", ".position_embd.",
		"time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
		"time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
		"time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
		"time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight"} {
		if strings.Contains(name, s) {
			return false
		}
	}
	return name != "position_embd.weight" && name != "token_types.weight"
}

// nDims is ggml_n_dims: the number of dimensions up to the last one > 1 (at least 1).
func nDims(shape []uint64) int {
	n := 1
	for i, d := range shape {
		if d > 1 {
			n = i + 1
		}
	}
	return n
}

// planner carries llama.cpp's quantize_state counters.
type planner struct {
	info     modelInfo
	ftype    FType
	nAttnWV  map[string]int
	iAttnWV  map[string]int
	nFFNDown map[string]int
	iFFNDown map[string]int
}

func newPlanner(info modelInfo, ft FType, ts []tensorMeta) *planner {
	p := &planner{info: info, ftype: ft, nAttnWV: map[string]int{}, iAttnWV: map[string]int{},
		nFFNDown: map[string]int{}, iFFNDown: map[string]int{}}
	layers := map[string]int{}
	for _, t := range ts {
		fam := family(t.name)
		if strings.Contains(t.name, "attn_v.weight") || strings.Contains(t.name, "attn_qkv.weight") || strings.Contains(t.name, "attn_kv_b.weight") {
			p.nAttnWV[fam]++
		}
		if fam != "" {
			if l := layerOf(t.name[len(fam):]); l+1 > layers[fam] {
				layers[fam] = l + 1
			}
		}
	}
	for fam, n := range layers {
		p.nFFNDown[fam] = n
	}
	p.nFFNDown[""] = info.nLayer
	return p
}

func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// getType is llama_tensor_get_type for our mixes.
func (p *planner) getType(newType quant.Type, t tensorMeta) quant.Type {
	name, ft, falcon := t.name, p.ftype, p.info.arch == "falcon"
	fam := family(name)
	switch {
	case name == "output.weight" || (!p.info.hasOutput && name == "token_embd.weight"):
		nx := t.shape[0]
		if falcon || nx%uint64(newType.BlockSize()) != 0 {
			return quant.Q8_0
		}
		if newType != quant.Q8_0 {
			return quant.Q6_K
		}
		return newType
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return newType
	case strings.Contains(name, "attn_v.weight"):
		i, n := p.iAttnWV[fam], p.nAttnWV[fam]
		switch {
		case ft == MostlyIQ4_NL && p.info.nGQA >= 4:
			newType = quant.Q5_K
		case (ft == MostlyQ4_K_M || ft == MostlyQ5_K_M) && useMoreBits(i, n):
			newType = quant.Q6_K
		case ft == MostlyQ4_K_S && i < 4:
			newType = quant.Q5_K
		}
		if p.info.nExpert == 8 {
			newType = quant.Q8_0
		}
		p.iAttnWV[fam]++
	case strings.Contains(name, "attn_k.weight"):
		if p.info.nExpert == 8 {
			newType = quant.Q8_0
		}
	case strings.Contains(name, "attn_q.weight"):
		// Rules only for IQ3 mixes.
	case strings.Contains(name, "ffn_down"):
		i, n := p.iFFNDown[fam], p.nFFNDown[fam]
		if p.info.nExpert > 1 {
			if l := layerOf(name[len(fam):]); l >= 0 {
				i = l
			}
		}
		switch {
		case ft == MostlyQ4_K_M:
			if falcon {
				switch {
				case i < n/16:
					newType = quant.Q6_K
				case useMoreBits(i, n):
					newType = quant.Q5_K
				default:
					newType = quant.Q4_K
				}
			} else if useMoreBits(i, n) {
				newType = quant.Q6_K
			}
		case i < n/8 && ft == MostlyIQ4_NL:
			newType = quant.Q5_K
		case ft == MostlyQ5_K_M && useMoreBits(i, n):
			newType = quant.Q6_K
		case ft == MostlyQ4_K_S && !falcon && i < n/8:
			newType = quant.Q5_K
		}
		p.iFFNDown[fam]++
	case strings.Contains(name, "attn_output.weight"):
		if !falcon && p.info.nExpert == 8 && (ft == MostlyQ4_K_S || ft == MostlyQ4_K_M || ft == MostlyIQ4_NL) {
			newType = quant.Q5_K
		}
	case strings.Contains(name, "attn_qkv.weight"):
		switch ft {
		case MostlyQ4_K_M:
			newType = quant.Q5_K
		case MostlyQ5_K_M:
			newType = quant.Q6_K
		}
	}
	return newType
}

// fallback is llama.cpp's replacement for a type whose block does not
// divide ne0. Where llama.cpp has none (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// IQ4_NL: it aborts with "Unsupported tensor size") we use F16, so that a
// CogVLM file whose ViT patch embedding has ne0 = 14 quantizes with every
// mix; ok is false only for types that cannot be chosen at all.
func fallback(t quant.Type, ne0 uint64) (quant.Type, bool) {
	var nt quant.Type
	switch t {
	case quant.Q2_K, quant.Q3_K, quant.IQ4_XS, quant.IQ2_XXS, quant.IQ2_XS, quant.IQ2_S, quant.IQ3_XXS, quant.IQ3_S, quant.IQ1_S, quant.IQ1_M:
		nt = quant.IQ4_NL
	case quant.TQ1_0, quant.TQ2_0:
		nt = quant.Q4_0
	case quant.Q4_K:
		nt = quant.Q5_0
	case quant.Q5_K:
		nt = quant.Q5_1
	case quant.Q6_K:
		nt = quant.Q8_0
	case quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL, quant.MXFP4:
		nt = quant.F16
	default:
		return 0, false
	}
	if ne0%uint64(nt.BlockSize()) != 0 {
		nt = quant.F16
	}
	return nt, true
}
