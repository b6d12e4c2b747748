#include "dist/grid.h"

#include <sstream>

#include "ops/check.h"

namespace graft::dist {

std::vector<int> ProcessGrid::tp_group() const {
  std::vector<int> ranks;
  for (int t = 0; t < tp; ++t)
    ranks.push_back(rank_of(dp_rank(), t));
  return ranks;
}

std::vector<int> ProcessGrid::dp_group() const {
  std::vector<int> ranks;
  for (int d = 0; d < dp; ++d)
    ranks.push_back(rank_of(d, tp_rank()));
  return ranks;
}

std::string ProcessGrid::describe() const {
  std::ostringstream out;
  out << "rank " << rank << " of " << world_size << " (dp " << dp_rank() << " of " << dp << ", tp "
      << tp_rank() << " of " << tp << ")";
  return out.str();
}

ProcessGrid make_grid(int world_size, int rank, int tp, int dp) {
  GRAFT_CHECK(world_size >= 1 && rank >= 0 && rank < world_size,
              "rank " << rank << " is not in a world of " << world_size);
  GRAFT_INPUT_CHECK(tp >= 1, "tp must be at least 1, got tp=" << tp);
  GRAFT_INPUT_CHECK(dp >= 0, "dp must be at least 1 (or 0 for world size / tp), got dp=" << dp);
  GRAFT_INPUT_CHECK(world_size % tp == 0,
                    "world size " << world_size << " is not divisible by tp=" << tp);
  if (dp == 0) dp = world_size / tp;
  GRAFT_INPUT_CHECK(dp * tp == world_size, "dp=" << dp << " x tp=" << tp << " = " << dp * tp
                                                 << " ranks, but the world has " << world_size);
  ProcessGrid grid;
  grid.world_size = world_size;
  grid.rank = rank;
  grid.dp = dp;
  grid.tp = tp;
  return grid;
}

}  // namespace graft::dist
