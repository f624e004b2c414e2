package model_test

import (
	"testing"

	"github.com/cogedge/cogedge/model"
	"github.com/cogedge/cogedge/quant"
)

// TestPlanMemory checks PlanMemory against what NewContext and an image
// encode really allocate (every slice of the Context, summed by
// reflection), for several sizes, batches and KV types; on the Q4_0 model
// Scratch also holds the pool's unpack buffer, as large as the largest
// packed matrix.
func TestPlanMemory(t *testing.T) {
	for _, typ := range []quant.Type{quant.F32, quant.Q4_0} {
		checkPlan(t, openTiny(t, typ), typ.String())
		// CogVLM2: the adapter runs on the conv's rows, plus the conv's scratch
		checkPlan(t, openTiny2(t, typ, false), "cogvlm2 "+typ.String())
	}
	if _, err := openTiny(t, quant.F32).PlanMemory(model.ContextOptions{Size: -1}); err == nil {
		t.Errorf("PlanMemory accepted size -1")
	}
}

func checkPlan(t *testing.T, m *model.Model, typ string) {
	t.Helper()
	var largestPacked, language int64
	for _, w := range m.LanguageWeights() {
		language += int64(len(w.Data))
		if w.Packed {
			largestPacked = max(largestPacked, int64(len(w.Data)))
		}
	}
	for _, o := range []model.ContextOptions{
		{Size: 64}, {Size: 300, KV: model.KVF32}, {Size: 5, Batch: 512}, {Size: 100, Batch: 7}, {},
	} {
		p, err := m.PlanMemory(o)
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.NewContext(o)
		if err != nil {
			t.Fatal(err)
		}
		imageEmbeds(t, m, c)
		ctx, vision := model.ContextAllocated(c)
		c.Close()
		if want := ctx + largestPacked; p.KV+p.Scratch != want {
			t.Errorf("%v %+v: planned KV %d + scratch %d = %d bytes, allocated %d (+%d packed)", typ, o, p.KV, p.Scratch, p.KV+p.Scratch, ctx, largestPacked)
		}
		if p.Vision != vision || vision == 0 {
			t.Errorf("%v %+v: planned vision scratch %d bytes, allocated %d", typ, o, p.Vision, vision)
		}
		if p.Language != language {
			t.Errorf("%v %+v: language path %d bytes, want %d", typ, o, p.Language, language)
		}
		if p.Context() != p.KV+p.Scratch+p.Vision {
			t.Errorf("Context() = %d, want the sum %d", p.Context(), p.KV+p.Scratch+p.Vision)
		}
	}
}
