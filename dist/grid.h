// The process grid: world = dp × tp ranks.
//
// The tp ranks of one data-parallel replica are adjacent
// (rank = dp_rank * tp + tp_rank), so on nodes of G GPUs with tp <= G a
// tensor-parallel group never crosses a node: its all-reduces, one per layer,
// stay on the fast intra-node links, and only the data-parallel gradient
// reduction, once per step, crosses the network (Megatron-LM's order).
#pragma once

#include <string>
#include <vector>

namespace graft::dist {

struct ProcessGrid {
  int world_size = 1;
  int rank = 0;
  int dp = 1;
  int tp = 1;

  int dp_rank() const { return rank / tp; }
  int tp_rank() const { return rank % tp; }
  int rank_of(int dp_rank, int tp_rank) const { return dp_rank * tp + tp_rank; }
  // World ranks of this rank's tensor-parallel group (same dp_rank, tp of them)
  // and of its data-parallel group (same tp_rank, dp of them), in group order.
  std::vector<int> tp_group() const;
  std::vector<int> dp_group() const;
  std::string describe() const;  // "rank 3 of 4 (dp 1 of 2, tp 1 of 2)"
};

// Checks the grid and throws InputError naming what does not fit, e.g.
// "world size 3 is not divisible by tp=2". dp = 0 means world_size / tp.
ProcessGrid make_grid(int world_size, int rank, int tp, int dp = 0);

}  // namespace graft::dist
