#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/macro.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

int b64url_encode_buf(const void *in, size_t n, char *buf, size_t size)
{
	const uint8_t *p = in;
	size_t o = 0;

	if (n > SIZE_MAX / 2 || b64url_encoded_len(n) + 1 > size)
		return -E2BIG;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		buf[o++] = alphabet[(v >> 18) & 63];
		buf[o++] = alphabet[(v >> 12) & 63];
		if (left > 1)
			buf[o++] = alphabet[(v >> 6) & 63];
		if (left > 2)
			buf[o++] = alphabet[v & 63];
	}
	buf[o] = '\0';
	return (int)o;
}

int b64url_encode(const void *in, size_t n, char **ret)
{
	if (n > SIZE_MAX / 2)
		return -E2BIG;
	size_t size = b64url_encoded_len(n) + 1;
	char *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	int r = b64url_encode_buf(in, n, buf, size);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

/* The value of c in the alphabet whose last two characters are c62 and c63
 * ("+/" standard, "-_" url); -1 outside it. */
static int decode_char(char c, char c62, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == c62)
		return 62;
	if (c == c63)
		return 63;
	return -1;
}

int b64_decode_lines(const char *in, size_t n, uint8_t *out, size_t *ret_len)
{
	uint32_t acc = 0;
	size_t got = 0, len = 0, pad = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = decode_char(c, '+', '/');
		if (v < 0 || pad) /* nothing but padding after padding */
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (++got % 4 == 0) {
			out[len++] = (uint8_t)(acc >> 16);
			out[len++] = (uint8_t)(acc >> 8);
			out[len++] = (uint8_t)acc;
		}
	}
	switch (got % 4) {
	case 0:
		if (pad)
			return -EINVAL;
		break;
	case 2:
		if (pad != 2)
			return -EINVAL;
		out[len++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (pad != 1)
			return -EINVAL;
		out[len++] = (uint8_t)(acc >> 10);
		out[len++] = (uint8_t)(acc >> 2);
		break;
	default:
		return -EINVAL;
	}
	*ret_len = len;
	return 0;
}

int b64url_decode(const char *in, size_t n, uint8_t **ret, size_t *retlen)
{
	if (n % 4 == 1)
		return -EINVAL;
	if (n > SIZE_MAX / 2)
		return -E2BIG;

	size_t outlen = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	_cleanup_free_ uint8_t *out = malloc(outlen + 1);
	if (!out)
		return -ENOMEM;

	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		size_t chunk = MIN((size_t)4, n - i);
		uint32_t v = 0;

		for (size_t j = 0; j < 4; j++) {
			int d = j < chunk ? decode_char(in[i + j], '-', '_') : 0;
			if (d < 0)
				return -EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		/* Leftover bits of a short final group must be zero, so that every
		 * byte string has exactly one encoding. */
		if (chunk == 2 && (v & 0xffff))
			return -EINVAL;
		if (chunk == 3 && (v & 0xff))
			return -EINVAL;
		out[o++] = (uint8_t)(v >> 16);
		if (chunk > 2)
			out[o++] = (uint8_t)(v >> 8);
		if (chunk > 3)
			out[o++] = (uint8_t)v;
	}
	out[o] = 0;
	*retlen = o;
	*ret = TAKE_PTR(out);
	return 0;
}
