// The public header must compile as C++17 with strict warnings.
#include "spamguard/spamguard.h"

int sg_header_cxx_check() { return SG_VERSION_NUMBER > 0 && SG_OK == 0 ? 0 : 1; }
