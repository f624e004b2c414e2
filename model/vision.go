package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/cogedge/cogedge/kernels"
)

// visionScratch holds the vision tower's activations, allocated on the
// first image and reused.
type visionScratch struct {
	patches         []float32 // P x C*ps*ps
	x, xn, att, o   []float32 // T x Hv (T = P+1)
	qkv             []float32 // T x 3Hv
	q, k, v         []float32 // T x Hv
	mlp             []float32 // T x FFN
	h, hn, gate, up []float32 // adapter: R x H, R x AdapterFFN (R = Rows)
	vit             []float32 // P x Hv: EncodeImage's ViT output
	convIn, conv    []float32 // downsample: R x 4Hv gathered 2x2 blocks, R x Hv output
}

func (c *Context) visionScratch() *visionScratch {
	if c.vs != nil {
		return c.vs
	}
	vc := c.m.Vision
	P, T, Hv, R := vc.Patches, vc.Patches+1, vc.Hidden, vc.Rows
	H := c.m.Text.Hidden
	c.vs = &visionScratch{
		patches: make([]float32, P*vc.Channels*vc.PatchSize*vc.PatchSize),
		x:       make([]float32, T*Hv),
		xn:      make([]float32, T*Hv),
		att:     make([]float32, T*Hv),
		o:       make([]float32, T*Hv),
		qkv:     make([]float32, T*3*Hv),
		q:       make([]float32, T*Hv),
		k:       make([]float32, T*Hv),
		v:       make([]float32, T*Hv),
		mlp:     make([]float32, T*vc.FFN),
		h:       make([]float32, R*H),
		hn:      make([]float32, R*H),
		gate:    make([]float32, R*vc.AdapterFFN),
		up:      make([]float32, R*vc.AdapterFFN),
		vit:     make([]float32, P*Hv),
	}
	if vc.Downsample {
		c.vs.convIn = make([]float32, R*4*Hv)
		c.vs.conv = make([]float32, R*Hv)
	}
	return c.vs
}

// ReleaseVision drops the vision tower's scratch buffers (hundreds of MB
// for the 17B model); the next image allocates them again.
func (c *Context) ReleaseVision() { c.vs = nil }

// ErrNoVision is returned when an image is given to a model without a
// vision tower.
var ErrNoVision = errors.New("model: the model has no vision tower")

// PixelCount returns the number of floats EncodeImage expects: 3 x S x S
// for the model's image side S.
func (m *Model) PixelCount() int {
	if m.Vision == nil {
		return 0
	}
	s := m.Vision.ImageSize
	return m.Vision.Channels * s * s
}

// ViT runs the vision tower on preprocessed pixels (CHW float32, 3 x S x
// S) and writes the output rows without CLS (Patches x Hv) to dst.
func (c *Context) ViT(dst, pixels []float32) error { return c.ViTStates(dst, nil, pixels) }

// ViTStates is ViT that also copies the residual stream, CLS row
// included, into states when it is not nil: (Layers+1) x (Patches+1) x
// Hv floats, [0] the embeddings entering the first layer and [i] the
// output of layer i (a debugging aid, compared with the reference's dumps).
func (c *Context) ViTStates(dst, states, pixels []float32) error {
	vc := c.m.Vision
	if vc == nil {
		return ErrNoVision
	}
	if len(pixels) != c.m.PixelCount() {
		return fmt.Errorf("model: %d pixel floats, want %d (3x%dx%d)", len(pixels), c.m.PixelCount(), vc.ImageSize, vc.ImageSize)
	}
	P, T, Hv := vc.Patches, vc.Patches+1, vc.Hidden
	if len(dst) != P*Hv {
		return fmt.Errorf("model: ViT output buffer of %d floats, want %d", len(dst), P*Hv)
	}
	if states != nil && len(states) != (vc.Layers+1)*T*Hv {
		return fmt.Errorf("model: ViT states buffer of %d floats, want %d", len(states), (vc.Layers+1)*T*Hv)
	}
	w := c.m.vis
	s := c.visionScratch()
	unfoldPatches(s.patches, pixels, vc)
	// patch embedding into rows 1..P, CLS at row 0, then position embedding
	c.matmul(s.x[Hv:], &w.patch, s.patches, P)
	copy(s.x[:Hv], w.cls)
	for i := 1; i < T; i++ {
		kernels.Add(s.x[i*Hv:(i+1)*Hv], s.x[i*Hv:(i+1)*Hv], w.patchB)
	}
	kernels.Add(s.x[:T*Hv], s.x[:T*Hv], w.pos)
	if states != nil {
		copy(states, s.x)
	}
	hd := Hv / vc.Heads
	ap := kernels.AttnParams{NHead: vc.Heads, NHeadKV: vc.Heads, HeadDim: hd,
		Scale: float32(1 / math.Sqrt(float64(hd))), Causal: false}
	for l := range w.layers {
		L := &w.layers[l]
		if L.qkv.Data != nil {
			c.matmul(s.qkv, &L.qkv, s.x, T)
			// bias and split on all threads: 1226 rows × 5376 floats
			// per layer on the caller alone left the other thread idle
			c.pool.Rows(T, rowGrain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					row := s.qkv[i*3*Hv : (i+1)*3*Hv]
					kernels.Add(row, row, L.qkvB)
					copy(s.q[i*Hv:(i+1)*Hv], row[:Hv])
					copy(s.k[i*Hv:(i+1)*Hv], row[Hv:2*Hv])
					copy(s.v[i*Hv:(i+1)*Hv], row[2*Hv:])
				}
			})
		} else {
			c.matmul(s.q, &L.q, s.x, T)
			c.matmul(s.k, &L.k, s.x, T)
			c.matmul(s.v, &L.v, s.x, T)
			c.pool.Rows(T, rowGrain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					r := s.q[i*Hv : (i+1)*Hv]
					kernels.Add(r, r, L.qB)
					r = s.k[i*Hv : (i+1)*Hv]
					kernels.Add(r, r, L.kB)
					r = s.v[i*Hv : (i+1)*Hv]
					kernels.Add(r, r, L.vB)
				}
			})
		}
		ap.BF16 = L.quantizedAttention()
		c.pool.AttentionF32(s.att, s.q, T, s.k, s.v, T, ap)
		c.matmul(s.o, &L.out, s.att, T)
		// Row-wise work around the matmuls runs on all threads: at 1226
		// rows × 15360 the GELU alone costs seconds per image on one core.
		c.pool.Rows(T, rowGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				o := s.o[i*Hv : (i+1)*Hv]
				kernels.Add(o, o, L.outB)
				kernels.LayerNorm(s.xn[i*Hv:(i+1)*Hv], o, L.ln1W, L.ln1B, vc.LNEps)
			}
			kernels.Add(s.x[lo*Hv:hi*Hv], s.x[lo*Hv:hi*Hv], s.xn[lo*Hv:hi*Hv])
		})
		c.matmul(s.mlp, &L.fc1, s.x, T)
		c.pool.Rows(T, rowGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				r := s.mlp[i*vc.FFN : (i+1)*vc.FFN]
				kernels.BiasGELU(r, r, L.fc1B)
			}
		})
		c.matmul(s.o, &L.fc2, s.mlp, T)
		c.pool.Rows(T, rowGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				o := s.o[i*Hv : (i+1)*Hv]
				kernels.Add(o, o, L.fc2B)
				kernels.LayerNorm(s.xn[i*Hv:(i+1)*Hv], o, L.ln2W, L.ln2B, vc.LNEps)
			}
			kernels.Add(s.x[lo*Hv:hi*Hv], s.x[lo*Hv:hi*Hv], s.xn[lo*Hv:hi*Hv])
		})
		if states != nil {
			copy(states[(l+1)*T*Hv:], s.x)
		}
	}
	copy(dst, s.x[Hv:])
	return nil
}

// unfoldPatches writes the patches of CHW pixels to dst in raster order,
// each as (c, ky, kx): the rows the patch embedding multiplies.
func unfoldPatches(dst, pixels []float32, vc *VisionConfig) {
	S, ps, C := vc.ImageSize, vc.PatchSize, vc.Channels
	g := S / ps
	kp := C * ps * ps
	for py := 0; py < g; py++ {
		for px := 0; px < g; px++ {
			row := dst[(py*g+px)*kp:]
			j := 0
			for ch := 0; ch < C; ch++ {
				for ky := 0; ky < ps; ky++ {
					src := pixels[ch*S*S+(py*ps+ky)*S+px*ps:]
					copy(row[j:j+ps], src[:ps])
					j += ps
				}
			}
		}
	}
}

// Downsample applies CogVLM2's 2x2 stride-2 conv (with bias) to the ViT
// output rows (Patches x Hv, CLS dropped, raster order on the Grid x Grid
// patch grid) and writes Rows x Hv rows in raster order over the halved
// grid to dst; an odd grid loses its last row and column, as the
// reference's Conv2d does.
func (c *Context) Downsample(dst, vit []float32) error {
	vc := c.m.Vision
	if vc == nil {
		return ErrNoVision
	}
	if !vc.Downsample {
		return errors.New("model: the model has no downsample conv (v.conv.weight)")
	}
	P, Hv, R, g := vc.Patches, vc.Hidden, vc.Rows, vc.Grid
	if len(vit) != P*Hv || len(dst) != R*Hv {
		return fmt.Errorf("model: downsample buffers of %d and %d floats, want %d and %d", len(vit), len(dst), P*Hv, R*Hv)
	}
	s := c.visionScratch()
	c.pool.Rows(R, rowGrain, func(lo, hi int) { gatherConvBlocks(s.convIn, vit, Hv, g, lo, hi) })
	c.matmul(dst, &c.m.vis.conv, s.convIn, R)
	c.pool.Rows(R, rowGrain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o := dst[r*Hv : (r+1)*Hv]
			kernels.Add(o, o, c.m.vis.convB)
		}
	})
	return nil
}

// gatherConvBlocks writes rows [lo, hi) of the downsample conv's input:
// row r holds the 2x2 block of ViT rows (Hv floats each, on the g x g
// grid) under output r of the halved grid, in v.conv.weight's (i, ky, kx)
// element order.
func gatherConvBlocks(convIn, vit []float32, Hv, g, lo, hi int) {
	half := g / 2
	for r := lo; r < hi; r++ {
		R0, C0 := r/half, r%half
		in := convIn[r*4*Hv : (r+1)*4*Hv]
		for ky := 0; ky < 2; ky++ {
			for kx := 0; kx < 2; kx++ {
				src := vit[((2*R0+ky)*g+2*C0+kx)*Hv:][:Hv]
				for i, x := range src {
					in[i*4+ky*2+kx] = x
				}
			}
		}
	}
}

// Adapter maps Rows rows of Hv floats (the ViT output, or Downsample's
// output for CogVLM2) to the decoder's image rows [boi, GLU(row)…, eoi]
// ((Rows+2) x Hidden) in dst.
func (c *Context) Adapter(dst, vit []float32) error {
	vc := c.m.Vision
	if vc == nil {
		return ErrNoVision
	}
	R, Hv, H := vc.Rows, vc.Hidden, c.m.Text.Hidden
	if len(vit) != R*Hv || len(dst) != (R+2)*H {
		return fmt.Errorf("model: adapter buffers of %d and %d floats, want %d and %d", len(vit), len(dst), R*Hv, (R+2)*H)
	}
	w := c.m.vis
	s := c.visionScratch()
	c.matmul(s.h, &w.fc, vit, R)
	c.pool.Rows(R, rowGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := s.hn[i*H : (i+1)*H]
			kernels.LayerNorm(r, s.h[i*H:(i+1)*H], w.normW, w.normB, vc.AdapterEps)
			kernels.GELU(r, r)
		}
	})
	c.matmul(s.gate, &w.gate, s.hn, R)
	c.matmul(s.up, &w.up, s.hn, R)
	c.pool.Rows(R, rowGrain, func(lo, hi int) {
		F := vc.AdapterFFN
		g := s.gate[lo*F : hi*F]
		kernels.SwiGLU(g, g, s.up[lo*F:hi*F])
	})
	copy(dst[:H], w.boi)
	c.matmul(dst[H:(R+1)*H], &w.down, s.gate, R)
	copy(dst[(R+1)*H:], w.eoi)
	return nil
}

// ImageEmbeds returns the number of floats EncodeImage writes:
// ImageTokens x Hidden ((Rows+2) x Hidden).
func (m *Model) ImageEmbeds() int {
	if m.Vision == nil {
		return 0
	}
	return m.Vision.ImageTokens * m.Text.Hidden
}

// EncodeImage runs the vision tower (and CogVLM2's downsample) and the
// adapter on preprocessed pixels and writes the image rows [boi, rows…,
// eoi] to dst (ImageEmbeds() floats), ready to be the Embeds of a Batch.
func (c *Context) EncodeImage(dst, pixels []float32) error {
	vc := c.m.Vision
	if vc == nil {
		return ErrNoVision
	}
	if len(dst) != c.m.ImageEmbeds() {
		return fmt.Errorf("model: image embedding buffer of %d floats, want %d", len(dst), c.m.ImageEmbeds())
	}
	s := c.visionScratch()
	if err := c.ViT(s.vit, pixels); err != nil {
		return err
	}
	if !vc.Downsample {
		return c.Adapter(dst, s.vit)
	}
	if err := c.Downsample(s.conv, s.vit); err != nil {
		return err
	}
	return c.Adapter(dst, s.conv)
}

// rowGrain is how many rows one task of row-wise work takes (the ViT's,
// and a many-row decoder call's norms, splits, RoPE and cache appends):
// enough to amortise a hand-off, few enough to balance two to eight cores.
// A decoder call with fewer rows runs those steps inline, without a
// closure, so decode allocates nothing.
const rowGrain = 16

// quantizedAttention reports whether the layer's attention projections
// (QKV and output) are all quantized (not F32/F16/BF16): its attention
// may then run with bf16 inputs and float32 accumulation
// (kernels.AttnParams.BF16), a rounding below that of the 8-bit
// activations its quantized matmuls already use. Float checkpoints keep
// the float32 attention, so their outputs stay comparable with the
// reference at tight tolerances.
func (L *visionLayer) quantizedAttention() bool {
	if L.qkv.Data == nil {
		return allQuantized(&L.q, &L.k, &L.v, &L.out)
	}
	return allQuantized(&L.qkv, &L.out)
}

// quantizedAttention is visionLayer.quantizedAttention for a decoder
// layer: its QKV and output projections, the vision expert's included.
func (L *layer) quantizedAttention() bool {
	ok := allQuantized(&L.o) && (L.visQKV.Data == nil || allQuantized(&L.visQKV, &L.visO))
	if L.qkv.Data == nil {
		return ok && allQuantized(&L.q, &L.k, &L.v)
	}
	return ok && allQuantized(&L.qkv)
}

// allQuantized reports whether every matrix has a block-quantized type.
func allQuantized(ms ...*Matrix) bool {
	for _, m := range ms {
		if !m.Type.Quantized() {
			return false
		}
	}
	return true
}
