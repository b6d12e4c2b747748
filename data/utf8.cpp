#include "data/utf8.h"

#include <cstdint>
#include <cstdio>

namespace graft {

namespace {

std::string hex(uint8_t byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "0x%02X", byte);
  return buffer;
}

// A lead byte's sequence: how many continuation bytes follow and the range
// the first of them must fall in (Unicode Table 3-7). The narrowed ranges
// are what exclude overlongs (E0, F0), surrogates (ED) and code points above
// U+10FFFF (F4).
struct Lead {
  int continuations = 0;
  uint8_t low = 0x80, high = 0xBF;
  const char* narrowed = nullptr;  // what a second byte outside [low, high] would encode
};

std::optional<Lead> lead_of(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return Lead{1, 0x80, 0xBF, nullptr};
  if (b == 0xE0) return Lead{2, 0xA0, 0xBF, "an overlong encoding"};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return Lead{2, 0x80, 0xBF, nullptr};
  if (b == 0xED) return Lead{2, 0x80, 0x9F, "a UTF-16 surrogate (U+D800..U+DFFF)"};
  if (b == 0xF0) return Lead{3, 0x90, 0xBF, "an overlong encoding"};
  if (b >= 0xF1 && b <= 0xF3) return Lead{3, 0x80, 0xBF, nullptr};
  if (b == 0xF4) return Lead{3, 0x80, 0x8F, "a code point above U+10FFFF"};
  return std::nullopt;
}

std::string bad_lead(uint8_t b) {
  if (b >= 0x80 && b <= 0xBF) return "byte " + hex(b) + " is a continuation byte with no lead byte";
  if (b == 0xC0 || b == 0xC1) return "byte " + hex(b) + " starts an overlong encoding";
  if (b >= 0xF5 && b <= 0xF7) return "byte " + hex(b) + " starts a code point above U+10FFFF";
  return "byte " + hex(b) + " never appears in UTF-8";
}

}  // namespace

std::optional<Utf8Problem> find_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b = bytes[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    const std::optional<Lead> lead = lead_of(b);
    if (!lead) return Utf8Problem{i, bad_lead(b)};
    for (int k = 1; k <= lead->continuations; ++k) {
      const std::string sequence = "the " + std::to_string(lead->continuations + 1) +
                                   "-byte sequence starting with " + hex(b);
      if (i + k >= n) {
        return Utf8Problem{
            i, sequence + " is cut short: it needs " + std::to_string(lead->continuations) +
                   " continuation byte(s), the text ends after " + std::to_string(k - 1)};
      }
      const uint8_t c = bytes[i + k];
      const uint8_t low = k == 1 ? lead->low : 0x80, high = k == 1 ? lead->high : 0xBF;
      if (c >= low && c <= high) continue;
      if (k == 1 && lead->narrowed && c >= 0x80 && c <= 0xBF) {
        return Utf8Problem{i,
                           sequence + " followed by " + hex(c) + " would encode " + lead->narrowed};
      }
      return Utf8Problem{i, sequence + " is cut short: byte " + hex(c) + " is not a continuation"};
    }
    i += static_cast<size_t>(lead->continuations) + 1;
  }
  return std::nullopt;
}

}  // namespace graft
