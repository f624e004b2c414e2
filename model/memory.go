package model

// MemoryPlan is the memory a Context allocates, in bytes, known before it
// is allocated (Model.PlanMemory), so that a caller can report it and
// refuse a size that cannot fit.
type MemoryPlan struct {
	Slots int   // KV cache slots
	KV    int64 // the KV cache: 2 × Layers × Slots × kv width × element size
	// Scratch is the decoder's activations for one batch and the per-slot
	// bookkeeping, plus the thread pool's buffer for unpacking the largest
	// packed matrix in a prefill.
	Scratch int64
	// Vision is the vision tower's scratch, held while an image is encoded
	// (0 without a vision tower).
	Vision int64
	// Language is the size of the weights every decode step reads (the
	// language path, LanguageWeights); they must stay resident for decode
	// to run at memory speed.
	Language int64
}

// Context is the memory the Context itself allocates: KV cache, scratch
// and, while an image is encoded, the vision scratch.
func (p MemoryPlan) Context() int64 { return p.KV + p.Scratch + p.Vision }

// PlanMemory returns what NewContext(o) allocates, without allocating.
func (m *Model) PlanMemory(o ContextOptions) (MemoryPlan, error) {
	size, batch, err := contextSizes(o, m.Text.ContextLength)
	if err != nil {
		return MemoryPlan{}, err
	}
	t := &m.Text
	p := MemoryPlan{Slots: size}
	kvd := int64(t.HeadsKV * t.HeadDim)
	elem := int64(2)
	if o.KV == KVF32 {
		elem = 4
	}
	p.KV = 2 * int64(t.Layers) * int64(size) * kvd * elem
	H, B := int64(t.Hidden), int64(batch)
	ff := int64(t.FFN)
	for _, L := range m.layers {
		ff = max(ff, int64(L.visGate.Rows))
	}
	floats := 5*B*H + B*(H+2*kvd) + 2*B*kvd + 2*B*ff + H + int64(t.HeadDim/2)
	if size > batch { // the residual stream of a call longer than a batch
		floats += int64(size) * H
	}
	// types (1 byte each), posBuf (int32), relBuf, langBuf, maskBuf
	p.Scratch = 4*floats + int64(size)*(1+4+1+1+1)
	var largestPacked int64
	for _, w := range m.LanguageWeights() {
		p.Language += int64(len(w.Data))
		if w.Packed {
			largestPacked = max(largestPacked, int64(len(w.Data)))
		}
	}
	p.Scratch += largestPacked
	if vc := m.Vision; vc != nil {
		P, T, Hv, R := int64(vc.Patches), int64(vc.Patches+1), int64(vc.Hidden), int64(vc.Rows)
		p.Vision = 4 * (P*int64(vc.Channels*vc.PatchSize*vc.PatchSize) + 4*T*Hv + 3*T*Hv + 3*T*Hv +
			T*int64(vc.FFN) + 2*R*H + 2*R*int64(vc.AdapterFFN) + P*Hv)
		if vc.Downsample { // the conv's gathered blocks and output
			p.Vision += 4 * (R*4*Hv + R*Hv)
		}
	}
	return p, nil
}
