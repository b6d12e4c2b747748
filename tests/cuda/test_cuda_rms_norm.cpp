// rms_norm on the GPU against the CPU op: output and both gradients, f32
// and bf16, awkward widths (1 to 4099, longer than a row block holds in
// registers), accumulation, bit-identical reruns, bad arguments.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ops/autograd.h"
#include "ops/rms_norm.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

struct Inputs {
  Tensor x, weight, upstream;  // f32 on the CPU
};

Inputs make_inputs(int64_t rows, int64_t d, bool bf16, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  // Offset rows: rms_norm must not subtract the mean.
  in.x = random_f32({rows, d}, rng, 1.0, 3.0, bf16);
  in.weight = random_f32({d}, rng, 0.5, 1.5, bf16);
  in.upstream = random_f32({rows, d}, rng, -1.0, 1.0, bf16);
  return in;
}

struct Results {
  Tensor out, dx, dweight;
};

// With d = 1, dx = rstd·g·w·eps / (x² + eps) is computed as the difference of
// two terms equal to within eps / x² (~1e-6 here), so at a small eps both
// devices return rounding noise that no tolerance can compare; eps = 1 keeps
// the d = 1 path tested on a well-conditioned problem.
double eps_for(const Tensor& x) {
  return x.dim(-1) == 1 ? 1.0 : 1e-6;
}

// Runs forward and backward `passes` times on `device` in `dtype` (gradients
// accumulate across passes).
Results run(const Inputs& in, Device device, DType dtype, int passes = 1) {
  auto place = [&](const Tensor& t) {
    return device == Device::cuda ? testing::to_gpu(t, dtype) : t.clone();
  };
  Tensor x = place(in.x), w = place(in.weight);
  Tensor up = place(in.upstream);
  x.set_requires_grad();
  w.set_requires_grad();
  Results r;
  for (int p = 0; p < passes; ++p) {
    r.out = rms_norm(x, w, eps_for(in.x));
    tape().backward(r.out, up);
  }
  r.dx = x.grad();
  r.dweight = w.grad();
  return r;
}

void expect_match(const Results& gpu, const Results& cpu, double tolerance,
                  const std::string& what) {
  testing::expect_relative_error_below(gpu.out, cpu.out, tolerance, what + " out");
  testing::expect_relative_error_below(gpu.dx, cpu.dx, tolerance, what + " dx");
  testing::expect_relative_error_below(gpu.dweight, cpu.dweight, tolerance, what + " dweight");
}

std::string name(int64_t rows, int64_t d) {
  return "rows " + std::to_string(rows) + " d " + std::to_string(d);
}

TEST(CudaRmsNorm, F32MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  for (int64_t rows : {1, 3, 129}) {
    for (int64_t d : {1, 7, 33, 768, 1000, 4099, 9000}) {
      const Inputs in = make_inputs(rows, d, false, 10 + rows + d);
      const Results gpu = run(in, Device::cuda, DType::f32);
      EXPECT_EQ(gpu.out.device(), Device::cuda);
      EXPECT_EQ(gpu.dx.dtype(), DType::f32);
      expect_match(gpu, run(in, Device::cpu, DType::f32), 1e-5, name(rows, d));
    }
  }
}

TEST(CudaRmsNorm, Bf16MatchesCpuOnRoundedInputs) {
  GRAFT_REQUIRE_GPU();
  for (int64_t rows : {1, 3, 129}) {
    for (int64_t d : {1, 7, 33, 768, 1000, 4099}) {
      const Inputs in = make_inputs(rows, d, true, 20 + rows + d);
      const Results gpu = run(in, Device::cuda, DType::bf16);
      EXPECT_EQ(gpu.out.dtype(), DType::bf16);
      EXPECT_EQ(gpu.dweight.dtype(), DType::bf16);
      expect_match(gpu, run(in, Device::cpu, DType::f32), 1e-2, "bf16 " + name(rows, d));
    }
  }
}

TEST(CudaRmsNorm, ManyRowsUseSeveralColumnChunks) {
  GRAFT_REQUIRE_GPU();
  const Inputs in = make_inputs(16385, 96, false, 3);
  expect_match(run(in, Device::cuda, DType::f32), run(in, Device::cpu, DType::f32), 1e-5,
               "16385 rows");
}

TEST(CudaRmsNorm, GradientsAccumulateAcrossBackwardPasses) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Inputs in = make_inputs(37, 300, dtype == DType::bf16, 4);
    const Results once = run(in, Device::cuda, dtype, 1);
    const Results twice = run(in, Device::cuda, dtype, 2);
    for (auto [a, b] : {std::pair{once.dx, twice.dx}, std::pair{once.dweight, twice.dweight}}) {
      const std::vector<double> single = testing::as_doubles(testing::to_cpu_f32(a));
      const std::vector<double> doubled = testing::as_doubles(testing::to_cpu_f32(b));
      ASSERT_EQ(single.size(), doubled.size());
      for (size_t i = 0; i < single.size(); ++i)
        ASSERT_EQ(doubled[i], 2 * single[i]) << dtype_name(dtype) << " element " << i;
    }
  }
}

TEST(CudaRmsNorm, RerunsAreBitIdentical) {
  GRAFT_REQUIRE_GPU();
  const Inputs in = make_inputs(2049, 768, false, 5);
  const Results a = run(in, Device::cuda, DType::f32);
  const Results b = run(in, Device::cuda, DType::f32);
  EXPECT_EQ(a.out.to_vector<float>(), b.out.to_vector<float>());
  EXPECT_EQ(a.dx.to_vector<float>(), b.dx.to_vector<float>());
  EXPECT_EQ(a.dweight.to_vector<float>(), b.dweight.to_vector<float>());
}

TEST(CudaRmsNorm, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(6);
  Tensor x64 = testing::random_tensor({3, 5}, rng, DType::f64).to(Device::cuda);
  Tensor w64 = testing::random_tensor({5}, rng, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { rms_norm(x64, w64); }, {"rms_norm", "f64"});
  Tensor x = random_f32({3, 5}, rng).to(Device::cuda);
  Tensor w_cpu = random_f32({5}, rng);
  testing::expect_error_containing([&] { rms_norm(x, w_cpu); }, {"rms_norm", "weight", "cuda"});
}

}  // namespace
}  // namespace graft
