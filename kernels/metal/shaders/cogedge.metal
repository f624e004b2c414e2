// cogedge's Metal kernels. The same source runs on Apple GPUs (compiled
// once per process by Metal.framework) and on the simulated device of
// kernels/metal (compiled as C++ with clang against kernels/metal/shim), so
// it keeps to what the shim provides: scalar types, uint3 builtins,
// threadgroup arrays declared in kernel bodies, uniform simd_* calls.
//
// Quantized blocks are read byte by byte (GGUF blocks are 2-byte aligned at
// best). Every buffer(0) is a small argument struct of 32-bit fields that
// the Go host code (kernels/metal/ops.go) packs in the same order.
#include <metal_stdlib>
using namespace metal;

// ggml type codes (quant.Type)
#define T_F32 0
#define T_F16 1
#define T_Q4_0 2
#define T_Q4_1 3
#define T_Q5_0 6
#define T_Q5_1 7
#define T_Q8_0 8
#define T_Q4_K 12
#define T_Q5_K 13
#define T_Q6_K 14
#define T_IQ4_NL 20
#define T_BF16 30

constant char kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

inline int s8(uchar v) { return int(as_type<char>(v)); }
inline ushort u16(device const uchar *p) { return ushort(ushort(p[0]) | ushort(ushort(p[1]) << 8)); }
inline float f16(device const uchar *p) { return float(as_type<half>(u16(p))); }
inline float f32(device const uchar *p) {
	return as_type<float>(uint(p[0]) | (uint(p[1]) << 8) | (uint(p[2]) << 16) | (uint(p[3]) << 24));
}
inline float bf16(device const uchar *p) { return as_type<float>(uint(u16(p)) << 16); }
inline void put16(device uchar *p, ushort v) {
	p[0] = uchar(v & 255);
	p[1] = uchar(v >> 8);
}

// ---- the block terms of the quantized dots (kernels/ref's definitions) ----

inline float blk_q4_0(device const uchar *w, device const uchar *x) {
	int s = 0;
	for (int j = 0; j < 16; j++) {
		uchar q = w[2 + j];
		s += (int(q & 15) - 8) * s8(x[2 + j]);
		s += (int(q >> 4) - 8) * s8(x[18 + j]);
	}
	return float(s) * (f16(w) * f16(x));
}

inline float blk_q4_1(device const uchar *w, device const uchar *x) {
	int s = 0;
	for (int j = 0; j < 16; j++) {
		uchar q = w[4 + j];
		s += int(q & 15) * s8(x[4 + j]);
		s += int(q >> 4) * s8(x[20 + j]);
	}
	return float(s) * (f16(w) * f16(x)) + f16(w + 2) * f16(x + 2);
}

inline uint qh32(device const uchar *p) {
	return uint(p[0]) | (uint(p[1]) << 8) | (uint(p[2]) << 16) | (uint(p[3]) << 24);
}

inline float blk_q5_0(device const uchar *w, device const uchar *x) {
	uint qh = qh32(w + 2);
	int s = 0;
	for (int j = 0; j < 16; j++) {
		uchar q = w[6 + j];
		int lo = int(q & 15) | int((qh >> j) & 1) << 4;
		int hi = int(q >> 4) | int((qh >> (j + 16)) & 1) << 4;
		s += (lo - 16) * s8(x[2 + j]);
		s += (hi - 16) * s8(x[18 + j]);
	}
	return float(s) * (f16(w) * f16(x));
}

inline float blk_q5_1(device const uchar *w, device const uchar *x) {
	uint qh = qh32(w + 4);
	int s = 0;
	for (int j = 0; j < 16; j++) {
		uchar q = w[8 + j];
		int lo = int(q & 15) | int((qh >> j) & 1) << 4;
		int hi = int(q >> 4) | int((qh >> (j + 16)) & 1) << 4;
		s += lo * s8(x[4 + j]);
		s += hi * s8(x[20 + j]);
	}
	return float(s) * (f16(w) * f16(x)) + f16(w + 2) * f16(x + 2);
}

inline float blk_q8_0(device const uchar *w, device const uchar *x) {
	int s = 0;
	for (int j = 0; j < 32; j++)
		s += s8(w[2 + j]) * s8(x[2 + j]);
	return float(s) * (f16(w) * f16(x));
}

inline float blk_iq4_nl(device const uchar *w, device const uchar *x) {
	int s = 0;
	for (int j = 0; j < 16; j++) {
		uchar q = w[2 + j];
		s += int(kvalues_iq4nl[q & 15]) * s8(x[2 + j]);
		s += int(kvalues_iq4nl[q >> 4]) * s8(x[18 + j]);
	}
	return float(s) * (f16(w) * f16(x));
}

// scale_min_k4 is ggml's get_scale_min_k4 (quant.ScaleMinK4).
inline int scale_k4(int j, device const uchar *q) {
	return j < 4 ? int(q[j] & 63) : int((q[j + 4] & 15) | ((q[j - 4] >> 6) << 4));
}
inline int min_k4(int j, device const uchar *q) {
	return j < 4 ? int(q[j + 4] & 63) : int((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
}

inline int bsum32(device const uchar *x, int j) {
	return int(as_type<short>(u16(x + 260 + 4 * j))) + int(as_type<short>(u16(x + 262 + 4 * j)));
}

// blk_q45_k: one Q4_K (q5 = false) or Q5_K super-block against Q8_K.
inline float blk_q45_k(device const uchar *w, device const uchar *x, bool q5) {
	device const uchar *qs = w + (q5 ? 48 : 16);
	device const uchar *qh = w + 16;
	int isum = 0, imin = 0;
	for (int c = 0; c < 4; c++) {
		int lo = 0, hi = 0;
		for (int l = 0; l < 32; l++) {
			int ql = int(qs[32 * c + l] & 15), qu = int(qs[32 * c + l] >> 4);
			if (q5) {
				ql |= int((qh[l] >> (2 * c)) & 1) << 4;
				qu |= int((qh[l] >> (2 * c + 1)) & 1) << 4;
			}
			lo += ql * s8(x[4 + 64 * c + l]);
			hi += qu * s8(x[4 + 64 * c + 32 + l]);
		}
		isum += scale_k4(2 * c, w + 4) * lo + scale_k4(2 * c + 1, w + 4) * hi;
	}
	for (int j = 0; j < 8; j++)
		imin += min_k4(j, w + 4) * bsum32(x, j);
	float yd = f32(x);
	return float(isum) * (yd * f16(w)) - float(imin) * (yd * f16(w + 2));
}

inline float blk_q6_k(device const uchar *w, device const uchar *x) {
	device const uchar *ql = w, *qh = w + 128, *sc = w + 192;
	int isum = 0, ibs = 0;
	for (int h = 0; h < 2; h++) {
		for (int l = 0; l < 32; l++) {
			uchar hb = qh[32 * h + l];
			int q0 = int(ql[64 * h + l] & 15) | int(hb & 3) << 4;
			int q1 = int(ql[64 * h + l + 32] & 15) | int((hb >> 2) & 3) << 4;
			int q2 = int(ql[64 * h + l] >> 4) | int((hb >> 4) & 3) << 4;
			int q3 = int(ql[64 * h + l + 32] >> 4) | int((hb >> 6) & 3) << 4;
			int s = 8 * h + l / 16, e = 4 + 128 * h;
			isum += s8(sc[s + 0]) * q0 * s8(x[e + l]);
			isum += s8(sc[s + 2]) * q1 * s8(x[e + 32 + l]);
			isum += s8(sc[s + 4]) * q2 * s8(x[e + 64 + l]);
			isum += s8(sc[s + 6]) * q3 * s8(x[e + 96 + l]);
		}
	}
	for (int i = 0; i < 16; i++)
		ibs += s8(sc[i]) * int(as_type<short>(u16(x + 260 + 2 * i)));
	return float(isum - 32 * ibs) * (f32(x) * f16(w + 208));
}

// ---- activation quantizers (kernels/ref: ties to even) ----

struct QuantArgs {
	int nb;         // blocks per row
	int src_stride; // floats between rows
	int dst_stride; // bytes between rows
	int rows;
};

inline float amax32(device const float *x) {
	float amax = 0.0f;
	for (int j = 0; j < 32; j++) {
		float a = fabs(x[j]);
		if (isnan(a))
			return a;
		if (a > amax)
			amax = a;
	}
	return amax;
}

inline int round_even(float v) { return isnan(v) ? 0 : int(rint(v)); }

kernel void quantize_q8_0(constant QuantArgs &p [[buffer(0)]], device const float *src [[buffer(1)]],
                          device uchar *dst [[buffer(2)]], uint3 gid [[thread_position_in_grid]]) {
	if (int(gid.x) >= p.nb || int(gid.y) >= p.rows)
		return;
	device const float *x = src + ulong(gid.y) * p.src_stride + gid.x * 32;
	device uchar *o = dst + ulong(gid.y) * p.dst_stride + gid.x * 34;
	float d = precise::divide(amax32(x), 127.0f);
	float id = d != 0.0f ? precise::divide(1.0f, d) : 0.0f;
	put16(o, as_type<ushort>(half(d)));
	for (int j = 0; j < 32; j++)
		o[2 + j] = uchar(round_even(x[j] * id) & 255);
}

kernel void quantize_q8_1(constant QuantArgs &p [[buffer(0)]], device const float *src [[buffer(1)]],
                          device uchar *dst [[buffer(2)]], uint3 gid [[thread_position_in_grid]]) {
	if (int(gid.x) >= p.nb || int(gid.y) >= p.rows)
		return;
	device const float *x = src + ulong(gid.y) * p.src_stride + gid.x * 32;
	device uchar *o = dst + ulong(gid.y) * p.dst_stride + gid.x * 36;
	float d = precise::divide(amax32(x), 127.0f);
	float id = d != 0.0f ? precise::divide(1.0f, d) : 0.0f;
	int sum = 0;
	for (int j = 0; j < 32; j++) {
		int q = int(as_type<char>(uchar(round_even(x[j] * id) & 255)));
		sum += q;
		o[4 + j] = uchar(q & 255);
	}
	put16(o, as_type<ushort>(half(d)));
	put16(o + 2, as_type<ushort>(half(float(sum) * d)));
}

kernel void quantize_q8_k(constant QuantArgs &p [[buffer(0)]], device const float *src [[buffer(1)]],
                          device uchar *dst [[buffer(2)]], uint3 gid [[thread_position_in_grid]]) {
	if (int(gid.x) >= p.nb || int(gid.y) >= p.rows)
		return;
	device const float *x = src + ulong(gid.y) * p.src_stride + gid.x * 256;
	device uchar *o = dst + ulong(gid.y) * p.dst_stride + gid.x * 292;
	float amax = 0.0f, mx = 0.0f;
	for (int j = 0; j < 256; j++) {
		float a = fabs(x[j]);
		if (a > amax) {
			amax = a;
			mx = x[j];
		}
	}
	if (amax == 0.0f) {
		for (int j = 0; j < 292; j++)
			o[j] = 0;
		return;
	}
	float iscale = precise::divide(-127.0f, mx);
	for (int j = 0; j < 256; j++) {
		int q = round_even(iscale * x[j]);
		o[4 + j] = uchar(min(q, 127) & 255);
	}
	for (int i = 0; i < 16; i++) {
		int s = 0;
		for (int j = 0; j < 16; j++)
			s += s8(o[4 + 16 * i + j]);
		put16(o + 260 + 2 * i, ushort(s & 0xffff));
	}
	uint db = as_type<uint>(precise::divide(1.0f, iscale));
	o[0] = uchar(db & 255);
	o[1] = uchar((db >> 8) & 255);
	o[2] = uchar((db >> 16) & 255);
	o[3] = uchar(db >> 24);
}

// ---- decode: matrix × vector, one SIMD-group per weight row ----

struct MatVecArgs {
	int rows;     // weight rows (outputs per column)
	int nb;       // blocks per row (elements for F32/F16/BF16)
	int cols;     // activation rows
	int w_stride; // bytes between weight rows
	int x_stride; // bytes (quantized) or floats between activation rows
	int y_stride; // floats between output rows
};

#define MV_ROWS 2 // SIMD-groups (rows) per threadgroup

#define MV_QUANT(BLK, WB, XB)                                                                            \
	int row = int(tg.x) * MV_ROWS + int(sg);                                                             \
	if (row >= p.rows)                                                                                   \
		return;                                                                                          \
	device const uchar *wr = w + ulong(row) * p.w_stride;                                                \
	device const uchar *xr = x + ulong(tg.y) * p.x_stride;                                               \
	float acc = 0.0f;                                                                                    \
	for (int b = int(lane); b < p.nb; b += 32)                                                           \
		acc += BLK;                                                                                      \
	acc = simd_sum(acc);                                                                                 \
	if (lane == 0)                                                                                       \
		y[ulong(tg.y) * p.y_stride + row] = acc;

kernel void mv_q4_0(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q4_0(wr + b * 18, xr + b * 34), 18, 34)
}

kernel void mv_q4_1(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q4_1(wr + b * 20, xr + b * 36), 20, 36)
}

kernel void mv_q5_0(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q5_0(wr + b * 22, xr + b * 34), 22, 34)
}

kernel void mv_q5_1(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q5_1(wr + b * 24, xr + b * 36), 24, 36)
}

kernel void mv_q8_0(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q8_0(wr + b * 34, xr + b * 34), 34, 34)
}

kernel void mv_iq4_nl(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                      device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                      uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                      ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_iq4_nl(wr + b * 18, xr + b * 34), 18, 34)
}

kernel void mv_q4_k(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q45_k(wr + b * 144, xr + b * 292, false), 144, 292)
}

kernel void mv_q5_k(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q45_k(wr + b * 176, xr + b * 292, true), 176, 292)
}

kernel void mv_q6_k(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const uchar *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_QUANT(blk_q6_k(wr + b * 210, xr + b * 292), 210, 292)
}

// Float weights multiply float activations (x_stride in floats).
#define MV_FLOAT(LOAD)                                                                                   \
	int row = int(tg.x) * MV_ROWS + int(sg);                                                             \
	if (row >= p.rows)                                                                                   \
		return;                                                                                          \
	device const uchar *wr = w + ulong(row) * p.w_stride;                                                \
	device const float *xr = x + ulong(tg.y) * p.x_stride;                                               \
	float acc = 0.0f;                                                                                    \
	for (int i = int(lane); i < p.nb; i += 32)                                                           \
		acc += LOAD * xr[i];                                                                             \
	acc = simd_sum(acc);                                                                                 \
	if (lane == 0)                                                                                       \
		y[ulong(tg.y) * p.y_stride + row] = acc;

kernel void mv_f32(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                   device const float *x [[buffer(2)]], device float *y [[buffer(3)]],
                   uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                   ushort lane [[thread_index_in_simdgroup]]) {
	MV_FLOAT(f32(wr + 4 * i))
}

kernel void mv_f16(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                   device const float *x [[buffer(2)]], device float *y [[buffer(3)]],
                   uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                   ushort lane [[thread_index_in_simdgroup]]) {
	MV_FLOAT(f16(wr + 2 * i))
}

kernel void mv_bf16(constant MatVecArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
                    device const float *x [[buffer(2)]], device float *y [[buffer(3)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                    ushort lane [[thread_index_in_simdgroup]]) {
	MV_FLOAT(bf16(wr + 2 * i))
}

// ---- dequantization of one element (mat-mat tiles, embedding rows) ----

inline int nib(device const uchar *qs, int j) { return j < 16 ? int(qs[j] & 15) : int(qs[j - 16] >> 4); }

inline float dequant(int type, device const uchar *row, int i) {
	switch (type) {
	case T_F32:
		return f32(row + 4 * i);
	case T_F16:
		return f16(row + 2 * i);
	case T_BF16:
		return bf16(row + 2 * i);
	case T_Q4_0: {
		device const uchar *b = row + (i / 32) * 18;
		return float(nib(b + 2, i % 32) - 8) * f16(b);
	}
	case T_Q4_1: {
		device const uchar *b = row + (i / 32) * 20;
		return float(nib(b + 4, i % 32)) * f16(b) + f16(b + 2);
	}
	case T_Q5_0: {
		device const uchar *b = row + (i / 32) * 22;
		int j = i % 32;
		int q = nib(b + 6, j) | int((qh32(b + 2) >> j) & 1) << 4;
		return float(q - 16) * f16(b);
	}
	case T_Q5_1: {
		device const uchar *b = row + (i / 32) * 24;
		int j = i % 32;
		int q = nib(b + 8, j) | int((qh32(b + 4) >> j) & 1) << 4;
		return float(q) * f16(b) + f16(b + 2);
	}
	case T_Q8_0: {
		device const uchar *b = row + (i / 32) * 34;
		return float(s8(b[2 + i % 32])) * f16(b);
	}
	case T_IQ4_NL: {
		device const uchar *b = row + (i / 32) * 18;
		return float(kvalues_iq4nl[nib(b + 2, i % 32)]) * f16(b);
	}
	case T_Q4_K:
	case T_Q5_K: {
		bool q5 = type == T_Q5_K;
		device const uchar *b = row + (i / 256) * (q5 ? 176 : 144);
		int l = i % 256, c = l / 64, e = l % 64, is = 2 * c + (e >= 32 ? 1 : 0);
		device const uchar *qs = b + (q5 ? 48 : 16);
		int q = e < 32 ? int(qs[32 * c + e] & 15) : int(qs[32 * c + e - 32] >> 4);
		if (q5)
			q |= int((b[16 + e % 32] >> is) & 1) << 4;
		float d1 = f16(b) * float(scale_k4(is, b + 4));
		float m1 = f16(b + 2) * float(min_k4(is, b + 4));
		return d1 * float(q) - m1;
	}
	case T_Q6_K: {
		device const uchar *b = row + (i / 256) * 210;
		int l = i % 256, h = l / 128, e = l % 128, qd = e / 32, ll = e % 32;
		uchar qlb = b[64 * h + (qd & 1) * 32 + ll];
		int lo = qd < 2 ? int(qlb & 15) : int(qlb >> 4);
		int hi = int((b[128 + 32 * h + ll] >> (2 * qd)) & 3);
		int sc = s8(b[192 + 8 * h + ll / 16 + 2 * qd]);
		return f16(b + 208) * float(sc) * float((lo | hi << 4) - 32);
	}
	}
	return 0.0f;
}

// ---- prefill: tiled matrix × matrix on SIMD-group matrices ----

struct MatMulArgs {
	int rows;     // weight rows
	int k;        // elements per row
	int cols;     // activation rows
	int wtype;    // quant.Type of the weights
	int w_stride; // bytes between weight rows
	int x_stride; // floats between activation rows
	int y_stride; // floats between output rows
};

// mm: a 32×32 output tile per threadgroup of four SIMD-groups, each owning a
// 16×16 quarter as 2×2 8×8 float matrices; K advances 32 at a time through
// threadgroup tiles of dequantized weights and activations.
kernel void mm(constant MatMulArgs &p [[buffer(0)]], device const uchar *w [[buffer(1)]],
               device const float *x [[buffer(2)]], device float *y [[buffer(3)]],
               uint3 tg [[threadgroup_position_in_grid]], ushort tiitg [[thread_index_in_threadgroup]],
               ushort sg [[simdgroup_index_in_threadgroup]]) {
	threadgroup float sa[32 * 32]; // weights [row][k]
	threadgroup float sb[32 * 32]; // activations [col][k]
	threadgroup float sc[32 * 32]; // result [col][row]
	int r0 = int(tg.x) * 32, c0 = int(tg.y) * 32;
	int sr = (int(sg) / 2) * 16, scl = (int(sg) % 2) * 16;
	simdgroup_float8x8 acc[2][2];
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			acc[i][j] = make_filled_simdgroup_matrix<float, 8>(0.0f);
	for (int k0 = 0; k0 < p.k; k0 += 32) {
		for (int e = int(tiitg); e < 1024; e += 128) {
			int r = e / 32, kk = k0 + e % 32;
			bool kin = kk < p.k;
			sa[e] = (r0 + r < p.rows && kin) ? dequant(p.wtype, w + ulong(r0 + r) * p.w_stride, kk) : 0.0f;
			sb[e] = (c0 + r < p.cols && kin) ? x[ulong(c0 + r) * p.x_stride + kk] : 0.0f;
		}
		threadgroup_barrier(mem_flags::mem_threadgroup);
		for (int kk = 0; kk < 32; kk += 8) {
			simdgroup_float8x8 a0, a1, b0, b1;
			simdgroup_load(a0, sa + sr * 32 + kk, 32);
			simdgroup_load(a1, sa + (sr + 8) * 32 + kk, 32);
			simdgroup_load(b0, sb + scl * 32 + kk, 32, 0, true);
			simdgroup_load(b1, sb + (scl + 8) * 32 + kk, 32, 0, true);
			simdgroup_multiply_accumulate(acc[0][0], a0, b0, acc[0][0]);
			simdgroup_multiply_accumulate(acc[0][1], a0, b1, acc[0][1]);
			simdgroup_multiply_accumulate(acc[1][0], a1, b0, acc[1][0]);
			simdgroup_multiply_accumulate(acc[1][1], a1, b1, acc[1][1]);
		}
		threadgroup_barrier(mem_flags::mem_threadgroup);
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			simdgroup_store(acc[i][j], sc + (scl + 8 * j) * 32 + sr + 8 * i, 32, 0, true);
	threadgroup_barrier(mem_flags::mem_threadgroup);
	for (int e = int(tiitg); e < 1024; e += 128) {
		int c = e / 32, r = e % 32;
		if (r0 + r < p.rows && c0 + c < p.cols)
			y[ulong(c0 + c) * p.y_stride + r0 + r] = sc[e];
	}
}

// ---- embedding rows of (quantized) tables ----

struct GetRowsArgs {
	int type;       // quant.Type of the table
	int k;          // elements per row
	int row_stride; // bytes between table rows
	int n;          // ids
	int dst_stride; // floats between output rows
};

kernel void get_rows(constant GetRowsArgs &p [[buffer(0)]], device const uchar *table [[buffer(1)]],
                     device const int *ids [[buffer(2)]], device float *dst [[buffer(3)]],
                     uint3 tg [[threadgroup_position_in_grid]], ushort tiitg [[thread_index_in_threadgroup]],
                     uint3 ntg [[threads_per_threadgroup]]) {
	int i = int(tg.x);
	if (i >= p.n)
		return;
	device const uchar *row = table + ulong(ids[i]) * p.row_stride;
	for (int j = int(tiitg); j < p.k; j += int(ntg.x))
		dst[ulong(i) * p.dst_stride + j] = dequant(p.type, row, j);
}

// ---- per-token expert routing: gather rows by index, scatter them back ----

struct RouteArgs {
	int n;          // floats per row
	int count;      // rows moved
	int src_stride; // floats
	int dst_stride; // floats
};

kernel void gather_rows(constant RouteArgs &p [[buffer(0)]], device const float *src [[buffer(1)]],
                        device const int *idx [[buffer(2)]], device float *dst [[buffer(3)]],
                        uint3 tg [[threadgroup_position_in_grid]], ushort tiitg [[thread_index_in_threadgroup]],
                        uint3 ntg [[threads_per_threadgroup]]) {
	int i = int(tg.x);
	if (i >= p.count)
		return;
	for (int j = int(tiitg); j < p.n; j += int(ntg.x))
		dst[ulong(i) * p.dst_stride + j] = src[ulong(idx[i]) * p.src_stride + j];
}

kernel void scatter_rows(constant RouteArgs &p [[buffer(0)]], device const float *src [[buffer(1)]],
                         device const int *idx [[buffer(2)]], device float *dst [[buffer(3)]],
                         uint3 tg [[threadgroup_position_in_grid]], ushort tiitg [[thread_index_in_threadgroup]],
                         uint3 ntg [[threads_per_threadgroup]]) {
	int i = int(tg.x);
	if (i >= p.count)
		return;
	for (int j = int(tiitg); j < p.n; j += int(ntg.x))
		dst[ulong(idx[i]) * p.dst_stride + j] = src[ulong(i) * p.src_stride + j];
}

// ---- norms: one SIMD-group per row ----

struct NormArgs {
	int n;          // elements per row
	int rows;
	int x_stride;   // floats
	int y_stride;   // floats
	float eps;
};

kernel void rms_norm(constant NormArgs &p [[buffer(0)]], device const float *x [[buffer(1)]],
                     device const float *wt [[buffer(2)]], device float *y [[buffer(3)]],
                     uint3 tg [[threadgroup_position_in_grid]], ushort lane [[thread_index_in_simdgroup]]) {
	if (int(tg.x) >= p.rows)
		return;
	device const float *xr = x + ulong(tg.x) * p.x_stride;
	device float *yr = y + ulong(tg.x) * p.y_stride;
	float ss = 0.0f;
	for (int i = int(lane); i < p.n; i += 32)
		ss += xr[i] * xr[i];
	ss = simd_sum(ss);
	float scale = precise::divide(1.0f, precise::sqrt(ss / float(p.n) + p.eps));
	for (int i = int(lane); i < p.n; i += 32)
		yr[i] = (xr[i] * scale) * wt[i];
}

kernel void layer_norm(constant NormArgs &p [[buffer(0)]], device const float *x [[buffer(1)]],
                       device const float *wt [[buffer(2)]], device const float *bias [[buffer(3)]],
                       device float *y [[buffer(4)]], uint3 tg [[threadgroup_position_in_grid]],
                       ushort lane [[thread_index_in_simdgroup]]) {
	if (int(tg.x) >= p.rows)
		return;
	device const float *xr = x + ulong(tg.x) * p.x_stride;
	device float *yr = y + ulong(tg.x) * p.y_stride;
	float s = 0.0f;
	for (int i = int(lane); i < p.n; i += 32)
		s += xr[i];
	float mean = simd_sum(s) / float(p.n);
	float ss = 0.0f;
	for (int i = int(lane); i < p.n; i += 32)
		ss += (xr[i] - mean) * (xr[i] - mean);
	ss = simd_sum(ss);
	float scale = precise::divide(1.0f, precise::sqrt(ss / float(p.n) + p.eps));
	for (int i = int(lane); i < p.n; i += 32)
		yr[i] = (xr[i] - mean) * scale * wt[i] + bias[i];
}

// ---- element-wise ops over n floats; b repeats every nb (bias: nb = row) ----

struct EltArgs {
	int n;
	int nb;
};

kernel void add(constant EltArgs &p [[buffer(0)]], device const float *a [[buffer(1)]],
                device const float *b [[buffer(2)]], device float *c [[buffer(3)]],
                uint3 gid [[thread_position_in_grid]]) {
	int i = int(gid.x);
	if (i < p.n)
		c[i] = a[i] + b[i % p.nb];
}

kernel void mul(constant EltArgs &p [[buffer(0)]], device const float *a [[buffer(1)]],
                device const float *b [[buffer(2)]], device float *c [[buffer(3)]],
                uint3 gid [[thread_position_in_grid]]) {
	int i = int(gid.x);
	if (i < p.n)
		c[i] = a[i] * b[i % p.nb];
}

// erfc_f: Numerical Recipes' Chebyshev fit of erfc, fractional error below
// 1.2e-7 everywhere (Metal has no erf).
inline float erfc_f(float x) {
	float z = fabs(x);
	float t = precise::divide(1.0f, 1.0f + 0.5f * z);
	float r = t * precise::exp(-z * z - 1.26551223f +
	                           t * (1.00002368f +
	                                t * (0.37409196f +
	                                     t * (0.09678418f +
	                                          t * (-0.18628806f +
	                                               t * (0.27886807f +
	                                                    t * (-1.13520398f +
	                                                         t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
	return x >= 0.0f ? r : 2.0f - r;
}

// gelu: exact (erf) GELU, x·Φ(x) = ½·x·erfc(−x/√2).
kernel void gelu(constant EltArgs &p [[buffer(0)]], device const float *x [[buffer(1)]],
                 device float *y [[buffer(2)]], uint3 gid [[thread_position_in_grid]]) {
	int i = int(gid.x);
	if (i < p.n) {
		float v = x[i];
		y[i] = 0.5f * v * erfc_f(-v * 0.70710678118654752f);
	}
}

// f32_to_f16: y = half(x), round to nearest even (the f16 KV cache rows).
kernel void f32_to_f16(constant EltArgs &p [[buffer(0)]], device const float *x [[buffer(1)]],
                       device half *y [[buffer(2)]], uint3 gid [[thread_position_in_grid]]) {
	int i = int(gid.x);
	if (i < p.n)
		y[i] = half(x[i]);
}

// swiglu: silu(gate)·up.
kernel void swiglu(constant EltArgs &p [[buffer(0)]], device const float *g [[buffer(1)]],
                   device const float *u [[buffer(2)]], device float *y [[buffer(3)]],
                   uint3 gid [[thread_position_in_grid]]) {
	int i = int(gid.x);
	if (i < p.n) {
		float v = g[i];
		y[i] = precise::divide(v, 1.0f + precise::exp(-v)) * u[i];
	}
}

// ---- RoPE (NeoX rotate-half) by position id, in place ----

struct RopeArgs {
	int n_heads;
	int head_dim;
	int tokens;
	int stride; // floats between token rows
};

// inv_freq[i] = base^(−2i/head_dim), computed by the host as the reference
// does, so both rotate by the same float32 angle.
kernel void rope_neox(constant RopeArgs &p [[buffer(0)]], device float *x [[buffer(1)]],
                      device const int *pos [[buffer(2)]], constant float *inv_freq [[buffer(3)]],
                      uint3 gid [[thread_position_in_grid]]) {
	int half_dim = p.head_dim / 2;
	int i = int(gid.x), h = int(gid.y), t = int(gid.z);
	if (i >= half_dim || h >= p.n_heads || t >= p.tokens)
		return;
	float theta = float(pos[t]) * inv_freq[i];
	float c = precise::cos(theta), s = precise::sin(theta);
	device float *r = x + ulong(t) * p.stride + h * p.head_dim;
	float a = r[i], b = r[i + half_dim];
	r[i] = a * c - b * s;
	r[i + half_dim] = b * c + a * s;
}

// ---- softmax over rows, one SIMD-group per row, in place ----

struct SoftmaxArgs {
	int n;
	int rows;
	int stride;
};

kernel void softmax(constant SoftmaxArgs &p [[buffer(0)]], device float *x [[buffer(1)]],
                    uint3 tg [[threadgroup_position_in_grid]], ushort lane [[thread_index_in_simdgroup]]) {
	if (int(tg.x) >= p.rows || p.n == 0)
		return;
	device float *r = x + ulong(tg.x) * p.stride;
	float m = -INFINITY;
	for (int i = int(lane); i < p.n; i += 32)
		m = max(m, r[i]);
	m = simd_max(m);
	float s = 0.0f;
	for (int i = int(lane); i < p.n; i += 32) {
		float e = precise::exp(r[i] - m);
		r[i] = e;
		s += e;
	}
	s = simd_sum(s);
	float inv = precise::divide(1.0f, s);
	for (int i = int(lane); i < p.n; i += 32)
		r[i] *= inv;
}

// ---- attention: one SIMD-group per (query row, head), online softmax over
// 32 keys at a time; no nq×nkv matrix is ever stored ----

struct AttnArgs {
	int nq, nkv;
	int n_head, n_head_kv, head_dim;
	int q_stride, kv_stride, o_stride; // floats (elements for K/V) between rows
	int causal, q_pos0;
	float scale;
};

#define ATTN_MAX_DIM 256

template <typename T>
inline void attention(constant AttnArgs &p, device const float *q, device const T *k, device const T *v,
                      device float *o, uint3 tg, ushort lane) {
	int qi = int(tg.x), h = int(tg.y);
	if (qi >= p.nq || h >= p.n_head)
		return;
	int kvh = h / (p.n_head / p.n_head_kv);
	int hd = p.head_dim;
	device const float *qr = q + ulong(qi) * p.q_stride + h * hd;
	int limit = p.causal ? min(p.nkv, p.q_pos0 + qi + 1) : p.nkv;
	float acc[ATTN_MAX_DIM / 32];
	for (int m = 0; m < ATTN_MAX_DIM / 32; m++)
		acc[m] = 0.0f;
	float M = -INFINITY, S = 0.0f;
	for (int c = 0; c < limit; c += 32) {
		int t = c + int(lane);
		float s = -INFINITY;
		if (t < limit) {
			device const T *kr = k + ulong(t) * p.kv_stride + kvh * hd;
			float d = 0.0f;
			for (int j = 0; j < hd; j++)
				d += qr[j] * float(kr[j]);
			s = d * p.scale;
		}
		float mn = max(M, simd_max(s));
		float corr = precise::exp(M - mn);
		float e = t < limit ? precise::exp(s - mn) : 0.0f;
		S = S * corr + simd_sum(e);
		for (int m = 0; m < ATTN_MAX_DIM / 32; m++)
			acc[m] *= corr;
		int cnt = min(32, limit - c);
		for (int tt = 0; tt < cnt; tt++) {
			float pt = simd_shuffle(e, ushort(tt));
			device const T *vr = v + ulong(c + tt) * p.kv_stride + kvh * hd;
			for (int m = 0; m < ATTN_MAX_DIM / 32; m++) {
				int j = int(lane) + 32 * m;
				if (j < hd)
					acc[m] += pt * float(vr[j]);
			}
		}
		M = mn;
	}
	device float *orow = o + ulong(qi) * p.o_stride + h * hd;
	float inv = precise::divide(1.0f, S);
	for (int m = 0; m < ATTN_MAX_DIM / 32; m++) {
		int j = int(lane) + 32 * m;
		if (j < hd)
			orow[j] = acc[m] * inv;
	}
}

kernel void attn_f32(constant AttnArgs &p [[buffer(0)]], device const float *q [[buffer(1)]],
                     device const float *k [[buffer(2)]], device const float *v [[buffer(3)]],
                     device float *o [[buffer(4)]], uint3 tg [[threadgroup_position_in_grid]],
                     ushort lane [[thread_index_in_simdgroup]]) {
	attention<float>(p, q, k, v, o, tg, lane);
}

kernel void attn_f16(constant AttnArgs &p [[buffer(0)]], device const float *q [[buffer(1)]],
                     device const half *k [[buffer(2)]], device const half *v [[buffer(3)]],
                     device float *o [[buffer(4)]], uint3 tg [[threadgroup_position_in_grid]],
                     ushort lane [[thread_index_in_simdgroup]]) {
	attention<half>(p, q, k, v, o, tg, lane);
}

// ---- read bandwidth: every thread sums a grid-strided share of the words ----

struct ReadArgs {
	uint n; // 32-bit words
};

kernel void read_sum(constant ReadArgs &p [[buffer(0)]], device const uint *src [[buffer(1)]],
                     device uint *out [[buffer(2)]], uint3 gid [[thread_position_in_grid]],
                     uint3 ngrid [[threadgroups_per_grid]], uint3 ntg [[threads_per_threadgroup]]) {
	uint total = ngrid.x * ntg.x;
	uint s = 0;
	for (uint i = gid.x; i < p.n; i += total)
		s += src[i];
	out[gid.x] = s;
}
