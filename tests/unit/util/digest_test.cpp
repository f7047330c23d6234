// The library's own digests (util/digest.h) against the standards' test
// vectors: FIPS 180-4 examples for SHA-256 and SHA-1, RFC 4231 for
// HMAC-SHA-256.
#include <boost/test/unit_test.hpp>

#include <string>

#include "util/digest.h"

using namespace spamguard;

namespace {

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& d) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(hex[b >> 4]);
    s.push_back(hex[b & 15]);
  }
  return s;
}

std::string Sha(const std::string& m) {
  Sha256 h;
  h.Update(m.data(), m.size());
  return Hex(h.Final());
}

std::string Hmac(const std::string& key, const std::string& m) { return Hex(HmacSha256(key, m.data(), m.size())); }

const std::string k448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

BOOST_AUTO_TEST_SUITE(digest)

BOOST_AUTO_TEST_CASE(sha256_gives_the_standard_digests) {
  BOOST_TEST(Sha("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(Sha("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(Sha(k448) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  BOOST_TEST(Sha(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Fed in pieces, cut anywhere, the same digest as at once; every length
  // around the padding's edges.
  std::string m;
  for (int i = 0; i < 200; ++i) m.push_back(char('a' + i % 26));
  for (size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
    const std::string whole = Sha(m.substr(0, len));
    for (size_t cut = 0; cut <= len; cut += 7) {
      Sha256 h;
      h.Update(m.data(), cut);
      h.Update(m.data() + cut, len - cut);
      BOOST_TEST(Hex(h.Final()) == whole, len << " cut at " << cut);
    }
  }
}

BOOST_AUTO_TEST_CASE(hmac_sha256_gives_rfc_4231s_tags) {
  BOOST_TEST(Hmac(std::string(20, '\x0b'), "Hi There") ==
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  BOOST_TEST(Hmac("Jefe", "what do ya want for nothing?") ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_TEST(Hmac(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // A key longer than a block is hashed first.
  BOOST_TEST(Hmac(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

BOOST_AUTO_TEST_CASE(sha1_names_a_script_as_redis_does) {
  BOOST_TEST(Sha1Hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  BOOST_TEST(Sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  BOOST_TEST(Sha1Hex(k448) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

BOOST_AUTO_TEST_CASE(comparison_and_random_bytes) {
  BOOST_TEST(ConstantTimeEqual("abcd", "abcd", 4));
  BOOST_TEST(!ConstantTimeEqual("abcd", "abce", 4));
  BOOST_TEST(!ConstantTimeEqual("xbcd", "abcd", 4));
  uint8_t a[32] = {}, b[32] = {};
  BOOST_REQUIRE(KernelRandom(a, sizeof a));
  BOOST_REQUIRE(KernelRandom(b, sizeof b));
  BOOST_TEST(!ConstantTimeEqual(a, b, sizeof a));  // (equal once in 2^256)
}

BOOST_AUTO_TEST_SUITE_END()
