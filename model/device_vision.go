package model

import (
	"fmt"
	"math"

	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/kernels/metal"
)

// deviceVision is the vision tower's scratch in device memory, allocated
// on the first image and freed by ReleaseVision.
type deviceVision struct {
	bufs                    []metal.Buffer
	patches                 metal.View // P × C·ps·ps
	x, xn, att, o           metal.View // T × Hv
	qkv                     metal.View // T × 3Hv (fused), or q, k, v below
	q, k, v                 metal.View // T × Hv (split projections)
	mlp                     metal.View // T × FFN
	h, hn, gate, up, out    metal.View // adapter: R × H, R × AdapterFFN, R × H
	convIn                  []float32  // downsample (CogVLM2): the host gather
	convInView, convOutView metal.View // R × 4Hv, R × Hv
	patchHost, vitHost      []float32
}

// placeVision makes the vision tower's and adapter's weights views of the
// file mapping (vectors the file does not store as F32 are copied).
func (d *DeviceContext) placeVision() error {
	w := d.m.vis
	if w == nil {
		return nil
	}
	mats := []*Matrix{&w.patch, &w.conv, &w.fc, &w.gate, &w.up, &w.down}
	vecs := []struct {
		name string
		x    []float32
	}{{"v.patch_embd.bias", w.patchB}, {"v.class_embd", w.cls}, {"v.position_embd.weight", w.pos},
		{"v.conv.bias", w.convB}, {"mm.post_fc_norm.weight", w.normW}, {"mm.post_fc_norm.bias", w.normB}}
	for i := range w.layers {
		L := &w.layers[i]
		mats = append(mats, &L.qkv, &L.q, &L.k, &L.v, &L.out, &L.fc1, &L.fc2)
		p := fmt.Sprintf("v.blk.%d.", i)
		for _, v := range []struct {
			name string
			x    []float32
		}{{"attn_qkv.bias", L.qkvB}, {"attn_q.bias", L.qB}, {"attn_k.bias", L.kB}, {"attn_v.bias", L.vB},
			{"attn_out.bias", L.outB}, {"ln1.weight", L.ln1W}, {"ln1.bias", L.ln1B}, {"ln2.weight", L.ln2W},
			{"ln2.bias", L.ln2B}, {"ffn_up.bias", L.fc1B}, {"ffn_down.bias", L.fc2B}} {
			vecs = append(vecs, struct {
				name string
				x    []float32
			}{p + v.name, v.x})
		}
	}
	for _, m := range mats {
		if err := d.placeMatrix(m); err != nil {
			return err
		}
	}
	for _, v := range vecs {
		if err := d.placeVector(v.name, v.x); err != nil {
			return err
		}
	}
	return nil
}

// visionScratch allocates the vision scratch on first use.
func (d *DeviceContext) visionScratch() (*deviceVision, error) {
	if d.dv != nil {
		return d.dv, nil
	}
	vc, H := d.m.Vision, d.m.Text.Hidden
	P, T, Hv, R := vc.Patches, vc.Patches+1, vc.Hidden, vc.Rows
	kp := vc.Channels * vc.PatchSize * vc.PatchSize
	s := &deviceVision{patchHost: make([]float32, P*kp)}
	sizes := []struct {
		v *metal.View
		n int
	}{{&s.patches, P * kp}, {&s.x, T * Hv}, {&s.xn, T * Hv}, {&s.att, T * Hv}, {&s.o, T * Hv},
		{&s.mlp, T * vc.FFN}, {&s.h, R * H}, {&s.hn, R * H}, {&s.gate, R * vc.AdapterFFN},
		{&s.up, R * vc.AdapterFFN}, {&s.out, R * H}}
	if d.m.vis.layers[0].qkv.Data != nil {
		sizes = append(sizes, struct {
			v *metal.View
			n int
		}{&s.qkv, T * 3 * Hv})
	} else {
		for _, v := range []*metal.View{&s.q, &s.k, &s.v} {
			sizes = append(sizes, struct {
				v *metal.View
				n int
			}{v, T * Hv})
		}
	}
	if vc.Downsample {
		s.vitHost, s.convIn = make([]float32, P*Hv), make([]float32, R*4*Hv)
		sizes = append(sizes, struct {
			v *metal.View
			n int
		}{&s.convInView, R * 4 * Hv}, struct {
			v *metal.View
			n int
		}{&s.convOutView, R * Hv})
	}
	for _, z := range sizes {
		b, err := d.dev.NewBuffer(4 * z.n)
		if err != nil {
			s.free(d.dev)
			return nil, fmt.Errorf("model: vision scratch: %w", err)
		}
		s.bufs = append(s.bufs, b)
		*z.v = metal.View{Buf: b}
	}
	d.dv = s
	return s, nil
}

func (s *deviceVision) free(dev metal.Device) {
	for _, b := range s.bufs {
		dev.Free(b)
	}
	s.bufs = nil
}

// EncodeImage runs the vision tower (patch embedding, every ViT layer
// with full flash-style attention, exact-erf GELU) and the GLU adapter on
// the device — Context.EncodeImage's ops in its order — and writes the
// image rows [boi, rows…, eoi] to dst. Only the pixels go in and the rows
// come back; CogVLM2's 2×2 downsample gathers its input on the host
// between two command buffers.
func (d *DeviceContext) EncodeImage(dst, pixels []float32) error {
	vc := d.m.Vision
	if vc == nil {
		return ErrNoVision
	}
	if len(dst) != d.m.ImageEmbeds() {
		return fmt.Errorf("model: image embedding buffer of %d floats, want %d", len(dst), d.m.ImageEmbeds())
	}
	if len(pixels) != d.m.PixelCount() {
		return fmt.Errorf("model: %d pixel floats, want %d (3x%dx%d)", len(pixels), d.m.PixelCount(), vc.ImageSize, vc.ImageSize)
	}
	s, err := d.visionScratch()
	if err != nil {
		return err
	}
	if err := d.vit(s, pixels); err != nil {
		return err
	}
	rows := s.x.At(4 * vc.Hidden) // the ViT output without CLS
	if vc.Downsample {
		if err := d.downsample(s); err != nil {
			return err
		}
		rows = s.convOutView
	}
	if err := d.adapter(s, rows); err != nil {
		return err
	}
	if err := d.dev.Sync(); err != nil {
		return fmt.Errorf("model: device vision tower: %w", err)
	}
	H, R := d.m.Text.Hidden, vc.Rows
	copy(dst[:H], d.m.vis.boi)
	getF32s(dst[H:(R+1)*H], s.out)
	copy(dst[(R+1)*H:], d.m.vis.eoi)
	return nil
}

// vit encodes the ViT over the pixels; the residual stream ends in s.x.
func (d *DeviceContext) vit(s *deviceVision, pixels []float32) error {
	vc, w, ops := d.m.Vision, d.m.vis, d.ops
	P, T, Hv := vc.Patches, vc.Patches+1, vc.Hidden
	unfoldPatches(s.patchHost, pixels, vc)
	// host writes before this command buffer's first dispatch
	putF32s(s.patches, s.patchHost)
	putF32s(s.x, w.cls)
	if err := d.matmul(s.x.At(4*Hv), &w.patch, 0, Hv, s.patches, P); err != nil {
		return err
	}
	if err := ops.Add(s.x.At(4*Hv), s.x.At(4*Hv), d.vecs[&w.patchB[0]], P*Hv, Hv); err != nil {
		return err
	}
	if err := ops.Add(s.x, s.x, d.vecs[&w.pos[0]], T*Hv, T*Hv); err != nil {
		return err
	}
	hd := Hv / vc.Heads
	ap := kernels.AttnParams{NHead: vc.Heads, NHeadKV: vc.Heads, HeadDim: hd, Scale: float32(1 / math.Sqrt(float64(hd)))}
	for l := range w.layers {
		L := &w.layers[l]
		if err := d.vitAttention(s, L, T, Hv, ap); err != nil {
			return fmt.Errorf("model: vision layer %d: %w", l, err)
		}
		// x += LN(o + out bias); the MLP; x += LN(fc2(gelu(fc1 x)))
		if err := d.postNormAdd(s, &L.out, L.outB, L.ln1W, L.ln1B, s.att, T); err != nil {
			return fmt.Errorf("model: vision layer %d: %w", l, err)
		}
		if err := d.matmul(s.mlp, &L.fc1, 0, vc.FFN, s.x, T); err != nil {
			return err
		}
		if err := ops.Add(s.mlp, s.mlp, d.vecs[&L.fc1B[0]], T*vc.FFN, vc.FFN); err != nil {
			return err
		}
		if err := ops.GELU(s.mlp, s.mlp, T*vc.FFN); err != nil {
			return err
		}
		if err := d.postNormAdd(s, &L.fc2, L.fc2B, L.ln2W, L.ln2B, s.mlp, T); err != nil {
			return fmt.Errorf("model: vision layer %d: %w", l, err)
		}
	}
	return nil
}

// vitAttention writes the layer's full (bidirectional) attention over all
// T rows to s.att: QKV projections with bias, then the flash-style kernel,
// which streams the keys and never stores a T×T matrix.
func (d *DeviceContext) vitAttention(s *deviceVision, L *visionLayer, T, Hv int, ap kernels.AttnParams) error {
	ops := d.ops
	if L.qkv.Data != nil {
		if err := d.matmul(s.qkv, &L.qkv, 0, 3*Hv, s.x, T); err != nil {
			return err
		}
		if err := ops.Add(s.qkv, s.qkv, d.vecs[&L.qkvB[0]], T*3*Hv, 3*Hv); err != nil {
			return err
		}
		return ops.AttentionStrided(s.att, s.qkv, s.qkv.At(4*Hv), s.qkv.At(8*Hv), false, T, T, 3*Hv, 3*Hv, Hv, ap)
	}
	for _, p := range []struct {
		y metal.View
		w *Matrix
		b []float32
	}{{s.q, &L.q, L.qB}, {s.k, &L.k, L.kB}, {s.v, &L.v, L.vB}} {
		if err := d.matmul(p.y, p.w, 0, Hv, s.x, T); err != nil {
			return err
		}
		if err := ops.Add(p.y, p.y, d.vecs[&p.b[0]], T*Hv, Hv); err != nil {
			return err
		}
	}
	return ops.Attention(s.att, s.q, s.k, s.v, false, T, T, ap)
}

// postNormAdd is EVA's post-norm residual: x += LN(w·in + bias).
func (d *DeviceContext) postNormAdd(s *deviceVision, w *Matrix, bias, lnW, lnB []float32, in metal.View, T int) error {
	vc, ops := d.m.Vision, d.ops
	Hv := vc.Hidden
	if err := d.matmul(s.o, w, 0, Hv, in, T); err != nil {
		return err
	}
	if err := ops.Add(s.o, s.o, d.vecs[&bias[0]], T*Hv, Hv); err != nil {
		return err
	}
	if err := ops.LayerNorm(s.xn, s.o, d.vecs[&lnW[0]], d.vecs[&lnB[0]], Hv, T, vc.LNEps); err != nil {
		return err
	}
	return ops.Add(s.x, s.x, s.xn, T*Hv, T*Hv)
}

// downsample runs CogVLM2's 2×2 stride-2 conv: the ViT rows come back to
// the host (one Sync), are gathered into 2×2 blocks there as
// Context.Downsample does, and go through the conv matrix and its bias
// on the device.
func (d *DeviceContext) downsample(s *deviceVision) error {
	vc, w := d.m.Vision, d.m.vis
	Hv, R, g := vc.Hidden, vc.Rows, vc.Grid
	if err := d.dev.Sync(); err != nil {
		return fmt.Errorf("model: device vision tower: %w", err)
	}
	getF32s(s.vitHost, s.x.At(4*Hv))
	gatherConvBlocks(s.convIn, s.vitHost, Hv, g, 0, R)
	putF32s(s.convInView, s.convIn)
	if err := d.matmul(s.convOutView, &w.conv, 0, Hv, s.convInView, R); err != nil {
		return err
	}
	return d.ops.Add(s.convOutView, s.convOutView, d.vecs[&w.convB[0]], R*Hv, Hv)
}

// adapter runs the GLU adapter on R rows at rows into s.out.
func (d *DeviceContext) adapter(s *deviceVision, rows metal.View) error {
	vc, w, ops := d.m.Vision, d.m.vis, d.ops
	R, H, F := vc.Rows, d.m.Text.Hidden, vc.AdapterFFN
	if err := d.matmul(s.h, &w.fc, 0, H, rows, R); err != nil {
		return err
	}
	if err := ops.LayerNorm(s.hn, s.h, d.vecs[&w.normW[0]], d.vecs[&w.normB[0]], H, R, vc.AdapterEps); err != nil {
		return err
	}
	if err := ops.GELU(s.hn, s.hn, R*H); err != nil {
		return err
	}
	if err := d.matmul(s.gate, &w.gate, 0, F, s.hn, R); err != nil {
		return err
	}
	if err := d.matmul(s.up, &w.up, 0, F, s.hn, R); err != nil {
		return err
	}
	if err := ops.SwiGLU(s.gate, s.gate, s.up, R*F); err != nil {
		return err
	}
	return d.matmul(s.out, &w.down, 0, H, s.gate, R)
}
