// cuBLASLt handle, workspace and the per-geometry plan cache (ops/cuda/cublaslt.h).
//
// A plan is the matmul descriptor, the three matrix layouts and the
// heuristic's first algorithm for one key: dtype, transposes, sizes, leading
// dimensions, epilogue and the alignment of every pointer (cuBLASLt picks
// kernels by alignment, bias and aux pointers included, so a plan chosen for
// 256-byte-aligned buffers must not run on 2-byte-aligned ones). A refused
// configuration is cached too, so a fallback costs one query per shape.
//
// Host code only, so compiled by the C++ compiler: nvcc 13.0's front end
// crashes (internal error in find_allocated_name_reference) on
// std::vector<cublasLtMatmulHeuristicResult_t>.
#include <array>
#include <map>
#include <mutex>
#include <sstream>

#include "ops/cuda/cublaslt.h"

namespace graft::cuda {

void fail_cublas(cublasStatus_t status, const char* expression, const char* file, int line) {
  std::ostringstream message;
  message << "cuBLASLt error " << cublasLtGetStatusName(status) << " ("
          << cublasLtGetStatusString(status) << ") from " << expression << " at " << file << ":"
          << line;
  throw Error(message.str());
}

cublasLtHandle_t cublaslt_handle() {
  // Never destroyed: tearing it down at exit could run after the CUDA
  // context is gone.
  static cublasLtHandle_t handle = [] {
    GRAFT_CHECK(available(), unavailable_reason());
    cublasLtHandle_t h = nullptr;
    GRAFT_CUBLAS_CHECK(cublasLtCreate(&h));
    return h;
  }();
  return handle;
}

void* cublaslt_workspace() {
  static void* workspace = allocate(kCublasLtWorkspaceBytes);
  return workspace;
}

namespace {

// Largest power of two (at most 256) dividing the address.
uint32_t alignment_of(const void* pointer) {
  const auto address = reinterpret_cast<uintptr_t>(pointer);
  if (address == 0) return 256;
  uint32_t alignment = 1;
  while (alignment < 256 && address % (uintptr_t{alignment} * 2) == 0)
    alignment *= 2;
  return alignment;
}

// An epilogue configuration cuBLASLt rejects as unsupported (or, for the
// fused epilogues, as an invalid combination) is a refusal the caller falls
// back from; anything else is an error.
bool is_refusal(cublasStatus_t status, const LtGemm& g) {
  return status == CUBLAS_STATUS_NOT_SUPPORTED ||
         (status == CUBLAS_STATUS_INVALID_VALUE && g.epilogue != CUBLASLT_EPILOGUE_DEFAULT);
}

// The descriptor and layouts of one GEMM; bias and aux pointers are set per
// call (set_pointers), everything else once.
struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;

  explicit Descriptors(const LtGemm& g) {
    GRAFT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t trans_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t trans_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    GRAFT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof(trans_a)));
    GRAFT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof(trans_b)));
    const cublasLtEpilogue_t epilogue = g.epilogue;
    GRAFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                      sizeof(epilogue)));
    if (g.aux != nullptr) {
      const int64_t aux_ld = g.aux_ld;
      GRAFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD,
                                                        &aux_ld, sizeof(aux_ld)));
    }
    // Stored shapes: op(A) is m x k, so A is stored k x m when transposed.
    GRAFT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a, g.type, g.trans_a ? g.k : g.m,
                                                  g.trans_a ? g.m : g.k, g.lda));
    GRAFT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&b, g.type, g.trans_b ? g.n : g.k,
                                                  g.trans_b ? g.k : g.n, g.ldb));
    GRAFT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d, g.type, g.m, g.n, g.ldd));
  }
  ~Descriptors() {
    // Statuses ignored: a destructor must not throw, and nothing is left to do.
    if (d != nullptr) cublasLtMatrixLayoutDestroy(d);
    if (b != nullptr) cublasLtMatrixLayoutDestroy(b);
    if (a != nullptr) cublasLtMatrixLayoutDestroy(a);
    if (op != nullptr) cublasLtMatmulDescDestroy(op);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  void set_pointers(const LtGemm& g) const {
    if (g.bias != nullptr) {
      void* bias = g.bias;
      GRAFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                        &bias, sizeof(bias)));
    }
    if (g.aux != nullptr) {
      void* aux = g.aux;
      GRAFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
          op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof(aux)));
    }
  }

  // Heuristic results (best first) for the pointers last set; empty when
  // cuBLASLt refuses the configuration.
  std::vector<cublasLtMatmulHeuristicResult_t> heuristics(const LtGemm& g, int count) const {
    cublasLtMatmulPreference_t preference = nullptr;
    GRAFT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
    std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<size_t>(count));
    int returned = 0;
    cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
    try {
      const uint64_t workspace = kCublasLtWorkspaceBytes;
      GRAFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)));
      const uint32_t align_a = alignment_of(g.a), align_b = alignment_of(g.b);
      const uint32_t align_d = alignment_of(g.d);
      GRAFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a, sizeof(align_a)));
      GRAFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b, sizeof(align_b)));
      GRAFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_d, sizeof(align_d)));
      GRAFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_d, sizeof(align_d)));
      status = cublasLtMatmulAlgoGetHeuristic(cublaslt_handle(), op, a, b, d, d, preference, count,
                                              results.data(), &returned);
    } catch (...) {
      cublasLtMatmulPreferenceDestroy(preference);
      throw;
    }
    cublasLtMatmulPreferenceDestroy(preference);
    if (is_refusal(status, g)) return {};
    if (status != CUBLAS_STATUS_SUCCESS) {
      fail_cublas(status, "cublasLtMatmulAlgoGetHeuristic", __FILE__, __LINE__);
    }
    std::vector<cublasLtMatmulHeuristicResult_t> usable;
    for (int i = 0; i < returned; ++i) {
      const cublasLtMatmulHeuristicResult_t& r = results[static_cast<size_t>(i)];
      if (r.state == CUBLAS_STATUS_SUCCESS && r.workspaceSize <= kCublasLtWorkspaceBytes) {
        usable.push_back(r);
      }
    }
    return usable;
  }

  // Runs with algo; false when cuBLASLt refuses (nothing ran).
  bool run(const LtGemm& g, const cublasLtMatmulAlgo_t& algo) const {
    const cublasStatus_t status =
        cublasLtMatmul(cublaslt_handle(), op, &g.alpha, g.a, a, g.b, b, &g.beta, g.d, d, g.d, d,
                       &algo, cublaslt_workspace(), kCublasLtWorkspaceBytes, stream());
    if (status == CUBLAS_STATUS_SUCCESS) return true;
    if (is_refusal(status, g)) return false;
    fail_cublas(status, "cublasLtMatmul", __FILE__, __LINE__);
  }
};

// Everything a plan depends on, pointers by their alignment only.
using PlanKey = std::array<int64_t, 18>;

PlanKey key_of(const LtGemm& g) {
  return PlanKey{static_cast<int64_t>(g.type),
                 g.trans_a,
                 g.trans_b,
                 g.m,
                 g.n,
                 g.k,
                 g.lda,
                 g.ldb,
                 g.ldd,
                 g.aux != nullptr ? g.aux_ld : 0,
                 static_cast<int64_t>(g.epilogue),
                 g.bias != nullptr,
                 g.aux != nullptr,
                 alignment_of(g.a),
                 alignment_of(g.b),
                 alignment_of(g.d),
                 alignment_of(g.bias),
                 alignment_of(g.aux)};
}

struct Plan {
  explicit Plan(const LtGemm& g) : descriptors(g) {}
  Descriptors descriptors;
  cublasLtMatmulAlgo_t algo{};
  bool supported = false;
};

// A training step uses a few dozen geometries; past this many (shapes that
// keep changing) the cache starts over rather than grow without bound.
constexpr size_t kMaxPlans = 512;

std::mutex& plan_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The plan for g (built and queried on first sight); plan_mutex held.
Plan& plan_for(const LtGemm& g) {
  static std::map<PlanKey, std::unique_ptr<Plan>> plans;
  const PlanKey key = key_of(g);
  auto found = plans.find(key);
  if (found != plans.end()) return *found->second;
  if (plans.size() >= kMaxPlans) plans.clear();
  auto plan = std::make_unique<Plan>(g);
  plan->descriptors.set_pointers(g);
  const std::vector<cublasLtMatmulHeuristicResult_t> results = plan->descriptors.heuristics(g, 1);
  if (!results.empty()) {
    plan->algo = results.front().algo;
    plan->supported = true;
  }
  return *plans.emplace(key, std::move(plan)).first->second;
}

void check_geometry(const LtGemm& g) {
  GRAFT_CHECK(g.type == CUDA_R_32F || g.type == CUDA_R_16BF,
              "cuBLASLt GEMM: only f32 and bf16 are supported");
  GRAFT_CHECK(g.m > 0 && g.n > 0 && g.k > 0,
              "cuBLASLt GEMM: empty sizes must be handled by the caller, got m="
                  << g.m << " n=" << g.n << " k=" << g.k);
}

}  // namespace

bool lt_gemm_supported(const LtGemm& g) {
  check_geometry(g);
  std::lock_guard<std::mutex> lock(plan_mutex());
  return plan_for(g).supported;
}

bool try_lt_gemm(const LtGemm& g) {
  check_geometry(g);
  std::lock_guard<std::mutex> lock(plan_mutex());
  Plan& plan = plan_for(g);
  if (!plan.supported) return false;
  plan.descriptors.set_pointers(g);
  if (plan.descriptors.run(g, plan.algo)) return true;
  plan.supported = false;  // refused at run time: remember, fall back from now on
  return false;
}

void lt_gemm(const LtGemm& g) {
  GRAFT_CHECK(try_lt_gemm(g), "cuBLASLt has no algorithm for a plain GEMM m="
                                  << g.m << " n=" << g.n << " k=" << g.k << " lda=" << g.lda
                                  << " ldb=" << g.ldb << " ldd=" << g.ldd);
}

struct LtGemmRunner::Impl {
  explicit Impl(const LtGemm& g) : gemm(g), descriptors(g) { descriptors.set_pointers(g); }
  LtGemm gemm;
  Descriptors descriptors;
};

LtGemmRunner::LtGemmRunner(const LtGemm& g) {
  check_geometry(g);
  impl_ = std::make_unique<Impl>(g);
}

LtGemmRunner::~LtGemmRunner() = default;

std::vector<cublasLtMatmulHeuristicResult_t> LtGemmRunner::candidates(int count) const {
  return impl_->descriptors.heuristics(impl_->gemm, count);
}

void LtGemmRunner::run(const cublasLtMatmulAlgo_t& algo) const {
  GRAFT_CHECK(impl_->descriptors.run(impl_->gemm, algo), "cuBLASLt refused a benchmark GEMM");
}

}  // namespace graft::cuda
