package model

import (
	"math"

	"github.com/cogedge/cogedge/kernels"
)

// ropeTable holds cos and sin of pos·freq[i] for the positions [0, n) a
// context has used, each computed as the rotations did per row:
// float32(math.Cos(float64(float32(pos)·freq[i]))). An image prefill of
// 1228 rows over 32 layers otherwise evaluates 5 million sines and cosines
// of the same few thousand angles.
type ropeTable struct {
	freq     []float32 // the inverse frequencies (len = headDim/2)
	cos, sin []float32 // position p's values at [p·len(freq), (p+1)·len(freq))
}

// ensure extends the table to positions [0, n).
func (r *ropeTable) ensure(n int) {
	half := len(r.freq)
	for p := len(r.cos) / half; p < n; p++ {
		fp := float32(p)
		for _, f := range r.freq {
			theta := float64(fp * f)
			r.cos = append(r.cos, float32(math.Cos(theta)))
			r.sin = append(r.sin, float32(math.Sin(theta)))
		}
	}
}

// at returns position p's cos and sin rows (p < the n last ensured).
func (r *ropeTable) at(p int) (cos, sin []float32) {
	half := len(r.freq)
	return r.cos[p*half : (p+1)*half], r.sin[p*half : (p+1)*half]
}

// ropeFreqs returns the inverse frequencies layer l rotates by: the
// checkpoint's (CogVLM2), kernels.RoPEInvFreq's for rotate-half pairs, or
// the adjacent-pair ones of c.invFreq.
func (c *Context) ropeFreqs(l int) []float32 {
	if inv := c.m.layers[l].ropeInvFreq; inv != nil {
		return inv
	}
	t := &c.m.Text
	if t.RopeNeoX {
		if c.neoxFreq == nil {
			c.neoxFreq = make([]float32, t.HeadDim/2)
			for i := range c.neoxFreq {
				c.neoxFreq[i] = kernels.RoPEInvFreq(i, t.HeadDim, t.RopeBase)
			}
		}
		return c.neoxFreq
	}
	return c.invFreq
}

// ropeTableFor returns the table of layer l's frequencies, extended to
// cover every position in pos (nil if one is negative: the rotations then
// compute their angles directly).
func (c *Context) ropeTableFor(l int, pos []int32) *ropeTable {
	n := 0
	for _, p := range pos {
		if p < 0 {
			return nil
		}
		n = max(n, int(p)+1)
	}
	freq := c.ropeFreqs(l)
	if len(freq) == 0 {
		return nil
	}
	var r *ropeTable
	for _, t := range c.ropes {
		if &t.freq[0] == &freq[0] {
			r = t
			break
		}
	}
	if r == nil {
		r = &ropeTable{freq: freq}
		c.ropes = append(c.ropes, r)
	}
	r.ensure(n)
	return r
}

// rotateHalf rotates the pairs (x[i], x[i+headDim/2]) of every head by the
// angles whose cos and sin are given (headDim/2 each), as ropeNeoXFreqs.
func rotateHalf(x []float32, nHeads, headDim int, cos, sin []float32) {
	half := headDim / 2
	cos, sin = cos[:half], sin[:half]
	for h := 0; h < nHeads; h++ {
		a, b := x[h*headDim:h*headDim+half], x[h*headDim+half:(h+1)*headDim]
		for i := range a {
			u, v := a[i], b[i]
			a[i] = u*cos[i] - v*sin[i]
			b[i] = v*cos[i] + u*sin[i]
		}
	}
}

// rotateAdjacent rotates the pairs (x[2i], x[2i+1]) of every head by the
// angles whose cos and sin are given, as ropeAdjacent.
func rotateAdjacent(x []float32, nHeads, headDim int, cos, sin []float32) {
	half := headDim / 2
	cos, sin = cos[:half], sin[:half]
	for h := 0; h < nHeads; h++ {
		r := x[h*headDim : (h+1)*headDim]
		for i := range cos {
			u, v := r[2*i], r[2*i+1]
			r[2*i] = u*cos[i] - v*sin[i]
			r[2*i+1] = u*sin[i] + v*cos[i]
		}
	}
}
