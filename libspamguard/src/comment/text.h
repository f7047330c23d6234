// Text helpers used by normalization: UTF-8 repair, HTML entity decoding,
// visible-text extraction from HTML/BBCode, and link finding.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace spamguard::comment {

// Copies at most `cap` bytes of `in` to `out`, backing off to a UTF-8
// character boundary. Returns true when bytes were cut.
bool CapBytes(std::string_view in, size_t cap, std::string_view* out);

// Replaces every byte that is not part of a valid UTF-8 sequence
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) with
// U+FFFD. Returns true when something was replaced. NUL bytes are valid.
bool SanitizeUtf8(std::string_view in, std::string* out);

// Appends the UTF-8 encoding of code point `cp` (U+FFFD if invalid).
void AppendUtf8(uint32_t cp, std::string* out);

// Decodes HTML character references (&amp; &#233; &#xE9; and the common
// named ones) in `in`, appending to `out`. Unknown or malformed references
// are kept as written. Decoded NUL, surrogates and out-of-range code points
// become U+FFFD. Returns the number of references decoded.
size_t DecodeEntities(std::string_view in, std::string* out);

// The visible text of an HTML/BBCode fragment: tags removed (inline tags
// vanish, block tags become a space), comments removed, entities decoded.
// Link targets (<a href>, <img src>, [url], [url=], [img]) are appended to
// `links` as written (entity-decoded), before URL normalization.
void VisibleText(std::string_view html, std::string* text,
                 std::vector<std::string>* links);

// Finds plain-text links in `text`: http://, https://, ftp:// URLs and bare
// www. hosts. Appends each as found. Also appends to `stripped` the text with
// the link strings removed (may be null).
void FindPlainLinks(std::string_view text, std::vector<std::string>* links,
                    std::string* stripped);

// True when `name` is written as a person's name: one to four words, each a
// capital followed by small letters ("Min-jun Seo", "Anna Sale", "Jean-Pierre
// O'Neil", "Dr. Ana Law", "J. Smith"), in any cased script (Latin, Greek,
// Cyrillic); letters of scripts without case ("田中", "김민수") count as a
// name too. "SEO Company", "seo services" and "Buy Now!!!" are not.
bool LooksLikeName(std::string_view name);

// Counts host names written as plain text without http:// or www.
// ("example.com", "shop . example . net/page"): a label of two or more
// letters, digits or hyphens, a dot (spaces around it allowed), and a
// top-level domain of the Public Suffix List ("done. Now", a capital after a
// full stop and a space, starts a sentence). Addresses in e-mail (after '@') are not
// counted.
size_t CountBareDomains(std::string_view text);

// What a scan of the code points of (valid UTF-8) text finds: tricks that
// make a word look normal to a reader but not to a filter.
struct ScriptSigns {
  bool zero_width_in_word = false;  // U+200B..U+200D, U+2060 or U+00AD between letters
  bool mixed_scripts = false;       // a Latin letter next to a Cyrillic or Greek one
  bool styled_letters = false;      // 3+ mathematical, full-width or circled letters in a row
};
ScriptSigns ScanScripts(std::string_view utf8);

// Normalizes a link for matching: trims, lower-cases scheme and host, adds
// "http://" to bare www./"//" hosts. Returns false for what is not a web
// link (mailto:, javascript:, relative paths, empty).
bool NormalizeLink(std::string_view in, std::string* out);

// Collapses every run of whitespace (ASCII, NBSP, Unicode spaces) into one
// ASCII space and trims both ends.
void CollapseSpace(std::string_view in, std::string* out);

}  // namespace spamguard::comment
