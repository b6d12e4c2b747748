// FlopsLedger: what the kernels really executed, forward and backward apart.
//
// Every kernel adds its own count when it runs: a GEMM 2*M*N*K, attention its
// score and value products. Matmul and attention FLOPs are what the analytic
// model formulas (6N + attention, PaLM/Megatron) count; "other" holds the
// element-wise work, kept apart so the two can be compared exactly.
// Counts are doubles: exact below 2^53 (9e15), and wide enough for any run.
#pragma once

#include <string>

namespace graft {

enum class Phase { forward, backward };
enum class FlopsKind { matmul, attention, other };

struct FlopsCounts {
  double matmul = 0;
  double attention = 0;
  double other = 0;
  double model() const { return matmul + attention; }  // what MFU counts
  double total() const { return matmul + attention + other; }
};

class FlopsLedger {
 public:
  void add(Phase phase, FlopsKind kind, double flops);
  const FlopsCounts& forward() const { return forward_; }
  const FlopsCounts& backward() const { return backward_; }
  double model_total() const { return forward_.model() + backward_.model(); }
  double total() const { return forward_.total() + backward_.total(); }
  void reset() { *this = FlopsLedger(); }
  void merge(const FlopsLedger& other);
  std::string summary() const;

 private:
  FlopsCounts forward_;
  FlopsCounts backward_;
};

// The process's ledger, which every kernel adds to (add is thread-safe).
FlopsLedger& flops_ledger();

// FLOPs of one GEMM: M*N multiply-adds over K, counted as 2*M*N*K.
inline double gemm_flops(long long m, long long n, long long k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

}  // namespace graft
