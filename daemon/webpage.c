/* daemon/webpage.c: see webpage.h. The files are pulled in by the assembler
 * (the Makefile lists them as prerequisites of this object), so an edit of
 * the page needs no regeneration step and no xxd. */
#include <string.h>

#include "common/macro.h"
#include "daemon/webpage.h"

#define EMBED(sym, file)                                                  \
	__asm__(".section .rodata\n"                                      \
		".global " #sym "_start\n"                                \
		".type " #sym "_start, @object\n"                         \
		".balign 16\n" #sym "_start:\n"                           \
		".incbin \"" file "\"\n"                                  \
		".global " #sym "_end\n" #sym "_end:\n"                   \
		".byte 0\n"                                               \
		".previous\n");                                           \
	extern const unsigned char sym##_start[];                         \
	extern const unsigned char sym##_end[]

EMBED(webpage_index_html, "daemon/web/index.html");
EMBED(webpage_app_js, "daemon/web/app.js");
EMBED(webpage_style_css, "daemon/web/style.css");

bool webpage_find(const char *url, struct webpage_asset *ret)
{
	static const struct {
		const char *path, *type;
		const unsigned char *start, *end;
	} files[] = {
		{ "/", "text/html; charset=utf-8", webpage_index_html_start, webpage_index_html_end },
		{ "/app.js", "text/javascript; charset=utf-8", webpage_app_js_start,
		  webpage_app_js_end },
		{ "/style.css", "text/css; charset=utf-8", webpage_style_css_start,
		  webpage_style_css_end },
	};

	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		if (streq(url, files[i].path)) {
			*ret = (struct webpage_asset){
				.path = files[i].path,
				.content_type = files[i].type,
				.data = files[i].start,
				.len = (size_t)(files[i].end - files[i].start),
			};
			return true;
		}
	return false;
}
