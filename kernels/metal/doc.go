// Package metal is cogedge's GPU backend for Apple silicon: the Metal
// kernels (shaders/cogedge.metal, embedded), the host code that drives them
// (ops.go) and two devices behind one narrow interface (Device: buffers,
// dispatch of a named kernel with its arguments and grid, commit/wait):
//
//   - on darwin, Metal.framework through github.com/ebitengine/purego and
//     its objc package, without cgo (device_darwin.go, objc_darwin.go): one
//     command queue, the library compiled once per process from the
//     embedded source with fast math off, pipelines made on first use, one
//     command buffer with one compute encoder open until Sync, errors from
//     NSError naming the failing call, every call inside an autorelease
//     pool on a locked OS thread, no Objective-C blocks (waitUntilCompleted
//     instead of completion handlers). MapHost wraps a memory-mapped GGUF in
//     zero-copy newBufferWithBytesNoCopy views, page-aligned, no longer than
//     maxBufferLength and overlapping so every tensor lies inside one view.
//   - on Linux, the simulated device (Sim): the same unchanged .metal source
//     compiled as C++ by clang 16 against shim/shim.h (Metal's types,
//     address spaces, threadgroup memory and barriers, SIMD-group
//     reductions and shuffles, SIMD-group matrices) and run by a helper
//     process with every threadgroup's threads as cooperative fibers, so
//     barriers and simd_* calls have their real semantics. It checks shader
//     and host-code changes without a Mac; it is not fast.
//
// The kernels cover what CogVLM's forward pass needs: fused
// dequantize-and-dot matrix × vector for every CPU weight type (F32, F16,
// BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q4_K, Q5_K, Q6_K; quantized
// types dot activations quantized on the device to Q8_0/Q8_1/Q8_K exactly
// as kernels/ref does, so the integer block sums equal the CPU's), a tiled
// matrix × matrix on 8×8 SIMD-group matrices for prefill and the vision
// tower, RMSNorm, LayerNorm, add/mul with broadcast (bias), RoPE by
// position id, softmax, exact-erf GELU, SwiGLU, embedding rows of quantized
// tables, row gather/scatter for the per-token expert routing, flash-style
// attention (causal over a KV cache, or full for the ViT; one SIMD-group
// per query row and head streams the keys with an online softmax and never
// stores an nq×nkv matrix) and a read kernel that measures bandwidth.
//
// Tests (ops_test.go) run every kernel on the test device — the simulator
// on Linux, the GPU on a Mac — against the one generic reference: kernels/ref
// for the quantized dots and activation quantizers (byte-identical
// quantization), the kernels package's ops, or float64 oracles, with the
// tolerance each states; TestMain fails if a kernel of the source never ran.
//
// # The backend seam
//
// The model (model.DeviceContext) runs its vision tower and decoder
// against the op surface of Ops over Views (a buffer and an offset):
// tensors stay in device memory between ops and nothing executes until
// Device.Sync, so one forward call — one decode step — is one command
// buffer and only the logits (and an image's rows) come back. A further backend (Vulkan, CUDA) implements Device for its API and
// supplies kernels of the same names and argument structs; Ops, the
// model's op sequence and its math do not change.
package metal
