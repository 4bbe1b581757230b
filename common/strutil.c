#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"

void str_printf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void str_escape_line(char *buf, size_t size, const char *s, size_t len, size_t max)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && i < max && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (len > max && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

char *str_join(const char *const *parts, size_t n, const char *sep)
{
	size_t seplen = strlen(sep), total = 1;

	for (size_t i = 0; i < n; i++)
		total += strlen(parts[i]) + (i ? seplen : 0);
	char *out = malloc(total);
	if (!out)
		return NULL;
	char *p = out;
	for (size_t i = 0; i < n; i++) {
		if (i) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		size_t l = strlen(parts[i]);
		memcpy(p, parts[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}
