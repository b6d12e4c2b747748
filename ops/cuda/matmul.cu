// CUDA matmul (ops/cuda/matmul.h): every GEMM is a cuBLASLt call
// (ops/cuda/cublaslt.h); the kernels here are the fallbacks and the parts no
// GEMM epilogue can do.
//
// Row-major GEMMs run as column-major ones with the operands swapped: a
// row-major C[rows, cols] is a column-major C^T[cols, rows], and
// C^T = op(Q)^T op(P)^T, so the row-major bias over columns is cuBLASLt's
// bias over the rows of D.
//
// Forward: the bias and GELU are fused as cuBLASLt epilogues (BIAS,
// GELU_BIAS, and GELU_AUX_BIAS writing the pre-activation as the aux matrix
// when backward needs it). GELU is fused only in bf16: f32 is the mode that
// checks against the CPU at 1e-5, and cuBLASLt's GELU may use a fast tanh, so
// f32 runs the BIAS epilogue and GELU in bias_gelu_kernel with tanhf
// (kFuseGeluInF32). When cuBLASLt refuses the full epilogue (the aux leading
// dimension must be a multiple of 8; no algorithm for the layout), the GEMM
// runs with the BIAS epilogue alone, or plain if that is refused too, and
// bias_gelu_kernel does what is left (GELU, the bias).
//
// Backward: dpre = dout * gelu'(pre) has no GEMM to ride on (DGELU applies
// gelu' to a GEMM's output, and dout is this op's input: it would fuse into
// the next layer's dA GEMM), so grad_columns_kernel computes it. The bias
// gradient (dpre summed over rows) is fused into the weight-gradient GEMM,
// where dpre is an operand with the rows as its reduction dimension: BGRADB
// when b is transposed (linear), BGRADA otherwise. When that GEMM does not
// run (frozen weight) or is refused, grad_columns_kernel writes per-chunk
// column sums and sum_chunks_kernel adds them in a fixed order: no atomics,
// so the result is the same bit for bit on every run.
#include "ops/cuda/cublaslt.h"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/matmul.h"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
// grad_columns_kernel's block: 32 columns (one warp reads 32 consecutive
// elements of a row) by 8 row lanes.
constexpr int kColumnTile = 32;
constexpr int kRowLanes = 8;
// Rows summed by one block; at most kMaxChunks chunks so grid.y stays far
// below its 65535 limit. Depends on the row count only, so the order of the
// sums, and so the rounding, is fixed for a shape.
constexpr int64_t kRowsPerChunk = 256;
constexpr int64_t kMaxChunks = 4096;
// cuBLASLt's GELU epilogue in f32 (see the header comment); off until it is
// measured within the f32 tolerance against the CPU on a GPU.
constexpr bool kFuseGeluInF32 = false;

// GELU, tanh form, as ops/cpu/gelu_math.h (tanhf here: accurate to a few ulp,
// where the CPU's tanh_fast is within 1e-7 absolute).
__device__ __forceinline__ float gelu_value(float x) {
  const float c = 0.7978845608028654f;
  return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}

__device__ __forceinline__ float gelu_derivative(float x) {
  const float c = 0.7978845608028654f;
  const float x2 = x * x;
  const float t = tanhf(c * (x + 0.044715f * x2 * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * c * (1.0f + 3.0f * 0.044715f * x2);
}

// v = src + bias[col]; pre = v (when kept); out = gelu(v) or v. src may be
// pre or out itself (each element is read before it is written).
template <class T>
__global__ void bias_gelu_kernel(const T* src, const T* bias, T* pre, T* out, int64_t rows,
                                 int64_t cols, bool gelu) {
  const int64_t n = rows * cols;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    float v = to_float(src[i]);
    if (bias != nullptr) v += to_float(bias[i % cols]);
    if (pre != nullptr) {
      const T stored = from_float<T>(v);
      pre[i] = stored;
      v = to_float(stored);  // out from the kept value, as the CPU does
    }
    out[i] = from_float<T>(gelu ? gelu_value(v) : v);
  }
}

// Over a [rows, cols] gradient g = dout (or dout * gelu'(pre) when pre is
// given, stored to dpre): block (x, y) takes 32 columns and rows
// [y * rows_per_chunk, (y + 1) * rows_per_chunk) and, when partial is given,
// writes their column sums to partial[y, col]. Sums run over the values as
// stored, the same ones the GEMMs read.
template <class T>
__global__ void grad_columns_kernel(const T* dout, const T* pre, T* dpre, float* partial,
                                    int64_t rows, int64_t cols, int64_t rows_per_chunk) {
  __shared__ float lane_sums[kRowLanes][kColumnTile + 1];
  const int64_t col = blockIdx.x * int64_t{kColumnTile} + threadIdx.x;
  const int64_t row_begin = blockIdx.y * rows_per_chunk;
  const int64_t row_end = row_begin + rows_per_chunk < rows ? row_begin + rows_per_chunk : rows;
  float sum = 0.0f;
  if (col < cols) {
    for (int64_t r = row_begin + threadIdx.y; r < row_end; r += kRowLanes) {
      const int64_t i = r * cols + col;
      float g = to_float(dout[i]);
      if (pre != nullptr) {
        const T stored = from_float<T>(g * gelu_derivative(to_float(pre[i])));
        dpre[i] = stored;
        g = to_float(stored);
      }
      sum += g;
    }
  }
  if (partial == nullptr) return;  // uniform over the block: no barrier is skipped by some
  lane_sums[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    float total = 0.0f;
    for (int lane = 0; lane < kRowLanes; ++lane)
      total += lane_sums[lane][threadIdx.x];
    partial[blockIdx.y * cols + col] = total;
  }
}

// out[col] = (accumulate ? out[col] : 0) + sum over chunks of partial[chunk, col],
// chunks in order.
template <class T, class P>
__global__ void sum_chunks_kernel(const P* partial, int64_t chunks, int64_t cols, T* out,
                                  bool accumulate) {
  for (int64_t col = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; col < cols;
       col += int64_t{gridDim.x} * blockDim.x) {
    float total = 0.0f;
    for (int64_t c = 0; c < chunks; ++c)
      total += to_float(partial[c * cols + col]);
    out[col] = from_float<T>(accumulate ? to_float(out[col]) + total : total);
  }
}

cudaDataType_t lt_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return CUDA_R_32F;
    case DType::bf16:
      return CUDA_R_16BF;
    default:
      throw Error(std::string("matmul: CUDA kernels take f32 or bf16, not ") + dtype_name(dtype));
  }
}

// Row-major C[rows, cols] = op(P) op(Q) + beta C, as ops/cpu/blas.h's gemm;
// ldp, ldq, ldc are the row-major leading dimensions of the stored matrices.
struct RowMajorGemm {
  cudaDataType_t type;
  bool trans_p, trans_q;
  int64_t rows, cols, inner;
  const void* p;
  int64_t ldp;
  const void* q;
  int64_t ldq;
  void* c;
  int64_t ldc;
  float beta;
};

// The same GEMM for cuBLASLt: C^T[cols, rows] = op(Q)^T op(P)^T, a stored
// row-major matrix being its column-major transpose with the same ld.
LtGemm column_major(const RowMajorGemm& g) {
  LtGemm lt;
  lt.type = g.type;
  lt.trans_a = g.trans_q;
  lt.trans_b = g.trans_p;
  lt.m = g.cols;
  lt.n = g.rows;
  lt.k = g.inner;
  lt.a = g.q;
  lt.lda = g.ldq;
  lt.b = g.p;
  lt.ldb = g.ldp;
  lt.d = g.c;
  lt.ldd = g.ldc;
  lt.beta = g.beta;
  return lt;
}

int64_t chunk_rows(int64_t rows) {
  const int64_t spread = (rows + kMaxChunks - 1) / kMaxChunks;
  return spread > kRowsPerChunk ? spread : kRowsPerChunk;
}

// dpre = dout * gelu'(pre) when pre is defined; column sums of the gradient
// added to (or written over) dbias when dbias is defined.
void gradient_columns(const Tensor& dout, const Tensor& pre, const Tensor& dpre, int64_t rows,
                      int64_t cols, const Tensor& dbias, bool accumulate) {
  if (rows == 0 || cols == 0) return;
  const int64_t rows_per_chunk = chunk_rows(rows);
  const int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  Tensor partial =
      dbias.defined() ? Tensor::empty({chunks, cols}, DType::f32, Device::cuda) : Tensor();
  const dim3 block(kColumnTile, kRowLanes);
  const dim3 grid(static_cast<unsigned>((cols + kColumnTile - 1) / kColumnTile),
                  static_cast<unsigned>(chunks));
  GRAFT_CUDA_DISPATCH_FLOAT(dout.dtype(), "matmul backward", [&] {
    grad_columns_kernel<<<grid, block, 0, stream()>>>(
        static_cast<const scalar_t*>(dout.raw_data()),
        pre.defined() ? static_cast<const scalar_t*>(pre.raw_data()) : nullptr,
        pre.defined() ? static_cast<scalar_t*>(dpre.raw_data()) : nullptr,
        partial.defined() ? partial.data<float>() : nullptr, rows, cols, rows_per_chunk);
    GRAFT_CUDA_CHECK_LAUNCH();
    if (dbias.defined()) {
      sum_chunks_kernel<<<grid_for(cols, kThreads), kThreads, 0, stream()>>>(
          partial.data<float>(), chunks, cols, static_cast<scalar_t*>(dbias.raw_data()),
          accumulate);
      GRAFT_CUDA_CHECK_LAUNCH();
    }
  });
}

// dbias += addend (both [cols], the gradient's dtype).
void add_vector(const Tensor& dbias, const Tensor& addend) {
  const int64_t cols = dbias.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(dbias.dtype(), "matmul backward", [&] {
    sum_chunks_kernel<<<grid_for(cols, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(addend.raw_data()), int64_t{1}, cols,
        static_cast<scalar_t*>(dbias.raw_data()), true);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
}

void zero_unless_accumulating(const GradSlot* slot) {
  if (slot != nullptr && !slot->accumulate) zero_bytes(slot->grad.raw_data(), slot->grad.bytes());
}

}  // namespace

void matmul_forward(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& bias,
                    bool gelu, const Tensor& pre, const Tensor& out) {
  const cudaDataType_t type = lt_type(a.dtype());
  const int64_t m = s.m, n = s.n, k = s.k;
  if (m == 0 || n == 0) return;
  const Tensor& gemm_out = pre.defined() ? pre : out;
  const bool has_bias = bias.defined();

  bool all_fused = false;   // the GEMM's epilogue did bias and GELU
  bool bias_fused = false;  // it added the bias; GELU is left to the kernel
  if (k == 0) {
    zero_bytes(gemm_out.raw_data(), gemm_out.bytes());  // an empty sum; the epilogue follows
  } else {
    LtGemm lt = column_major({type, s.transpose_a, s.transpose_b, m, n, k, a.raw_data(),
                              s.transpose_a ? m : k, b.raw_data(), s.transpose_b ? k : n,
                              out.raw_data(), n, 0.0f});
    if (has_bias || gelu) {
      LtGemm fused = lt;
      fused.bias = has_bias ? bias.raw_data() : nullptr;
      bool try_fused = true;
      if (gelu && type == CUDA_R_32F && !kFuseGeluInF32) {
        try_fused = false;
      } else if (gelu && pre.defined()) {
        // The aux matrix is pre: column-major [n, m], leading dimension n.
        try_fused = n % 8 == 0;
        fused.epilogue = has_bias ? CUBLASLT_EPILOGUE_GELU_AUX_BIAS : CUBLASLT_EPILOGUE_GELU_AUX;
        fused.aux = pre.raw_data();
        fused.aux_ld = n;
      } else if (gelu) {
        fused.epilogue = has_bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
      } else {
        fused.epilogue = CUBLASLT_EPILOGUE_BIAS;
      }
      all_fused = try_fused && try_lt_gemm(fused);
    }
    if (!all_fused) {
      lt.d = gemm_out.raw_data();
      if (has_bias) {
        LtGemm biased = lt;
        biased.epilogue = CUBLASLT_EPILOGUE_BIAS;
        biased.bias = bias.raw_data();
        bias_fused = try_lt_gemm(biased);
      }
      if (!bias_fused) lt_gemm(lt);
    }
  }
  const bool bias_left = has_bias && !bias_fused;
  if (all_fused || (!gelu && !bias_left)) return;
  GRAFT_CUDA_DISPATCH_FLOAT(a.dtype(), "matmul", [&] {
    bias_gelu_kernel<<<grid_for(m * n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(gemm_out.raw_data()),
        bias_left ? static_cast<const scalar_t*>(bias.raw_data()) : nullptr,
        pre.defined() ? static_cast<scalar_t*>(pre.raw_data()) : nullptr,
        static_cast<scalar_t*>(out.raw_data()), m, n, gelu);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
}

void matmul_backward(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& pre,
                     const Tensor& dout, bool gelu, const GradSlot* da, const GradSlot* db,
                     const GradSlot* dbias) {
  const cudaDataType_t type = lt_type(a.dtype());
  GRAFT_CHECK(
      dout.device() == Device::cuda && dout.dtype() == a.dtype(),
      "matmul backward: the output gradient " << dout.describe() << " must match " << a.describe());
  const int64_t m = s.m, n = s.n, k = s.k;
  if (m == 0 || n == 0) {
    // Every gradient is an empty sum.
    zero_unless_accumulating(da);
    zero_unless_accumulating(db);
    zero_unless_accumulating(dbias);
    return;
  }
  const int64_t lda = s.transpose_a ? m : k;
  const int64_t ldb = s.transpose_b ? k : n;
  const bool want_db = db != nullptr && k > 0;

  // The weight-gradient GEMM, in ops/cpu/matmul.cpp's form; dpre's pointer
  // is filled in below. dpre is its Q (cuBLASLt's A: BGRADA) without
  // transpose_b, its P (cuBLASLt's B: BGRADB) with it.
  RowMajorGemm db_gemm{};
  if (want_db) {
    const float beta = db->accumulate ? 1.0f : 0.0f;
    if (!s.transpose_b) {
      // dB[k,n] = op(A)^T @ dpre
      db_gemm = {type, !s.transpose_a,      false, k,   n, m, a.raw_data(), lda, nullptr,
                 n,    db->grad.raw_data(), n,     beta};
    } else {
      // B is [n,k]: dB = dpre^T @ op(A)
      db_gemm = {type,         true, s.transpose_a,       n, k,   m, nullptr, n,
                 a.raw_data(), lda,  db->grad.raw_data(), k, beta};
    }
  }
  const void** db_dpre = !want_db ? nullptr : (s.transpose_b ? &db_gemm.p : &db_gemm.q);

  Tensor dpre = dout;
  if (gelu) dpre = Tensor::empty(dout.shape(), dout.dtype(), Device::cuda);
  if (want_db) *db_dpre = dpre.raw_data();

  // The bias gradient rides on the weight-gradient GEMM when cuBLASLt takes
  // it; an accumulating one is written to a scratch vector and added.
  LtGemm db_fused;
  Tensor bias_scratch;
  bool fuse_bias = false;
  if (want_db && dbias != nullptr) {
    bias_scratch =
        dbias->accumulate ? Tensor::empty({n}, dbias->grad.dtype(), Device::cuda) : dbias->grad;
    db_fused = column_major(db_gemm);
    db_fused.epilogue = s.transpose_b ? CUBLASLT_EPILOGUE_BGRADB : CUBLASLT_EPILOGUE_BGRADA;
    db_fused.bias = bias_scratch.raw_data();
    fuse_bias = lt_gemm_supported(db_fused);
  }

  const Tensor dbias_by_kernel = (dbias != nullptr && !fuse_bias) ? dbias->grad : Tensor();
  if (gelu || dbias_by_kernel.defined()) {
    gradient_columns(dout, gelu ? pre : Tensor(), dpre, m, n, dbias_by_kernel,
                     dbias != nullptr && dbias->accumulate);
  }

  if (da != nullptr && k > 0) {
    const float beta = da->accumulate ? 1.0f : 0.0f;
    if (!s.transpose_a) {
      // dA[m,k] = dpre[m,n] @ op(B)^T
      lt_gemm(column_major({type, false, !s.transpose_b, m, k, n, dpre.raw_data(), n, b.raw_data(),
                            ldb, da->grad.raw_data(), k, beta}));
    } else {
      // A is [k,m]: dA = op(B) @ dpre^T
      lt_gemm(column_major({type, s.transpose_b, true, k, m, n, b.raw_data(), ldb, dpre.raw_data(),
                            n, da->grad.raw_data(), m, beta}));
    }
  }

  if (want_db) {
    if (fuse_bias && try_lt_gemm(db_fused)) {
      if (dbias->accumulate) add_vector(dbias->grad, bias_scratch);
    } else {
      lt_gemm(column_major(db_gemm));
      if (fuse_bias) {  // refused at run time after all: sum the columns here
        gradient_columns(dpre, Tensor(), Tensor(), m, n, dbias->grad, dbias->accumulate);
      }
    }
  }
}

}  // namespace graft::cuda
