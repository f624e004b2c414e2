package model

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels"
	"github.com/cogedge/cogedge/quant"
)

// Matrix is a weight matrix used in place from a GGUF mapping: Rows rows of
// K elements of type Type, ggml layout (a tensor with Shape {K, Rows}).
type Matrix struct {
	Name string
	Data []byte
	Type quant.Type
	Rows int
	K    int
	// Packed: Data is in the kernels' packed layout (kernels.Repack)
	// in memory the Model owns, not the file layout; multiply it with
	// kernels.Pool.MatMulPacked.
	Packed bool
}

// tensorSource finds tensors in one or more GGUF files (a text file and an
// optional separate mmproj file).
type tensorSource struct {
	files []*gguf.File
}

func (s *tensorSource) find(name string) (*gguf.File, *gguf.TensorInfo, bool) {
	for _, f := range s.files {
		if t, ok := f.Tensor(name); ok {
			return f, t, true
		}
	}
	return nil, nil, false
}

func (s *tensorSource) has(name string) bool {
	_, _, ok := s.find(name)
	return ok
}

// dims returns the shape of t with trailing 1s removed (at least one dim).
func dims(t *gguf.TensorInfo) []uint64 {
	d := t.Shape
	for len(d) > 1 && d[len(d)-1] == 1 {
		d = d[:len(d)-1]
	}
	return d
}

// maxDim bounds every dimension the model accepts, so that products of two
// dimensions fit in an int on every platform and no buffer size comes from
// an unchecked field.
const maxDim = 1 << 24

// matrix returns the 2-D tensor name with K = Shape[0] and Rows = the
// product of the other dimensions. wantK and wantRows are checked when > 0.
func (s *tensorSource) matrix(name string, wantK, wantRows int) (Matrix, error) {
	f, t, ok := s.find(name)
	if !ok {
		return Matrix{}, fmt.Errorf("model: tensor %q missing", name)
	}
	if len(t.Shape) == 0 {
		return Matrix{}, fmt.Errorf("model: tensor %q: no dimensions", name)
	}
	k := t.Shape[0]
	rows := uint64(1)
	for _, d := range t.Shape[1:] {
		if d == 0 || d > maxDim || rows > maxDim/d {
			return Matrix{}, fmt.Errorf("model: tensor %q: shape %v too large", name, t.Shape)
		}
		rows *= d
	}
	if k == 0 || k > maxDim {
		return Matrix{}, fmt.Errorf("model: tensor %q: shape %v: bad row length", name, t.Shape)
	}
	if wantK > 0 && int(k) != wantK {
		return Matrix{}, fmt.Errorf("model: tensor %q: shape %v: row length %d, want %d", name, t.Shape, k, wantK)
	}
	if wantRows > 0 && int(rows) != wantRows {
		return Matrix{}, fmt.Errorf("model: tensor %q: shape %v: %d rows, want %d", name, t.Shape, rows, wantRows)
	}
	if !kernels.Supported(t.Type) {
		return Matrix{}, fmt.Errorf("model: tensor %q: type %v has no matmul kernel", name, t.Type)
	}
	rs, err := t.Type.RowSize(int64(k))
	if err != nil {
		return Matrix{}, fmt.Errorf("model: tensor %q: %w", name, err)
	}
	data, err := f.TensorData(t)
	if err != nil {
		return Matrix{}, fmt.Errorf("model: tensor %q: %w", name, err)
	}
	if uint64(len(data)) != uint64(rs)*rows {
		return Matrix{}, fmt.Errorf("model: tensor %q: %d bytes of data, want %d", name, len(data), uint64(rs)*rows)
	}
	return Matrix{Name: name, Data: data, Type: t.Type, Rows: int(rows), K: int(k)}, nil
}

// vector dequantizes the tensor name (any shape) to float32 and checks its
// element count when want > 0. Used for norms, biases and small embeddings.
func (s *tensorSource) vector(name string, want int) ([]float32, error) {
	m, err := s.matrix(name, 0, 0)
	if err != nil {
		return nil, err
	}
	n := m.Rows * m.K
	if want > 0 && n != want {
		return nil, fmt.Errorf("model: tensor %q: %d elements, want %d", name, n, want)
	}
	out := make([]float32, n)
	if err := quant.Dequantize(m.Type, out, m.Data); err != nil {
		return nil, fmt.Errorf("model: tensor %q: %w", name, err)
	}
	return out, nil
}

// Row dequantizes row i of m into dst (len(dst) == m.K). m must not be
// packed (the model never packs the embedding it reads rows from).
func (m *Matrix) Row(dst []float32, i int) error {
	if i < 0 || i >= m.Rows {
		return fmt.Errorf("model: tensor %q: row %d out of range [0,%d)", m.Name, i, m.Rows)
	}
	if m.Packed {
		return fmt.Errorf("model: tensor %q: row of a packed matrix", m.Name)
	}
	rs := len(m.Data) / m.Rows
	return quant.Dequantize(m.Type, dst[:m.K], m.Data[i*rs:(i+1)*rs])
}

// noRepackEnv names the environment variable that, set to 1, keeps every
// matrix in its file layout (no repacking at load time).
const noRepackEnv = "COGEDGE_NO_REPACK"

// repackWanted reports whether New repacks the language matrices: the
// kernels have a fast packed kernel for the type on this CPU and
// COGEDGE_NO_REPACK is not 1.
func repackWanted(t quant.Type) bool {
	if os.Getenv(noRepackEnv) == "1" {
		return false
	}
	return kernels.PackedFast(t) || (forceRepack && kernels.PackedLayout(t) != "")
}

// forceRepack makes New repack every matrix with a packed layout (Q4_0,
// Q4_K, Q6_K) even where only the generic packed kernel exists, so tests
// run the packed layout on every platform.
var forceRepack bool

// repackTodo lists the matrices a text token reads (the language expert
// of every layer and the output matrix) that the kernels pack.
func (m *Model) repackTodo() []*Matrix {
	var todo []*Matrix
	for i := range m.layers {
		L := &m.layers[i]
		for _, w := range []*Matrix{&L.qkv, &L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down} {
			if w.Data != nil && !w.Packed && repackWanted(w.Type) {
				todo = append(todo, w)
			}
		}
	}
	if m.output.Data != nil && !m.output.Packed && repackWanted(m.output.Type) {
		todo = append(todo, &m.output)
	}
	return todo
}

// repackLanguage puts the matrices of repackTodo in the kernels' packed
// layout (kernels.Repack): in the file o.PackedFile when it is set
// (packfile.go), else in anonymous memory. Either way each source
// tensor's file pages are released as soon as it is copied, so the load
// never holds much more than the steady state. Vision and visual-expert
// weights stay on the mapping. The copies are freed by Close.
func (m *Model) repackLanguage(o LoadOptions) error {
	todo := m.repackTodo()
	if len(todo) == 0 {
		return nil
	}
	if o.PackedFile != "" {
		return m.repackToFile(todo, o.PackedFile)
	}
	units := packUnits(todo)
	type result struct {
		data []byte // the unit's matrices back to back
		free func()
		err  error
	}
	res := make([]result, len(units))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.NumCPU(), len(units))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(units) {
					return
				}
				size := 0
				for _, w := range units[i] {
					size += len(w.Data)
				}
				b, free, err := allocAnon(size)
				if err != nil {
					res[i].err = fmt.Errorf("model: tensor %q: repack: %w", units[i][0].Name, err)
					continue
				}
				off := 0
				for _, w := range units[i] {
					kernels.Repack(w.Type, b[off:off+len(w.Data)], w.Data, w.Rows, w.K)
					m.dropSource(w.Name)
					off += len(w.Data)
				}
				res[i] = result{data: b, free: free}
			}
		}()
	}
	wg.Wait()
	for _, r := range res {
		if r.err != nil { // keep the file layout everywhere
			for _, r := range res {
				if r.free != nil {
					r.free()
				}
			}
			return r.err
		}
	}
	for i, r := range res {
		m.release = append(m.release, r.free)
		off := 0
		for _, w := range units[i] {
			n := len(w.Data)
			w.Data, w.Packed = r.data[off:off+n:off+n], true
			off += n
		}
	}
	m.fuseGateUp()
	return nil
}

// packUnits groups the matrices of todo into allocations: a layer's
// language gate and up matrices share one when fuseGateUp can join them,
// every other matrix has its own.
func packUnits(todo []*Matrix) [][]*Matrix {
	var units [][]*Matrix
	for i := 0; i < len(todo); i++ {
		if i+1 < len(todo) && joinable(todo[i], todo[i+1]) {
			units = append(units, []*Matrix{todo[i], todo[i+1]})
			i++
			continue
		}
		units = append(units, []*Matrix{todo[i]})
	}
	return units
}

// joinable reports whether the packed matrices a and b, stored back to
// back, are one packed matrix of a.Rows+b.Rows rows: Q4_0 (whose packed
// layout is groups of eight rows, then the rows left over) with the same
// row length and a whole number of groups in a.
func joinable(a, b *Matrix) bool {
	return a.Type == quant.Q4_0 && b.Type == quant.Q4_0 && a.K == b.K && a.Rows%8 == 0 &&
		strings.HasSuffix(a.Name, "ffn_gate.weight") && strings.HasSuffix(b.Name, "ffn_up.weight")
}

// fuseGateUp gives every layer whose packed gate and up matrices lie back
// to back in memory (packUnits, or a packed file that wrote them in order)
// the view gateUp over both: decode then multiplies them as one matrix,
// one activation quantization and one pass of the pool instead of two.
func (m *Model) fuseGateUp() {
	for i := range m.layers {
		L := &m.layers[i]
		g, u := &L.gate, &L.up
		if !g.Packed || !u.Packed || !joinable(g, u) || len(g.Data) == 0 || len(u.Data) == 0 ||
			unsafe.Pointer(unsafe.SliceData(u.Data)) != unsafe.Add(unsafe.Pointer(unsafe.SliceData(g.Data)), len(g.Data)) {
			continue
		}
		L.gateUp = Matrix{Name: g.Name + "+up", Data: unsafe.Slice(unsafe.SliceData(g.Data), len(g.Data)+len(u.Data)),
			Type: g.Type, Rows: g.Rows + u.Rows, K: g.K, Packed: true}
	}
}

// dropSource tells the OS that the file pages of tensor name may be
// dropped (they are read back if touched, e.g. by a tied embedding).
func (m *Model) dropSource(name string) {
	for _, f := range m.files {
		if t, ok := f.Tensor(name); ok {
			f.Advise(t, gguf.AdviceDontNeed)
			return
		}
	}
}

// freePacked frees the repacked copies; the matrices must not be used
// afterwards.
func (m *Model) freePacked() {
	for _, f := range m.release {
		f()
	}
	m.release = nil
}

// PackedMatrices returns how many matrices New repacked for the kernels
// (0 with COGEDGE_NO_REPACK=1 or when the CPU has no packed kernel).
func (m *Model) PackedMatrices() int {
	n := 0
	for _, w := range m.LanguageWeights() {
		if w.Packed {
			n++
		}
	}
	return n
}
