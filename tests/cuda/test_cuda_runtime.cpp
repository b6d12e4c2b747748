// The CUDA runtime layer: device tensors, copies, fill, casts, tensor math
// and the caching allocator, against the same operations on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ops/cuda/backend.h"
#include "ops/tensor.h"
#include "ops/tensor_math.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

TEST(CudaRuntime, ReportsWhyWhenUnavailable) {
  if (cuda::available()) {
    EXPECT_EQ(cuda::unavailable_reason(), "");
    EXPECT_GE(cuda::device_count(), 1);
  } else {
    EXPECT_NE(cuda::unavailable_reason(), "");
    EXPECT_EQ(cuda::device_count(), 0);
  }
}

TEST(CudaRuntime, RoundTripIsExactForEveryDtype) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f32, DType::f64, DType::bf16}) {
    Tensor host = testing::random_tensor({3, 1001}, rng, dtype);
    Tensor device = host.to(Device::cuda);
    EXPECT_EQ(device.device(), Device::cuda);
    Tensor back = device.to(Device::cpu);
    EXPECT_EQ(testing::as_doubles(back), testing::as_doubles(host)) << dtype_name(dtype);
  }
  Tensor ids = testing::random_indices({7, 13}, 1000, rng);
  EXPECT_EQ(ids.to(Device::cuda).to_vector<int32_t>(), ids.to_vector<int32_t>());
}

TEST(CudaRuntime, ZerosFillCloneAndItem) {
  GRAFT_REQUIRE_GPU();
  Tensor z = Tensor::zeros({517}, DType::f32, Device::cuda);
  for (float v : z.to_vector<float>())
    ASSERT_EQ(v, 0.0f);
  z.fill(-2.5);
  for (float v : z.to_vector<float>())
    ASSERT_EQ(v, -2.5f);
  Tensor c = z.clone();
  EXPECT_FALSE(c.same_storage(z));
  z.fill(1.0);
  EXPECT_EQ(c.to_vector<float>()[516], -2.5f);
  Tensor one = Tensor::zeros({1}, DType::bf16, Device::cuda);
  one.fill(3.0);
  EXPECT_EQ(one.item(), 3.0);
}

TEST(CudaRuntime, CastsMatchTheHostConversions) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(2);
  // Values around bf16's rounding boundaries and integers for i32.
  Tensor host = random_f32({4099}, rng, -300.0, 300.0);
  for (DType target : {DType::bf16, DType::f64, DType::i32}) {
    Tensor expected = host.to(target);
    Tensor actual = host.to(Device::cuda).to(target).to(Device::cpu);
    EXPECT_EQ(testing::as_doubles(actual), testing::as_doubles(expected)) << dtype_name(target);
  }
  Tensor bf = host.to(DType::bf16);
  EXPECT_EQ(testing::as_doubles(bf.to(Device::cuda).to(DType::f32).to(Device::cpu)),
            testing::as_doubles(bf.to(DType::f32)));
}

TEST(CudaRuntime, MoveToMovesEveryHandle) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(3);
  Tensor a = random_f32({5, 6}, rng);
  const std::vector<float> values = a.to_vector<float>();
  Tensor alias = a;  // another handle to the same tensor
  a.move_to(Device::cuda);
  EXPECT_EQ(alias.device(), Device::cuda);
  EXPECT_EQ(alias.to_vector<float>(), values);
}

TEST(CudaRuntime, TensorMathMatchesCpu) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(4);
  for (int64_t n : {1, 255, 256 * 256 + 3, 1000003}) {
    Tensor x = random_f32({n}, rng), y = random_f32({n}, rng);
    Tensor gx = x.to(Device::cuda), gy = y.to(Device::cuda);
    EXPECT_NEAR(dot(gx, gy), dot(x, y), 1e-9 * std::max(1.0, std::fabs(dot(x, y)))) << n;
    axpy_into(x, -0.75, y);
    axpy_into(gx, -0.75, gy);
    testing::expect_relative_error_below(gx, x, 1e-7, "axpy n=" + std::to_string(n));
    scale_into(x, 1.5);
    scale_into(gx, 1.5);
    testing::expect_relative_error_below(gx, x, 1e-7, "scale n=" + std::to_string(n));
    EXPECT_TRUE(all_finite(gx));
  }
  Tensor bad = Tensor::zeros({1000}, DType::f32, Device::cuda);
  std::vector<float> v(1000, 0.0f);
  v[777] = NAN;
  bad.copy_from(Tensor::from_vector(v, {1000}));
  EXPECT_FALSE(all_finite(bad));
}

TEST(CudaRuntime, DotIsDeterministic) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(5);
  Tensor x = random_f32({3000017}, rng).to(Device::cuda);
  const double first = sum_of_squares(x);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(sum_of_squares(x), first);
}

TEST(CudaRuntime, AllocatorReusesFreedBlocks) {
  GRAFT_REQUIRE_GPU();
  { Tensor warm = Tensor::empty({1 << 20}, DType::f32, Device::cuda); }
  const cuda::AllocatorStats before = cuda::allocator_stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = Tensor::empty({1 << 20}, DType::f32, Device::cuda);
  }
  const cuda::AllocatorStats after = cuda::allocator_stats();
  EXPECT_EQ(after.device_allocations, before.device_allocations);
  EXPECT_EQ(after.cache_hits, before.cache_hits + 10);
  EXPECT_EQ(after.in_use_bytes, before.in_use_bytes);
}

TEST(CudaRuntime, OutOfMemoryIsAClearError) {
  GRAFT_REQUIRE_GPU();
  testing::expect_error_containing(
      [] { Tensor::empty({int64_t{1} << 40}, DType::f32, Device::cuda); },
      {"out of GPU memory", "4398046511104 bytes"});
}

}  // namespace
}  // namespace graft
