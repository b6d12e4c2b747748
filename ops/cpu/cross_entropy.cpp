#include "ops/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/gelu_math.h"
#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// Serial on purpose: an error must name the first bad target, and one pass
// over the targets is negligible next to the rows' exponentials.
int64_t check_targets(const char* op, const Tensor& targets, int64_t vocab, int32_t ignore) {
  const int32_t* t = targets.data<int32_t>();
  const int64_t n = targets.numel();
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (t[i] == ignore) continue;
    GRAFT_CHECK(t[i] >= 0 && t[i] < vocab, op << ": target " << t[i] << " at row " << i
                                              << " is outside [0, " << vocab
                                              << ") and is not ignore_index " << ignore);
    ++count;
  }
  return count;
}

// libm's expf is a scalar call GCC does not vectorise without -ffast-math,
// and over a [tokens, vocab] logits tensor it was 4.5% of a whole training
// step (docs/PERFORMANCE.md); exp_fast (relative error about 2e-7) is plain
// arithmetic that vectorises. double keeps std::exp (gradient checks).
inline float exp_value(float x) {
  return exp_fast(x);
}
inline double exp_value(double x) {
  return std::exp(x);
}

template <class T>
T row_max(const T* x, int64_t vocab) {
  T m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t v = 1; v < vocab; ++v)
    m = x[v] > m ? x[v] : m;
  return m;
}

// Shifted by the row max so that logits of any size stay finite; the sum is
// kept in double because V reaches 1e5 and float would lose the tail. The
// exponentials vectorise into a block; the block is then summed in index
// order, so the result is the same bits as one scalar loop (the losses of
// every recorded run stay reproducible). An in-order double sum is one
// dependent add per element, so kRows rows are summed side by side: each row
// keeps its own order, and the adds of different rows overlap in the
// pipeline.
constexpr int64_t kSumBlock = 256;
constexpr int kRows = 4;

template <class T, int N>
void rows_logsumexp(const T* const* rows, const T* max, int64_t vocab, double* out) {
  T e[N][kSumBlock];
  double s[N] = {};
  for (int64_t begin = 0; begin < vocab; begin += kSumBlock) {
    const int64_t n = std::min(kSumBlock, vocab - begin);
    for (int r = 0; r < N; ++r) {
      const T* x = rows[r] + begin;
      const T m = max[r];
#pragma omp simd
      for (int64_t v = 0; v < n; ++v)
        e[r][v] = exp_value(x[v] - m);
    }
    for (int64_t v = 0; v < n; ++v)
      for (int r = 0; r < N; ++r)
        s[r] += static_cast<double>(e[r][v]);
  }
  for (int r = 0; r < N; ++r)
    out[r] = static_cast<double>(max[r]) + std::log(s[r]);
}

// Fixed chunks summed in order: the total does not depend on the thread count.
double ordered_sum(const std::vector<double>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t end = std::min(n, (c + 1) * kReduceChunk);
    double s = 0;
    for (int64_t i = c * kReduceChunk; i < end; ++i)
      s += x[static_cast<size_t>(i)];
    partial[static_cast<size_t>(c)] = s;
  }
  double total = 0;
  for (double p : partial)
    total += p;
  return total;
}

template <class T>
CrossEntropyResult forward_typed(const char* op, const Tensor& logits, const Tensor& targets,
                                 const CrossEntropyOptions& options, const Tensor& lse,
                                 bool count_correct) {
  const int64_t vocab = logits.dim(-1), rows = targets.numel();
  CrossEntropyResult r;
  r.count = check_targets(op, targets, vocab, options.ignore_index);
  const T* x = logits.data<T>();
  const int32_t* t = targets.data<int32_t>();
  T* lse_out = lse.defined() ? lse.data<T>() : nullptr;
  const int32_t ignore = options.ignore_index;
  const double eps = options.label_smoothing;
  std::vector<double> row_loss(static_cast<size_t>(rows));
  int64_t correct = 0;
  const int64_t groups = (rows + kRows - 1) / kRows;
#pragma omp parallel for schedule(static) reduction(+ : correct) if (rows * vocab > kParallelElements)
  for (int64_t g = 0; g < groups; ++g) {
    // The group's counted rows, their maxima, then their log-sum-exps.
    int64_t index[kRows];
    const T* row[kRows];
    T max[kRows];
    double l[kRows];
    int n = 0;
    for (int64_t i = g * kRows; i < std::min(rows, (g + 1) * kRows); ++i) {
      if (t[i] == ignore) {
        row_loss[static_cast<size_t>(i)] = 0;
        if (lse_out != nullptr) lse_out[i] = T(0);
        continue;
      }
      index[n] = i;
      row[n] = x + i * vocab;
      max[n] = row_max(row[n], vocab);
      ++n;
    }
    if (n == kRows) {
      rows_logsumexp<T, kRows>(row, max, vocab, l);
    } else {
      for (int k = 0; k < n; ++k)
        rows_logsumexp<T, 1>(row + k, max + k, vocab, l + k);
    }
    for (int k = 0; k < n; ++k) {
      const int64_t i = index[k];
      if (lse_out != nullptr) lse_out[i] = static_cast<T>(l[k]);
      // (1-ε)(lse - x_t) + ε·mean_v(lse - x_v) = lse - (1-ε)x_t - ε·mean_v x_v
      double loss = l[k] - (1.0 - eps) * static_cast<double>(row[k][t[i]]);
      if (eps > 0) {
        double sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t v = 0; v < vocab; ++v)
          sum += static_cast<double>(row[k][v]);
        loss -= eps * sum / static_cast<double>(vocab);
      }
      row_loss[static_cast<size_t>(i)] = loss;
      if (count_correct) {
        const int64_t argmax = std::find(row[k], row[k] + vocab, max[k]) - row[k];
        correct += argmax == t[i] ? 1 : 0;
      }
    }
  }
  r.loss_sum = ordered_sum(row_loss);
  r.correct = correct;
  return r;
}

template <class T>
void backward_typed(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                    const CrossEntropyOptions& options, double scale, const GradSlot& dlogits) {
  const int64_t vocab = logits.dim(-1), rows = targets.numel();
  const T* x = logits.data<T>();
  const int32_t* t = targets.data<int32_t>();
  const T* l = lse.data<T>();
  T* d = dlogits.grad.data<T>();
  const bool accumulate = dlogits.accumulate;
  const int32_t ignore = options.ignore_index;
  const T s = static_cast<T>(scale);
  // The smoothed target puts ε/V on every class and 1-ε more on the target.
  const T uniform = static_cast<T>(options.label_smoothing / static_cast<double>(vocab));
  const T target_mass = static_cast<T>((1.0 - options.label_smoothing) * scale);
#pragma omp parallel for schedule(static) if (rows * vocab > kParallelElements)
  for (int64_t i = 0; i < rows; ++i) {
    T* drow = d + i * vocab;
    if (t[i] == ignore) {
      if (!accumulate) std::fill(drow, drow + vocab, T(0));
      continue;
    }
    const T* row = x + i * vocab;
    const T li = l[i];
    if (accumulate) {
#pragma omp simd
      for (int64_t v = 0; v < vocab; ++v)
        drow[v] += (exp_value(row[v] - li) - uniform) * s;
    } else {
#pragma omp simd
      for (int64_t v = 0; v < vocab; ++v)
        drow[v] = (exp_value(row[v] - li) - uniform) * s;
    }
    drow[t[i]] -= target_mass;
  }
}

}  // namespace

CrossEntropyResult cross_entropy_forward(const char* op, const Tensor& logits,
                                         const Tensor& targets, const CrossEntropyOptions& options,
                                         const Tensor& lse, bool count_correct) {
  CrossEntropyResult r;
  dispatch_float(logits.dtype(), op, [&](auto zero) {
    r = forward_typed<decltype(zero)>(op, logits, targets, options, lse, count_correct);
  });
  return r;
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const CrossEntropyOptions& options, double scale,
                            const GradSlot& dlogits) {
  dispatch_float(logits.dtype(), "softmax_cross_entropy backward", [&](auto zero) {
    backward_typed<decltype(zero)>(logits, targets, lse, options, scale, dlogits);
  });
}

}  // namespace graft::cpu
