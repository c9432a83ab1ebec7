/* utf8.c - decoding, simple case folding and display width of UTF-8. The
 * tables cover what names of music are written in (Latin, Greek, Cyrillic,
 * CJK); they are small by design, not the whole of Unicode. */
#include <string.h>

#include "p2pm/utf8.h"

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t need;
	uint32_t c, min;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xC2 && u[0] <= 0xDF) {
		need = 2;
		c = u[0] & 0x1F;
		min = 0x80;
	} else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
		need = 3;
		c = u[0] & 0x0F;
		min = 0x800;
	} else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
		need = 4;
		c = u[0] & 0x07;
		min = 0x10000;
	} else {
		*cp = UTF8_REPLACEMENT;
		return 1;
	}
	if (len < need) {
		*cp = UTF8_REPLACEMENT;
		return 1;
	}
	for (size_t i = 1; i < need; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*cp = UTF8_REPLACEMENT;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = UTF8_REPLACEMENT;
		return 1;
	}
	*cp = c;
	return need;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *u = (unsigned char *)out;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = UTF8_REPLACEMENT;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	u[0] = (unsigned char)(0xF0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	u[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A run of capitals folding by a fixed offset: every one in [first, last]
 * (every other one when step is 2) folds to cp + delta. */
static const struct utf8_fold_range {
	uint32_t first, last;
	int step, delta;
} utf8_fold_ranges[] = {
	{ 0x0041, 0x005A, 1, 32 },	/* A-Z */
	{ 0x00C0, 0x00D6, 1, 32 },	/* À-Ö */
	{ 0x00D8, 0x00DE, 1, 32 },	/* Ø-Þ */
	{ 0x0100, 0x012E, 2, 1 },	/* Ā-Į */
	{ 0x0132, 0x0136, 2, 1 },	/* Ĳ-Ķ */
	{ 0x0139, 0x0147, 2, 1 },	/* Ĺ-Ň */
	{ 0x014A, 0x0176, 2, 1 },	/* Ŋ-Ŷ */
	{ 0x0179, 0x017D, 2, 1 },	/* Ź-Ž */
	{ 0x0370, 0x0372, 2, 1 },	/* Ͱ Ͳ */
	{ 0x0376, 0x0376, 1, 1 },	/* Ͷ */
	{ 0x0388, 0x038A, 1, 37 },	/* Έ-Ί */
	{ 0x038E, 0x038F, 1, 63 },	/* Ύ Ώ */
	{ 0x0391, 0x03A1, 1, 32 },	/* Α-Ρ */
	{ 0x03A3, 0x03AB, 1, 32 },	/* Σ-Ϋ */
	{ 0x03D8, 0x03EE, 2, 1 },	/* Ϙ-Ϯ */
	{ 0x03FD, 0x03FF, 1, -130 },	/* Ͻ-Ͽ */
	{ 0x0400, 0x040F, 1, 80 },	/* Ѐ-Џ */
	{ 0x0410, 0x042F, 1, 32 },	/* А-Я */
	{ 0x0460, 0x0480, 2, 1 },	/* Ѡ-Ҁ */
	{ 0x048A, 0x04BE, 2, 1 },	/* Ҋ-Ҿ */
	{ 0x04C1, 0x04CD, 2, 1 },	/* Ӂ-Ӎ */
	{ 0x04D0, 0x052E, 2, 1 },	/* Ӑ-Ԯ */
};

/* Single code points that fold elsewhere. */
static const struct utf8_fold_pair {
	uint32_t from, to;
} utf8_fold_pairs[] = {
	{ 0x00B5, 0x03BC },	/* micro sign -> mu */
	{ 0x0178, 0x00FF },	/* Ÿ -> ÿ */
	{ 0x017F, 0x0073 },	/* long s -> s */
	{ 0x037F, 0x03F3 },
	{ 0x0386, 0x03AC },
	{ 0x038C, 0x03CC },
	{ 0x03C2, 0x03C3 },	/* final sigma -> sigma */
	{ 0x03CF, 0x03D7 },
	{ 0x03D0, 0x03B2 },
	{ 0x03D1, 0x03B8 },
	{ 0x03D5, 0x03C6 },
	{ 0x03D6, 0x03C0 },
	{ 0x03F0, 0x03BA },
	{ 0x03F1, 0x03C1 },
	{ 0x03F4, 0x03B8 },
	{ 0x03F5, 0x03B5 },
	{ 0x03F7, 0x03F8 },
	{ 0x03F9, 0x03F2 },
	{ 0x03FA, 0x03FB },
	{ 0x04C0, 0x04CF },
};

uint32_t
utf8_fold(uint32_t cp)
{
	if (cp < 0x41 || cp > 0x052E)
		return cp;
	for (size_t i = 0; i < sizeof(utf8_fold_ranges) / sizeof(utf8_fold_ranges[0]); i++) {
		const struct utf8_fold_range *r = &utf8_fold_ranges[i];
		if (cp >= r->first && cp <= r->last &&
		    (cp - r->first) % (uint32_t)r->step == 0)
			return (uint32_t)((int32_t)cp + r->delta);
	}
	for (size_t i = 0; i < sizeof(utf8_fold_pairs) / sizeof(utf8_fold_pairs[0]); i++)
		if (utf8_fold_pairs[i].from == cp)
			return utf8_fold_pairs[i].to;
	return cp;
}

long
utf8_fold_string(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return -1;
	for (size_t i = 0; i < len; ) {
		char buf[UTF8_MAX_SEQ];
		uint32_t cp;
		size_t n;

		i += utf8_decode(s + i, len - i, &cp);
		n = utf8_encode(utf8_fold(cp), buf);
		if (o + n >= outlen) {
			out[o] = '\0';
			return -1;
		}
		memcpy(out + o, buf, n);
		o += n;
	}
	out[o] = '\0';
	return (long)o;
}

int
utf8_contains_folded(const char *text, const char *needle)
{
	/* folded texts may grow to 3 bytes per byte (invalid bytes) */
	static const size_t room = 3 * UTF8_MAX_COMPARE + 1;
	char ft[3 * UTF8_MAX_COMPARE + 1], fn[3 * UTF8_MAX_COMPARE + 1];
	size_t tl = strlen(text), nl = strlen(needle);

	if (tl > UTF8_MAX_COMPARE || nl > UTF8_MAX_COMPARE)
		return -1;
	if (utf8_fold_string(text, tl, ft, room) < 0 ||
	    utf8_fold_string(needle, nl, fn, room) < 0)
		return -1;
	return strstr(ft, fn) != NULL;
}

/* Inclusive ranges of code points, sorted, searched by bisection. */
struct utf8_range {
	uint32_t first, last;
};

/* combining marks and zero-width characters: no column of their own */
static const struct utf8_range utf8_zero_width[] = {
	{ 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD },
	{ 0x05BF, 0x05BF }, { 0x05C1, 0x05C2 }, { 0x05C4, 0x05C5 },
	{ 0x05C7, 0x05C7 }, { 0x0610, 0x061A }, { 0x064B, 0x065F },
	{ 0x0670, 0x0670 }, { 0x06D6, 0x06DC }, { 0x06DF, 0x06E4 },
	{ 0x06E7, 0x06E8 }, { 0x06EA, 0x06ED }, { 0x0900, 0x0902 },
	{ 0x093A, 0x093A }, { 0x093C, 0x093C }, { 0x0941, 0x0948 },
	{ 0x094D, 0x094D }, { 0x0951, 0x0957 }, { 0x0E31, 0x0E31 },
	{ 0x0E34, 0x0E3A }, { 0x0E47, 0x0E4E }, { 0x1AB0, 0x1AFF },
	{ 0x1DC0, 0x1DFF }, { 0x200B, 0x200F }, { 0x202A, 0x202E },
	{ 0x2060, 0x2064 }, { 0x20D0, 0x20FF }, { 0x302A, 0x302D },
	{ 0x3099, 0x309A }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F },
	{ 0xFEFF, 0xFEFF }, { 0xE0100, 0xE01EF },
};

/* East Asian Wide and Fullwidth: two columns */
static const struct utf8_range utf8_wide[] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A },
	{ 0x23E9, 0x23EC }, { 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 },
	{ 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267F, 0x267F }, { 0x2693, 0x2693 }, { 0x26A1, 0x26A1 },
	{ 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 },
	{ 0x26CE, 0x26CE }, { 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA },
	{ 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 }, { 0x26FA, 0x26FA },
	{ 0x26FD, 0x26FD }, { 0x2705, 0x2705 }, { 0x270A, 0x270B },
	{ 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x274E, 0x274E },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF }, { 0x2B1B, 0x2B1C },
	{ 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 }, { 0x2E80, 0x303E },
	{ 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF },
	{ 0xA000, 0xA4CF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 },
	{ 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F },
	{ 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x16FE0, 0x16FE4 },
	{ 0x17000, 0x18CFF }, { 0x1B000, 0x1B2FF }, { 0x1F004, 0x1F004 },
	{ 0x1F0CF, 0x1F0CF }, { 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A },
	{ 0x1F200, 0x1F251 }, { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF },
	{ 0x1F7E0, 0x1F7EB }, { 0x1F90C, 0x1F9FF }, { 0x1FA70, 0x1FAFF },
	{ 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

static int
utf8_in(const struct utf8_range *r, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < r[mid].first)
			hi = mid;
		else if (cp > r[mid].last)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
utf8_cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 0;
	if (cp == 0xAD)		/* soft hyphen */
		return 1;
	if (utf8_in(utf8_zero_width, sizeof(utf8_zero_width) /
	    sizeof(utf8_zero_width[0]), cp))
		return 0;
	if (utf8_in(utf8_wide, sizeof(utf8_wide) / sizeof(utf8_wide[0]), cp))
		return 2;
	return 1;
}

size_t
utf8_width(const char *s)
{
	size_t w = 0, len = strlen(s);

	for (size_t i = 0; i < len; ) {
		uint32_t cp;
		i += utf8_decode(s + i, len - i, &cp);
		w += (size_t)utf8_cp_width(cp);
	}
	return w;
}

int
utf8_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}
