package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/kernels/metal"
	"github.com/cogedge/cogedge/quant"
)

// DeviceContext runs the decoder on a GPU device (kernels/metal): the
// graph of Context.Forward — the same ops in the same order, per expert
// run — as calls to the backend's op surface (metal.Ops) on tensors that
// live in device memory. Nothing comes back to the CPU inside a forward
// call: each chunk of up to Batch slots is one command buffer (a decode
// step is one), and only the logits are read back.
//
// This is the backend seam: the model's math is the op sequence below; a
// backend supplies the ops. EncodeImage runs the vision tower and adapter
// on the device too (device_vision.go); its rows enter the decoder through
// Batch.Embeds. The KV cache is f16 (the default) or float32, as on the
// CPU. Weights are not copied: the GGUF mappings are wrapped as device
// buffers (metal.MapHost: zero-copy views on Metal's unified memory,
// aliases of the same file pages on the simulator), and each matrix is a
// view into them in its file layout (also when the CPU path repacked it).
// Only a file read into memory rather than mapped, and vectors the file
// does not store as F32, are copied.
type DeviceContext struct {
	m     *Model
	dev   metal.Device
	ops   *metal.Ops
	size  int
	batch int
	kvDim int

	bufs    []metal.Buffer
	maps    []fileMap // the model files' mappings as device views
	mats    map[*Matrix]metal.View
	vecs    map[*float32]metal.View
	kvF16   bool         // the cache holds IEEE half (KVF16), else float32
	kc, vc  []metal.View // per layer, size × kvDim elements
	kf, vf  metal.View   // batch × kvDim float32: K and V rows before the f16 cache
	x, xn   metal.View   // batch × Hidden
	q, att  metal.View
	o       metal.View
	gate    metal.View // batch × FFN
	up      metal.View
	logits  metal.View // batch × Vocab
	ids     metal.View // batch int32
	pos     metal.View // batch int32
	types   []TokenType
	posBuf  []int32
	relBuf  []TokenType
	langBuf []TokenType
	maskBuf []bool
	runBuf  []run
	nPast   int

	dv *deviceVision // the vision tower's scratch (nil until an image)
}

// NewDeviceContext allocates a context on dev (see metal.OpenNamed): the
// KV cache (o.KV: f16, the default, or f32) and scratch in device
// buffers, the weights as views of the model files' mappings. o.Threads
// and o.Pool are unused (everything runs on the device).
func (m *Model) NewDeviceContext(dev metal.Device, o ContextOptions) (*DeviceContext, error) {
	t := &m.Text
	if err := m.DeviceSupported(); err != nil {
		return nil, err
	}
	d := &DeviceContext{m: m, dev: dev, ops: metal.NewOps(dev), kvF16: o.KV == KVF16,
		kvDim: t.HeadsKV * t.HeadDim, mats: map[*Matrix]metal.View{}, vecs: map[*float32]metal.View{}}
	var err error
	if d.size, d.batch, err = contextSizes(o, t.ContextLength); err != nil {
		return nil, err
	}
	if err := d.load(); err != nil {
		d.Close()
		return nil, err
	}
	d.types = make([]TokenType, 0, d.size)
	d.posBuf = make([]int32, d.size)
	d.relBuf = make([]TokenType, d.size)
	d.langBuf = make([]TokenType, d.size)
	d.maskBuf = make([]bool, d.size)
	return d, nil
}

// fileMap is one model file's mapping wrapped as device buffers.
type fileMap struct {
	f *gguf.File
	m *metal.Mapped
}

// mapFiles wraps every mapped model file in zero-copy device views, so
// that every tensor of the file lies inside one view.
func (d *DeviceContext) mapFiles() error {
	for _, f := range d.m.files {
		mem := f.Mapping()
		if mem == nil {
			continue // read into memory: its tensors are copied
		}
		largest := 0
		for i := range f.Tensors {
			largest = max(largest, int(f.Tensors[i].Size))
		}
		mp, err := metal.MapHost(d.dev, mem, largest, os.Getpagesize())
		if err != nil {
			return fmt.Errorf("model: %s: mapping the file for the device: %w", f.Path(), err)
		}
		d.maps = append(d.maps, fileMap{f, mp})
	}
	return nil
}

// fileView returns the device view of tensor name's bytes in the file
// mapping when it is stored as typ with size bytes.
func (d *DeviceContext) fileView(name string, typ quant.Type, size int) (metal.View, bool, error) {
	for _, fm := range d.maps {
		ti, ok := fm.f.Tensor(name)
		if !ok {
			continue
		}
		if ti.Type != typ || ti.Size != uint64(size) {
			return metal.View{}, false, nil
		}
		v, err := fm.m.View(int(fm.f.DataOffset+ti.Offset), size)
		if err != nil {
			return metal.View{}, false, fmt.Errorf("model: tensor %q: %w", name, err)
		}
		return v, true, nil
	}
	return metal.View{}, false, nil
}

// DeviceSupported says whether the Metal backend runs this model: nil, or
// what it lacks.
func (m *Model) DeviceSupported() error {
	t := &m.Text
	for i := range m.layers {
		if !t.RopeNeoX && m.layers[i].ropeInvFreq == nil {
			return errors.New("model: the Metal backend has only NeoX (rotate-half) RoPE; this model uses adjacent pairs")
		}
	}
	if t.HeadDim > 256 {
		return fmt.Errorf("model: the Metal attention kernel takes head dims up to 256, not %d", t.HeadDim)
	}
	return nil
}

func (d *DeviceContext) alloc(n int) (metal.View, error) {
	b, err := d.dev.NewBuffer(n)
	if err != nil {
		return metal.View{}, err
	}
	d.bufs = append(d.bufs, b)
	return metal.View{Buf: b}, nil
}

// placeMatrix makes w a view of the file mapping (the file layout, which
// the shaders read), or copies it when the file is not mapped.
func (d *DeviceContext) placeMatrix(w *Matrix) error {
	if w.Data == nil {
		return nil
	}
	if _, ok := d.mats[w]; ok {
		return nil
	}
	if !metal.Supported(w.Type) {
		return fmt.Errorf("model: tensor %q: type %v has no Metal kernel", w.Name, w.Type)
	}
	size := w.Rows * w.K / w.Type.BlockSize() * w.Type.TypeSize()
	v, ok, err := d.fileView(w.Name, w.Type, size)
	if err != nil {
		return err
	}
	if !ok {
		data := w.Data
		if w.Packed { // back to the file layout
			data = make([]byte, size)
			kernels.Unpack(w.Type, data, w.Data, w.Rows, w.K)
		}
		if v, err = d.alloc(len(data)); err != nil {
			return fmt.Errorf("model: tensor %q: %w", w.Name, err)
		}
		copy(v.Buf.Host(), data)
	}
	d.mats[w] = v
	return nil
}

// placeVector makes the float vector x (tensor name) a view of the file
// when the file stores it as F32, else a device copy.
func (d *DeviceContext) placeVector(name string, x []float32) error {
	if len(x) == 0 {
		return nil
	}
	v, ok, err := d.fileView(name, quant.F32, 4*len(x))
	if err != nil {
		return err
	}
	if !ok {
		if v, err = d.alloc(4 * len(x)); err != nil {
			return err
		}
		putF32s(v, x)
	}
	d.vecs[&x[0]] = v
	return nil
}

// load places the decoder weights and allocates the cache and scratch.
func (d *DeviceContext) load() error {
	m, t := d.m, &d.m.Text
	if err := d.mapFiles(); err != nil {
		return err
	}
	mats := []*Matrix{&m.embd, &m.output}
	type named struct {
		name string
		x    []float32
	}
	vecs := []named{{"output_norm.weight", m.outNorm}}
	ff := t.FFN
	for i := range m.layers {
		L := &m.layers[i]
		mats = append(mats, &L.qkv, &L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down,
			&L.visQKV, &L.visO, &L.visGate, &L.visUp, &L.visDown)
		p := fmt.Sprintf("blk.%d.", i)
		vecs = append(vecs, named{p + "attn_norm.weight", L.attnNorm}, named{p + "ffn_norm.weight", L.ffnNorm},
			named{p + "vis_attn_qkv.bias", L.visQKVB})
		ff = max(ff, L.visGate.Rows)
	}
	for _, w := range mats {
		if err := d.placeMatrix(w); err != nil {
			return err
		}
	}
	for _, v := range vecs {
		if err := d.placeVector(v.name, v.x); err != nil {
			return err
		}
	}
	if err := d.placeVision(); err != nil {
		return err
	}
	H, B := t.Hidden, d.batch
	var err error
	el := 4
	if d.kvF16 {
		el = 2
		if d.kf, err = d.alloc(4 * B * d.kvDim); err != nil {
			return err
		}
		if d.vf, err = d.alloc(4 * B * d.kvDim); err != nil {
			return err
		}
	}
	for range m.layers {
		var k, v metal.View
		if k, err = d.alloc(el * d.size * d.kvDim); err != nil {
			return err
		}
		if v, err = d.alloc(el * d.size * d.kvDim); err != nil {
			return err
		}
		d.kc, d.vc = append(d.kc, k), append(d.vc, v)
	}
	for _, s := range []struct {
		v *metal.View
		n int
	}{{&d.x, B * H}, {&d.xn, B * H}, {&d.q, B * H}, {&d.att, B * H}, {&d.o, B * H},
		{&d.gate, B * ff}, {&d.up, B * ff}, {&d.logits, B * t.Vocab}, {&d.ids, B}, {&d.pos, B}} {
		if *s.v, err = d.alloc(4 * s.n); err != nil {
			return err
		}
	}
	return nil
}

// Close frees every device buffer (the device itself stays the caller's).
func (d *DeviceContext) Close() {
	for _, b := range d.bufs {
		d.dev.Free(b)
	}
	for _, fm := range d.maps {
		fm.m.Close()
	}
	d.ops.Close()
	d.ReleaseVision()
	d.bufs, d.maps = nil, nil
}

// Model returns the model d runs.
func (d *DeviceContext) Model() *Model { return d.m }

// Len returns the number of slots in the KV cache.
func (d *DeviceContext) Len() int { return d.nPast }

// Size returns the capacity of the KV cache in slots.
func (d *DeviceContext) Size() int { return d.size }

// Reset empties the KV cache.
func (d *DeviceContext) Reset() {
	d.nPast = 0
	d.types = d.types[:0]
}

// Truncate drops every slot from n on (0 <= n <= Len), as
// Context.Truncate: the cache rows before n are kept on the device.
func (d *DeviceContext) Truncate(n int) error {
	if n < 0 || n > d.nPast {
		return fmt.Errorf("model: truncate to %d slots: the cache holds %d", n, d.nPast)
	}
	d.nPast = n
	d.types = d.types[:n]
	return nil
}

// ReleaseVision frees the vision tower's device scratch until the next
// image.
func (d *DeviceContext) ReleaseVision() {
	if d.dv != nil {
		d.dv.free(d.dev)
		d.dv = nil
	}
}

// matmul multiplies rows [r0, r0+rows) of w with n activation rows.
func (d *DeviceContext) matmul(y metal.View, w *Matrix, r0, rows int, x metal.View, n int) error {
	v, ok := d.mats[w]
	if !ok {
		return fmt.Errorf("model: tensor %q is not on the device", w.Name)
	}
	rb := w.K / w.Type.BlockSize() * w.Type.TypeSize()
	return d.ops.MatMulAuto(y, v.At(r0*rb), w.Type, rows, w.K, x, n)
}

func putI32(v metal.View, i int, x int32) {
	binary.LittleEndian.PutUint32(v.Buf.Host()[v.Off+4*i:], uint32(x))
}

func putF32s(v metal.View, x []float32) {
	h := v.Buf.Host()[v.Off:]
	for i, f := range x {
		binary.LittleEndian.PutUint32(h[4*i:], math.Float32bits(f))
	}
}

func getF32s(dst []float32, v metal.View) {
	h := v.Buf.Host()[v.Off:]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(h[4*i:]))
	}
}

// Forward is Context.Forward on the device (Output.Layers is not offered).
func (d *DeviceContext) Forward(b Batch, out Output) error {
	t := &d.m.Text
	n := len(b.Tokens)
	H, V := t.Hidden, t.Vocab
	if out.Layers != nil {
		return errors.New("model: the device backend does not return per-layer states")
	}
	types, allLogits, err := checkForward(t, b, out, d.nPast, d.size, d.langBuf)
	if err != nil {
		return err
	}
	var mask []bool
	var pos []int32
	d.types, mask, pos = planSlots(t, d.types, types, d.maskBuf, d.posBuf, d.relBuf)
	vis := 0
	for s := 0; s < n; s += d.batch {
		e := min(s+d.batch, n)
		m := e - s
		// host writes happen here, before this chunk's command buffer:
		// the previous one has completed (Sync below)
		for i := s; i < e; i++ {
			putI32(d.pos, i-s, pos[i])
			putI32(d.ids, i-s, 0)
			if types[i] == Vision {
				putF32s(d.x.At(4*(i-s)*H), b.Embeds[vis*H:(vis+1)*H])
				vis++
			} else {
				putI32(d.ids, i-s, b.Tokens[i])
			}
		}
		if err := d.chunk(types[s:e], mask, s, e, pos[s:e], allLogits, len(out.Logits) == V && e == n, out); err != nil {
			d.types = d.types[:d.nPast]
			return err
		}
		if err := d.dev.Sync(); err != nil {
			d.types = d.types[:d.nPast]
			return fmt.Errorf("model: device forward: %w", err)
		}
		d.nPast += m
		switch {
		case allLogits:
			getF32s(out.Logits[s*V:e*V], d.logits)
		case len(out.Logits) == V && e == n:
			getF32s(out.Logits, d.logits)
		}
		if out.Hidden != nil {
			getF32s(out.Hidden[s*H:e*H], d.xn)
		}
	}
	return nil
}

// chunk encodes slots [s, e) of the call: embeddings, every layer, the head.
func (d *DeviceContext) chunk(types []TokenType, mask []bool, s, e int, pos []int32, allLogits, lastLogits bool, out Output) error {
	t := &d.m.Text
	H, m := t.Hidden, e-s
	row := func(v metal.View, i, width int) metal.View { return v.At(4 * i * width) }
	// token embeddings, one get_rows per run of text slots
	for i := 0; i < m; {
		if types[i] == Vision {
			i++
			continue
		}
		j := i
		for j < m && types[j] != Vision {
			j++
		}
		if err := d.ops.GetRows(row(d.x, i, H), d.mats[&d.m.embd], d.m.embd.Type, H, row(d.ids, i, 1), j-i); err != nil {
			return err
		}
		i = j
	}
	runs := expertRuns(d.runBuf[:0], mask, s, e)
	d.runBuf = runs
	for l := range d.m.layers {
		if err := d.layer(l, m, runs, pos); err != nil {
			return fmt.Errorf("model: layer %d: %w", l, err)
		}
	}
	lo := 0
	if !allLogits && out.Hidden == nil {
		if !lastLogits {
			return nil
		}
		lo = m - 1
	}
	if err := d.ops.RMSNorm(row(d.xn, lo, H), row(d.x, lo, H), d.vecs[&d.m.outNorm[0]], H, m-lo, t.RMSEps); err != nil {
		return err
	}
	switch {
	case allLogits:
		return d.matmul(d.logits, &d.m.output, 0, d.m.output.Rows, d.xn, m)
	case lastLogits:
		return d.matmul(d.logits, &d.m.output, 0, d.m.output.Rows, row(d.xn, m-1, H), 1)
	}
	return nil
}

// rope rotates the chunk's m Q rows and K rows (at k) by their positions:
// with the layer's stored inverse frequencies when the file has them
// (CogVLM2), else from rope.freq_base.
func (d *DeviceContext) rope(l int, k metal.View, m int) error {
	t := &d.m.Text
	H, kvd := t.Hidden, d.kvDim
	if inv := d.m.layers[l].ropeInvFreq; inv != nil {
		if err := d.ops.RoPENeoXFreqs(d.q, d.pos, t.Heads, t.HeadDim, m, H, inv); err != nil {
			return err
		}
		return d.ops.RoPENeoXFreqs(k, d.pos, t.HeadsKV, t.HeadDim, m, kvd, inv)
	}
	if err := d.ops.RoPENeoX(d.q, d.pos, t.Heads, t.HeadDim, m, H, t.RopeBase); err != nil {
		return err
	}
	return d.ops.RoPENeoX(k, d.pos, t.HeadsKV, t.HeadDim, m, kvd, t.RopeBase)
}

// layer encodes decoder layer l over the chunk's m rows: the same ops as
// Model.layer and Context.attend.
func (d *DeviceContext) layer(l, m int, runs []run, pos []int32) error {
	t := &d.m.Text
	L := &d.m.layers[l]
	H, kvd := t.Hidden, d.kvDim
	row := func(v metal.View, i, width int) metal.View { return v.At(4 * i * width) }
	// K and V rows in float32: straight into the cache rows of these
	// slots, or into scratch that is then converted into the f16 cache
	kc, vc := row(d.kc[l], d.nPast, kvd), row(d.vc[l], d.nPast, kvd)
	if d.kvF16 {
		kc, vc = d.kf, d.vf
	}
	if err := d.ops.RMSNorm(d.xn, d.x, d.vecs[&L.attnNorm[0]], H, m, t.RMSEps); err != nil {
		return err
	}
	for _, r := range runs {
		nr, xr := r.end-r.start, row(d.xn, r.start, H)
		qy, ky, vy := row(d.q, r.start, H), row(kc, r.start, kvd), row(vc, r.start, kvd)
		var err error
		switch {
		case r.vision || t.FusedQKV:
			w := &L.qkv
			if r.vision {
				w = &L.visQKV
			}
			if err = d.matmul(qy, w, 0, H, xr, nr); err == nil {
				if err = d.matmul(ky, w, H, kvd, xr, nr); err == nil {
					err = d.matmul(vy, w, H+kvd, kvd, xr, nr)
				}
			}
		default:
			if err = d.matmul(qy, &L.q, 0, H, xr, nr); err == nil {
				if err = d.matmul(ky, &L.k, 0, kvd, xr, nr); err == nil {
					err = d.matmul(vy, &L.v, 0, kvd, xr, nr)
				}
			}
		}
		if err == nil && r.vision && L.visQKVB != nil { // CogVLM2's vision-expert QKV bias
			b := d.vecs[&L.visQKVB[0]]
			if err = d.ops.Add(qy, qy, b, nr*H, H); err == nil {
				if err = d.ops.Add(ky, ky, b.At(4*H), nr*kvd, kvd); err == nil {
					err = d.ops.Add(vy, vy, b.At(4*(H+kvd)), nr*kvd, kvd)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if err := d.rope(l, kc, m); err != nil {
		return err
	}
	if d.kvF16 {
		el := 2 * d.nPast * kvd
		if err := d.ops.ToF16(d.kc[l].At(el), kc, m*kvd); err != nil {
			return err
		}
		if err := d.ops.ToF16(d.vc[l].At(el), vc, m*kvd); err != nil {
			return err
		}
	}
	ap := kernels.AttnParams{NHead: t.Heads, NHeadKV: t.HeadsKV, HeadDim: t.HeadDim,
		Scale: float32(1 / math.Sqrt(float64(t.HeadDim))), Causal: true, QPos0: d.nPast}
	if err := d.ops.Attention(d.att, d.q, d.kc[l], d.vc[l], d.kvF16, m, d.nPast+m, ap); err != nil {
		return err
	}
	for _, r := range runs {
		w := &L.o
		if r.vision {
			w = &L.visO
		}
		if err := d.matmul(row(d.o, r.start, H), w, 0, H, row(d.att, r.start, H), r.end-r.start); err != nil {
			return err
		}
	}
	if err := d.ops.Add(d.x, d.x, d.o, m*H, m*H); err != nil {
		return err
	}
	if err := d.ops.RMSNorm(d.xn, d.x, d.vecs[&L.ffnNorm[0]], H, m, t.RMSEps); err != nil {
		return err
	}
	for _, r := range runs {
		gw, uw, dw := &L.gate, &L.up, &L.down
		if r.vision {
			gw, uw, dw = &L.visGate, &L.visUp, &L.visDown
		}
		nr, ff := r.end-r.start, gw.Rows
		xr := row(d.xn, r.start, H)
		g, u := row(d.gate, r.start, ff), row(d.up, r.start, ff)
		if err := d.matmul(g, gw, 0, ff, xr, nr); err != nil {
			return err
		}
		if err := d.matmul(u, uw, 0, ff, xr, nr); err != nil {
			return err
		}
		if err := d.ops.SwiGLU(g, g, u, nr*ff); err != nil {
			return err
		}
		if err := d.matmul(row(d.o, r.start, H), dw, 0, H, g, nr); err != nil {
			return err
		}
	}
	return d.ops.Add(d.x, d.x, d.o, m*H, m*H)
}
