// cuBLASLt for the backend's GEMMs: one handle and one 32 MiB workspace for
// the process, and a small cache of matmul descriptors with the heuristic's
// algorithm per GEMM geometry, so a training step's repeated shapes pay the
// descriptor set-up and heuristic query once.
//
// Everything here is column-major, as cuBLASLt is; ops/cuda/matmul.cu maps
// graft's row-major GEMMs onto it by swapping operands (C^T = B^T A^T).
// CUDA-typed: included by the backend's sources and benchmarks only.
#pragma once

#include <cublasLt.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/cuda/runtime.h"

namespace graft::cuda {

[[noreturn]] void fail_cublas(cublasStatus_t status, const char* expression, const char* file,
                              int line);

// Every cuBLASLt call goes through this: an error becomes a graft::Error
// naming the call, the status (cublasLtGetStatusName) and the location.
#define GRAFT_CUBLAS_CHECK(expression)                                                   \
  do {                                                                                   \
    cublasStatus_t graft_cublas_status_ = (expression);                                  \
    if (graft_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                   \
      ::graft::cuda::fail_cublas(graft_cublas_status_, #expression, __FILE__, __LINE__); \
  } while (0)

cublasLtHandle_t cublaslt_handle();  // created on first use, kept for the process
constexpr size_t kCublasLtWorkspaceBytes = size_t{32} << 20;
void* cublaslt_workspace();  // kCublasLtWorkspaceBytes from graft::cuda::allocate, kept

// D[m, n] = alpha * op(A) op(B) + beta * D, then the epilogue; column-major.
// A is stored [m, k] (or [k, m] when trans_a) with leading dimension lda, B
// [k, n] (or [n, k] when trans_b). C is D itself (beta = 1 accumulates).
// f32 (CUDA_R_32F) computes in CUBLAS_COMPUTE_32F, never TF32; bf16
// (CUDA_R_16BF) stores A, B, D, bias and aux in bf16 and computes in f32.
struct LtGemm {
  cudaDataType_t type = CUDA_R_32F;
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int64_t lda = 0;
  const void* b = nullptr;
  int64_t ldb = 0;
  void* d = nullptr;
  int64_t ldd = 0;
  float alpha = 1.0f, beta = 0.0f;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  void* bias = nullptr;  // bias [m] (input), or the bias gradient (output) of BGRAD epilogues
  void* aux = nullptr;   // GELU pre-activation [m, n] with leading dimension aux_ld
  int64_t aux_ld = 0;
};

// Whether cuBLASLt has an algorithm for this GEMM (epilogue, layouts and
// pointer alignments included); the answer is cached with the algorithm.
bool lt_gemm_supported(const LtGemm& g);
// Runs g on the compute stream with the cached algorithm. Returns false,
// having run nothing, when cuBLASLt refuses it (no heuristic result, or
// NOT_SUPPORTED / INVALID_VALUE for an epilogue): the caller falls back.
bool try_lt_gemm(const LtGemm& g);
// try_lt_gemm for a GEMM that must run (plain epilogue): a refusal throws.
void lt_gemm(const LtGemm& g);

// A GEMM with its descriptors built once, for benchmarks that time cuBLASLt's
// heuristic candidates against each other (bypasses the cache). The pointers
// in g must stay valid while the runner is used.
class LtGemmRunner {
 public:
  explicit LtGemmRunner(const LtGemm& g);
  ~LtGemmRunner();
  LtGemmRunner(const LtGemmRunner&) = delete;
  LtGemmRunner& operator=(const LtGemmRunner&) = delete;
  // Up to `count` heuristic results, best first.
  std::vector<cublasLtMatmulHeuristicResult_t> candidates(int count) const;
  void run(const cublasLtMatmulAlgo_t& algo) const;  // on the compute stream

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace graft::cuda
