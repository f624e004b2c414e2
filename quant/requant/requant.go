// Package requant rewrites a GGUF model with its tensors quantized to a
// llama.cpp file type, as llama-quantize does without an importance matrix:
// the same choice of type per tensor (see policy.go), the same bytes per
// tensor (package quant's reference quantizers), the same metadata and
// tensor order. It streams one tensor at a time and quantizes rows in
// parallel.
package requant

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
)

// Options configures Quantize.
type Options struct {
	FType FType // the mix; general.file_type is set to it
	// Pure quantizes every candidate tensor to FType.Base(), without the
	// per-tensor promotions of the mix.
	Pure bool
	// Overrides force the type of matching tensors; the first match wins.
	Overrides []Override
	// AllowRequantize permits quantized input tensors (dequantized first,
	// losing precision twice), as llama-quantize --allow-requantize.
	AllowRequantize bool
	Threads         int // workers for one tensor's rows; <= 0 means runtime.NumCPU()
	// Progress, if set, is called after each tensor with the input bytes
	// done so far and the total (from one goroutine, in order).
	Progress func(done, total int64)
	// Inputs are files besides in that out must not be, e.g. the
	// .gguf.zst that in was decompressed from.
	Inputs []string
}

// ErrRequantize is wrapped by the error for a quantized input tensor when
// Options.AllowRequantize is off.
var ErrRequantize = errors.New("requantizing is disabled")

// TensorResult reports what happened to one tensor.
type TensorResult struct {
	Name     string
	From, To quant.Type
	Shape    []uint64
	InBytes  int64
	OutBytes int64
}

// Plan is the type chosen for each tensor, in output order.
type Plan struct {
	Tensors []TensorResult
}

// keysDropped are removed from the copied metadata, as llama-quantize does.
var keysDropped = map[string]bool{
	"general.quantization_version": true, "general.file_type": true,
	"split.no": true, "split.count": true, "split.tensors.count": true,
}

// modelInfoOf reads the hyperparameters the mix rules consult.
func modelInfoOf(f *gguf.File) modelInfo {
	var mi modelInfo
	mi.arch, _ = f.String("general.architecture")
	if n, ok := f.Uint(mi.arch + ".block_count"); ok && n < 1<<20 {
		mi.nLayer = int(n)
	}
	if n, ok := f.Uint(mi.arch + ".expert_count"); ok && n < 1<<20 {
		mi.nExpert = int(n)
	}
	hc, ok1 := f.Uint(mi.arch + ".attention.head_count")
	hkv, ok2 := f.Uint(mi.arch + ".attention.head_count_kv")
	if !ok2 {
		hkv, ok2 = hc, ok1
	}
	if ok1 && ok2 && hkv > 0 && hc < 1<<20 {
		mi.nGQA = int(hc / hkv)
	}
	_, mi.hasOutput = f.Tensor("output.weight")
	return mi
}

// MakePlan decides the output type of every tensor of f, in output order,
// without converting anything.
func MakePlan(f *gguf.File, opt Options) (*Plan, error) {
	if _, ok := ftypes[opt.FType]; !ok {
		return nil, fmt.Errorf("requant: unsupported file type %v", opt.FType)
	}
	ts := make([]tensorMeta, len(f.Tensors))
	for i, t := range f.Tensors {
		ts[i] = tensorMeta{name: t.Name, typ: t.Type, shape: t.Shape}
	}
	sortLlama(ts)
	base := opt.FType.Base()
	pl := newPlanner(modelInfoOf(f), opt.FType, ts)
	plan := &Plan{Tensors: make([]TensorResult, 0, len(ts))}
	for _, t := range ts {
		to, err := decide(pl, base, opt, t)
		if err != nil {
			return nil, err
		}
		info, _ := f.Tensor(t.name)
		out, err := gguf.TensorSize(to, t.shape)
		if err != nil {
			return nil, fmt.Errorf("requant: tensor %q: %w", t.name, err)
		}
		plan.Tensors = append(plan.Tensors, TensorResult{Name: t.name, From: t.typ, To: to, Shape: t.shape,
			InBytes: int64(info.Size), OutBytes: int64(out)})
	}
	return plan, nil
}

// decide returns the output type of one tensor.
func decide(pl *planner, base quant.Type, opt Options, t tensorMeta) (quant.Type, error) {
	if len(t.shape) == 0 || !shouldQuantize(t.name, nDims(t.shape)) {
		return t.typ, nil
	}
	to := base
	manual := false
	for _, o := range opt.Overrides {
		if o.Pattern.MatchString(t.name) {
			if o.Type != to {
				to, manual = o.Type, true
			}
			break
		}
	}
	if !manual && !opt.Pure && base.Quantized() {
		to = pl.getType(to, t)
	}
	ne0 := t.shape[0]
	if ne0%uint64(to.BlockSize()) != 0 {
		if opt.Pure && !manual {
			return t.typ, nil // leave it as it is
		}
		fb, ok := fallback(to, ne0)
		if !ok {
			return 0, fmt.Errorf("requant: tensor %q: ne0 = %d is not a multiple of the %v block size %d and %v has no fallback type",
				t.name, ne0, to, to.BlockSize(), to)
		}
		to = fb
	}
	if to == t.typ {
		return to, nil
	}
	if !to.HasCodec() {
		return 0, fmt.Errorf("requant: tensor %q: cannot quantize to %v (no codec)", t.name, to)
	}
	if !t.typ.HasCodec() {
		return 0, fmt.Errorf("requant: tensor %q: cannot convert from %v (no codec)", t.name, t.typ)
	}
	if t.typ.Quantized() && !opt.AllowRequantize {
		return 0, fmt.Errorf("requant: tensor %q: %w from %v (allow it explicitly)", t.name, ErrRequantize, t.typ)
	}
	return to, nil
}

// Quantize writes the quantized model of in to out (a temporary file in
// out's folder, renamed into place when complete) and returns the plan it
// followed. Metadata is copied in order without general.quantization_version,
// general.file_type and the split.* keys, then general.quantization_version
// = 2 and general.file_type = opt.FType are appended (llama-quantize's order).
func Quantize(ctx context.Context, in, out string, opt Options) (*Plan, error) {
	f, err := gguf.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	plan, err := MakePlan(f, opt)
	if err != nil {
		return nil, err
	}
	w, err := gguf.Create(out, gguf.WriterOptions{Inputs: append([]string{in}, opt.Inputs...)})
	if err != nil {
		return nil, err
	}
	if err := write(ctx, f, w, plan, opt); err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("requant: %s: %w", out, err)
	}
	return plan, nil
}

func write(ctx context.Context, f *gguf.File, w *gguf.Writer, plan *Plan, opt Options) error {
	for _, kv := range f.KVs {
		if keysDropped[kv.Key] {
			continue
		}
		if err := w.SetValue(kv.Key, kv.Value); err != nil {
			return fmt.Errorf("requant: key %q: %w", kv.Key, err)
		}
	}
	if err := w.SetKV("general.quantization_version", uint32(2)); err != nil {
		return err
	}
	if err := w.SetKV("general.file_type", uint32(opt.FType)); err != nil {
		return err
	}
	var total, done int64
	for _, t := range plan.Tensors {
		if err := w.AddTensor(t.Name, t.To, t.Shape); err != nil {
			return fmt.Errorf("requant: %w", err)
		}
		total += t.InBytes
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	var buf []byte
	for _, t := range plan.Tensors {
		if err := ctx.Err(); err != nil {
			return err
		}
		info, _ := f.Tensor(t.Name)
		src, err := f.TensorData(info)
		if err != nil {
			return fmt.Errorf("requant: %w", err)
		}
		data := src
		if t.To != t.From {
			if int64(cap(buf)) < t.OutBytes {
				buf = make([]byte, t.OutBytes)
			}
			data = buf[:t.OutBytes]
			if err := convert(ctx, data, t.To, src, t.From, int(t.Shape[0]), threads); err != nil {
				return fmt.Errorf("requant: tensor %q: %w", t.Name, err)
			}
		}
		if err := w.WriteTensor(t.Name, data); err != nil {
			return fmt.Errorf("requant: %w", err)
		}
		done += t.InBytes
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}
	return nil
}

// chunkElems is the number of elements a worker converts at a time (whole
// rows, at least one): small enough to bound scratch memory per worker.
const chunkElems = 1 << 16

// convert re-encodes rows of ne0 elements from type from (src) to type to
// (dst), spreading chunks of rows over threads workers.
func convert(ctx context.Context, dst []byte, to quant.Type, src []byte, from quant.Type, ne0, threads int) error {
	inRow, err := from.RowSize(int64(ne0))
	if err != nil {
		return err
	}
	outRow, err := to.RowSize(int64(ne0))
	if err != nil {
		return err
	}
	if inRow == 0 || int64(len(src))%inRow != 0 || int64(len(src))/inRow*outRow != int64(len(dst)) {
		return fmt.Errorf("%d bytes of %v do not hold whole rows of %d elements", len(src), from, ne0)
	}
	rows := int(int64(len(src)) / inRow)
	per := max(1, chunkElems/ne0)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, threads)
	for range min(threads, (rows+per-1)/per) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scratch := make([]float32, per*ne0)
			for {
				if ctx.Err() != nil {
					return
				}
				r0 := int(next.Add(int64(per))) - per
				if r0 >= rows {
					return
				}
				r1 := min(rows, r0+per)
				x := scratch[:(r1-r0)*ne0]
				if err := quant.Dequantize(from, x, src[int64(r0)*inRow:int64(r1)*inRow]); err != nil {
					errs <- err
					return
				}
				if err := quant.Quantize(to, dst[int64(r0)*outRow:int64(r1)*outRow], x); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(func() (es []error) {
		for e := range errs {
			es = append(es, e)
		}
		return
	}()...); err != nil {
		return err
	}
	return ctx.Err()
}
