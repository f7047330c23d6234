/* spamguard: symbol visibility for the public C ABI. */
#ifndef SPAMGUARD_EXPORT_H
#define SPAMGUARD_EXPORT_H

#if defined(SG_STATIC)
#define SG_API
#elif defined(_WIN32)
#if defined(SG_BUILDING_LIBRARY)
#define SG_API __declspec(dllexport)
#else
#define SG_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define SG_API __attribute__((visibility("default")))
#else
#define SG_API
#endif

#endif /* SPAMGUARD_EXPORT_H */
