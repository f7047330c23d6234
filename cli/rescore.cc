#include "rescore.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "dump.h"
#include "output.h"
#include "report.h"

namespace sgcli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBatch = 256;  // records handed to a worker at a time

bool Positive(int action) { return action == SG_ACTION_SPAM || action == SG_ACTION_DISCARD; }

// Heap order: a is "less bad" than b. For false positives a higher score is
// worse; for false negatives a lower one. Ties: the earlier record is worse,
// so that the report does not depend on the thread count.
bool LessBadFp(const Example& a, const Example& b) {
  return a.score != b.score ? a.score < b.score : a.index > b.index;
}
bool LessBadFn(const Example& a, const Example& b) {
  return a.score != b.score ? a.score > b.score : a.index > b.index;
}

// Keeps the kExamples worst in a heap whose front is the least bad.
template <typename Less>
void Offer(std::vector<Example>* heap, Example e, Less less_bad) {
  auto worse = [&](const Example& a, const Example& b) { return less_bad(b, a); };
  heap->push_back(std::move(e));
  std::push_heap(heap->begin(), heap->end(), worse);
  if (heap->size() > Tally::kExamples) {
    std::pop_heap(heap->begin(), heap->end(), worse);
    heap->pop_back();
  }
}
template <typename Less>
bool Qualifies(const std::vector<Example>& heap, double score, uint64_t index, Less less_bad) {
  if (heap.size() < Tally::kExamples) return true;
  Example probe;
  probe.score = score;
  probe.index = index;
  return less_bad(heap.front(), probe);
}
template <typename Less>
std::vector<Example> Sorted(std::vector<Example> v, Less less_bad) {
  std::sort(v.begin(), v.end(), [&](const Example& a, const Example& b) { return less_bad(b, a); });
  return v;
}

Example MakeExample(const Record& rec, const sg_result* r, uint64_t index) {
  Example e;
  e.score = sg_result_score(r);
  e.index = index;
  e.id = rec.id;
  e.label = rec.label;
  e.action = sg_action_str(sg_result_action(r));
  const std::string& text = !rec.body.empty() ? rec.body : rec.excerpt;
  e.excerpt = Printable(text.data(), text.size(), 400);
  e.verdict_json = ResultJson(r);
  return e;
}

}  // namespace

void Tally::Add(const Record& rec, const sg_result* r, uint64_t index) {
  ++total;
  int a = sg_result_action(r);
  if (a >= 0 && a < 5) ++actions[a];
  int kind = KindOf(rec.kind);
  if (kind >= 1 && kind <= 3 && a >= 0 && a < 5) ++by_kind[kind - 1][a];
  int lab = rec.label == "spam" ? 0 : rec.label == "ham" ? 1 : 2;
  for (size_t i = 0; i < sg_result_hit_count(r); ++i) {
    RuleTally& t = rules[sg_result_hit_name(r, i)];
    if (t.hits++ == 0) {
      t.field = sg_result_hit_field(r, i);
      t.description = sg_result_hit_description(r, i);
      t.points = sg_result_hit_points(r, i);
    }
    if (lab == 0) ++t.spam;
    if (lab == 1) ++t.ham;
  }
  double score = sg_result_score(r);
  int bin = int(std::floor(score)) - kLowest;
  hist[lab][std::clamp(bin, 0, kBins - 1)]++;
  bool positive = Positive(a);
  if (lab < 2) {
    size_t cell = lab == 0 ? (positive ? 0 : 1) : (positive ? 2 : 3);
    if (window > 0) {
      size_t w = size_t(index / window);
      if (windows.size() <= w) windows.resize(w + 1, {0, 0, 0, 0});
      ++windows[w][cell];
    }
    if (index >= warmup) ++after_warmup[cell];
  }
  if (lab == 0) {
    positive ? ++tp : ++fn;
    if (a == SG_ACTION_MODERATE) ++spam_moderated;
    if (!positive && Qualifies(worst_fn, score, index, LessBadFn))
      Offer(&worst_fn, MakeExample(rec, r, index), LessBadFn);
  } else if (lab == 1) {
    positive ? ++fp : ++tn;
    if (a == SG_ACTION_MODERATE) ++ham_moderated;
    if (positive && Qualifies(worst_fp, score, index, LessBadFp))
      Offer(&worst_fp, MakeExample(rec, r, index), LessBadFp);
  }
}

void Tally::Merge(Tally&& o) {
  total += o.total;
  for (int i = 0; i < 5; ++i) actions[i] += o.actions[i];
  tp += o.tp, fp += o.fp, tn += o.tn, fn += o.fn;
  spam_moderated += o.spam_moderated, ham_moderated += o.ham_moderated;
  learned += o.learned;
  skipped += o.skipped;
  for (auto& [name, t] : o.rules) {
    RuleTally& m = rules[name];
    if (m.hits == 0) {
      m.field = t.field;
      m.description = t.description;
      m.points = t.points;
    }
    m.hits += t.hits, m.spam += t.spam, m.ham += t.ham;
  }
  for (int l = 0; l < 3; ++l)
    for (int b = 0; b < kBins; ++b) hist[l][b] += o.hist[l][b];
  for (int k = 0; k < 3; ++k)
    for (int a = 0; a < 5; ++a) by_kind[k][a] += o.by_kind[k][a];
  window = std::max(window, o.window);
  warmup = std::max(warmup, o.warmup);
  if (windows.size() < o.windows.size()) windows.resize(o.windows.size(), {0, 0, 0, 0});
  for (size_t w = 0; w < o.windows.size(); ++w)
    for (size_t c = 0; c < 4; ++c) windows[w][c] += o.windows[w][c];
  for (size_t c = 0; c < 4; ++c) after_warmup[c] += o.after_warmup[c];
  for (auto& e : o.worst_fp) Offer(&worst_fp, std::move(e), LessBadFp);
  for (auto& e : o.worst_fn) Offer(&worst_fn, std::move(e), LessBadFn);
}

bool Tally::HasPings() const {
  for (int k = 1; k < 3; ++k)
    for (int a = 0; a < 5; ++a)
      if (by_kind[k][a] > 0) return true;
  return false;
}

std::vector<Example> Tally::WorstFalsePositives() const { return Sorted(worst_fp, LessBadFp); }
std::vector<Example> Tally::WorstFalseNegatives() const { return Sorted(worst_fn, LessBadFn); }

namespace {

// A record, or a JSON Lines line the worker parses (parsing is about a
// third of the work, so it is spread over the threads too).
struct Item {
  Record rec;
  std::string line;
  size_t line_no = 0;
};

struct Batch {
  uint64_t seq = 0;
  uint64_t first = 0;  // input position of items[0]
  std::string path;    // the dump the items come from
  std::vector<Item> items;
};

// What a batch prints, committed in input order whatever thread scored it.
struct BatchOut {
  std::string stdout_text, file_text, stderr_text;
};

class Rescorer {
 public:
  Rescorer(sg_engine* engine, const RescoreOptions& o, FILE* out, bool csv, bool progress)
      : engine_(engine), o_(o), out_(out), csv_(csv), progress_(progress) {}

  // Scores a batch with `comment` and adds to `tally`; false on an error.
  bool Process(const Batch& b, sg_comment* comment, Tally* tally) {
    BatchOut bo;
    Record parsed;
    std::string why;
    for (size_t i = 0; i < b.items.size(); ++i) {
      const Item& item = b.items[i];
      if (!item.line.empty() && !ParseJsonLine(item.line, b.path, item.line_no, &parsed, &why)) {
        bo.stderr_text += std::string(progress_ ? "\r\033[K" : "") +
                          SkipMessage(b.path + ":" + std::to_string(item.line_no), why);
        ++tally->skipped;
        continue;
      }
      const Record& rec = item.line.empty() ? item.rec : parsed;
      sg_result* r = nullptr;
      if (ToComment(rec, comment) < 0 || sg_engine_score(&r, engine_, comment) < 0) {
        Fail(rec.id + ": " + sg_error_message());
        return false;
      }
      std::unique_ptr<sg_result, void (*)(sg_result*)> result(r, sg_result_free);
      if (o_.learn && (rec.label == "spam" || rec.label == "ham")) {
        if (sg_engine_learn(engine_, comment, rec.label == "spam" ? SG_LABEL_SPAM : SG_LABEL_HAM) < 0) {
          Fail(rec.id + ": learning: " + sg_error_message());
          return false;
        }
        ++tally->learned;
      }
      tally->Add(rec, r, b.first + i);
      std::string json;
      if (o_.json || (out_ && !csv_)) {
        std::string v = ResultJson(r);
        json = "{\"id\":" + JsonQuote(rec.id) + ",\"label\":" + JsonQuote(rec.label) + "," + v.substr(1) + "\n";
      }
      if (o_.json) bo.stdout_text += json;
      else if (!o_.quiet) bo.stdout_text += VerdictText(rec.id, r);
      if (out_ && !csv_) bo.file_text += json;
      if (out_ && csv_) {
        std::string score = FixedNumber(sg_result_score(r), 3);
        bo.file_text += CsvField(rec.id) + "," + CsvField(rec.label) + "," + sg_action_str(sg_result_action(r)) + "," +
                        score + "," + std::to_string(sg_result_retry_after(r)) + "," + CsvField(HitList(r)) + "\n";
      }
    }
    scored_.fetch_add(b.items.size(), std::memory_order_relaxed);
    Commit(b.seq, std::move(bo));
    return true;
  }

  void Fail(const std::string& msg) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.exchange(true)) error_ = msg;
  }
  bool failed() const { return failed_.load(); }
  const std::string& error() const { return error_; }
  uint64_t scored() const { return scored_.load(std::memory_order_relaxed); }
  bool write_failed() const { return write_failed_; }

 private:
  void Commit(uint64_t seq, BatchOut bo) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.emplace(seq, std::move(bo));
    for (auto it = pending_.find(next_); it != pending_.end(); it = pending_.find(next_)) {
      const BatchOut& w = it->second;
      if (!w.stderr_text.empty()) fputs(w.stderr_text.c_str(), stderr);
      if (!w.stdout_text.empty()) fwrite(w.stdout_text.data(), 1, w.stdout_text.size(), stdout);
      if (out_ && !w.file_text.empty() && fwrite(w.file_text.data(), 1, w.file_text.size(), out_) != w.file_text.size())
        write_failed_ = true;
      pending_.erase(it);
      ++next_;
    }
  }

  sg_engine* engine_;
  const RescoreOptions& o_;
  FILE* out_;
  bool csv_;
  bool progress_;
  std::mutex mu_;
  std::map<uint64_t, BatchOut> pending_;
  uint64_t next_ = 0;
  std::atomic<bool> failed_{false};
  std::string error_;
  std::atomic<uint64_t> scored_{0};
  bool write_failed_ = false;
};

// Hands batches to worker threads, a bounded number in flight, so memory
// stays flat however long the dump.
class WorkQueue {
 public:
  explicit WorkQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Batch b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(std::move(b));
    not_empty_.notify_one();
  }
  bool Pop(Batch* b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    *b = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> q_;
  bool closed_ = false;
};

std::string Duration(double s) {
  char buf[32];
  int t = int(s + 0.5);
  if (t >= 3600) snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

std::string Thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

// The progress line on stderr: done by bytes read, rate by comments scored.
class Progress {
 public:
  Progress(bool on, uint64_t total_bytes) : on_(on), total_(total_bytes), start_(Clock::now()), last_(start_) {}
  void Tick(uint64_t bytes_done, uint64_t scored, bool force = false) {
    if (!on_) return;
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? double(scored) / secs : 0;
    std::string line = "rescore ";
    if (total_ > 0) {
      double f = std::min(1.0, double(bytes_done) / double(total_));
      int filled = int(f * 30);
      line += "[" + std::string(size_t(filled), '#') + std::string(size_t(30 - filled), '.') + "] ";
      char pct[16];
      snprintf(pct, sizeof pct, "%3d%% ", int(f * 100));
      line += pct;
      if (f > 0.01 && f < 1) line += "  ETA " + Duration(secs * (1 - f) / f);
    }
    line += "  " + Thousands(scored) + " comments  " + Thousands(uint64_t(rate)) + "/s";
    fprintf(stderr, "\r%s\033[K", line.c_str());
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) fprintf(stderr, "\r\033[K");
  }

 private:
  bool on_;
  uint64_t total_;
  Clock::time_point start_, last_;
  bool drawn_ = false;
};

void PrintCurve(FILE* out, const Tally& t) {
  if (t.window > 0 && !t.windows.empty()) {
    fprintf(out, "learning curve (per %zu comments in input order: recall, false positives of ham):\n", t.window);
    for (size_t w = 0; w < t.windows.size(); ++w) {
      const auto& c = t.windows[w];
      fprintf(out, "  %6zu-%-6zu recall %s (%zu of %zu spam)  false positives %zu of %zu ham\n", w * t.window + 1,
              (w + 1) * t.window, RatioText(c[0], c[0] + c[1]).c_str(), c[0], c[0] + c[1], c[2], c[2] + c[3]);
    }
  }
  if (t.warmup > 0) {
    const auto& c = t.after_warmup;
    fprintf(out, "after the first %zu comments: recall %s (%zu of %zu spam), false-positive rate %s (%zu of %zu ham)\n",
            t.warmup, RatioText(c[0], c[0] + c[1]).c_str(), c[0], c[0] + c[1], PercentText(c[2], c[2] + c[3]).c_str(),
            c[2], c[2] + c[3]);
  }
}

void PrintSummary(FILE* out, const Tally& t, size_t skipped, size_t top, double secs, unsigned threads, bool learn) {
  fprintf(out, "\n%zu comments scored, %zu records skipped, in %.2f s (%s/s, %u thread%s)\n", t.total, skipped, secs,
          Thousands(uint64_t(secs > 0 ? double(t.total) / secs : 0)).c_str(), threads, threads == 1 ? "" : "s");
  fprintf(out, "actions: accept %zu, moderate %zu, spam %zu, discard %zu, throttle %zu\n", t.actions[0], t.actions[1],
          t.actions[2], t.actions[3], t.actions[4]);
  if (t.HasPings()) {  // the kinds apart
    static const char* kKinds[3] = {"comments", "trackbacks", "pingbacks"};
    for (int k = 0; k < 3; ++k) {
      const size_t* c = t.by_kind[k];
      fprintf(out, "  %-10s accept %zu, moderate %zu, spam %zu, discard %zu, throttle %zu\n", kKinds[k], c[0], c[1],
              c[2], c[3], c[4]);
    }
  }
  if (learn) fprintf(out, "learned: %zu labeled comments taught to the database\n", t.learned);
  std::vector<std::pair<std::string, size_t>> v;
  for (const auto& [name, r] : t.rules) v.emplace_back(name, r.hits);
  std::sort(v.begin(), v.end(),
            [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (!v.empty()) {
    fprintf(out, "top rules:\n");
    for (size_t i = 0; i < v.size() && i < top; ++i) fprintf(out, "  %6zu  %s\n", v[i].second, v[i].first.c_str());
  }
  size_t spam = t.tp + t.fn, ham = t.tn + t.fp;
  if (spam + ham == 0) return;
  Metrics m = ComputeMetrics(t);
  fprintf(out, "labels: %zu spam, %zu ham (verdict spam or discard counts as positive)\n", spam, ham);
  fprintf(out, "  precision %.4f  recall %.4f  F1 %.4f  false-positive rate %s\n", m.precision, m.recall, m.f1,
          ham ? Fmt(100.0 * m.fpr).append(" %").c_str() : "n/a (no ham)");
  fprintf(out, "  confusion: spam->spam %zu, spam->not %zu, ham->spam %zu, ham->not %zu\n", t.tp, t.fn, t.fp, t.tn);
  fprintf(out, "  held for moderation: %zu spam, %zu ham\n", t.spam_moderated, t.ham_moderated);
  PrintCurve(out, t);
}

}  // namespace

int Rescore(sg_engine* engine, const RescoreOptions& o) {
  unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  if ((o.replay_limits || o.learn) && threads > 1) {
    // A limit's verdict, and a reputation being learned, depend on which
    // comment came first: replay the dump in order.
    if (o.threads > 1)
      fprintf(stderr, "spamguard: %s scores in input order, on one thread\n",
              o.replay_limits ? "--replay-limits" : "--learn");
    threads = 1;
  }

  // Learning as it goes: the learns join longer transactions.
  if (o.learn && sg_engine_batch(engine, 1) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return 1;
  }
  FILE* out = nullptr;
  bool csv = false;
  if (!o.out.empty()) {
    csv = o.out_format == "csv" ||
          (o.out_format == "auto" && o.out.size() >= 4 && o.out.compare(o.out.size() - 4, 4, ".csv") == 0);
    out = fopen(o.out.c_str(), "w");
    if (out == nullptr) {
      fprintf(stderr, "spamguard: %s: cannot write: %s\n", o.out.c_str(), strerror(errno));
      return 1;
    }
    if (csv) fputs("id,label,action,score,retry_after,hits\n", out);
  }
  std::unique_ptr<FILE, int (*)(FILE*)> out_closer(out, [](FILE* f) { return f ? fclose(f) : 0; });

  // Sizes of the dumps, for the progress bar (0 for standard input or a pipe).
  std::vector<uint64_t> sizes;
  uint64_t total_bytes = 0;
  for (const auto& f : o.files) {
    struct stat sb;
    sizes.push_back(stat(f.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) ? uint64_t(sb.st_size) : 0);
    total_bytes += sizes.back();
  }
  bool show = o.progress > 0 || (o.progress < 0 && isatty(2) && (o.quiet || o.json || !isatty(1)));
  Progress progress(show, total_bytes);

  Rescorer rs(engine, o, out, csv, show);
  std::vector<Tally> tallies(threads);
  for (auto& t : tallies) {
    t.window = o.window;
    t.warmup = o.warmup;
  }
  std::vector<std::thread> workers;
  WorkQueue queue(2 * threads);
  std::vector<sg_comment*> comments(threads, nullptr);
  for (auto& c : comments)
    if (sg_comment_new(&c) < 0) {
      fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
      return 1;
    }
  if (threads > 1)
    for (unsigned w = 0; w < threads; ++w)
      workers.emplace_back([&, w] {
        Batch b;
        while (queue.Pop(&b))
          if (!rs.failed()) rs.Process(b, comments[w], &tallies[w]);
      });

  auto start = Clock::now();
  size_t skipped = 0;
  uint64_t index = 0, seq = 0, bytes_before = 0;
  std::istream* current = nullptr;
  Batch batch;
  auto bytes_done = [&] {
    uint64_t pos = 0;
    if (current && current->good()) {
      auto p = current->tellg();
      if (p >= 0) pos = uint64_t(p);
    }
    return bytes_before + pos;
  };
  std::string path;
  auto flush = [&] {
    if (batch.items.empty()) return;
    batch.seq = seq++;
    batch.path = path == "-" ? "stdin" : path;
    if (threads > 1) queue.Push(std::move(batch));
    else rs.Process(batch, comments[0], &tallies[0]);
    batch = Batch();
    batch.first = index;
    batch.items.reserve(kBatch);
    progress.Tick(bytes_done(), rs.scored());
  };
  DumpCallbacks cb;
  cb.opened = [&](std::istream& in) { current = &in; };
  cb.skip = [&](const std::string& where, const std::string& why) {
    fprintf(stderr, "%s%s", show ? "\r\033[K" : "", SkipMessage(where, why).c_str());
    ++skipped;
  };
  // --by-date: every record is read (and parsed) first, then sorted.
  std::vector<Item> held;
  std::vector<std::string> held_path;
  cb.record = [&](const Record& rec) {
    if (rs.failed()) return false;
    if (o.by_date) {
      held.emplace_back();
      held.back().rec = rec;
      held_path.push_back(path);
      return true;
    }
    batch.items.emplace_back();
    batch.items.back().rec = rec;
    ++index;
    if (batch.items.size() >= kBatch) flush();
    return true;
  };
  cb.jsonl_line = [&](std::string& line, size_t line_no) {
    if (rs.failed()) return false;
    if (o.by_date) {
      Record parsed;
      std::string why;
      std::string where = path == "-" ? "stdin" : path;
      if (!ParseJsonLine(line, where, line_no, &parsed, &why)) {
        cb.skip(where + ":" + std::to_string(line_no), why);
        return true;
      }
      held.emplace_back();
      held.back().rec = std::move(parsed);
      held_path.push_back(path);
      return true;
    }
    batch.items.emplace_back();
    batch.items.back().line = std::move(line);
    batch.items.back().line_no = line_no;
    ++index;
    if (batch.items.size() >= kBatch) flush();
    return true;
  };
  bool read_failed = false;
  for (size_t f = 0; f < o.files.size(); ++f) {
    path = o.files[f];
    std::string error;
    current = nullptr;
    bool ok = ReadDump(path, o.format, cb, &error);
    current = nullptr;  // the stream is gone
    if (!ok) {
      progress.Clear();
      fprintf(stderr, "spamguard: %s\n", Shown(error.c_str()).c_str());
      read_failed = true;
      break;
    }
    flush();  // a batch holds one file's records
    bytes_before += sizes[f];
  }
  flush();
  if (o.by_date && !read_failed) {
    // An undated record takes the date of the record before it (a dump
    // keeps its own order); the sort is stable, so ties keep input order.
    std::vector<std::pair<int64_t, size_t>> order(held.size());
    int64_t last = 0;
    for (size_t i = 0; i < held.size(); ++i) {
      if (held[i].rec.time != 0) last = held[i].rec.time;
      order[i] = {last, i};
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [when, i] : order) {
      (void)when;
      if (rs.failed()) break;
      if (!batch.items.empty() && held_path[i] != path) flush();
      path = held_path[i];
      batch.items.push_back(std::move(held[i]));
      ++index;
      if (batch.items.size() >= kBatch) flush();
    }
    flush();
  }
  queue.Close();
  for (auto& t : workers) t.join();
  for (auto* c : comments) sg_comment_free(c);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  progress.Tick(bytes_before, rs.scored(), true);
  progress.Clear();
  fflush(stdout);

  Tally all;
  for (auto& t : tallies) all.Merge(std::move(t));
  skipped += all.skipped;
  bool failed = read_failed;
  if (rs.failed()) {
    fprintf(stderr, "spamguard: %s\n", Shown(rs.error().c_str()).c_str());
    failed = true;
  }
  if (out && (rs.write_failed() || fflush(out) != 0 || ferror(out))) {
    fprintf(stderr, "spamguard: %s: write failed: %s\n", o.out.c_str(), strerror(errno));
    failed = true;
  }
  if (o.learn && sg_engine_batch(engine, 0) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    failed = true;
  }
  FILE* sum = o.json ? stderr : stdout;
  PrintSummary(sum, all, skipped, o.top, secs, threads, o.learn);
  if (!sg_engine_has_state(engine) && *sg_engine_state_message(engine))
    fprintf(sum, "database not used (no lists or reputation applied): %s\n", sg_engine_state_message(engine));
  if (!o.report.empty()) {
    ReportInfo info;
    info.files = o.files;
    info.rules = o.rules;
    info.skipped = skipped;
    info.seconds = secs;
    info.threads = threads;
    info.learn = o.learn;
    std::string error;
    if (!WriteReport(o.report, engine, all, info, &error)) {
      fprintf(stderr, "spamguard: %s\n", Shown(error.c_str()).c_str());
      failed = true;
    } else {
      fprintf(sum, "report: %s\n", o.report.c_str());
    }
  }
  return failed ? 1 : 0;
}

}  // namespace sgcli
