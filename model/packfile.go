package model

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/kernels"
)

// A packed file (LoadOptions.PackedFile) is a GGUF file holding the
// repacked language matrices under their own names, types and shapes (a
// packed matrix has the size of the unpacked one), page-aligned, with keys
// naming the model file it was made from and the packed layouts.
const (
	packKeySourceSize  = "cogedge.packed.source_size"  // u64: the model file's size
	packKeySourceMtime = "cogedge.packed.source_mtime" // i64: its modification time, ns
	packKeyLayouts     = "cogedge.packed.layouts"      // string: kernels.PackedLayout of each type, sorted, ","
	packAlignment      = 4096
)

// packIdentity is what a packed file must record to be reused.
type packIdentity struct {
	size    uint64
	mtime   int64
	layouts string
}

func (m *Model) packIdentity(todo []*Matrix) (packIdentity, error) {
	path := m.files[0].Path()
	if path == "" {
		return packIdentity{}, errors.New("model: a packed file needs a model file on disk")
	}
	st, err := os.Stat(path)
	if err != nil {
		return packIdentity{}, fmt.Errorf("model: %w", err)
	}
	var ls []string
	for _, w := range todo {
		if l := kernels.PackedLayout(w.Type); !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	slices.Sort(ls)
	return packIdentity{size: uint64(st.Size()), mtime: st.ModTime().UnixNano(), layouts: strings.Join(ls, ",")}, nil
}

// repackToFile points the matrices of todo at their packed copies in the
// file at path, writing the file first unless it already holds them for
// this model file.
func (m *Model) repackToFile(todo []*Matrix, path string) error {
	id, err := m.packIdentity(todo)
	if err != nil {
		return err
	}
	pf, err := openPacked(path, id, todo)
	if err != nil {
		if err := writePacked(path, id, todo, m.dropSource); err != nil {
			return err
		}
		if pf, err = openPacked(path, id, todo); err != nil {
			return fmt.Errorf("model: packed file just written: %w", err)
		}
	}
	for _, w := range todo {
		t, _ := pf.Tensor(w.Name)
		data, _ := pf.TensorData(t) // checked by openPacked
		m.dropSource(w.Name)
		w.Data, w.Packed = data, true
	}
	m.release = append(m.release, func() { _ = pf.Close() })
	m.fuseGateUp()
	return nil
}

// openPacked opens the packed file at path and checks that it was made
// from the model file id describes, with the same layouts, and holds every
// matrix of todo with its type, shape and size.
func openPacked(path string, id packIdentity, todo []*Matrix) (*gguf.File, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	if err := checkPacked(f, id, todo); err != nil {
		f.Close()
		return nil, fmt.Errorf("model: packed file %s: %w", path, err)
	}
	return f, nil
}

func checkPacked(f *gguf.File, id packIdentity, todo []*Matrix) error {
	if v, ok := f.Uint(packKeySourceSize); !ok || v != id.size {
		return fmt.Errorf("key %s: made from another model file", packKeySourceSize)
	}
	if v, ok := f.Int(packKeySourceMtime); !ok || v != id.mtime {
		return fmt.Errorf("key %s: made from another model file", packKeySourceMtime)
	}
	if v, ok := f.String(packKeyLayouts); !ok || v != id.layouts {
		return fmt.Errorf("key %s = %q: want %q", packKeyLayouts, v, id.layouts)
	}
	for _, w := range todo {
		t, ok := f.Tensor(w.Name)
		if !ok {
			return fmt.Errorf("tensor %q missing", w.Name)
		}
		if t.Type != w.Type || !slices.Equal(dims(t), []uint64{uint64(w.K), uint64(w.Rows)}) {
			return fmt.Errorf("tensor %q: %v %v, want %v [%d %d]", w.Name, t.Type, t.Shape, w.Type, w.K, w.Rows)
		}
		data, err := f.TensorData(t)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", w.Name, err)
		}
		if len(data) != len(w.Data) {
			return fmt.Errorf("tensor %q: %d bytes, want %d", w.Name, len(data), len(w.Data))
		}
	}
	return nil
}

// writePacked writes the packed copies of todo to path (through a
// temporary file renamed when complete), one tensor at a time through one
// buffer, calling release(name) after each source tensor is copied.
func writePacked(path string, id packIdentity, todo []*Matrix, release func(name string)) error {
	w, err := gguf.Create(path, gguf.WriterOptions{Alignment: packAlignment})
	if err != nil {
		return fmt.Errorf("model: packed file: %w", err)
	}
	defer w.Abort() // a no-op after a successful Close
	kvs := []struct {
		key string
		v   any
	}{{packKeySourceSize, id.size}, {packKeySourceMtime, id.mtime}, {packKeyLayouts, id.layouts}}
	for _, kv := range kvs {
		if err := w.SetKV(kv.key, kv.v); err != nil {
			return fmt.Errorf("model: packed file %s: %w", path, err)
		}
	}
	largest := 0
	for _, m := range todo {
		if err := w.AddTensor(m.Name, m.Type, []uint64{uint64(m.K), uint64(m.Rows)}); err != nil {
			return fmt.Errorf("model: packed file %s: %w", path, err)
		}
		largest = max(largest, len(m.Data))
	}
	buf := make([]byte, largest)
	for _, m := range todo {
		b := buf[:len(m.Data)]
		kernels.Repack(m.Type, b, m.Data, m.Rows, m.K)
		release(m.Name)
		if err := w.WriteTensor(m.Name, b); err != nil {
			return fmt.Errorf("model: packed file %s: %w", path, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("model: packed file %s: %w", path, err)
	}
	return nil
}
