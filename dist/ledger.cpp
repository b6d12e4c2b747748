#include "dist/ledger.h"

#include <cmath>
#include <vector>

#include "ops/check.h"

namespace graft::dist {

FlopsLedger sum_over_ranks(const FlopsLedger& local, Communicator& comm) {
  const FlopsCounts& f = local.forward();
  const FlopsCounts& b = local.backward();
  // One message for the six counters; doubles keep them exact below 2^53.
  Tensor counts = Tensor::from_vector<double>(
      {f.matmul, f.attention, f.other, b.matmul, b.attention, b.other}, {6});
  comm.all_reduce(counts, ReduceOp::sum);
  const double* c = counts.data<double>();
  FlopsLedger total;
  total.add(Phase::forward, FlopsKind::matmul, c[0]);
  total.add(Phase::forward, FlopsKind::attention, c[1]);
  total.add(Phase::forward, FlopsKind::other, c[2]);
  total.add(Phase::backward, FlopsKind::matmul, c[3]);
  total.add(Phase::backward, FlopsKind::attention, c[4]);
  total.add(Phase::backward, FlopsKind::other, c[5]);
  return total;
}

double sum_over_ranks(double local, Communicator& comm) {
  Tensor value = Tensor::from_vector<double>({local}, {1});
  comm.all_reduce(value, ReduceOp::sum);
  return value.data<double>()[0];
}

int64_t sum_over_ranks(int64_t local, Communicator& comm) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  GRAFT_CHECK(std::abs(static_cast<double>(local)) < kExact,
              "count " << local << " is too large to sum exactly");
  double total = sum_over_ranks(static_cast<double>(local), comm);
  GRAFT_CHECK(std::abs(total) < kExact, "sum over ranks " << total << " is too large to be exact");
  return static_cast<int64_t>(total);
}

}  // namespace graft::dist
