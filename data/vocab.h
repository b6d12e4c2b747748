// graft's fixed special-token ids, shared by every tokenizer, objective and
// model. Binding: checkpoints and objectives rely on them.
//
//   0 <pad>  1 <s> (bos)  2 </s> (eos)  3 <unk>  4 [MASK]  5 [CLS]  6 [SEP]
//   vocab_size-1-k = <extra_id_k>, k = 0..99 (T5 sentinels, top of the vocab)
//
// Vocab carries just these facts, so objectives run on synthetic vocabularies
// in tests without a SentencePiece model.
#pragma once

#include <cstdint>

#include "ops/check.h"

namespace graft {

inline constexpr int32_t kPadId = 0;
inline constexpr int32_t kBosId = 1;
inline constexpr int32_t kEosId = 2;
inline constexpr int32_t kUnkId = 3;
inline constexpr int32_t kMaskId = 4;
inline constexpr int32_t kClsId = 5;
inline constexpr int32_t kSepId = 6;
inline constexpr int32_t kNumSpecialIds = 7;  // ids below this are specials
inline constexpr int32_t kNumSentinels = 100;
// Labels at this value are ignored by the losses (the PyTorch convention).
inline constexpr int32_t kIgnoreIndex = -100;

struct Vocab {
  int64_t size = 0;

  explicit Vocab(int64_t vocab_size) : size(vocab_size) {
    GRAFT_INPUT_CHECK(vocab_size > kNumSpecialIds + kNumSentinels,
                      "vocabulary size " << vocab_size << " leaves no room for ordinary tokens ("
                                         << kNumSpecialIds << " specials + " << kNumSentinels
                                         << " sentinels)");
  }
  // <extra_id_k>
  int32_t sentinel(int k) const {
    GRAFT_CHECK(k >= 0 && k < kNumSentinels, "sentinel index " << k << " out of range");
    return static_cast<int32_t>(size - 1 - k);
  }
  bool is_sentinel(int32_t id) const { return id >= first_sentinel() && id < size; }
  int32_t first_sentinel() const { return static_cast<int32_t>(size - kNumSentinels); }
  // Ordinary tokens (what MLM's random replacement draws from): [7, size-100).
  int32_t ordinary_begin() const { return kNumSpecialIds; }
  int32_t ordinary_end() const { return first_sentinel(); }
  bool is_ordinary(int32_t id) const { return id >= ordinary_begin() && id < ordinary_end(); }
};

}  // namespace graft
