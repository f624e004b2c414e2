package metal

import "testing"

// TestPlanViews: every range up to the largest tensor lies inside one view,
// views respect the buffer limit, and they cover the whole mapping.
func TestPlanViews(t *testing.T) {
	for _, tc := range []struct{ size, maxLen, maxTensor, page int }{
		{1000, 4096, 100, 16},
		{100000, 4096, 1000, 16},
		{100003, 4096, 1, 16},
		{65536, 16384, 3000, 1024},
		{1 << 20, 1 << 16, 1 << 14, 1 << 12},
	} {
		views, err := PlanViews(tc.size, tc.maxLen, tc.maxTensor, tc.page)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		end := 0
		for _, v := range views {
			if v.Len > tc.maxLen || v.Off%tc.page != 0 {
				t.Fatalf("%+v: view %+v breaks the limit or page alignment", tc, v)
			}
			end = max(end, v.Off+v.Len)
		}
		if end < tc.size {
			t.Fatalf("%+v: views end at %d", tc, end)
		}
		for off := 0; off+tc.maxTensor <= tc.size; off += 7 {
			i, at, ok := Locate(views, off, tc.maxTensor)
			if !ok || views[i].Off+at != off || at+tc.maxTensor > views[i].Len {
				t.Fatalf("%+v: range %d+%d: view %d at %d ok=%v", tc, off, tc.maxTensor, i, at, ok)
			}
		}
		t.Logf("size %d limit %d tensor ≤ %d: %d views", tc.size, tc.maxLen, tc.maxTensor, len(views))
	}
	if _, err := PlanViews(100000, 4096, 4096, 16); err == nil {
		t.Error("a tensor as large as the buffer limit was accepted with overlapping views")
	}
	if _, _, ok := Locate([]Span{{0, 64}}, 60, 8); ok {
		t.Error("a range past the only view was located")
	}
}
