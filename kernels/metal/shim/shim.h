// shim.h: enough of the Metal Shading Language, as C++20 for clang 16 or
// newer, to run cogedge's unchanged .metal kernels on the CPU (the
// simulated device of kernels/metal). Threads of a threadgroup are
// cooperative fibers on one OS thread, switched at barriers and SIMD-group
// operations, so threadgroup memory, barriers and simd_* functions have
// their real semantics; threadgroups run one after another.
//
// Limits (the shaders keep to them): threadgroup memory is declared as
// arrays in the kernel body (mapped to static locals, valid because one
// threadgroup runs at a time), never as pointer variables or kernel
// parameters; vector types are uint3 builtins only; SIMD-group matrices
// must be used uniformly across the SIMD-group (as Metal requires), each
// lane holding the whole 8×8 matrix.
#pragma once
#pragma clang system_header

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <ucontext.h>

typedef _Float16 half;
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long ulong;
typedef unsigned int uint3 __attribute__((ext_vector_type(3)));
typedef unsigned int uint2 __attribute__((ext_vector_type(2)));
typedef unsigned short ushort3 __attribute__((ext_vector_type(3)));
typedef unsigned short ushort2 __attribute__((ext_vector_type(2)));
typedef unsigned long ulong2 __attribute__((ext_vector_type(2)));

constexpr half operator""_h(long double v) { return (half)v; }

// ---- the SIMT runtime: fibers, barriers, SIMD-group exchange ----

// On x86-64 fibers switch with shim_switch, which saves the callee-saved
// registers on the old stack and restores them from the new one: glibc's
// swapcontext also saves the signal mask with a system call on every
// switch, which was half the simulator's time. Elsewhere ucontext serves.
#if defined(__x86_64__)
#define SHIM_FAST_SWITCH 1
extern "C" void shim_switch(void **save_sp, void *to_sp);
asm(R"(
	.text
	.globl shim_switch
	.type shim_switch,@function
shim_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size shim_switch, .-shim_switch
	.section .note.GNU-stack,"",@progbits
	.text
)");
#endif

namespace shimrt {

enum State { RUNNABLE, WAIT_TG, WAIT_SG, DONE };

struct Lane {
	uint3 tgid, tpos, ntg, gid, ngrid;
	uint tiitg, sgitg, tiisg;
};

struct Fiber {
#ifdef SHIM_FAST_SWITCH
	void *sp; // saved stack pointer (shim_switch)
#else
	ucontext_t ctx;
#endif
	State state;
	Lane lane;
};

constexpr int kSimdWidth = 32;
constexpr int kMaxThreads = 1024;
constexpr size_t kStack = 256 * 1024;

struct Runtime {
	Fiber fibers[kMaxThreads];
	char *stacks[kMaxThreads] = {};
#ifdef SHIM_FAST_SWITCH
	void *sched;
#else
	ucontext_t sched;
#endif
	int n = 0, cur = 0;
	// per SIMD-group exchange slots (16 bytes per lane)
	alignas(16) unsigned char scratch[kMaxThreads / kSimdWidth][kSimdWidth][16];
	bool active[kMaxThreads / kSimdWidth][kSimdWidth];
	const char *error = nullptr;
};

inline Runtime &rt() {
	static Runtime r;
	return r;
}

inline Lane &lane() { return rt().fibers[rt().cur].lane; }

// to_scheduler suspends the running fiber; resume switches to fiber i.
inline void to_scheduler() {
	Runtime &r = rt();
#ifdef SHIM_FAST_SWITCH
	shim_switch(&r.fibers[r.cur].sp, r.sched);
#else
	swapcontext(&r.fibers[r.cur].ctx, &r.sched);
#endif
}

inline void resume(int i) {
	Runtime &r = rt();
	r.cur = i;
#ifdef SHIM_FAST_SWITCH
	shim_switch(&r.sched, r.fibers[i].sp);
#else
	swapcontext(&r.sched, &r.fibers[i].ctx);
#endif
}

inline void wait(State s) {
	Runtime &r = rt();
	r.fibers[r.cur].state = s;
	to_scheduler();
}

// simd_barrier waits until every live lane of the caller's SIMD-group is
// waiting too, and records which lanes take part.
inline void simd_barrier() { wait(WAIT_SG); }

template <class T> inline void put(const T &v) {
	static_assert(sizeof(T) <= 16, "simd value too large");
	Lane &l = lane();
	std::memcpy(rt().scratch[l.sgitg][l.tiisg], &v, sizeof(T));
}

template <class T> inline T get(uint src) {
	T v;
	std::memcpy(&v, rt().scratch[lane().sgitg][src], sizeof(T));
	return v;
}

inline bool active(uint src) { return src < (uint)kSimdWidth && rt().active[lane().sgitg][src]; }

using Entry = void (*)(void **args);

struct Launch {
	Entry fn;
	void **args;
};
inline Launch &launch() {
	static Launch l;
	return l;
}

inline void trampoline() {
	Runtime &r = rt();
	launch().fn(launch().args);
	r.fibers[r.cur].state = DONE;
	to_scheduler(); // never resumed
	__builtin_trap();
}

// run_threadgroup runs one threadgroup of nthreads fibers to completion;
// it returns an error message on a barrier no live thread can pass.
inline const char *run_threadgroup(Entry fn, void **args, uint3 tgid, uint3 ntg, uint3 ngrid) {
	Runtime &r = rt();
	int n = ntg.x * ntg.y * ntg.z;
	if (n <= 0 || n > kMaxThreads)
		return "threadgroup size out of range";
	launch() = Launch{fn, args};
	r.n = n;
	for (int i = 0; i < n; i++) {
		if (!r.stacks[i])
			r.stacks[i] = (char *)std::malloc(kStack);
		Fiber &f = r.fibers[i];
		f.state = RUNNABLE;
		uint3 tpos = {uint(i % ntg.x), uint((i / ntg.x) % ntg.y), uint(i / (ntg.x * ntg.y))};
		f.lane = Lane{tgid, tpos, ntg, tgid * ntg + tpos, ngrid, uint(i), uint(i / kSimdWidth), uint(i % kSimdWidth)};
#ifdef SHIM_FAST_SWITCH
		// a stack shim_switch can return into: six zero registers under the
		// entry address, which sits 16-byte aligned so that trampoline
		// starts with the stack of a called function
		uintptr_t top = (uintptr_t(r.stacks[i]) + kStack) & ~uintptr_t(15);
		void **slot = (void **)top;
		slot[-1] = nullptr;              // trampoline's (unused) return address
		slot[-2] = (void *)&trampoline;  // shim_switch's ret
		for (int k = 3; k <= 9; k++)     // rbp rbx r12 r13 r14 r15, padding
			slot[-k] = nullptr;
		f.sp = &slot[-9];
#else
		getcontext(&f.ctx);
		f.ctx.uc_stack.ss_sp = r.stacks[i];
		f.ctx.uc_stack.ss_size = kStack;
		f.ctx.uc_link = nullptr;
		makecontext(&f.ctx, trampoline, 0);
#endif
	}
	int nsg = (n + kSimdWidth - 1) / kSimdWidth;
	for (;;) {
		for (int i = 0; i < n; i++) {
			if (r.fibers[i].state == RUNNABLE)
				resume(i);
		}
		bool live = false, allTG = true, released = false;
		for (int i = 0; i < n; i++) {
			State s = r.fibers[i].state;
			if (s == DONE)
				continue;
			live = true;
			if (s != WAIT_TG)
				allTG = false;
		}
		if (!live)
			return nullptr;
		if (allTG) {
			for (int i = 0; i < n; i++)
				if (r.fibers[i].state == WAIT_TG)
					r.fibers[i].state = RUNNABLE;
			continue;
		}
		for (int g = 0; g < nsg; g++) {
			bool any = false, all = true;
			for (int i = g * kSimdWidth; i < n && i < (g + 1) * kSimdWidth; i++) {
				State s = r.fibers[i].state;
				if (s == DONE)
					continue;
				any = true;
				if (s != WAIT_SG)
					all = false;
			}
			if (any && all) {
				for (int i = g * kSimdWidth; i < (g + 1) * kSimdWidth; i++) {
					bool on = i < n && r.fibers[i].state == WAIT_SG;
					r.active[g][i % kSimdWidth] = on;
					if (on)
						r.fibers[i].state = RUNNABLE;
				}
				released = true;
			}
		}
		if (!released)
			return "deadlock: threads wait at different barriers";
	}
}

// conv maps a builtin's uint3 value onto the parameter type a kernel
// declares (scalar: the x component).
template <class T> inline T conv(uint3 v) {
	if constexpr (std::is_arithmetic_v<T>)
		return (T)v.x;
	else
		return __builtin_convertvector(v, T);
}
template <class T> inline T conv(uint v) { return (T)v; }

} // namespace shimrt

// ---- Metal's library, the parts the shaders use ----
namespace metal {

enum class mem_flags { mem_none = 0, mem_device = 1, mem_threadgroup = 2 };
constexpr mem_flags mem_none = mem_flags::mem_none;
constexpr mem_flags mem_device = mem_flags::mem_device;
constexpr mem_flags mem_threadgroup = mem_flags::mem_threadgroup;
inline mem_flags operator|(mem_flags a, mem_flags b) { return mem_flags(int(a) | int(b)); }

inline void threadgroup_barrier(mem_flags) { shimrt::wait(shimrt::WAIT_TG); }
inline void simdgroup_barrier(mem_flags) { shimrt::simd_barrier(); }

template <class T, class U> inline T as_type(U u) {
	static_assert(sizeof(T) == sizeof(U), "as_type size mismatch");
	T t;
	std::memcpy(&t, &u, sizeof(T));
	return t;
}

inline float exp(float x) { return std::exp(x); }
inline float log(float x) { return std::log(x); }
inline float sqrt(float x) { return std::sqrt(x); }
inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }
inline float fabs(float x) { return std::fabs(x); }
inline float abs(float x) { return std::fabs(x); }
inline int abs(int x) { return x < 0 ? -x : x; }
inline float cos(float x) { return std::cos(x); }
inline float sin(float x) { return std::sin(x); }
inline float pow(float x, float y) { return std::pow(x, y); }
inline float rint(float x) { return std::nearbyint(x); }
inline float floor(float x) { return std::floor(x); }
inline float fma(float a, float b, float c) { return std::fma(a, b, c); }
inline bool isnan(float x) { return std::isnan(x); }
inline bool isinf(float x) { return std::isinf(x); }
template <class T> inline T max(T a, T b) { return a > b ? a : b; }
template <class T> inline T min(T a, T b) { return a < b ? a : b; }
inline float fmax(float a, float b) { return std::fmax(a, b); }
inline float fmin(float a, float b) { return std::fmin(a, b); }
template <class T> inline T clamp(T x, T lo, T hi) { return min(max(x, lo), hi); }
namespace precise {
inline float divide(float a, float b) { return a / b; }
inline float exp(float x) { return std::exp(x); }
inline float cos(float x) { return std::cos(x); }
inline float sin(float x) { return std::sin(x); }
inline float sqrt(float x) { return std::sqrt(x); }
} // namespace precise

// SIMD-group functions: write, barrier, read, barrier.
template <class T, class F> inline T simd_reduce(T v, F f) {
	shimrt::put(v);
	shimrt::simd_barrier();
	bool first = true;
	T acc{};
	for (uint i = 0; i < (uint)shimrt::kSimdWidth; i++) {
		if (!shimrt::active(i))
			continue;
		T x = shimrt::get<T>(i);
		acc = first ? x : f(acc, x);
		first = false;
	}
	shimrt::simd_barrier();
	return acc;
}
template <class T> inline T simd_sum(T v) {
	return simd_reduce(v, [](T a, T b) { return a + b; });
}
template <class T> inline T simd_max(T v) {
	return simd_reduce(v, [](T a, T b) { return a > b ? a : b; });
}
template <class T> inline T simd_min(T v) {
	return simd_reduce(v, [](T a, T b) { return a < b ? a : b; });
}
template <class T> inline T simd_shuffle(T v, ushort src) {
	shimrt::put(v);
	shimrt::simd_barrier();
	T r = shimrt::active(src) ? shimrt::get<T>(src) : v;
	shimrt::simd_barrier();
	return r;
}
template <class T> inline T simd_broadcast(T v, ushort src) { return simd_shuffle(v, src); }
template <class T> inline T simd_shuffle_down(T v, ushort d) {
	return simd_shuffle(v, ushort(shimrt::lane().tiisg + d));
}
template <class T> inline T simd_shuffle_xor(T v, ushort m) {
	return simd_shuffle(v, ushort(shimrt::lane().tiisg ^ m));
}

// SIMD-group matrices: every lane holds the whole matrix.
template <class T> struct simdgroup_matrix8x8 {
	T e[8][8];
	simdgroup_matrix8x8() = default;
	explicit simdgroup_matrix8x8(T v) {
		for (int i = 0; i < 8; i++)
			for (int j = 0; j < 8; j++)
				e[i][j] = i == j ? v : T(0);
	}
};
typedef simdgroup_matrix8x8<float> simdgroup_float8x8;
typedef simdgroup_matrix8x8<half> simdgroup_half8x8;
template <class T, int Cols = 8, int Rows = Cols> inline simdgroup_matrix8x8<T> make_filled_simdgroup_matrix(T v) {
	simdgroup_matrix8x8<T> m;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			m.e[i][j] = v;
	return m;
}
template <class T, class S>
inline void simdgroup_load(simdgroup_matrix8x8<T> &m, const S *src, ulong elements_per_row = 8,
                           ulong2 origin = ulong2{0, 0}, bool transpose = false) {
	for (int r = 0; r < 8; r++)
		for (int c = 0; c < 8; c++) {
			ulong row = transpose ? origin.y + c : origin.y + r;
			ulong col = transpose ? origin.x + r : origin.x + c;
			m.e[r][c] = (T)src[row * elements_per_row + col];
		}
}
template <class T, class S>
inline void simdgroup_store(const simdgroup_matrix8x8<T> &m, S *dst, ulong elements_per_row = 8,
                            ulong2 origin = ulong2{0, 0}, bool transpose = false) {
	for (int r = 0; r < 8; r++)
		for (int c = 0; c < 8; c++) {
			ulong row = transpose ? origin.y + c : origin.y + r;
			ulong col = transpose ? origin.x + r : origin.x + c;
			dst[row * elements_per_row + col] = (S)m.e[r][c];
		}
}
template <class D, class A, class B, class C>
inline void simdgroup_multiply_accumulate(simdgroup_matrix8x8<D> &d, const simdgroup_matrix8x8<A> &a,
                                          const simdgroup_matrix8x8<B> &b, const simdgroup_matrix8x8<C> &c) {
	simdgroup_matrix8x8<D> r;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++) {
			float s = (float)c.e[i][j];
			for (int k = 0; k < 8; k++)
				s += (float)a.e[i][k] * (float)b.e[k][j];
			r.e[i][j] = (D)s;
		}
	d = r;
}

} // namespace metal

// ---- keywords ----
#define kernel
#define device
#define thread
#define constant const
#define threadgroup static
