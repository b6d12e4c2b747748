// One-process communicators and context: identities, copies, and the same
// argument checks as MPI's, so single-process tests catch misuse early.
#include <gtest/gtest.h>

#include "dist/context.h"
#include "dist/ledger.h"
#include "dist/single_communicator.h"
#include "ops/check.h"

namespace graft::dist {
namespace {

TEST(DistSingleCommunicator, CollectivesAreIdentities) {
  SingleCommunicator comm;
  Tensor x = Tensor::from_vector<float>({1.5f, -2, 3}, {3});
  comm.all_reduce(x, ReduceOp::sum);
  comm.all_reduce(x, ReduceOp::average);
  comm.broadcast(x, 0);
  comm.barrier();
  auto pending = comm.all_reduce_async(x, ReduceOp::sum);
  EXPECT_TRUE(pending->ready());
  pending->wait();
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1.5f, -2, 3}));

  Tensor gathered = Tensor::zeros({3}, DType::f32);
  comm.all_gather(x, gathered);
  EXPECT_EQ(gathered.to_vector<float>(), x.to_vector<float>());
  Tensor scattered = Tensor::zeros({1, 3}, DType::f32);
  comm.reduce_scatter(x, scattered, ReduceOp::sum);
  EXPECT_EQ(scattered.to_vector<float>(), x.to_vector<float>());
}

TEST(DistSingleCommunicator, RejectsMisuse) {
  SingleCommunicator comm("tp");
  Tensor ints = Tensor::from_vector<int32_t>({1, 2}, {2});
  EXPECT_NO_THROW(comm.all_reduce(ints, ReduceOp::sum));
  EXPECT_THROW(comm.all_reduce(ints, ReduceOp::average), Error);
  EXPECT_THROW(comm.all_reduce(Tensor(), ReduceOp::sum), Error);
  EXPECT_THROW(comm.all_reduce(Tensor::zeros({2}, DType::bf16), ReduceOp::sum), Error);
  EXPECT_THROW(comm.broadcast(ints, 1), Error);
  EXPECT_THROW(comm.all_gather(ints, Tensor::zeros({3}, DType::i32)), Error);
  EXPECT_THROW(comm.all_gather(ints, Tensor::zeros({2}, DType::f32)), Error);
  try {
    comm.reduce_scatter(Tensor::zeros({4}, DType::f32), Tensor::zeros({2}, DType::f32),
                        ReduceOp::sum);
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("reduce_scatter on the tp group of 1 ranks"),
              std::string::npos)
        << error.what();
  }
}

TEST(DistSingleCommunicator, Ledgers) {
  SingleCommunicator comm;
  FlopsLedger ledger;
  ledger.add(Phase::forward, FlopsKind::matmul, 6);
  ledger.add(Phase::backward, FlopsKind::attention, 4);
  ledger.add(Phase::backward, FlopsKind::other, 1);
  FlopsLedger total = sum_over_ranks(ledger, comm);
  EXPECT_EQ(total.forward().matmul, 6);
  EXPECT_EQ(total.backward().attention, 4);
  EXPECT_EQ(total.backward().other, 1);
  EXPECT_EQ(sum_over_ranks(int64_t{1} << 40, comm), int64_t{1} << 40);
}

TEST(DistContext, OneProcessNeedsNoMpi) {
  DistContext context(DistOptions{}, LaunchInfo{});
  EXPECT_FALSE(context.uses_mpi());
  EXPECT_EQ(context.world().size(), 1);
  EXPECT_EQ(context.tp().name(), "tp");
  EXPECT_EQ(context.dp().rank(), 0);
  EXPECT_EQ(context.grid().describe(), "rank 0 of 1 (dp 0 of 1, tp 0 of 1)");
}

TEST(DistContext, BadGridFailsBeforeMpi) {
  LaunchInfo launch;
  launch.launcher = Launcher::mpirun;
  launch.size = 3;
  launch.rank = 1;
  DistOptions options;
  options.tp = 2;
  try {
    DistContext context(options, launch);
    FAIL();
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "world size 3 is not divisible by tp=2");
  }
  // The failed construction left nothing behind: a context can be made.
  DistContext context(DistOptions{}, LaunchInfo{});
  EXPECT_EQ(context.world().size(), 1);
}

}  // namespace
}  // namespace graft::dist
