#include "form/form_token.h"

#include <array>
#include <cstring>

#include "util/digest.h"

namespace spamguard::form {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kSigned = 29, kTagBytes = 16, kBytes = kSigned + kTagBytes;  // 45 bytes, 60 characters
static_assert(kBytes * 4 / 3 == kTokenChars);

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

void PutBe(uint8_t* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = uint8_t(v);
}
uint64_t GetBe(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

void PostHash(std::string_view post_id, uint8_t out[8]) {
  static const char kLabel[] = "spamguard form post";  // with its NUL: no post id can fake the label
  Sha256 h;
  h.Update(kLabel, sizeof kLabel);
  h.Update(post_id.data(), post_id.size());
  memcpy(out, h.Final().data(), 8);
}

void Tag(const std::string& key, const uint8_t* data, uint8_t out[kTagBytes]) {
  memcpy(out, HmacSha256(key, data, kSigned).data(), kTagBytes);
}

}  // namespace

bool RandomBytes(void* out, size_t n) { return KernelRandom(out, n); }

std::string Issue(const Secret& secret, std::string_view post_id, int64_t issued, uint64_t nonce) {
  std::array<uint8_t, kBytes> b{};
  b[0] = kVersion;
  PutBe(&b[1], secret.id, 4);
  PutBe(&b[5], uint64_t(issued), 8);
  PutBe(&b[13], nonce, 8);
  PostHash(post_id, &b[21]);
  Tag(secret.key, b.data(), &b[kSigned]);
  std::string out;
  out.reserve(kTokenChars);
  for (size_t i = 0; i < kBytes; i += 3) {
    uint32_t v = uint32_t(b[i]) << 16 | uint32_t(b[i + 1]) << 8 | b[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  return out;
}

Outcome Verify(std::string_view text, std::string_view post_id, const std::vector<Secret>& secrets, Token* out,
               std::string* why) {
  *out = Token();
  if (text.size() != kTokenChars) {
    *why = "a token of " + std::to_string(text.size()) + " bytes (a form token has " + std::to_string(kTokenChars) + ")";
    return Outcome::kMalformed;
  }
  std::array<uint8_t, kBytes> b{};
  for (size_t i = 0, j = 0; i < kTokenChars; i += 4, j += 3) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int s = Sextet(text[i + k]);
      if (s < 0) {
        *why = "a token with a character that is not base64url at byte " + std::to_string(i + k + 1);
        return Outcome::kMalformed;
      }
      v = v << 6 | uint32_t(s);
    }
    b[j] = uint8_t(v >> 16);
    b[j + 1] = uint8_t(v >> 8);
    b[j + 2] = uint8_t(v);
  }
  if (b[0] != kVersion) {
    *why = "a token of unknown version " + std::to_string(b[0]);
    return Outcome::kMalformed;
  }
  const uint32_t id = uint32_t(GetBe(&b[1], 4));
  const Secret* secret = nullptr;
  for (const auto& s : secrets)
    if (s.id == id) secret = &s;
  if (secret == nullptr) {
    *why = "a token signed with secret " + std::to_string(id) + ", which this blog does not hold (forged, or retired)";
    return Outcome::kForged;
  }
  uint8_t tag[kTagBytes];
  Tag(secret->key, b.data(), tag);
  if (!ConstantTimeEqual(tag, &b[kSigned], kTagBytes)) {
    *why = "a token whose signature does not verify (forged or altered)";
    return Outcome::kForged;
  }
  out->secret_id = id;
  out->issued = int64_t(GetBe(&b[5], 8));
  out->use_key.assign(reinterpret_cast<const char*>(&b[1]), 4);
  out->use_key.append(reinterpret_cast<const char*>(&b[13]), 8);
  uint8_t post[8];
  PostHash(post_id, post);
  if (!ConstantTimeEqual(post, &b[21], 8)) {
    *why = "a token made for the form of another post";
    return Outcome::kOtherPost;
  }
  return Outcome::kValid;
}

}  // namespace spamguard::form
