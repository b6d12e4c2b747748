// The NCCL communicator on one GPU (one rank: the plumbing — unique id
// exchange, streams, events, dtypes — and the results of each collective).
// With one GPU per machine here, multi-rank NCCL runs are left to machines
// with several GPUs.
#include <gtest/gtest.h>

#include <random>

#include "dist/nccl_communicator.h"
#include "dist/single_communicator.h"
#include "ops/matmul.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

TEST(CudaNccl, OneRankCollectivesKeepTheirData) {
  GRAFT_REQUIRE_GPU();
  dist::SingleCommunicator bootstrap("dp");
  std::unique_ptr<dist::Communicator> nccl = dist::make_nccl_communicator(bootstrap, "dp");
  EXPECT_EQ(nccl->size(), 1);
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f32, DType::bf16, DType::f64}) {
    Tensor host = testing::random_f32({1001}, rng);
    Tensor expected = host.to(dtype).to(DType::f32);
    Tensor t = host.to(dtype).to(Device::cuda);
    nccl->all_reduce(t, dist::ReduceOp::sum);
    EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(t)), testing::as_doubles(expected));
    nccl->all_reduce(t, dist::ReduceOp::average);
    EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(t)), testing::as_doubles(expected));
    Tensor gathered = Tensor::empty({1001}, dtype, Device::cuda);
    nccl->all_gather(t, gathered);
    EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(gathered)), testing::as_doubles(expected));
    nccl->broadcast(t, 0);
    EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(t)), testing::as_doubles(expected));
  }
  nccl->barrier();
}

TEST(CudaNccl, AsyncAllReduceIsOrderedBeforeLaterKernels) {
  GRAFT_REQUIRE_GPU();
  dist::SingleCommunicator bootstrap("dp");
  std::unique_ptr<dist::Communicator> nccl = dist::make_nccl_communicator(bootstrap, "dp");
  std::mt19937_64 rng(2);
  // Queue a large GEMM, then the all-reduce of its output, then read it: the
  // collective must see the GEMM's result and the read the collective's.
  Tensor a = testing::random_f32({1024, 1024}, rng).to(Device::cuda);
  Tensor b = testing::random_f32({1024, 1024}, rng).to(Device::cuda);
  Tensor c = matmul(a, b);
  auto pending = nccl->all_reduce_async(c, dist::ReduceOp::sum);
  pending->wait();
  Tensor expected = matmul(a, b);
  EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(c)),
            testing::as_doubles(testing::to_cpu_f32(expected)));
}

TEST(CudaNccl, HostTensorsAreRefused) {
  GRAFT_REQUIRE_GPU();
  dist::SingleCommunicator bootstrap("dp");
  std::unique_ptr<dist::Communicator> nccl = dist::make_nccl_communicator(bootstrap, "dp");
  testing::expect_error_containing(
      [&] { nccl->all_reduce(Tensor::zeros({3}), dist::ReduceOp::sum); },
      {"NCCL communicator takes GPU tensors"});
}

}  // namespace
}  // namespace graft
