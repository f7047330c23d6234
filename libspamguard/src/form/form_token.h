// Signed comment-form tokens. When a blog renders a comment form it asks
// for a token; the form carries it back with the comment. A token says
// which secret signed it, when the form was shown, for which post, and a
// random nonce (what replays are counted by), under an HMAC-SHA-256 tag
// made with a secret only the blog holds: a bot cannot make one, move one
// to another post or change its time, and one reused many times is seen.
//
//   byte 0       version (1)
//   bytes 1-4    secret id, big-endian
//   bytes 5-12   issue time, unix seconds, big-endian
//   bytes 13-20  nonce
//   bytes 21-28  the post: the first 8 bytes of SHA-256("spamguard form post" 0 post_id)
//   bytes 29-44  the first 16 bytes of HMAC-SHA-256(secret, bytes 0-28)
//
// written as 60 characters of unpadded base64url (RFC 4648 section 5), safe
// in HTML attributes, URLs and form fields as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spamguard::form {

constexpr size_t kTokenChars = 60;
constexpr size_t kSecretBytes = 32;

struct Secret {
  uint32_t id = 0;
  std::string key;
};

// The token for a form of `post_id` shown at `issued`.
std::string Issue(const Secret& secret, std::string_view post_id, int64_t issued, uint64_t nonce);

enum class Outcome : uint8_t {
  kValid,      // signed by one of the secrets, for this post
  kMalformed,  // not a token of this format
  kForged,     // the tag does not verify, or no secret has its id
  kOtherPost,  // authentic, but made for another post
};

struct Token {
  uint32_t secret_id = 0;
  int64_t issued = 0;
  std::string use_key;  // secret id and nonce: counts the token's uses
};

// Parses `text` and checks its tag against the secret it names (secrets in
// any order). Sets *why to what was wrong, for the verdict.
Outcome Verify(std::string_view text, std::string_view post_id, const std::vector<Secret>& secrets, Token* out,
               std::string* why);

// n bytes from the operating system's random generator; false if it failed.
bool RandomBytes(void* out, size_t n);

}  // namespace spamguard::form
