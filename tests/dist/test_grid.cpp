// The dp × tp grid: rank layout, groups, and the errors for rank counts that
// do not factor.
#include <gtest/gtest.h>

#include "dist/grid.h"
#include "ops/check.h"

namespace graft::dist {
namespace {

std::string input_error_of(int world, int tp, int dp = 0) {
  try {
    make_grid(world, 0, tp, dp);
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(DistGrid, TpRanksAreAdjacent) {
  for (int rank = 0; rank < 8; ++rank) {
    ProcessGrid grid = make_grid(8, rank, 4);
    EXPECT_EQ(grid.dp, 2);
    EXPECT_EQ(grid.dp_rank(), rank / 4);
    EXPECT_EQ(grid.tp_rank(), rank % 4);
    EXPECT_EQ(grid.rank_of(grid.dp_rank(), grid.tp_rank()), rank);
  }
}

TEST(DistGrid, GroupsOnTwoByTwo) {
  ProcessGrid grid = make_grid(4, 3, 2);
  EXPECT_EQ(grid.tp_group(), (std::vector<int>{2, 3}));
  EXPECT_EQ(grid.dp_group(), (std::vector<int>{1, 3}));
  EXPECT_EQ(grid.describe(), "rank 3 of 4 (dp 1 of 2, tp 1 of 2)");
  ProcessGrid first = make_grid(4, 0, 2);
  EXPECT_EQ(first.tp_group(), (std::vector<int>{0, 1}));
  EXPECT_EQ(first.dp_group(), (std::vector<int>{0, 2}));
}

TEST(DistGrid, EveryRankInExactlyOneGroupOfEachKind) {
  const int world = 12, tp = 3;
  std::vector<int> tp_seen(world, 0), dp_seen(world, 0);
  for (int rank = 0; rank < world; ++rank) {
    ProcessGrid grid = make_grid(world, rank, tp);
    if (grid.tp_rank() == 0) {
      for (int r : grid.tp_group())
        ++tp_seen[r];
    }
    if (grid.dp_rank() == 0) {
      for (int r : grid.dp_group())
        ++dp_seen[r];
    }
  }
  for (int rank = 0; rank < world; ++rank) {
    EXPECT_EQ(tp_seen[rank], 1) << rank;
    EXPECT_EQ(dp_seen[rank], 1) << rank;
  }
}

TEST(DistGrid, SingleProcess) {
  ProcessGrid grid = make_grid(1, 0, 1);
  EXPECT_EQ(grid.dp, 1);
  EXPECT_EQ(grid.tp_group(), std::vector<int>{0});
}

TEST(DistGrid, ExplicitDpMustMatch) {
  EXPECT_EQ(make_grid(6, 5, 3, 2).dp_rank(), 1);
  EXPECT_EQ(input_error_of(6, 3, 3), "dp=3 x tp=3 = 9 ranks, but the world has 6");
}

TEST(DistGrid, WorldNotDivisibleIsAnInputError) {
  EXPECT_EQ(input_error_of(3, 2), "world size 3 is not divisible by tp=2");
  EXPECT_EQ(input_error_of(1, 2), "world size 1 is not divisible by tp=2");
  EXPECT_EQ(input_error_of(4, 0), "tp must be at least 1, got tp=0");
}

}  // namespace
}  // namespace graft::dist
