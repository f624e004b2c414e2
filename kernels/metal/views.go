package metal

import "fmt"

// Span is one view of a large host mapping: Len bytes from byte Off.
type Span struct{ Off, Len int }

// PlanViews covers size bytes of a page-aligned mapping with views no
// longer than maxLen, overlapping so that any range of up to maxTensor
// bytes lies entirely inside one view (llama.cpp's scheme for GGUF files
// larger than Metal's maxBufferLength). Offsets and lengths are multiples
// of page except the last view's length, which ends at size rounded up to
// a page.
func PlanViews(size, maxLen, maxTensor, page int) ([]Span, error) {
	if size < 1 || page < 1 || maxTensor < 0 || maxLen < page {
		return nil, fmt.Errorf("metal: PlanViews: size %d, max buffer %d, largest tensor %d, page %d", size, maxLen, maxTensor, page)
	}
	total := ceilDiv(size, page) * page
	maxLen = maxLen / page * page
	if total <= maxLen {
		return []Span{{0, total}}, nil
	}
	overlap := (ceilDiv(maxTensor, page) + 1) * page
	step := maxLen - overlap
	if step < page {
		return nil, fmt.Errorf("metal: a %d-byte tensor does not fit the %d-byte buffer limit with page overlap", maxTensor, maxLen)
	}
	var views []Span
	for off := 0; ; off += step {
		n := min(maxLen, total-off)
		views = append(views, Span{off, n})
		if off+n >= total {
			return views, nil
		}
	}
}

// Locate returns the index of the view holding bytes [off, off+n) and the
// offset inside it, or false when no view holds the whole range.
func Locate(views []Span, off, n int) (int, int, bool) {
	if len(views) == 0 || off < 0 || n < 0 {
		return 0, 0, false
	}
	i := 0
	if len(views) > 1 {
		step := views[1].Off
		i = min(off/step, len(views)-1)
	}
	for ; i >= 0; i-- { // the view starting at or before off; an earlier one may end later
		v := views[i]
		if off >= v.Off && off+n <= v.Off+v.Len {
			return i, off - v.Off, true
		}
		if off >= v.Off+v.Len {
			break
		}
	}
	return 0, 0, false
}

// Mapped is a host mapping (the GGUF file) visible to the device through
// views: zero-copy buffers on Metal.
type Mapped struct {
	dev   Device
	spans []Span
	bufs  []Buffer
}

// MapHost wraps mem (page-aligned, mapped for as long as the result is
// used) as device buffers; maxTensor is the largest range View will be
// asked for.
func MapHost(dev Device, mem []byte, maxTensor, page int) (*Mapped, error) {
	spans, err := PlanViews(len(mem), dev.MaxBufferLength(), maxTensor, page)
	if err != nil {
		return nil, err
	}
	m := &Mapped{dev: dev, spans: spans}
	for _, s := range spans {
		end := min(s.Off+s.Len, cap(mem))
		b, err := dev.WrapHost(mem[s.Off:end:end])
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("metal: wrapping bytes %d..%d of the mapping: %w", s.Off, end, err)
		}
		m.bufs = append(m.bufs, b)
	}
	return m, nil
}

// View returns the device view of mapping bytes [off, off+n).
func (m *Mapped) View(off, n int) (View, error) {
	i, at, ok := Locate(m.spans, off, n)
	if !ok {
		return View{}, fmt.Errorf("metal: bytes %d..%d lie in no view of the mapping", off, off+n)
	}
	return View{m.bufs[i], at}, nil
}

// Close frees the views (the mapping itself stays the caller's).
func (m *Mapped) Close() error {
	var first error
	for _, b := range m.bufs {
		if err := m.dev.Free(b); err != nil && first == nil {
			first = err
		}
	}
	m.bufs = nil
	return first
}
