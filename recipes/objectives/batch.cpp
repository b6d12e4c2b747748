#include "recipes/objectives/batch.h"

#include <algorithm>

namespace graft::objectives {

namespace {

int64_t longest(const std::vector<std::vector<int32_t>>& rows) {
  size_t n = 0;
  for (const auto& r : rows)
    n = std::max(n, r.size());
  return static_cast<int64_t>(n);
}

}  // namespace

Tensor pad_rows(const std::vector<std::vector<int32_t>>& rows, int32_t pad, int64_t length) {
  if (length == 0) length = longest(rows);
  Tensor out = Tensor::full({static_cast<int64_t>(rows.size()), length}, pad, DType::i32);
  int32_t* dst = out.data<int32_t>();
  for (size_t b = 0; b < rows.size(); ++b) {
    GRAFT_CHECK(static_cast<int64_t>(rows[b].size()) <= length,
                "row " << b << " has " << rows[b].size() << " tokens, more than " << length);
    std::copy(rows[b].begin(), rows[b].end(), dst + b * length);
  }
  return out;
}

Tensor mask_rows(const std::vector<std::vector<int32_t>>& rows, int64_t length) {
  if (length == 0) length = longest(rows);
  Tensor out = Tensor::zeros({static_cast<int64_t>(rows.size()), length}, DType::i32);
  int32_t* dst = out.data<int32_t>();
  for (size_t b = 0; b < rows.size(); ++b) {
    std::fill(dst + b * length, dst + b * length + static_cast<int64_t>(rows[b].size()), 1);
  }
  return out;
}

std::vector<std::vector<int32_t>> tensor_rows(const Tensor& tokens) {
  GRAFT_CHECK(tokens.ndim() == 2 && tokens.dtype() == DType::i32,
              "expected an i32 [B, T] tensor, got " << tokens.describe());
  const int64_t rows = tokens.dim(0), cols = tokens.dim(1);
  const int32_t* src = tokens.data<int32_t>();
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(rows));
  for (int64_t b = 0; b < rows; ++b)
    out[b].assign(src + b * cols, src + (b + 1) * cols);
  return out;
}

void set_decoder_side(Seq2SeqBatch& batch, const std::vector<std::vector<int32_t>>& targets,
                      int64_t length) {
  if (length == 0) length = longest(targets);
  std::vector<std::vector<int32_t>> inputs;
  for (const auto& t : targets) {
    std::vector<int32_t> shifted{kPadId};
    shifted.insert(shifted.end(), t.begin(), t.end() - (t.empty() ? 0 : 1));
    inputs.push_back(std::move(shifted));
  }
  batch.labels = pad_rows(targets, kIgnoreIndex, length);
  batch.decoder_input_ids = pad_rows(inputs, kPadId, length);
  batch.decoder_attention_mask = mask_rows(targets, length);
}

}  // namespace graft::objectives
