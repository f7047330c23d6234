#include "rules/perl_syntax.h"

namespace spamguard::rules {

std::string FindPerlOnlyConstruct(std::string_view p) {
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    char n = i + 1 < p.size() ? p[i + 1] : '\0';
    if (c == '\\') {
      if (!in_class) {
        if (n >= '1' && n <= '9') return std::string("backreference \\") + n;
        if (n == 'k' || (n == 'g' && i + 2 < p.size() &&
                         (p[i + 2] == '{' || p[i + 2] == '-' || (p[i + 2] >= '0' && p[i + 2] <= '9'))))
          return std::string("backreference \\") + n;
        if (n == 'K') return "keep-out \\K";
        if (n == 'G') return "anchor \\G";
        if (n == 'Z') return "anchor \\Z (use \\z or $)";
      }
      ++i;  // skip the escaped character
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      // A ']' right after '[' or '[^' is a literal member.
      if (n == '^') ++i;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;
      continue;
    }
    if (c == '(' && n == '?') {
      std::string_view rest = p.substr(i + 2, 2);
      if (rest.substr(0, 1) == "=") return "look-ahead (?=";
      if (rest.substr(0, 1) == "!") return "negative look-ahead (?!";
      if (rest == "<=") return "look-behind (?<=";
      if (rest == "<!") return "negative look-behind (?<!";
      if (rest.substr(0, 1) == ">") return "atomic group (?>";
      if (rest.substr(0, 1) == "(") return "conditional (?(";
      if (rest.substr(0, 1) == "#") return "comment group (?#";
      if (rest.substr(0, 1) == "|") return "branch reset (?|";
      if (!rest.empty() && (rest[0] == 'R' || rest[0] == '&' || (rest[0] >= '0' && rest[0] <= '9') ||
                            ((rest[0] == '+' || rest[0] == '-') && rest.size() > 1 && rest[1] >= '0' &&
                             rest[1] <= '9')))
        return "recursion (?" + std::string(rest.substr(0, 1));
      continue;
    }
    if ((c == '*' || c == '+' || c == '?' || c == '}') && n == '+') {
      // "x++", "x*+", "x?+", "x{2}+": possessive quantifiers.
      if (c != '}' || (i > 0 && p.find('{') < i)) return std::string("possessive quantifier ") + c + "+";
    }
  }
  return "";
}

}  // namespace spamguard::rules
