/* daemon/heaptrim.c: see heaptrim.h. */
#include <malloc.h>

#include "daemon/heaptrim.h"

void heaptrim_release(void)
{
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks >= HEAPTRIM_MIN_FREE)
		(void)malloc_trim(0);
}
