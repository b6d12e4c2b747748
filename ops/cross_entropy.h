// softmax_cross_entropy: fused log-softmax + negative log-likelihood, mean over
// the positions that count.
//
//   logits: [..., V] f32/f64 on the CPU, f32/bf16 on CUDA; targets: i32 with
//   logits' leading shape [...], on logits' device;
//   out: scalar (shape {}) on logits' device, in logits' dtype on the CPU and
//   always f32 on CUDA (a bf16 loss would round away the digits that show
//   training progress), equal to the
//     mean over non-ignored rows of (1-ε)·(-log p_target) + ε·mean_v(-log p_v)
//   (PyTorch's label_smoothing), and 0 when every target is ignored.
// A target outside [0, V) that is not ignore_index is a graft::Error naming it.
// Forward keeps only each row's logsumexp; backward recomputes the softmax row
// by row: dlogits = (softmax - ((1-ε)·onehot + ε/V)) · g / count, 0 on ignored
// rows. The mean is summed in fixed chunks in order (same for any thread count).
// FLOPs (other), per logit of each non-ignored row: forward 4 (max, subtract,
// exp, sum), backward 4 (subtract, exp, subtract target mass, scale); ignored
// rows cost nothing.
#pragma once

#include <cstdint>

#include "ops/tensor.h"

namespace graft {

struct CrossEntropyOptions {
  int32_t ignore_index = -100;
  double label_smoothing = 0.0;  // ε in [0, 1]
};

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets,
                             const CrossEntropyOptions& options = {});

// For evaluation, never on the tape: summed NLL (no smoothing) in double,
// non-ignored count, and how many rows have argmax == target (ties go to the
// lowest index, as torch.argmax). Same checks and forward FLOPs as above.
struct CrossEntropyStats {
  double loss_sum;
  int64_t count;
  int64_t correct;
};
CrossEntropyStats cross_entropy_stats(const Tensor& logits, const Tensor& targets,
                                      int32_t ignore_index = -100);

}  // namespace graft
