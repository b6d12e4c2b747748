// Strict UTF-8 validation for corpus text (`graft data prepare`, `graft
// tokenizer train`).
//
// SentencePiece silently turns every byte that is not UTF-8 into U+FFFD, so
// a Latin-1 or truncated file would train and tokenize without a word of
// warning, its accented letters all one replacement character. graft refuses
// such input instead, naming where the first bad byte is.
//
// Well-formed means Unicode's Table 3-7 (RFC 3629): no overlong forms (C0,
// C1, E0 80..9F, F0 80..8F), no surrogates (ED A0..BF), nothing above
// U+10FFFF (F4 90.., F5..FF), no stray continuation bytes and no sequence cut
// short (by another byte or by the end of the text).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace graft {

struct Utf8Problem {
  size_t offset = 0;   // of the first byte of the ill-formed sequence
  std::string reason;  // e.g. "byte 0xC0 starts an overlong encoding"
};

// The first ill-formed sequence of text, or nullopt when all of it is UTF-8.
std::optional<Utf8Problem> find_invalid_utf8(std::string_view text);

}  // namespace graft
