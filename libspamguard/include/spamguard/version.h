/* spamguard: version numbers of the headers this program was compiled with.
 * Compare with sg_version_number() at run time to detect a mismatched library. */
#ifndef SPAMGUARD_VERSION_H
#define SPAMGUARD_VERSION_H

#define SG_VERSION_MAJOR 1
#define SG_VERSION_MINOR 0
#define SG_VERSION_PATCH 0

/** MAJOR*10000 + MINOR*100 + PATCH, e.g. 10000 for 1.0.0. */
#define SG_VERSION_NUMBER \
  (SG_VERSION_MAJOR * 10000 + SG_VERSION_MINOR * 100 + SG_VERSION_PATCH)

#define SG_VERSION_STRING "1.0.0"

#endif /* SPAMGUARD_VERSION_H */
