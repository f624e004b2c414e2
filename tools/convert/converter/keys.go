package converter

// KV is one metadata entry to write; Value is a type gguf.Writer.SetKV
// accepts.
type KV struct {
	Key   string
	Value any
}

// CLIP's image normalization, which CogVLM's preprocessing uses.
var (
	CLIPMean = []float32{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = []float32{0.26862954, 0.26130258, 0.27577711}
)

// AdapterLayerNormEps is the epsilon of the GLU adapter's LayerNorm: the
// PyTorch default, not a config value.
const AdapterLayerNormEps = 1e-5

// quantizationVersion is ggml's GGML_QUANT_VERSION.
const quantizationVersion = 2

// generalKeys returns the general.* entries of one output file.
func generalKeys(arch, name string, fileType uint32, mmproj bool) []KV {
	kv := []KV{{"general.architecture", arch}}
	if mmproj {
		kv = append(kv, KV{"general.type", "mmproj"})
	}
	return append(kv,
		KV{"general.name", name},
		KV{"general.file_type", fileType},
		KV{"general.quantization_version", uint32(quantizationVersion)},
	)
}

// textKeys returns the language-model hyperparameters under llama.cpp's
// "cogvlm" architecture, plus cogedge's cogvlm.template.
func textKeys(c *Config) []KV {
	u := func(v int) uint32 { return uint32(v) }
	return []KV{
		{"cogvlm.context_length", u(c.MaxPositionEmbeddings)},
		{"cogvlm.embedding_length", u(c.HiddenSize)},
		{"cogvlm.block_count", u(c.NumHiddenLayers)},
		{"cogvlm.feed_forward_length", u(c.IntermediateSize)},
		{"cogvlm.attention.head_count", u(c.NumAttentionHeads)},
		{"cogvlm.attention.head_count_kv", u(c.NumKeyValueHeads)},
		{"cogvlm.attention.layer_norm_rms_epsilon", float32(c.RMSNormEps)},
		{"cogvlm.rope.dimension_count", u(c.HiddenSize / c.NumAttentionHeads)},
		{"cogvlm.rope.freq_base", float32(c.RopeTheta)},
		{"cogvlm.vocab_size", u(c.VocabSize)},
		{"cogvlm.template", c.TemplateVersion},
	}
}

// visionKeys returns the clip.* keys llama.cpp's mtmd reads for a CogVLM
// projector, plus cogedge's cogvlm.vision.* / cogvlm.adapter.* keys for
// what llama.cpp cannot express.
func visionKeys(c *Config) []KV {
	u := func(v int) uint32 { return uint32(v) }
	vc := c.Vision
	return []KV{
		{"clip.has_vision_encoder", true},
		{"clip.projector_type", "cogvlm"},
		{"clip.use_gelu", true},
		{"clip.vision.image_size", u(vc.ImageSize)},
		{"clip.vision.patch_size", u(vc.PatchSize)},
		{"clip.vision.embedding_length", u(vc.HiddenSize)},
		{"clip.vision.feed_forward_length", u(vc.IntermediateSize)},
		{"clip.vision.block_count", u(vc.NumHiddenLayers)},
		{"clip.vision.attention.head_count", u(vc.NumHeads)},
		{"clip.vision.attention.layer_norm_epsilon", float32(vc.LayerNormEps)},
		{"clip.vision.projection_dim", u(c.HiddenSize)},
		{"clip.vision.image_mean", append([]float32(nil), CLIPMean...)},
		{"clip.vision.image_std", append([]float32(nil), CLIPStd...)},
		{"cogvlm.vision.image_size", u(vc.ImageSize)},
		{"cogvlm.vision.patch_size", u(vc.PatchSize)},
		{"cogvlm.vision.num_positions", u(vc.NumPositions)},
		{"cogvlm.vision.layer_norm_epsilon", float32(vc.LayerNormEps)},
		{"cogvlm.vision.image_mean", append([]float32(nil), CLIPMean...)},
		{"cogvlm.vision.image_std", append([]float32(nil), CLIPStd...)},
		{"cogvlm.adapter.layer_norm_epsilon", float32(AdapterLayerNormEps)},
	}
}
