// embedding on the GPU.
//
// Forward: blocks stride over positions, threads over a row's columns
// (coalesced reads of the table row and writes of the output row). Each block
// also checks its ids; a bad id writes nothing and lowers a device flag to its
// position (atomicMin: the first bad position whatever the order), read back
// after the kernel to throw the CPU's error.
//
// Backward, deterministic without float atomics: the ids (N ints, small next
// to the N x D gradient) are copied to the host and counting-sorted into
// per-id position lists (CSR, positions increasing); one block per distinct id
// then sums its dout rows in position order, in float, and adds the result to
// that table row once. The cost is one host synchronisation per backward and
// an upload of N + 2K ints (K distinct ids); it keeps the CPU's summation
// order and needs no device sort.
#include <climits>
#include <vector>

#include "ops/cuda/embedding.h"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

int threads_for_columns(int64_t d) {
  int64_t threads = (d + 31) / 32 * 32;
  if (threads > 256) threads = 256;
  return static_cast<int>(threads);
}

template <class T>
__global__ void gather_kernel(const int32_t* __restrict__ ids, const T* __restrict__ table,
                              int64_t n, int64_t vocab, int64_t d, T* __restrict__ out,
                              unsigned long long* __restrict__ first_bad) {
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const int32_t id = ids[i];
    if (id < 0 || id >= vocab) {
      if (threadIdx.x == 0) atomicMin(first_bad, static_cast<unsigned long long>(i));
      continue;
    }
    const T* src = table + static_cast<int64_t>(id) * d;
    T* dst = out + i * d;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x)
      dst[j] = src[j];
  }
}

// Block b owns table row unique_ids[b] and adds Σ dout[positions[k]] over
// k in [offsets[b], offsets[b + 1]), in that order.
template <class T>
__global__ void scatter_rows_kernel(const int32_t* __restrict__ unique_ids,
                                    const int32_t* __restrict__ offsets,
                                    const int32_t* __restrict__ positions,
                                    const T* __restrict__ dout, int64_t d, T* __restrict__ grad) {
  const int32_t id = unique_ids[blockIdx.x];
  const int32_t begin = offsets[blockIdx.x], end = offsets[blockIdx.x + 1];
  T* row = grad + static_cast<int64_t>(id) * d;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    float total = 0.0f;
    for (int32_t k = begin; k < end; ++k)
      total += to_float(dout[static_cast<int64_t>(positions[k]) * d + j]);
    row[j] = from_float<T>(to_float(row[j]) + total);
  }
}

// "[i, j, ...]" of a flat index into shape.
std::string position_in(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  return shape_string(index);
}

}  // namespace

void embedding_forward(const Tensor& ids, const Tensor& table, const Tensor& out) {
  const int64_t n = ids.numel(), vocab = table.dim(0), d = table.dim(1);
  GRAFT_CUDA_DISPATCH_FLOAT(table.dtype(), "embedding", [&] {
    if (n == 0) return;
    Tensor flag = Tensor::empty({1}, DType::f64, Device::cuda);  // 8 bytes
    auto* first_bad = static_cast<unsigned long long*>(flag.raw_data());
    const unsigned long long none = ULLONG_MAX;
    copy_bytes(first_bad, &none, sizeof(none));
    const int64_t max_blocks = int64_t{multiprocessor_count()} * 32;
    const unsigned blocks = static_cast<unsigned>(n < max_blocks ? n : max_blocks);
    gather_kernel<scalar_t><<<blocks, threads_for_columns(d), 0, stream()>>>(
        ids.data<int32_t>(), static_cast<const scalar_t*>(table.raw_data()), n, vocab, d,
        static_cast<scalar_t*>(out.raw_data()), first_bad);
    GRAFT_CUDA_CHECK_LAUNCH();
    unsigned long long bad = none;
    copy_bytes(&bad, first_bad, sizeof(bad));
    if (bad == none) return;
    const int64_t position = static_cast<int64_t>(bad);
    int32_t id = 0;
    copy_bytes(&id, ids.data<int32_t>() + position, sizeof(id));
    GRAFT_CHECK(false, "embedding: id " << id << " at position "
                                        << position_in(ids.shape(), position) << " of ids "
                                        << ids.describe() << " is outside [0, V) for V=" << vocab);
  });
}

void embedding_backward(const Tensor& ids, const Tensor& dout, const GradSlot& dtable) {
  const int64_t n = ids.numel(), vocab = dtable.grad.dim(0), d = dtable.grad.dim(1);
  GRAFT_CHECK(n < INT_MAX, "embedding backward: " << n << " ids are too many for the CUDA kernel");
  GRAFT_CUDA_DISPATCH_FLOAT(dtable.grad.dtype(), "embedding backward", [&] {
    if (!dtable.accumulate) zero_bytes(dtable.grad.raw_data(), dtable.grad.bytes());
    if (n == 0) return;
    const std::vector<int32_t> id = ids.to_vector<int32_t>();
    // Counting sort by id; positions stay increasing within an id.
    std::vector<int32_t> start(static_cast<size_t>(vocab) + 1, 0);
    for (int32_t v : id) {
      GRAFT_CHECK(v >= 0 && v < vocab,
                  "embedding backward: id " << v << " is outside [0, V) for V=" << vocab);
      ++start[static_cast<size_t>(v) + 1];
    }
    std::vector<int32_t> unique_ids;
    for (int64_t v = 0; v < vocab; ++v) {
      if (start[static_cast<size_t>(v) + 1] > 0) unique_ids.push_back(static_cast<int32_t>(v));
      start[static_cast<size_t>(v) + 1] += start[static_cast<size_t>(v)];
    }
    const size_t k = unique_ids.size();
    // One upload: [unique ids (k) | offsets (k + 1) | positions (n)].
    std::vector<int32_t> csr(2 * k + 1 + static_cast<size_t>(n));
    std::vector<int32_t> next(start.begin(), start.end() - 1);
    for (size_t u = 0; u < k; ++u) {
      csr[u] = unique_ids[u];
      csr[k + u] = start[static_cast<size_t>(unique_ids[u])];
    }
    csr[2 * k] = static_cast<int32_t>(n);
    int32_t* positions = csr.data() + 2 * k + 1;
    for (int64_t i = 0; i < n; ++i)
      positions[next[static_cast<size_t>(id[static_cast<size_t>(i)])]++] = static_cast<int32_t>(i);
    Tensor device_csr =
        Tensor::from_vector(csr, {static_cast<int64_t>(csr.size())}).to(Device::cuda);
    const int32_t* base = device_csr.data<int32_t>();
    scatter_rows_kernel<scalar_t>
        <<<static_cast<unsigned>(k), threads_for_columns(d), 0, stream()>>>(
            base, base + k, base + 2 * k + 1, static_cast<const scalar_t*>(dout.raw_data()), d,
            static_cast<scalar_t*>(dtable.grad.raw_data()));
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace graft::cuda
