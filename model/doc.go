// Package model runs the CogVLM forward pass on the CPU from GGUF files:
// the EVA2-CLIP vision tower, the GLU adapter with boi/eoi, and the LLaMA
// decoder whose layers carry a second "visual expert" copy of the attention
// and MLP weights, chosen per token.
//
// Everything is read from the GGUF metadata and tensor shapes; no size is
// hard-coded, so the 17B model and tiny test checkpoints run through the
// same code. A file with architecture "llama" (or a cogvlm file without
// vision tensors) runs as a plain LLaMA decoder.
//
// Weights stay in the read-only mapping of the file and every matrix
// product goes through kernels.Pool.MatMul. Activations and the KV cache are
// allocated once per Context.
//
// The numerics follow the Hugging Face reference (see docs/cogvlm.md at the
// repository root): CLS prepended before the
// position embedding, post-sublayer LayerNorms and exact-erf GELU in the
// vision tower, LayerNorm eps 1e-5 in the adapter, per-token expert routing
// (boi and patches use the vision expert; BOS, eoi and text the language
// expert), the shared image position id, rotate-half RoPE indexed by
// position id, and RMSNorm with the weight applied before any cast.
//
// CogVLM2 (cogvlm2-llama3-chat-19B, docs/cogvlm2.md) is a configuration of
// the same graph, recognised from the file: a 2x2 stride-2 conv with bias
// after the ViT (v.conv.weight; CLS dropped first, an odd grid floored),
// grouped-query attention in both experts (attention.head_count_kv; the KV
// cache holds only the KV heads), a bias on the vision expert's QKV,
// RoPE from the checkpoint's stored inverse frequencies, Llama-3's special
// ids, and generation that stops on EOS or EOT.
package model
