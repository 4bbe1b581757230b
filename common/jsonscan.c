/* common/jsonscan.c: see jsonscan.h. Recursive descent, one level of C
 * recursion per level of nesting, bounded by JSONSCAN_MAX_DEPTH. */
#include "common/jsonscan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/json.h"
#include "common/strutil.h"

struct scan {
	/* p[0, len) is the text from some point on: more() may move it, and drop
	 * bytes before tok from its front, so positions are offsets into it that
	 * more_until() shifts, and none is held in a local across a have(). */
	const unsigned char *p;
	size_t len, pos;
	size_t tok;                 /* the first byte still needed: tok <= pos */
	jsonscan_more_fn more;      /* NULL: the text is whole */
	void *more_ctx;
	bool ended;                 /* more() said there is no more */
	const struct jsonscan_events *ev;
	void *ctx;
	char *scratch;              /* owned: decoded strings */
	size_t scratch_cap;
};

#define STOP(s, call) (!(call) ? -EINVAL : 0)

/* Asks for more text until [0, end) is there; false when it never will be. */
static bool more_until(struct scan *s, size_t end)
{
	while (s->len < end) {
		const char *text = (const char *)s->p;
		size_t len = s->len, dropped = 0;
		if (!s->more || s->ended || !s->more(s->more_ctx, s->tok, &text, &len, &dropped) ||
		    dropped > s->tok || len + dropped <= s->len) {
			s->ended = true;
			return false;
		}
		s->p = (const unsigned char *)text;
		s->len = len;
		s->pos -= dropped;
		s->tok -= dropped;
		end -= dropped;
	}
	return true;
}

/* Is the text there up to end (exclusive)? The common case, a byte already
 * read, costs one compare. */
static inline bool have(struct scan *s, size_t end)
{
	return end <= s->len || more_until(s, end);
}

static inline void skip_ws(struct scan *s)
{
	s->tok = s->pos;
	while (have(s, s->pos + 1)) {
		unsigned char c = s->p[s->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		s->pos++;
	}
}

static int hex4(const unsigned char *p, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The string whose opening quote is at s->pos; *ret points into the text
 * (no escapes) or into the scratch buffer (decoded). */
/* How many of the 16 bytes at p, from the first, need no second look in a
 * string (not '"', not '\\', nothing below 0x20, nothing from 0x80); without
 * SSE2 a lower bound (0, 8 or 16). Most strings of a status are shorter than
 * 16 bytes, so one step finds their end. */
static unsigned plain_prefix16(const unsigned char *p)
{
#if defined(__SSE2__)
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* A signed compare: below 0x20 takes in 0x80-0xff too. */
	__m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
				       _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
	unsigned m = (unsigned)_mm_movemask_epi8(special);

	return m ? (unsigned)__builtin_ctz(m) : 16;
#else
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	if (!json_word_is_plain(a))
		return 0;
	return json_word_is_plain(b) ? 16 : 8;
#endif
}

static int scan_string(struct scan *s, const char **ret, size_t *ret_len, bool *ret_raw)
{
	bool escaped = false;

	s->tok = ++s->pos;
	/* First pass: where it ends, that it is valid. */
	for (;;) {
		uint64_t word;
		size_t i = s->pos;
		if (s->len - i >= 16) {
			unsigned skip = plain_prefix16(s->p + i);
			s->pos = i + skip;
			if (skip == 16)
				continue;
		} else if (s->len - i >= 8 &&
			   (memcpy(&word, s->p + i, 8), json_word_is_plain(word))) {
			s->pos = i + 8;
			continue;
		}
		if (!have(s, s->pos + 1))
			return -EINVAL;
		unsigned char c = s->p[s->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			escaped = true;
			if (!have(s, s->pos + 2))
				return -EINVAL;
			unsigned char e = s->p[s->pos + 1];
			if (e == 'u') {
				unsigned cp;
				if (!have(s, s->pos + 6) || hex4(s->p + s->pos + 2, &cp) < 0)
					return -EINVAL;
				s->pos += 6;
			} else if (strchr("\"\\/bfnrt", e) && e) {
				s->pos += 2;
			} else
				return -EINVAL;
			continue;
		}
		if (c < 0x80) {
			s->pos++;
			continue;
		}
		(void)have(s, s->pos + 4); /* the longest UTF-8 sequence, where the text has it */
		size_t n = str_utf8_seq_len(s->p + s->pos, s->len - s->pos);
		if (!n)
			return -EINVAL;
		s->pos += n;
	}
	/* The whole string is in the text now: no have() below. */
	size_t start = s->tok, i = s->pos;
	s->pos = i + 1;
	*ret_raw = !escaped;
	if (!escaped) {
		*ret = (const char *)s->p + start;
		*ret_len = i - start;
		return 0;
	}

	/* Decoded, as yajl decodes: never longer than the text. */
	size_t need = i - start + 1;
	if (need > s->scratch_cap) {
		char *b = realloc(s->scratch, need);
		if (!b)
			return -ENOMEM;
		s->scratch = b;
		s->scratch_cap = need;
	}
	size_t o = 0;
	for (size_t k = start; k < i;) {
		unsigned char c = s->p[k];
		if (c != '\\') {
			s->scratch[o++] = (char)c;
			k++;
			continue;
		}
		unsigned char e = s->p[k + 1];
		k += 2;
		switch (e) {
		case 'b': s->scratch[o++] = '\b'; break;
		case 'f': s->scratch[o++] = '\f'; break;
		case 'n': s->scratch[o++] = '\n'; break;
		case 'r': s->scratch[o++] = '\r'; break;
		case 't': s->scratch[o++] = '\t'; break;
		case 'u': {
			unsigned cp;
			(void)hex4(s->p + k, &cp);
			k += 4;
			if ((cp & 0xfc00) == 0xd800) {
				/* A high surrogate: yajl pairs it with whatever
				 * \u follows, or makes it "?". */
				unsigned lo;
				if (k + 6 <= i && s->p[k] == '\\' && s->p[k + 1] == 'u' &&
				    hex4(s->p + k + 2, &lo) == 0) {
					cp = 0x10000 + ((cp & 0x3ff) << 10) + (lo & 0x3ff);
					k += 6;
				} else {
					s->scratch[o++] = '?';
					break;
				}
			}
			o += put_utf8(s->scratch + o, cp);
			break;
		}
		default: /* " \ / */
			s->scratch[o++] = (char)e;
		}
	}
	*ret = s->scratch;
	*ret_len = o;
	return 0;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *s)
{
	s->tok = s->pos;
#define AT(c) (have(s, s->pos + 1) && s->p[s->pos] == (c))
#define DIGIT() (have(s, s->pos + 1) && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
	if (AT('-'))
		s->pos++;
	if (AT('0'))
		s->pos++;
	else if (DIGIT())
		while (DIGIT())
			s->pos++;
	else
		return -EINVAL;
	if (AT('.')) {
		s->pos++;
		if (!DIGIT())
			return -EINVAL;
		while (DIGIT())
			s->pos++;
	}
	if (AT('e') || AT('E')) {
		s->pos++;
		if (AT('+') || AT('-'))
			s->pos++;
		if (!DIGIT())
			return -EINVAL;
		while (DIGIT())
			s->pos++;
	}
#undef DIGIT
#undef AT
	return STOP(s, s->ev->number(s->ctx, (const char *)s->p + s->tok, s->pos - s->tok));
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	s->tok = s->pos;
	if (!have(s, s->pos + n) || memcmp(s->p + s->pos, word, n) != 0)
		return -EINVAL;
	s->pos += n;
	if (word[0] == 'n')
		return STOP(s, s->ev->null(s->ctx));
	return STOP(s, s->ev->boolean(s->ctx, word[0] == 't'));
}

static int scan_value(struct scan *s, unsigned depth);

static int scan_container(struct scan *s, unsigned depth, bool map)
{
	const char *str;
	bool raw;
	size_t len;
	int r;

	if (depth >= JSONSCAN_MAX_DEPTH)
		return -E2BIG;
	s->pos++;
	r = STOP(s, map ? s->ev->start_map(s->ctx) : s->ev->start_array(s->ctx));
	if (r < 0)
		return r;
	skip_ws(s);
	char close = map ? '}' : ']';
	if (have(s, s->pos + 1) && s->p[s->pos] == close) {
		s->pos++;
		return STOP(s, map ? s->ev->end_map(s->ctx) : s->ev->end_array(s->ctx));
	}
	for (;;) {
		if (map) {
			skip_ws(s);
			if (!have(s, s->pos + 1) || s->p[s->pos] != '"')
				return -EINVAL;
			r = scan_string(s, &str, &len, &raw);
			if (r < 0)
				return r;
			r = STOP(s, s->ev->map_key(s->ctx, str, len, raw));
			if (r < 0)
				return r;
			skip_ws(s);
			if (!have(s, s->pos + 1) || s->p[s->pos] != ':')
				return -EINVAL;
			s->pos++;
		}
		r = scan_value(s, depth + 1);
		if (r < 0)
			return r;
		skip_ws(s);
		if (!have(s, s->pos + 1))
			return -EINVAL;
		if (s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->p[s->pos] != close)
			return -EINVAL;
		s->pos++;
		return STOP(s, map ? s->ev->end_map(s->ctx) : s->ev->end_array(s->ctx));
	}
}

static int scan_value(struct scan *s, unsigned depth)
{
	const char *str;
	bool raw;
	size_t len;
	int r;

	skip_ws(s);
	if (!have(s, s->pos + 1))
		return -EINVAL;
	switch (s->p[s->pos]) {
	case '{':
		return scan_container(s, depth, true);
	case '[':
		return scan_container(s, depth, false);
	case '"':
		r = scan_string(s, &str, &len, &raw);
		return r < 0 ? r : STOP(s, s->ev->string(s->ctx, str, len, raw));
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		return scan_number(s);
	}
}

int jsonscan_stream(const char *text, size_t len, jsonscan_more_fn more, void *more_ctx,
		    const struct jsonscan_events *ev, void *ctx)
{
	struct scan s = { .p = (const unsigned char *)text, .len = len, .more = more,
			  .more_ctx = more_ctx, .ev = ev, .ctx = ctx };
	int r = scan_value(&s, 0);

	if (r == 0) {
		skip_ws(&s); /* to the end of the text: more() said there is no more */
		if (s.pos != s.len)
			r = -EINVAL;
	}
	free(s.scratch);
	return r;
}

int jsonscan(const char *text, size_t len, const struct jsonscan_events *ev, void *ctx)
{
	return jsonscan_stream(text, len, NULL, NULL, ev, ctx);
}
