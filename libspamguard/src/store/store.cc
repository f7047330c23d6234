#include "store/store.h"

#include <cstdint>

namespace spamguard::store {

Status EachEntryRecord(Store* s, const std::function<Status(const StoreRecord&)>& each) {
  std::vector<ListEntry> entries;
  Status st = s->Entries(0, nullptr, SIZE_MAX, &entries);
  if (!st.ok()) return st;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    StoreRecord r;
    r.type = StoreRecord::kEntry;
    r.entry = *it;
    st = each(r);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

Status EachLearnerFormAndKeywordRecord(Store* s, const std::function<Status(const StoreRecord&)>& each) {
  StoreRecord lr;
  lr.type = StoreRecord::kLearner;
  std::vector<StoreRecord> tokens;
  Status st = s->AllTokens(
      [&](uint64_t h, const TokenCounts& c) {
        StoreRecord r;
        r.type = StoreRecord::kToken;
        r.token = h;
        r.counts = c;
        tokens.push_back(r);
      },
      &lr.learner);
  if (!st.ok()) return st;
  st = each(lr);
  for (const auto& r : tokens) {
    if (!st.ok()) return st;
    st = each(r);
  }
  if (!st.ok()) return st;
  std::vector<FormSecret> secrets;
  st = s->FormSecrets(&secrets);
  for (const auto& f : secrets) {
    if (!st.ok()) return st;
    StoreRecord r;
    r.type = StoreRecord::kFormSecret;
    r.secret = f;
    st = each(r);
  }
  if (!st.ok()) return st;
  for (int kind : {lists::kPhrase, lists::kLinkPattern}) {
    int64_t version = 0;
    std::vector<lists::KeywordEntry> kw;
    st = s->Keywords(kind, &version, &kw);
    if (!st.ok()) return st;
    for (auto& e : kw) {
      StoreRecord r;
      r.type = StoreRecord::kKeyword;
      r.keyword = std::move(e);
      st = each(r);
      if (!st.ok()) return st;
    }
  }
  return Status::OK();
}

}  // namespace spamguard::store
