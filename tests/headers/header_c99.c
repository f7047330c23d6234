/* The public header must compile as strict C99 on its own. */
#include "spamguard/spamguard.h"

int sg_header_c99_check(void) { return SG_VERSION_NUMBER > 0 && SG_OK == 0 ? 0 : 1; }
