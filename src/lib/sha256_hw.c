/* sha256_hw.c - the SHA-256 compression function on the CPU's SHA
 * instructions, through the compiler's intrinsics: x86 SHA-NI (with
 * SSE4.1 and SSSE3) and ARMv8 SHA2. Only the functions here are compiled
 * for those instructions (a target attribute each), so the rest of the
 * build keeps the baseline flags and a CPU without them never runs them:
 * sha256.c asks sha256_cpu_has_* first.
 *
 * Both follow FIPS 180-4 section 6.2.2 four rounds at a time: one vector
 * holds four message words W[t..t+3], the schedule instructions make the
 * next four from the previous sixteen, and the round instructions do the
 * rounds on the working variables kept as two vectors. */
#include <stddef.h>
#include <stdint.h>

#include "sha256_hw.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

/* CPUID leaf 7 (subleaf 0) EBX bit 29: SHA extensions; leaf 1 ECX bit 19:
 * SSE4.1, bit 9: SSSE3 */
#define CPUID_7_EBX_SHA (1u << 29)
#define CPUID_1_ECX_SSE41 (1u << 19)
#define CPUID_1_ECX_SSSE3 (1u << 9)

int
sha256_cpu_has_x86_shani(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) ||
	    (c & (CPUID_1_ECX_SSE41 | CPUID_1_ECX_SSSE3)) !=
	    (CPUID_1_ECX_SSE41 | CPUID_1_ECX_SSSE3))
		return 0;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b & CPUID_7_EBX_SHA) != 0;
}

/* The working variables live as ABEF (A in the top lane) and CDGH, the
 * order SHA256RNDS2 takes them in; each call does two rounds with the two
 * low lanes of wk (message word plus constant). */
__attribute__((target("sha,sse4.1,ssse3"))) static void
sha256_x86_shani(uint32_t state[8], const unsigned char *p, size_t nblocks)
{
	/* reverses the bytes of each 32-bit lane: the words are big-endian */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL,
	    0x0405060700010203LL);
	__m128i abef, cdgh, t, m[4];

	/* state a b c d / e f g h into ABEF / CDGH */
	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1);
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B);
	abef = _mm_alignr_epi8(t, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, t, 0xF0);

	for (; nblocks > 0; nblocks--, p += SHA256_BLOCK_LEN) {
		__m128i abef0 = abef, cdgh0 = cdgh, wk;

#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4) {
				m[g] = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const __m128i *)(p + 16 * g)), bswap);
			} else {
				/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16] */
				__m128i w7 = _mm_alignr_epi8(m[(g + 3) & 3],
				    m[(g + 2) & 3], 4);
				m[g & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(
				    _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]), w7),
				    m[(g + 3) & 3]);
			}
			wk = _mm_add_epi32(m[g & 3], _mm_loadu_si128(
			    (const __m128i *)&sha256_round_k[4 * g]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			/* after two rounds the old ABEF is the new CDGH */
			abef = _mm_sha256rnds2_epu32(abef, cdgh,
			    _mm_shuffle_epi32(wk, 0x0E));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}

	/* back to a b c d / e f g h */
	t = _mm_shuffle_epi32(abef, 0x1B);
	cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(t, cdgh, 0xF0));
	_mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(cdgh, t, 8));
}

sha256_blocks_fn *const sha256_blocks_x86_shani = sha256_x86_shani;
#else
sha256_blocks_fn *const sha256_blocks_x86_shani = NULL;

int
sha256_cpu_has_x86_shani(void)
{
	return 0;
}
#endif

/* GCC declares the SHA2 intrinsics for a target attribute to enable;
 * clang before 16 only when the whole file is built for them */
#if defined(__aarch64__) && (defined(__ARM_FEATURE_SHA2) || \
    !defined(__clang__) || __clang_major__ >= 16)
#define SHA256_HAVE_ARMV8 1
#endif

#if SHA256_HAVE_ARMV8
#include <arm_neon.h>
#include <sys/auxv.h>

/* AT_HWCAP bit 6 on arm64 Linux (HWCAP_SHA2 of <asm/hwcap.h>) */
#define SHA256_HWCAP_SHA2 (1ul << 6)

int
sha256_cpu_has_armv8(void)
{
	return (getauxval(AT_HWCAP) & SHA256_HWCAP_SHA2) != 0;
}

/* abcd and efgh hold the working variables in order; SHA256H and SHA256H2
 * each take both halves and four words plus constants. */
#if defined(__ARM_FEATURE_SHA2) || defined(__ARM_FEATURE_CRYPTO)
static void
#elif defined(__clang__)
__attribute__((target("sha2"))) static void
#else
__attribute__((target("+crypto"))) static void
#endif
sha256_armv8(uint32_t state[8], const unsigned char *p, size_t nblocks)
{
	uint32x4_t abcd = vld1q_u32(&state[0]), efgh = vld1q_u32(&state[4]);
	uint32x4_t m[4];

	for (; nblocks > 0; nblocks--, p += SHA256_BLOCK_LEN) {
		uint32x4_t abcd0 = abcd, efgh0 = efgh, wk, t;

#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4)
				m[g] = vreinterpretq_u32_u8(vrev32q_u8(
				    vld1q_u8(p + 16 * g)));
			else
				m[g & 3] = vsha256su1q_u32(vsha256su0q_u32(m[g & 3],
				    m[(g + 1) & 3]), m[(g + 2) & 3], m[(g + 3) & 3]);
			wk = vaddq_u32(m[g & 3], vld1q_u32(&sha256_round_k[4 * g]));
			t = abcd;
			abcd = vsha256hq_u32(abcd, efgh, wk);
			efgh = vsha256h2q_u32(efgh, t, wk);
		}
		abcd = vaddq_u32(abcd, abcd0);
		efgh = vaddq_u32(efgh, efgh0);
	}
	vst1q_u32(&state[0], abcd);
	vst1q_u32(&state[4], efgh);
}

sha256_blocks_fn *const sha256_blocks_armv8 = sha256_armv8;
#else
sha256_blocks_fn *const sha256_blocks_armv8 = NULL;

int
sha256_cpu_has_armv8(void)
{
	return 0;
}
#endif
