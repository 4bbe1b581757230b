#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "common/timeutil.h"

static const struct {
	const char *suffix;
	uint64_t ms;
} duration_units[] = {
	/* Longest suffix first, so "ms" is not read as "m" followed by junk. */
	{ "ms", 1 },
	{ "s", MS_PER_SEC },
	{ "m", 60 * MS_PER_SEC },
	{ "h", 3600 * MS_PER_SEC },
	{ "d", 86400 * MS_PER_SEC },
	{ "w", 7 * 86400 * MS_PER_SEC },
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int time_parse_duration_ms(const char *s, uint64_t *ret_ms)
{
	uint64_t total = 0;
	bool any = false;

	while (is_space(*s))
		s++;
	if (!*s)
		return -EINVAL;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		uint64_t n = 0;
		while (*s >= '0' && *s <= '9') {
			if (n > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*s - '0');
			s++;
		}
		uint64_t unit = 0;
		for (size_t i = 0; i < ELEMENTSOF(duration_units); i++) {
			size_t l = strlen(duration_units[i].suffix);
			if (strncmp(s, duration_units[i].suffix, l) == 0) {
				unit = duration_units[i].ms;
				s += l;
				break;
			}
		}
		if (unit == 0) {
			/* A bare number is seconds, but only on its own: "1d5" is a typo. */
			if (any || (*s && !is_space(*s)))
				return -EINVAL;
			unit = MS_PER_SEC;
		}
		if (n > UINT64_MAX / unit || total > UINT64_MAX - n * unit)
			return -ERANGE;
		total += n * unit;
		any = true;
		while (is_space(*s))
			s++;
	}
	*ret_ms = total;
	return 0;
}

void time_format_duration(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "d", 86400 * MS_PER_SEC }, { "h", 3600 * MS_PER_SEC }, { "m", 60 * MS_PER_SEC },
		{ "s", MS_PER_SEC },	     { "ms", 1 },
	};
	size_t used = 0;
	int parts = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(units) && parts < 2; i++) {
		uint64_t n = ms / units[i].ms;
		if (n == 0) {
			if (parts)
				break; /* "1d 0h 5m" would mislead; stop at the first gap */
			continue;
		}
		int w = snprintf(buf + used, size - used, "%s%" PRIu64 "%s", parts ? " " : "", n,
				 units[i].suffix);
		if (w < 0 || (size_t)w >= size - used)
			return;
		used += (size_t)w;
		ms -= n * units[i].ms;
		parts++;
	}
}

/* Howard Hinnant's days_from_civil, in int64 for any year we can print. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? (int64_t)m - 3 : (int64_t)m + 9) + 2) / 5 + (int64_t)d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Reads exactly `digits` digits. */
static bool read_fixed(const char **p, int digits, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < digits; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += digits;
	*ret = v;
	return true;
}

static int parse_unix(const char *s, int64_t *ret)
{
	bool neg = false;
	uint64_t v = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!neg && v > (uint64_t)INT64_MAX)
		return -ERANGE;
	if (neg && v > (uint64_t)INT64_MAX + 1)
		return -ERANGE;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int time_parse_date(const char *s, int64_t *ret)
{
	const char *p = s;
	unsigned y, m, d, hh = 0, mm = 0, ss = 0;

	if (*p == '@')
		return parse_unix(p + 1, ret);
	/* All digits (or a sign) and not shaped like a date: a Unix time. */
	if (strspn(p, "-0123456789") == strlen(p) && !(strlen(p) == 10 && p[4] == '-'))
		return parse_unix(p, ret);

	if (!read_fixed(&p, 4, &y) || *p++ != '-' || !read_fixed(&p, 2, &m) || *p++ != '-' ||
	    !read_fixed(&p, 2, &d))
		return -EINVAL;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!read_fixed(&p, 2, &hh) || *p++ != ':' || !read_fixed(&p, 2, &mm))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!read_fixed(&p, 2, &ss))
				return -EINVAL;
		}
		if (hh > 23 || mm > 59 || ss > 59)
			return -EINVAL;
		if (*p == 'Z')
			p++;
		else if (strcmp(p, " UTC") == 0)
			p += 4;
	}
	if (*p)
		return -EINVAL;
	*ret = time_days_from_civil(y, m, d) * SEC_PER_DAY + hh * 3600 + mm * 60 + ss;
	return 0;
}

int time_parse_rfc3339(const char *s, int64_t *ret)
{
	const char *p = s;
	unsigned y, m, d, hh, mm, ss, oh = 0, om = 0;
	int sign = 0;

	if (!read_fixed(&p, 4, &y) || *p++ != '-' || !read_fixed(&p, 2, &m) || *p++ != '-' ||
	    !read_fixed(&p, 2, &d))
		return -EINVAL;
	if (*p != 'T' && *p != 't')
		return -EINVAL;
	p++;
	if (!read_fixed(&p, 2, &hh) || *p++ != ':' || !read_fixed(&p, 2, &mm) || *p++ != ':' ||
	    !read_fixed(&p, 2, &ss))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (!read_fixed(&p, 2, &oh) || *p++ != ':' || !read_fixed(&p, 2, &om))
			return -EINVAL;
		if (oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	/* 60 is a leap second; Unix time folds it into the next second. */
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 60)
		return -EINVAL;
	*ret = time_days_from_civil(y, m, d) * SEC_PER_DAY + hh * 3600 + mm * 60 + ss -
	       sign * (int64_t)(oh * 3600 + om * 60);
	return 0;
}

void time_format_iso(int64_t t, char *buf, size_t size)
{
	/* Beyond year 9999 a calendar date is no help to anyone. */
	if (t < INT64_C(-62135596800) || t > INT64_C(253402300799)) {
		snprintf(buf, size, "@%" PRId64, t);
		return;
	}
	int64_t days = t / SEC_PER_DAY, rem = t % SEC_PER_DAY;
	if (rem < 0) {
		rem += SEC_PER_DAY;
		days--;
	}
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	/* By hand, not snprintf: a status of 10,000 certs formats 60,000 of these. */
	const unsigned v[6] = { (unsigned)y, m, d, (unsigned)(rem / 3600),
				(unsigned)(rem / 60 % 60), (unsigned)(rem % 60) };
	char out[21] = "0000-00-00T00:00:00Z";
	unsigned year = v[0];
	for (int i = 3; i >= 0; i--, year /= 10)
		out[i] = (char)('0' + year % 10);
	for (int i = 1; i < 6; i++) {
		out[2 + 3 * i] = (char)('0' + v[i] / 10);
		out[3 + 3 * i] = (char)('0' + v[i] % 10);
	}
	if (size == 0)
		return;
	size_t n = MIN(size - 1, sizeof(out) - 1); /* truncated as snprintf would */
	memcpy(buf, out, n);
	buf[n] = '\0';
}

static int64_t sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

int64_t time_days_left(int64_t until, int64_t now)
{
	int64_t diff = sub_sat(until, now);
	int64_t q = diff / SEC_PER_DAY;

	if (diff % SEC_PER_DAY < 0)
		q--;
	return q;
}

int64_t time_add_ms(int64_t t, uint64_t ms)
{
	uint64_t sec = ms / MS_PER_SEC;
	int64_t r;

	if (sec > (uint64_t)INT64_MAX || __builtin_add_overflow(t, (int64_t)sec, &r))
		return INT64_MAX;
	return r;
}

enum level time_expiry_level(int64_t until, int64_t now, uint64_t warn_before_ms,
			     uint64_t critical_before_ms)
{
	int64_t left = sub_sat(until, now);

	if (left <= 0)
		return LEVEL_ERROR;
	/* Compare in seconds, rounding the thresholds up: "7d" means the whole 7 days. */
	uint64_t l = (uint64_t)left;
	if (l <= (critical_before_ms + MS_PER_SEC - 1) / MS_PER_SEC)
		return LEVEL_CRITICAL;
	if (l <= (warn_before_ms + MS_PER_SEC - 1) / MS_PER_SEC)
		return LEVEL_WARNING;
	return LEVEL_OK;
}

const char *time_expiry_to_string(enum level l)
{
	switch (l) {
	case LEVEL_OK:
		return "ok";
	case LEVEL_WARNING:
		return "warning";
	case LEVEL_CRITICAL:
		return "critical";
	case LEVEL_ERROR:
		return "expired";
	default:
		return "unknown";
	}
}
