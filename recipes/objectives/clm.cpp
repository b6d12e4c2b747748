#include "recipes/objectives/clm.h"

namespace graft::objectives {

LmBatch make_clm_batch(const Tensor& windows) {
  GRAFT_CHECK(windows.ndim() == 2 && windows.dtype() == DType::i32 && windows.dim(1) >= 2,
              "CLM expects i32 [B, T+1] windows, got " << windows.describe());
  const int64_t rows = windows.dim(0), length = windows.dim(1) - 1;
  LmBatch batch;
  batch.input_ids = Tensor::empty({rows, length}, DType::i32);
  batch.attention_mask = Tensor::empty({rows, length}, DType::i32);
  batch.labels = Tensor::empty({rows, length}, DType::i32);
  const int32_t* src = windows.data<int32_t>();
  int32_t* in = batch.input_ids.data<int32_t>();
  int32_t* mask = batch.attention_mask.data<int32_t>();
  int32_t* labels = batch.labels.data<int32_t>();
  for (int64_t b = 0; b < rows; ++b) {
    for (int64_t t = 0; t < length; ++t) {
      const int32_t x = src[b * (length + 1) + t], y = src[b * (length + 1) + t + 1];
      in[b * length + t] = x;
      mask[b * length + t] = x != kPadId;
      labels[b * length + t] = y == kPadId ? kIgnoreIndex : y;
    }
  }
  return batch;
}

}  // namespace graft::objectives
