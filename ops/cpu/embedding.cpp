#include "ops/cpu/embedding.h"

#include <algorithm>
#include <vector>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// "[i, j, ...]" of a flat index into shape, for error messages.
std::string position_string(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    index[a] = flat % shape[a];
    flat /= shape[a];
  }
  return shape_string(index);
}

// Serial on purpose: an error must name the first bad id, and one pass over
// the ids is negligible next to the gather.
void check_ids(const Tensor& ids, int64_t vocab) {
  const int32_t* id = ids.data<int32_t>();
  const int64_t n = ids.numel();
  for (int64_t i = 0; i < n; ++i) {
    GRAFT_CHECK(id[i] >= 0 && id[i] < vocab,
                "embedding: id " << id[i] << " at position " << position_string(ids.shape(), i)
                                 << " of ids " << ids.describe()
                                 << " is outside [0, V) for V=" << vocab);
  }
}

template <class T>
void forward_typed(const Tensor& ids, const Tensor& table, const Tensor& out) {
  const int32_t* id = ids.data<int32_t>();
  const T* w = table.data<T>();
  T* o = out.data<T>();
  const int64_t n = ids.numel(), d = table.dim(1);
#pragma omp parallel for schedule(static) if (n * d > kParallelElements)
  for (int64_t i = 0; i < n; ++i) {
    const T* src = w + static_cast<int64_t>(id[i]) * d;
    T* dst = o + i * d;
#pragma omp simd
    for (int64_t j = 0; j < d; ++j)
      dst[j] = src[j];
  }
}

// Counting sort of positions by id, so each table row is owned by one thread
// and sums its positions in increasing order: no atomics, and the same bits for
// any thread count.
template <class T>
void backward_typed(const Tensor& ids, const Tensor& dout, const GradSlot& dtable) {
  const int32_t* id = ids.data<int32_t>();
  const T* g = dout.data<T>();
  T* dw = dtable.grad.data<T>();
  const int64_t n = ids.numel(), vocab = dtable.grad.dim(0), d = dtable.grad.dim(1);

  std::vector<int64_t> start(static_cast<size_t>(vocab) + 1, 0);
  for (int64_t i = 0; i < n; ++i)
    ++start[static_cast<size_t>(id[i]) + 1];
  for (int64_t v = 0; v < vocab; ++v)
    start[v + 1] += start[v];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(fill[id[i]]++)] = i;

  const bool accumulate = dtable.accumulate;
  // Dynamic schedule: frequent ids make row costs uneven; ownership of a row,
  // not the schedule, is what keeps the sums deterministic.
#pragma omp parallel for schedule(dynamic, 16) if ((n + vocab) * d > kParallelElements)
  for (int64_t v = 0; v < vocab; ++v) {
    T* row = dw + v * d;
    if (!accumulate) std::fill(row, row + d, T(0));
    for (int64_t k = start[v]; k < start[v + 1]; ++k) {
      const T* src = g + order[static_cast<size_t>(k)] * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        row[j] += src[j];
    }
  }
}

}  // namespace

void embedding_forward(const Tensor& ids, const Tensor& table, const Tensor& out) {
  check_ids(ids, table.dim(0));
  dispatch_float(table.dtype(), "embedding",
                 [&](auto zero) { forward_typed<decltype(zero)>(ids, table, out); });
}

void embedding_backward(const Tensor& ids, const Tensor& dout, const GradSlot& dtable) {
  dispatch_float(dtable.grad.dtype(), "embedding backward",
                 [&](auto zero) { backward_typed<decltype(zero)>(ids, dout, dtable); });
}

}  // namespace graft::cpu
