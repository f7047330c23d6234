// Loading labeled JSON Lines dumps into sg_comment handles for tests and
// benchmarks (public C API only).
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "spamguard/spamguard.h"

namespace sgtest {

struct CommentDeleter {
  void operator()(sg_comment* c) const { sg_comment_free(c); }
};
using CommentPtr = std::unique_ptr<sg_comment, CommentDeleter>;

struct Labeled {
  std::string id, label;
  CommentPtr comment;
};

inline void SetField(sg_comment* c, int field, const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return;
  const std::string& s = it->get_ref<const std::string&>();
  if (sg_comment_set_field(c, field, s.data(), s.size()) < 0) throw std::runtime_error(sg_error_message());
}

inline std::vector<Labeled> LoadJsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Labeled> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    sg_comment* c = nullptr;
    if (sg_comment_new(&c) < 0) throw std::runtime_error(sg_error_message());
    Labeled l{j.value("id", ""), j.value("label", ""), CommentPtr(c)};
    std::string type = j.value("type", "comment");
    sg_comment_set_kind(c, type == "trackback" ? SG_KIND_TRACKBACK : type == "pingback" ? SG_KIND_PINGBACK
                                                                                            : SG_KIND_COMMENT);
    SetField(c, SG_FIELD_ID, j, "id");
    SetField(c, SG_FIELD_AUTHOR, j, "author");
    SetField(c, SG_FIELD_EMAIL, j, "email");
    SetField(c, SG_FIELD_URL, j, "url");
    SetField(c, SG_FIELD_IP, j, "ip");
    SetField(c, SG_FIELD_USER_AGENT, j, "user_agent");
    SetField(c, SG_FIELD_BODY, j, "body");
    SetField(c, SG_FIELD_BLOG_NAME, j, "blog_name");
    SetField(c, SG_FIELD_TITLE, j, "title");
    SetField(c, SG_FIELD_EXCERPT, j, "excerpt");
    SetField(c, SG_FIELD_SOURCE_URL, j, "source_url");
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace sgtest
