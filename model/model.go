package model

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/cogedge/cogedge/gguf"
)

// Templates the prompt builder knows (cogvlm.md §4.2).
const (
	TemplateChat = "chat" // "Question: … Answer:"
	TemplateVQA  = "vqa"  // "Question: … Short answer:"
	TemplateBase = "base" // the query as is
)

// Model is a loaded CogVLM (or plain LLaMA) model: hyperparameters and
// weights that point into the files' read-only mappings. A Model is
// read-only after loading and may be shared by several Contexts.
type Model struct {
	Text   TextConfig
	Vision *VisionConfig // nil: no vision tower (text only)
	// Template is the prompt template named by the file's cogvlm.template
	// key ("chat", "vqa" or "base"); "chat" for a cogvlm file without the
	// key, "base" for a llama file.
	Template string

	files []*gguf.File
	owned bool

	embd    Matrix
	outNorm []float32
	output  Matrix
	layers  []layer

	vis *visionWeights

	release []func() // frees the repacked matrices (repackLanguage)
}

// layer holds one decoder layer. Vision-expert matrices are zero Matrix
// values when the file has no experts.
type layer struct {
	attnNorm, ffnNorm []float32
	qkv               Matrix // fused [Q|K|V] rows (cogvlm), or
	q, k, v           Matrix // separate projections (llama)
	o                 Matrix
	gate, up, down    Matrix
	visQKV, visO      Matrix
	visQKVB           []float32 // vision-expert QKV bias (CogVLM2), nil when absent
	visGate, visUp    Matrix
	visDown           Matrix
	// ropeInvFreq holds the checkpoint's RoPE inverse frequencies
	// (blk.N.rope_inv_freq, CogVLM2), HeadDim/2 values; nil: computed from
	// rope.freq_base.
	ropeInvFreq []float32
	// gateUp is gate and up as one packed matrix ([gate|up] rows, a view
	// of both; fuseGateUp), for decode; Data nil when they are apart.
	gateUp Matrix
}

// visionWeights holds the vision tower, adapter and boi/eoi.
type visionWeights struct {
	patch  Matrix // rows Hidden, K = 3*ps*ps in (c, ky, kx) order
	patchB []float32
	cls    []float32
	pos    []float32 // (Patches+1) x Hidden, row 0 for CLS
	layers []visionLayer

	conv  Matrix    // 2x2 stride-2 downsample (CogVLM2): Hv rows of 4·Hv in (i, ky, kx) order
	convB []float32 // its bias

	fc           Matrix // mm.model.fc: H x Hv
	normW, normB []float32
	gate, up     Matrix
	down         Matrix
	boi, eoi     []float32
}

type visionLayer struct {
	qkv        Matrix // fused, or
	q, k, v    Matrix // split (older converters)
	qkvB       []float32
	qB, kB, vB []float32
	out        Matrix
	outB       []float32
	ln1W, ln1B []float32
	ln2W, ln2B []float32
	fc1, fc2   Matrix
	fc1B, fc2B []float32
}

// Open maps the GGUF file at path (and, when mmproj is not empty, a
// separate llama.cpp-style mmproj file holding the vision tower) and loads
// the model. Close releases the mappings.
func Open(path, mmproj string) (*Model, error) {
	return OpenWith(path, mmproj, LoadOptions{})
}

// LoadOptions says where a model keeps what it builds at load time.
type LoadOptions struct {
	// PackedFile, when not empty, keeps the repacked language matrices in
	// this file, mapped read-only, rather than in anonymous memory: their
	// pages are then file-backed, so the OS can reclaim them under memory
	// pressure, and a later load reuses the file instead of repacking. It
	// is written (through a temporary file) when missing or not made from
	// this model file by this packing code.
	PackedFile string
	// FileLayout keeps every matrix in its file layout (no repacking): for
	// a GPU backend, which reads the weights from the file mapping and
	// would not use the CPU's packed copies.
	FileLayout bool
}

// OpenWith is Open with load options.
func OpenWith(path, mmproj string, o LoadOptions) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	files := []*gguf.File{f}
	if mmproj != "" {
		g, err := gguf.Open(mmproj)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("model: %w", err)
		}
		files = append(files, g)
	}
	m, err := NewWith(o, files...)
	if err != nil {
		for _, x := range files {
			x.Close()
		}
		return nil, err
	}
	m.owned = true
	return m, nil
}

// New loads a model from already opened files: the first holds the
// decoder (architecture cogvlm or llama), a later one may hold the vision
// tower. The files must stay open while the model is used; Close on a
// model made by New does not close them.
func New(files ...*gguf.File) (*Model, error) { return NewWith(LoadOptions{}, files...) }

// NewWith is New with load options.
func NewWith(o LoadOptions, files ...*gguf.File) (*Model, error) {
	if len(files) == 0 {
		return nil, errors.New("model: no files")
	}
	ts := &tensorSource{files: files}
	md := metaSource{files: files}
	tc, err := readTextConfig(md, ts)
	if err != nil {
		return nil, err
	}
	m := &Model{Text: tc, files: files}
	if err := m.loadText(ts); err != nil {
		return nil, err
	}
	if tc.Arch == "cogvlm" {
		vc, err := readVisionConfig(md, ts, tc.Hidden)
		if err != nil {
			return nil, err
		}
		if vc != nil {
			if !tc.Experts {
				return nil, errors.New("model: the file has a vision tower but no visual-expert tensors (blk.0.vis_attn_qkv.weight)")
			}
			m.Vision = vc
			if m.vis, err = loadVision(ts, vc, tc.Hidden); err != nil {
				return nil, err
			}
		}
	}
	m.Template = TemplateBase
	if tc.Arch == "cogvlm" {
		m.Template = TemplateChat
	}
	if t, ok := md.str("cogvlm.template"); ok {
		switch t {
		case TemplateChat, TemplateVQA, TemplateBase:
			m.Template = t
		default:
			return nil, fmt.Errorf("model: key cogvlm.template = %q: want chat, vqa or base", t)
		}
	}
	if o.FileLayout {
		return m, nil
	}
	if err := m.repackLanguage(o); err != nil {
		m.freePacked()
		return nil, err
	}
	return m, nil
}

// Close frees the matrices repacked at load time and releases the file
// mappings of a model made by Open.
func (m *Model) Close() error {
	m.freePacked()
	if !m.owned {
		return nil
	}
	var first error
	for _, f := range m.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.files = nil
	return first
}

func (m *Model) loadText(ts *tensorSource) error {
	c := &m.Text
	H, kvd := c.Hidden, c.HeadsKV*c.HeadDim
	var err error
	if m.embd, err = ts.matrix("token_embd.weight", H, 0); err != nil {
		return err
	}
	if m.outNorm, err = ts.vector("output_norm.weight", H); err != nil {
		return err
	}
	if ts.has("output.weight") {
		if m.output, err = ts.matrix("output.weight", H, c.Vocab); err != nil {
			return err
		}
	} else {
		m.output = m.embd // tied embeddings
	}
	m.layers = make([]layer, c.Layers)
	for i := range m.layers {
		L := &m.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		if L.attnNorm, err = ts.vector(p+"attn_norm.weight", H); err != nil {
			return err
		}
		if L.ffnNorm, err = ts.vector(p+"ffn_norm.weight", H); err != nil {
			return err
		}
		if c.FusedQKV {
			if L.qkv, err = ts.matrix(p+"attn_qkv.weight", H, H+2*kvd); err != nil {
				return err
			}
		} else {
			if L.q, err = ts.matrix(p+"attn_q.weight", H, H); err != nil {
				return err
			}
			if L.k, err = ts.matrix(p+"attn_k.weight", H, kvd); err != nil {
				return err
			}
			if L.v, err = ts.matrix(p+"attn_v.weight", H, kvd); err != nil {
				return err
			}
		}
		if L.o, err = ts.matrix(p+"attn_output.weight", H, H); err != nil {
			return err
		}
		if ts.has(p + "rope_inv_freq") {
			if L.ropeInvFreq, err = ts.vector(p+"rope_inv_freq", c.HeadDim/2); err != nil {
				return err
			}
			for _, f := range L.ropeInvFreq {
				if !(f > 0) || math.IsInf(float64(f), 0) {
					return fmt.Errorf("model: tensor %q: inverse frequency %g is not a positive finite number", p+"rope_inv_freq", f)
				}
			}
		}
		if L.gate, err = ts.matrix(p+"ffn_gate.weight", H, c.FFN); err != nil {
			return err
		}
		if L.up, err = ts.matrix(p+"ffn_up.weight", H, c.FFN); err != nil {
			return err
		}
		if L.down, err = ts.matrix(p+"ffn_down.weight", c.FFN, H); err != nil {
			return err
		}
		if !c.Experts {
			continue
		}
		if L.visQKV, err = ts.matrix(p+"vis_attn_qkv.weight", H, H+2*kvd); err != nil {
			return err
		}
		if ts.has(p + "vis_attn_qkv.bias") {
			if L.visQKVB, err = ts.vector(p+"vis_attn_qkv.bias", H+2*kvd); err != nil {
				return err
			}
		}
		if L.visO, err = ts.matrix(p+"vis_attn_output.weight", H, H); err != nil {
			return err
		}
		if L.visGate, err = ts.matrix(p+"vis_gate.weight", H, 0); err != nil {
			return err
		}
		ff := L.visGate.Rows
		if L.visUp, err = ts.matrix(p+"vis_up.weight", H, ff); err != nil {
			return err
		}
		if L.visDown, err = ts.matrix(p+"vis_down.weight", ff, H); err != nil {
			return err
		}
	}
	if ts.has(fmt.Sprintf("blk.%d.attn_norm.weight", c.Layers)) {
		return fmt.Errorf("model: the file has more layers than %s.block_count = %d", c.Arch, c.Layers)
	}
	return nil
}

func loadVision(ts *tensorSource, c *VisionConfig, H int) (*visionWeights, error) {
	Hv := c.Hidden
	w := &visionWeights{}
	var err error
	kp := c.Channels * c.PatchSize * c.PatchSize
	pm, err := ts.matrix("v.patch_embd.weight", 0, 0)
	if err != nil {
		return nil, err
	}
	if pm.Rows*pm.K != Hv*kp {
		return nil, fmt.Errorf("model: tensor v.patch_embd.weight: %d elements, want %d", pm.Rows*pm.K, Hv*kp)
	}
	if pm.K != kp {
		// ggml 4-D {ps, ps, 3, Hv}: the same bytes as Hv rows of 3*ps*ps,
		// which only a plain (non-block) type can be re-viewed as.
		if pm.Type.Quantized() {
			return nil, fmt.Errorf("model: tensor v.patch_embd.weight: a 4-D patch filter must be F32, F16 or BF16, not %v", pm.Type)
		}
		pm.Rows, pm.K = Hv, kp
	}
	w.patch = pm
	if w.patchB, err = ts.vector("v.patch_embd.bias", Hv); err != nil {
		return nil, err
	}
	if w.cls, err = ts.vector("v.class_embd", Hv); err != nil {
		return nil, err
	}
	if w.pos, err = ts.vector("v.position_embd.weight", (c.Patches+1)*Hv); err != nil {
		return nil, err
	}
	w.layers = make([]visionLayer, c.Layers)
	for i := range w.layers {
		L := &w.layers[i]
		p := fmt.Sprintf("v.blk.%d.", i)
		if ts.has(p + "attn_qkv.weight") {
			if L.qkv, err = ts.matrix(p+"attn_qkv.weight", Hv, 3*Hv); err != nil {
				return nil, err
			}
			if L.qkvB, err = ts.vector(p+"attn_qkv.bias", 3*Hv); err != nil {
				return nil, err
			}
		} else {
			for _, x := range []struct {
				name string
				m    *Matrix
				b    *[]float32
			}{{"attn_q", &L.q, &L.qB}, {"attn_k", &L.k, &L.kB}, {"attn_v", &L.v, &L.vB}} {
				if *x.m, err = ts.matrix(p+x.name+".weight", Hv, Hv); err != nil {
					return nil, err
				}
				if ts.has(p + x.name + ".bias") {
					if *x.b, err = ts.vector(p+x.name+".bias", Hv); err != nil {
						return nil, err
					}
				} else {
					*x.b = make([]float32, Hv)
				}
			}
		}
		if L.out, err = ts.matrix(p+"attn_out.weight", Hv, Hv); err != nil {
			return nil, err
		}
		vecs := []struct {
			name string
			dst  *[]float32
			n    int
		}{
			{"attn_out.bias", &L.outB, Hv},
			{"ln1.weight", &L.ln1W, Hv}, {"ln1.bias", &L.ln1B, Hv},
			{"ln2.weight", &L.ln2W, Hv}, {"ln2.bias", &L.ln2B, Hv},
			{"ffn_up.bias", &L.fc1B, c.FFN}, {"ffn_down.bias", &L.fc2B, Hv},
		}
		for _, v := range vecs {
			if *v.dst, err = ts.vector(p+v.name, v.n); err != nil {
				return nil, err
			}
		}
		if L.fc1, err = ts.matrix(p+"ffn_up.weight", Hv, c.FFN); err != nil {
			return nil, err
		}
		if L.fc2, err = ts.matrix(p+"ffn_down.weight", c.FFN, Hv); err != nil {
			return nil, err
		}
	}
	if c.Downsample {
		if w.conv, err = ts.matrix("v.conv.weight", 4*Hv, Hv); err != nil {
			return nil, err
		}
		if w.convB, err = ts.vector("v.conv.bias", Hv); err != nil {
			return nil, err
		}
	}
	if w.fc, err = ts.matrix("mm.model.fc.weight", Hv, H); err != nil {
		return nil, err
	}
	if w.normW, err = ts.vector("mm.post_fc_norm.weight", H); err != nil {
		return nil, err
	}
	if w.normB, err = ts.vector("mm.post_fc_norm.bias", H); err != nil {
		return nil, err
	}
	if w.gate, err = ts.matrix("mm.gate.weight", H, c.AdapterFFN); err != nil {
		return nil, err
	}
	if w.up, err = ts.matrix("mm.up.weight", H, c.AdapterFFN); err != nil {
		return nil, err
	}
	if w.down, err = ts.matrix("mm.down.weight", c.AdapterFFN, H); err != nil {
		return nil, err
	}
	if w.boi, err = ts.vector("v.boi", H); err != nil {
		return nil, err
	}
	if w.eoi, err = ts.vector("v.eoi", H); err != nil {
		return nil, err
	}
	return w, nil
}

// File returns the model's first (decoder) file, e.g. to read its
// tokenizer keys.
func (m *Model) File() *gguf.File { return m.files[0] }

// ParamCount is the number of weights in the model's files (decoder and,
// when separate, vision tower).
func (m *Model) ParamCount() uint64 {
	var n uint64
	for _, f := range m.files {
		n += f.ParamCount()
	}
	return n
}

// LanguageWeights returns the matrices a text token reads: the language
// expert of every layer and the output matrix (e.g. to count the bytes a
// decode step streams, or to advise the OS which pages stay hot).
func (m *Model) LanguageWeights() []Matrix {
	var out []Matrix
	for _, L := range m.layers {
		for _, w := range []Matrix{L.qkv, L.q, L.k, L.v, L.o, L.gate, L.up, L.down} {
			if w.Data != nil {
				out = append(out, w)
			}
		}
	}
	return append(out, m.output)
}

// Part names a group of weights for Advise.
type Part int

// Weight groups.
const (
	PartVision   Part = iota // the vision tower, adapter and boi/eoi (v.*, mm.*)
	PartExperts              // the decoder's visual experts (blk.N.vis_*)
	PartLanguage             // what a text token reads: LanguageWeights, packed copies included
)

// Advise passes a paging hint (gguf.AdviceWillNeed, gguf.AdviceDontNeed, …)
// for every tensor of part to the OS. After an image is encoded and its
// rows prefilled, AdviceDontNeed on PartVision and PartExperts lets the
// kernel drop those pages, so a text-only decode keeps only the language
// path resident; they are read back from the file if touched again. A
// no-op for files that are not memory-mapped. PartLanguage advises the
// language matrices wherever they are (file mapping, packed file or
// anonymous copy), e.g. AdviceWillNeed before decoding; AdviceDontNeed
// is ignored for it (it would zero an anonymous copy).
func (m *Model) Advise(part Part, advice int) {
	if part == PartLanguage {
		for _, w := range m.LanguageWeights() {
			adviseBytes(w.Data, advice)
		}
		return
	}
	for _, f := range m.files {
		for i := range f.Tensors {
			t := &f.Tensors[i]
			var in bool
			switch part {
			case PartVision:
				in = strings.HasPrefix(t.Name, "v.") || strings.HasPrefix(t.Name, "mm.")
			case PartExperts:
				in = strings.HasPrefix(t.Name, "blk.") && strings.Contains(t.Name, ".vis_")
			}
			if in {
				f.Advise(t, advice)
			}
		}
	}
}
