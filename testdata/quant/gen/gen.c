// gen.c — writes cogedge's golden data for the quant package from ggml.
//
// Linked against ggml-base (ggml.c, ggml-quants.c, ...) of llama.cpp commit
// 66d65ec29ba7c440cbc31b6f63b74a17b536ba65. Usage: gen OUTDIR
//
// Files written (all little-endian, raw):
//   input.f32             NROWS*NPR float32: the seeded test rows (see make_rows)
//   <type>.q              ggml_quantize_chunk(type, input, dst, 0, NROWS, NPR, NULL)
//   <type>.deq.f32        ggml's to_float (dequantize_row_*) of <type>.q
//   <type>.rnd            NRND random blocks (seeded bytes, fp16 scales made finite)
//   <type>.rnd.f32        ggml's to_float of <type>.rnd
//   act_q8_0.q, act_q8_1.q, act_q8_k.q   quantize_row_q8_{0,1,K}_ref(input)
//   half.hash             see write_half_hashes
//   adv_input.f32         NADV*NPR float32: adversarial rows (see make_adv_rows),
//                         drawn after everything above from the same generator
//   <type>.adv.q          ggml_quantize_chunk(type, adv_input, dst, 0, NADV, NPR, NULL)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>
#include "ggml.h"
#include "ggml-quants.h"
#include "ggml-impl.h"

#define NROWS 24
#define NPR   512
#define NRND  64
#define NADV  96
#define NKIND 12

static uint64_t rng_state = 0x636f6765646765ULL; // "cogedge"
static uint64_t next_u64(void) { // splitmix64
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double unif(void) { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); } // [0,1)
static double gauss(void) {
    double u1 = unif(), u2 = unif();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void make_rows(float * x) {
    for (int r = 0; r < NROWS; ++r) {
        float * row = x + r * NPR;
        for (int j = 0; j < NPR; ++j) {
            double v = 0;
            switch (r) {
            case 0: v = gauss(); break;                                   // standard gaussian
            case 1: v = 0.02 * gauss(); break;                            // weight-like scale
            case 2: v = 2 * unif() - 1; break;                            // uniform [-1,1)
            case 3: v = gauss() * (unif() < 0.02 ? 25 : 1); break;        // outliers
            case 4: v = 0; break;                                         // all zero
            case 5: v = ((j / 32) % 2) ? 0 : gauss(); break;              // alternate zero 32-blocks
            case 6: v = 1e-20 * gauss(); break;                           // below GROUP_MAX_EPS range of scales
            case 7: v = 1e-6 * gauss(); break;                            // fp16-subnormal scales
            case 8: v = (j % 32 == 7) ? 1000.0 : 0.01 * gauss(); break;   // one huge value per block
            case 9: v = 0.5 * (double)((int)(unif() * 17) - 8); break;    // ties: multiples of 0.5 in [-4,4]
            case 10: v = ((j / 32) % 2) ? -0.3 : 0.3; break;              // constant blocks
            case 11: v = 0.5 + 0.5 * unif(); break;                       // all positive (min clamp)
            case 12: v = -0.5 - 0.5 * unif(); break;                      // all negative
            case 13: v = 1e4 * gauss(); break;                            // large
            case 14: v = 3e5 * gauss(); break;                            // fp16 scale overflow
            case 15: v = (unif() < 0.05) ? gauss() : 0; break;            // sparse
            case 16: v = (j - 256) / 64.0; break;                         // ramp (exact ties)
            case 17: v = gauss() * pow(10.0, (double)((j / 16) % 5) - 2); break; // scale per 16-group
            case 18: v = (j % 32 == 3) ? 1.0 : (j % 32 == 10) ? -1.0 : 0.3 * gauss(); break; // |max| tie, opposite signs
            case 19: { double g = gauss(); v = g / (fabs(gauss()) + 0.05); } break; // heavy tails
            case 20: v = 1e-15 * gauss(); break;                          // around GROUP_MAX_EPS
            case 21: v = 1e-40 * gauss(); break;                          // float32 subnormals
            case 22: v = (double)((int)(unif() * 31) - 15); break;        // small integers (exact grid)
            default: v = 0.1 * gauss() + 0.05; break;                     // shifted gaussian
            }
            row[j] = (float) v;
        }
    }
}

static int randn(int n) { return (int) (unif() * n); } // [0, n)
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// make_adv_rows fills NADV rows, row r of kind r % NKIND: the inputs
// quantizers get wrong first — NaN, infinities, huge, tiny and subnormal
// values, exact rounding ties, equal values, scales at the fp16 limits.
static void make_adv_rows(float * x) {
    static const double scales[] = {1, 0.02, 1e-3, 1e-6, 1e-15, 2e-15, 1e-20, 1e4, 3e5, 6e4, 1e-38, 1e30};
    const float special[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1.1754942e-38f, 3.4028235e38f, -3.4028235e38f,
                             INFINITY, -INFINITY, NAN, 65504.0f, 65520.0f, -65520.0f, 1e-15f, 0.5f, -0.5f};
    for (int r = 0; r < NADV; ++r) {
        float * row = x + r * NPR;
        const double sc = scales[randn(12)];
        switch (r % NKIND) {
        case 0: // gaussian at a random scale
            for (int j = 0; j < NPR; ++j) row[j] = (float) (gauss() * sc);
            break;
        case 1: { // multiples of 0.5 over small denominators: rounding ties everywhere
            const float den = (float) (1 + randn(4));
            for (int j = 0; j < NPR; ++j) row[j] = (float) (randn(65) - 32) / den * 0.5f;
        } break;
        case 2: { // entries and midpoints of the IQ4_NL table times a power of two
            const float d = (float) ldexp(1, randn(20) - 14);
            for (int j = 0; j < NPR; ++j) {
                const int k = randn(15);
                const float a = iq4nl_values[k], b = iq4nl_values[k + 1];
                float v = randn(3) == 0 ? (a + b) / 2 : randn(2) ? b : a;
                row[j] = (randn(2) ? -v : v) * d;
            }
        } break;
        case 3: // equal values per 32-block (a quarter of them zero), sometimes one outlier
            for (int b = 0; b < NPR; b += 32) {
                const float c = randn(4) == 0 ? 0.0f : (float) (gauss() * sc);
                for (int j = b; j < b + 32; ++j) row[j] = c;
                if (randn(2)) row[b + randn(32)] = (float) (gauss() * sc * 100);
            }
            break;
        case 4: // equal magnitudes with opposite signs as each block's extremes
            for (int j = 0; j < NPR; ++j) row[j] = (float) (gauss() * sc);
            for (int b = 0; b < NPR; b += 32) {
                const float m = (float) ((1 - log(1 - unif()) + 1) * sc);
                row[b + randn(32)] = m;
                row[b + randn(32)] = -m;
            }
            break;
        case 5: // random bit patterns except NaN: subnormals, huge values, infinities
            for (int j = 0; j < NPR; ++j) {
                float v;
                do v = from_bits((uint32_t) next_u64()); while (v != v);
                row[j] = v;
            }
            break;
        case 6: // gaussian with one special value in 16 (NaN, inf, FLT_MAX, fp16 limits, signed zero)
            for (int j = 0; j < NPR; ++j) row[j] = randn(16) == 0 ? special[randn(16)] : (float) (gauss() * sc);
            break;
        case 7: // float32 subnormals and tiny normals only
            for (int j = 0; j < NPR; ++j) row[j] = from_bits((uint32_t) (next_u64() & 0xFFFFFF)) * (randn(2) ? -1.0f : 1.0f);
            break;
        case 8: // sparse, with a power-of-two scale per 16-group
            for (int j = 0; j < NPR; ++j) row[j] = randn(5) == 0 ? (float) (gauss() * sc) : 0.0f;
            for (int g = 0; g < NPR; g += 16) {
                const float s = (float) ldexp(1, randn(30) - 15);
                for (int j = g; j < g + 16; ++j) row[j] *= s;
            }
            break;
        case 9: { // grid values k * 2^e / 8: quantized levels land on .5 often
            const int e = randn(12) - 6;
            for (int j = 0; j < NPR; ++j) row[j] = (float) ldexp(randn(257) - 128, e) / 8;
        } break;
        case 10: // NaNs with distinct payloads and both signs, and infinities, in every 16-group
            for (int j = 0; j < NPR; ++j) row[j] = (float) (gauss() * sc);
            for (int g = 0; g < NPR; g += 16) {
                for (int k = 1 + randn(3); k > 0; --k)
                    row[g + randn(16)] = from_bits((0x7f800001u + (uint32_t) randn(0x7fffff)) | (uint32_t) randn(2) << 31);
                if (randn(4) == 0) row[g + randn(16)] = randn(2) ? INFINITY : -INFINITY;
            }
            break;
        default: { // all one sign, heavy tailed
            const double sign = randn(2) ? -1 : 1;
            for (int j = 0; j < NPR; ++j) row[j] = (float) (sign * fabs(gauss() / (unif() + 1e-3)) * sc);
        } break;
        }
    }
}

static void write_file(const char * dir, const char * name, const void * p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE * f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) { perror(path); exit(1); }
}

// fp16 offsets of the scale fields per block, to make them finite in random blocks.
static void fix_scales(enum ggml_type t, uint8_t * b) {
    int offs[2] = {-1, -1};
    switch (t) {
    case GGML_TYPE_Q4_0: case GGML_TYPE_Q5_0: case GGML_TYPE_Q8_0: case GGML_TYPE_IQ4_NL: offs[0] = 0; break;
    case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1: offs[0] = 0; offs[1] = 2; break;
    case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: offs[0] = 0; offs[1] = 2; break;
    case GGML_TYPE_Q6_K: offs[0] = 208; break;
    default: break;
    }
    for (int i = 0; i < 2; ++i) {
        if (offs[i] < 0) continue;
        uint16_t h; memcpy(&h, b + offs[i], 2);
        if ((h & 0x7C00) == 0x7C00) h &= 0xBFFF; // inf/NaN -> finite (clear top exponent bit)
        memcpy(b + offs[i], &h, 2);
    }
}

static uint64_t fnv(uint64_t h, const void * p, size_t n) {
    const uint8_t * b = p;
    for (size_t i = 0; i < n; ++i) { h ^= b[i]; h *= 0x100000001B3ULL; }
    return h;
}
#define FNV0 0xCBF29CE484222325ULL

// half.hash: 4096 u64 FNV-1a hashes of ggml_compute_fp32_to_fp16(bits) for bits in
// chunk c = [c<<20, (c+1)<<20) (outputs as LE u16, in order), then 4096 of
// ggml_compute_fp32_to_bf16, then one hash of ggml_compute_fp16_to_fp32 over all
// 65536 inputs (outputs as LE f32 bits).
static void write_half_hashes(const char * dir) {
    static uint64_t out[4096 * 2 + 1];
    static uint16_t buf[1 << 20];
    for (uint32_t c = 0; c < 4096; ++c) {
        for (uint32_t i = 0; i < (1u << 20); ++i) {
            uint32_t u = (c << 20) | i; float f; memcpy(&f, &u, 4);
            buf[i] = ggml_compute_fp32_to_fp16(f);
        }
        out[c] = fnv(FNV0, buf, sizeof buf);
        for (uint32_t i = 0; i < (1u << 20); ++i) {
            uint32_t u = (c << 20) | i; float f; memcpy(&f, &u, 4);
            buf[i] = ggml_compute_fp32_to_bf16(f).bits;
        }
        out[4096 + c] = fnv(FNV0, buf, sizeof buf);
    }
    uint64_t h = FNV0;
    for (uint32_t i = 0; i < 65536; ++i) { float f = ggml_compute_fp16_to_fp32((ggml_fp16_t) i); h = fnv(h, &f, 4); }
    out[8192] = h;
    write_file(dir, "half.hash", out, sizeof out);
}

int main(int argc, char ** argv) {
    if (argc < 2) { fprintf(stderr, "usage: gen OUTDIR [nohash]\n"); return 2; }
    const char * dir = argv[1];
    static float x[NROWS * NPR];
    make_rows(x);
    write_file(dir, "input.f32", x, sizeof x);

    static const enum ggml_type types[] = {
        GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
        GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL,
    };
    static uint8_t q[NROWS * NPR * 4];
    static float y[NROWS * NPR > NRND * QK_K ? NROWS * NPR : NRND * QK_K]; // holds either set
    for (size_t k = 0; k < sizeof types / sizeof types[0]; ++k) {
        enum ggml_type t = types[k];
        const struct ggml_type_traits * tr = ggml_get_type_traits(t);
        char name[64];
        size_t rs = ggml_row_size(t, NPR);
        memset(q, 0, sizeof q);
        size_t n = ggml_quantize_chunk(t, x, q, 0, NROWS, NPR, NULL);
        if (n != rs * NROWS) { fprintf(stderr, "%s: size %zu\n", tr->type_name, n); return 1; }
        snprintf(name, sizeof name, "%s.q", tr->type_name); write_file(dir, name, q, n);
        tr->to_float(q, y, NROWS * NPR);
        snprintf(name, sizeof name, "%s.deq.f32", tr->type_name); write_file(dir, name, y, NROWS * NPR * sizeof(float));
        if (tr->is_quantized) {
            size_t nb = NRND * tr->type_size;
            for (size_t i = 0; i < nb; ++i) q[i] = (uint8_t) next_u64();
            for (size_t i = 0; i < NRND; ++i) fix_scales(t, q + i * tr->type_size);
            snprintf(name, sizeof name, "%s.rnd", tr->type_name); write_file(dir, name, q, nb);
            tr->to_float(q, y, NRND * tr->blck_size);
            snprintf(name, sizeof name, "%s.rnd.f32", tr->type_name); write_file(dir, name, y, NRND * tr->blck_size * 4);
        }
    }
    static block_q8_0 a0[NROWS * NPR / 32];
    static block_q8_1 a1[NROWS * NPR / 32];
    static block_q8_K ak[NROWS * NPR / 256];
    memset(ak, 0, sizeof ak); // bsums are left unwritten for all-zero blocks
    quantize_row_q8_0_ref(x, a0, NROWS * NPR); write_file(dir, "act_q8_0.q", a0, sizeof a0);
    quantize_row_q8_1_ref(x, a1, NROWS * NPR); write_file(dir, "act_q8_1.q", a1, sizeof a1);
    quantize_row_q8_K_ref(x, ak, NROWS * NPR); write_file(dir, "act_q8_k.q", ak, sizeof ak);
    if (argc < 3) write_half_hashes(dir);

    static float adv[NADV * NPR];
    static uint8_t qa[NADV * NPR * 4];
    make_adv_rows(adv);
    write_file(dir, "adv_input.f32", adv, sizeof adv);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; ++k) {
        enum ggml_type t = types[k];
        char name[64];
        size_t n = ggml_quantize_chunk(t, adv, qa, 0, NADV, NPR, NULL);
        snprintf(name, sizeof name, "%s.adv.q", ggml_get_type_traits(t)->type_name);
        write_file(dir, name, qa, n);
    }
    return 0;
}
