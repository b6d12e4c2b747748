#include "ops/flops.h"

#include <cstdio>
#include <mutex>

namespace graft {

namespace {
double& slot(FlopsCounts& counts, FlopsKind kind) {
  switch (kind) {
    case FlopsKind::matmul:
      return counts.matmul;
    case FlopsKind::attention:
      return counts.attention;
    case FlopsKind::other:
      return counts.other;
  }
  return counts.other;
}
void merge_counts(FlopsCounts& into, const FlopsCounts& from) {
  into.matmul += from.matmul;
  into.attention += from.attention;
  into.other += from.other;
}
}  // namespace

void FlopsLedger::add(Phase phase, FlopsKind kind, double flops) {
  // Threads training row shards add to the process's ledger at once. Counts are
  // integers below 2^53, so the sum is exact in any order.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  slot(phase == Phase::forward ? forward_ : backward_, kind) += flops;
}

void FlopsLedger::merge(const FlopsLedger& other) {
  merge_counts(forward_, other.forward_);
  merge_counts(backward_, other.backward_);
}

std::string FlopsLedger::summary() const {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                "forward %.4g (matmul %.4g, attention %.4g), backward %.4g (matmul %.4g, "
                "attention %.4g), other %.4g",
                forward_.model(), forward_.matmul, forward_.attention, backward_.model(),
                backward_.matmul, backward_.attention, forward_.other + backward_.other);
  return buffer;
}

FlopsLedger& flops_ledger() {
  static FlopsLedger instance;
  return instance;
}

}  // namespace graft
