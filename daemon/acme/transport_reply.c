/* daemon/acme/transport_reply.c: texts about replies. See transport_reply.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/acme/transport_reply.h"

bool transport_reply_is_json(const char *ct, bool *ret_problem)
{
	size_t n;

	*ret_problem = false;
	if (!ct)
		return false;
	n = strcspn(ct, "; \t");
	if (n == 16 && strncasecmp(ct, "application/json", n) == 0)
		return true;
	if (n == 24 && strncasecmp(ct, "application/problem+json", n) == 0) {
		*ret_problem = true;
		return true;
	}
	return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* acme_problem_format() on one line: "\n  - x" becomes "; x", "\n  ... and N more" becomes
 * "; ... and N more". NULL on out-of-memory. */
static char *problem_one_line(const struct acme_problem *problem)
{
	_cleanup_free_ char *p = acme_problem_format(problem);
	size_t n, j = 0;
	char *line;

	if (!p)
		return NULL;
	n = strlen(p);
	line = malloc(2 * n + 1);
	if (!line)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			line[j++] = p[i];
			continue;
		}
		line[j++] = ';';
		line[j++] = ' ';
		while (i + 1 < n && p[i + 1] == ' ')
			i++;
		if (i + 2 < n && p[i + 1] == '-' && p[i + 2] == ' ')
			i += 2;
	}
	line[j] = '\0';
	return line;
}

void acme_reply_describe(const struct acme_reply *r, char *buf, size_t size)
{
	_cleanup_free_ char *line = NULL;

	if (r->error) {
		str_printf(buf, size, "%s", r->error_text);
		return;
	}
	if (r->problem)
		line = problem_one_line(r->problem);
	if (line)
		str_printf(buf, size, "%s: HTTP %ld: %s", r->url, r->status, line);
	else
		str_printf(buf, size, "%s: HTTP %ld", r->url, r->status);
}

void transport_reply_describe_answer(const struct http_response *resp,
				     const struct acme_problem *problem, char *buf, size_t size)
{
	char detail[160] = "", type[80] = "";

	if (resp->error) {
		str_printf(buf, size, "%s", resp->error_text);
		return;
	}
	if (problem) {
		const char *t = acme_problem_short_type(problem);

		str_escape_line(type, sizeof(type), t, strlen(t), 60);
		if (problem->detail)
			str_escape_line(detail, sizeof(detail), problem->detail,
					strlen(problem->detail), 120);
	}
	str_printf(buf, size, "HTTP %ld%s%s%s%s", resp->status, type[0] ? " " : "", type,
		   detail[0] ? ": " : "", detail);
}

bool acme_reply_try_later(const struct acme_reply *rep)
{
	return rep->error < 0 || rep->status >= 500 || rep->status == 429;
}
