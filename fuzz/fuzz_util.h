// Helpers the fuzz targets share.
#pragma once

#include <cstddef>

#include "spamguard/spamguard.h"

// Scores one comment whose body is `body` with engine `e` (errors are the
// fuzzer's to find through the sanitizers, not results to check).
inline void ScoreBody(sg_engine* e, const char* body, size_t len) {
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_BODY, body, len);
  sg_result* r = nullptr;
  sg_engine_score(&r, e, c);
  sg_result_free(r);
  sg_comment_free(c);
}
