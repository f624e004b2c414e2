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
package model
