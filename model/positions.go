package model

// TokenType says whether a sequence slot holds a text token or an image row.
type TokenType uint8

// Token types, numbered as the reference's token_type_ids.
const (
	Lang   TokenType = 0 // a text token (BOS and generated tokens included)
	Vision TokenType = 1 // an image row: boi, a patch, or eoi
)

// PositionIDs returns the RoPE position id of every slot of a sequence, by
// the reference's build_position_ids: a Vision slot that starts or ends a
// Vision run (boi, eoi) counts as Lang; the first slot is 0; each later
// slot adds 1 if it is Lang, or if it is Vision and the slot before it is
// Lang; the inner patches add 0. For BOS + image + text this gives
// BOS 0, boi 1, every patch 2, eoi 3, text 4, 5, …
func PositionIDs(types []TokenType) []int32 {
	return positionIDs(make([]int32, len(types)), make([]TokenType, len(types)), types)
}

// positionIDs is PositionIDs into pos, with rel as scratch (both
// len(types)).
func positionIDs(pos []int32, rel, types []TokenType) []int32 {
	n := len(types)
	if n == 0 {
		return pos
	}
	copy(rel, types)
	for i := range types {
		if types[i] != Vision {
			continue
		}
		startsRun := i == 0 || types[i-1] != Vision
		endsRun := i == n-1 || types[i+1] != Vision
		if startsRun || endsRun {
			rel[i] = Lang
		}
	}
	pos[0] = 0
	for i := 1; i < n; i++ {
		inc := int32(0)
		if rel[i] == Lang || rel[i-1] == Lang {
			inc = 1
		}
		pos[i] = pos[i-1] + inc
	}
	return pos
}

// VisionExpertMask returns, for the slots of one forward call, whether each
// uses the vision expert: slot t does iff it and slot t+1 are both Vision
// (so boi and the patches do; eoi, BOS, text and any single-token step do
// not). The mask is over one call's slots, as in the reference: a prefill
// that is processed in chunks must compute it over the whole prefill.
func VisionExpertMask(types []TokenType) []bool {
	return visionExpertMask(make([]bool, len(types)), types)
}

// visionExpertMask is VisionExpertMask into m (len(types)).
func visionExpertMask(m []bool, types []TokenType) []bool {
	for t := range types {
		m[t] = t+1 < len(types) && types[t] == Vision && types[t+1] == Vision
	}
	return m
}

// run is a half-open range [start, end) of slots that use one expert.
type run struct {
	start, end int
	vision     bool
}

// expertRuns appends to out the maximal runs of equal expert in
// mask[lo:hi], with slot indices relative to lo.
func expertRuns(out []run, mask []bool, lo, hi int) []run {
	for i := lo; i < hi; {
		j := i + 1
		for j < hi && mask[j] == mask[i] {
			j++
		}
		out = append(out, run{start: i - lo, end: j - lo, vision: mask[i]})
		i = j
	}
	return out
}
