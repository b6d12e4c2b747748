// Element-wise add (suffix broadcast), scale and mul on the GPU.
//
// Everything is a grid-stride loop over elements with float arithmetic,
// except add's broadcast gradient: db[j] = Σ_r dout[r, j] is a column
// reduction, done in two fixed-order passes (per row-chunk partial sums in
// f32, then each column adds its chunks in order) so it is deterministic
// without atomics. The chunking depends only on the shape.
#include "ops/cuda/elementwise.h"
#include "ops/cuda/pointwise.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
// Partial sums per column: at most about this many row chunks, each of at
// least kMinChunkRows rows.
constexpr int64_t kMaxRowChunks = 1024;
constexpr int64_t kMinChunkRows = 32;

template <class T>
__global__ void add_forward_kernel(const T* a, const T* b, T* out, int64_t n, int64_t cols) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    out[i] = from_float<T>(to_float(a[i]) + to_float(b[i % cols]));
  }
}

// grad (+)= alpha * src; alpha 1 for add's pass-through gradient.
template <class T>
__global__ void scaled_grad_kernel(const T* src, float alpha, T* grad, int64_t n, bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    store_grad(grad, i, alpha * to_float(src[i]), accumulate);
  }
}

template <class T>
__global__ void scale_forward_kernel(const T* x, float alpha, T* out, int64_t n) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    out[i] = from_float<T>(alpha * to_float(x[i]));
  }
}

template <class T>
__global__ void mul_forward_kernel(const T* a, const T* b, T* out, int64_t n) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    out[i] = from_float<T>(to_float(a[i]) * to_float(b[i]));
  }
}

// grad (+)= dout * other.
template <class T>
__global__ void product_grad_kernel(const T* dout, const T* other, T* grad, int64_t n,
                                    bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    store_grad(grad, i, to_float(dout[i]) * to_float(other[i]), accumulate);
  }
}

// partial[chunk, j] = Σ dout[r, j] over the chunk's rows, in row order.
// grid.x covers columns, grid.y the row chunks.
template <class T>
__global__ void column_partial_kernel(const T* dout, int64_t rows, int64_t cols, int64_t chunk_rows,
                                      float* partial) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (j >= cols) return;
  const int64_t begin = blockIdx.y * chunk_rows;
  const int64_t end = begin + chunk_rows < rows ? begin + chunk_rows : rows;
  float sum = 0.0f;
  for (int64_t r = begin; r < end; ++r)
    sum += to_float(dout[r * cols + j]);
  partial[blockIdx.y * cols + j] = sum;
}

// db[j] (+)= Σ_chunk partial[chunk, j], chunks in order.
template <class T>
__global__ void column_total_kernel(const float* partial, int64_t chunks, int64_t cols, T* grad,
                                    bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(j, cols) {
    float sum = 0.0f;
    for (int64_t c = 0; c < chunks; ++c)
      sum += partial[c * cols + j];
    store_grad(grad, j, sum, accumulate);
  }
}

template <class T>
void column_sum(const T* dout, int64_t rows, int64_t cols, const GradSlot& db) {
  int64_t chunk_rows = (rows + kMaxRowChunks - 1) / kMaxRowChunks;
  if (chunk_rows < kMinChunkRows) chunk_rows = kMinChunkRows;
  const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;  // <= kMaxRowChunks
  Tensor partial = Tensor::empty({chunks, cols}, DType::f32, Device::cuda);
  const dim3 grid(static_cast<unsigned>((cols + kThreads - 1) / kThreads),
                  static_cast<unsigned>(chunks));
  column_partial_kernel<<<grid, kThreads, 0, stream()>>>(dout, rows, cols, chunk_rows,
                                                         partial.data<float>());
  GRAFT_CUDA_CHECK_LAUNCH();
  column_total_kernel<<<grid_for(cols, kThreads), kThreads, 0, stream()>>>(
      partial.data<float>(), chunks, cols, static_cast<T*>(db.grad.raw_data()), db.accumulate);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class T>
void write_scaled_grad(const Tensor& src, float alpha, const GradSlot& slot) {
  const int64_t n = src.numel();
  if (n == 0) return;
  scaled_grad_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
      static_cast<const T*>(src.raw_data()), alpha, static_cast<T*>(slot.grad.raw_data()), n,
      slot.accumulate);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class T>
void write_product_grad(const Tensor& dout, const Tensor& other, const GradSlot& slot) {
  const int64_t n = dout.numel();
  if (n == 0) return;
  product_grad_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
      static_cast<const T*>(dout.raw_data()), static_cast<const T*>(other.raw_data()),
      static_cast<T*>(slot.grad.raw_data()), n, slot.accumulate);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void add_forward(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = a.numel(), cols = b.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(a.dtype(), "add", [&] {
    if (n == 0 || cols == 0) return;
    add_forward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(a.raw_data()), static_cast<const scalar_t*>(b.raw_data()),
        static_cast<scalar_t*>(out.raw_data()), n, cols);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

void add_backward(const Tensor& dout, int64_t b_numel, const GradSlot* da, const GradSlot* db) {
  const int64_t n = dout.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(dout.dtype(), "add backward", [&] {
    if (da != nullptr) write_scaled_grad<scalar_t>(dout, 1.0f, *da);
    if (db == nullptr) return;
    if (b_numel == n) {
      write_scaled_grad<scalar_t>(dout, 1.0f, *db);
    } else if (b_numel > 0) {
      column_sum(static_cast<const scalar_t*>(dout.raw_data()), n / b_numel, b_numel, *db);
    }
  });
}

void scale_forward(const Tensor& x, double alpha, const Tensor& out) {
  const int64_t n = x.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "scale", [&] {
    if (n == 0) return;
    scale_forward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<float>(alpha),
        static_cast<scalar_t*>(out.raw_data()), n);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

void scale_backward(const Tensor& dout, double alpha, const GradSlot& dx) {
  GRAFT_CUDA_DISPATCH_FLOAT(dout.dtype(), "scale backward", [&] {
    write_scaled_grad<scalar_t>(dout, static_cast<float>(alpha), dx);
  });
}

void mul_forward(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = a.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(a.dtype(), "mul", [&] {
    if (n == 0) return;
    mul_forward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(a.raw_data()), static_cast<const scalar_t*>(b.raw_data()),
        static_cast<scalar_t*>(out.raw_data()), n);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

void mul_backward(const Tensor& a, const Tensor& b, const Tensor& dout, const GradSlot* da,
                  const GradSlot* db) {
  GRAFT_CUDA_DISPATCH_FLOAT(a.dtype(), "mul backward", [&] {
    if (da != nullptr) write_product_grad<scalar_t>(dout, b, *da);
    if (db != nullptr) write_product_grad<scalar_t>(dout, a, *db);
  });
}

}  // namespace graft::cuda
