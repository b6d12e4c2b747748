// CUDA matmul (cuBLASLt with fused epilogues, kernel fallbacks) against the
// CPU matmul: forward and every gradient, f32 and bf16, all transposes, with
// and without bias and GELU, on awkward shapes. Shapes with the output width
// a multiple of 8 take the fused GELU_AUX / bias-gradient epilogues, the
// others their fallbacks, so both paths are checked.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/matmul.h"
#include "ops/tensor_math.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

struct Sizes {
  int64_t m, k, n;
};

struct Results {
  Tensor out, da, db, dbias;
};

double tolerance_for(DType dtype) {
  return dtype == DType::bf16 ? 1e-2 : 1e-5;
}

// The CPU inputs of one case (bf16-representable when the GPU runs bf16).
struct Inputs {
  Tensor a, b, bias, upstream;
};

Inputs make_inputs(const Shape& a_shape, const Shape& b_shape, int64_t n, bool with_bias,
                   const Shape& out_shape, DType dtype, std::mt19937_64& rng) {
  const bool round = dtype == DType::bf16;
  Inputs in;
  in.a = random_f32(a_shape, rng, -1.0, 1.0, round);
  in.b = random_f32(b_shape, rng, -1.0, 1.0, round);
  if (with_bias) in.bias = random_f32({n}, rng, -1.0, 1.0, round);
  in.upstream = random_f32(out_shape, rng, -1.0, 1.0, round);
  return in;
}

// Forward, then `passes` backward passes (each a fresh forward) on device in
// dtype; gradients as they stand after the last pass.
Results run(const Inputs& in, MatmulOptions options, Device device, DType dtype, int passes = 1,
            bool grad_a = true, bool grad_b = true) {
  auto place = [&](const Tensor& t) {
    if (!t.defined()) return Tensor();
    return device == Device::cpu ? t.clone() : testing::to_gpu(t, dtype);
  };
  Tensor a = place(in.a), b = place(in.b), bias = place(in.bias);
  a.set_requires_grad(grad_a);
  b.set_requires_grad(grad_b);
  if (bias.defined()) bias.set_requires_grad(true);
  Tensor upstream = place(in.upstream);
  Results r;
  for (int pass = 0; pass < passes; ++pass) {
    r.out = matmul(a, b, bias, options);
    tape().backward(r.out, upstream);
  }
  if (grad_a) r.da = a.grad();
  if (grad_b) r.db = b.grad();
  if (bias.defined()) r.dbias = bias.grad();
  return r;
}

void expect_match(const Results& gpu, const Results& cpu, DType dtype, const std::string& what) {
  const double tol = tolerance_for(dtype);
  testing::expect_relative_error_below(gpu.out, cpu.out, tol, what + " out");
  if (cpu.da.defined()) testing::expect_relative_error_below(gpu.da, cpu.da, tol, what + " da");
  if (cpu.db.defined()) testing::expect_relative_error_below(gpu.db, cpu.db, tol, what + " db");
  if (cpu.dbias.defined()) {
    testing::expect_relative_error_below(gpu.dbias, cpu.dbias, tol, what + " dbias");
  }
}

struct Case {
  bool ta, tb, bias, gelu;
};

std::string case_name(const Case& c) {
  return std::string(c.ta ? "At" : "A") + (c.tb ? "Bt" : "B") + (c.bias ? "_bias" : "") +
         (c.gelu ? "_gelu" : "");
}

class CudaMatmulCases : public ::testing::TestWithParam<Case> {};

TEST_P(CudaMatmulCases, ForwardAndGradientsMatchCpu) {
  GRAFT_REQUIRE_GPU();
  const Case c = GetParam();
  const MatmulOptions options{c.ta, c.tb, c.gelu ? Epilogue::gelu : Epilogue::none};
  // Sizes 1, 3, 17, 65, 257, 1000 in every position; n = 64 and 1000 are
  // multiples of 8 (fused aux), the rest are not.
  const Sizes shapes[] = {{1, 1, 1},      {3, 17, 65},   {17, 3, 1},
                          {65, 257, 3},   {257, 65, 17}, {1, 1000, 64},
                          {1000, 17, 64}, {65, 3, 1000}, {1000, 257, 1000}};
  std::mt19937_64 rng(11);
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Sizes& sz : shapes) {
      const Shape a_shape = c.ta ? Shape{sz.k, sz.m} : Shape{sz.m, sz.k};
      const Shape b_shape = c.tb ? Shape{sz.n, sz.k} : Shape{sz.k, sz.n};
      const Inputs in = make_inputs(a_shape, b_shape, sz.n, c.bias, {sz.m, sz.n}, dtype, rng);
      const Results cpu = run(in, options, Device::cpu, DType::f32);
      const Results gpu = run(in, options, Device::cuda, dtype);
      expect_match(gpu, cpu, dtype,
                   case_name(c) + " " + dtype_name(dtype) + " m=" + std::to_string(sz.m) +
                       " k=" + std::to_string(sz.k) + " n=" + std::to_string(sz.n));
    }
  }
}

TEST_P(CudaMatmulCases, BackwardTwiceAccumulates) {
  GRAFT_REQUIRE_GPU();
  const Case c = GetParam();
  const MatmulOptions options{c.ta, c.tb, c.gelu ? Epilogue::gelu : Epilogue::none};
  std::mt19937_64 rng(12);
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Sizes& sz : {Sizes{65, 17, 64}, Sizes{257, 65, 17}}) {
      const Shape a_shape = c.ta ? Shape{sz.k, sz.m} : Shape{sz.m, sz.k};
      const Shape b_shape = c.tb ? Shape{sz.n, sz.k} : Shape{sz.k, sz.n};
      const Inputs in = make_inputs(a_shape, b_shape, sz.n, c.bias, {sz.m, sz.n}, dtype, rng);
      const Results cpu = run(in, options, Device::cpu, DType::f32, /*passes=*/2);
      const Results gpu = run(in, options, Device::cuda, dtype, /*passes=*/2);
      expect_match(gpu, cpu, dtype,
                   case_name(c) + " " + dtype_name(dtype) + " twice n=" + std::to_string(sz.n));
      // The gradients double: twice on the GPU is twice once on the CPU.
      const Results once = run(in, options, Device::cpu, DType::f32, /*passes=*/1);
      Tensor doubled = once.db.clone();
      scale_into(doubled, 2.0);
      testing::expect_relative_error_below(gpu.db, doubled, tolerance_for(dtype), "db doubles");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllTransposes, CudaMatmulCases,
    ::testing::Values(Case{false, false, false, false}, Case{false, true, false, false},
                      Case{true, false, false, false}, Case{true, true, false, false},
                      Case{false, false, true, false}, Case{false, true, true, false},
                      Case{true, false, true, false}, Case{true, true, true, false},
                      Case{false, false, false, true}, Case{false, true, false, true},
                      Case{true, false, false, true}, Case{true, true, false, true},
                      Case{false, false, true, true}, Case{false, true, true, true},
                      Case{true, false, true, true}, Case{true, true, true, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return case_name(info.param); });

TEST(CudaMatmul, BatchedLinearMatchesCpu) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(13);
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (int64_t n : {int64_t{40}, int64_t{17}}) {
      const bool round = dtype == DType::bf16;
      Tensor x = random_f32({3, 65, 17}, rng, -1.0, 1.0, round);  // [B, T, K]
      Tensor w = random_f32({n, 17}, rng, -1.0, 1.0, round);      // [out, in]
      Tensor bias = random_f32({n}, rng, -1.0, 1.0, round);
      Tensor upstream = random_f32({3, 65, n}, rng, -1.0, 1.0, round);
      Results side[2];
      for (int s = 0; s < 2; ++s) {
        const bool gpu = s == 1;
        auto place = [&](const Tensor& t) { return gpu ? testing::to_gpu(t, dtype) : t.clone(); };
        Tensor xs = place(x).set_requires_grad(), ws = place(w).set_requires_grad();
        Tensor bs = place(bias).set_requires_grad();
        side[s].out = linear(xs, ws, bs, Epilogue::gelu);
        EXPECT_EQ(side[s].out.shape(), (Shape{3, 65, n}));
        tape().backward(side[s].out, place(upstream));
        side[s].da = xs.grad();
        side[s].db = ws.grad();
        side[s].dbias = bs.grad();
      }
      expect_match(side[1], side[0], dtype,
                   std::string("batched linear ") + dtype_name(dtype) + " n=" + std::to_string(n));
    }
  }
}

// A frozen weight: dbias alone comes from the column-sum kernels (no weight
// GEMM to fuse it into); a frozen input: only the weight GEMM runs.
TEST(CudaMatmul, FrozenOperandsGetNoGradientAndTheOthersMatch) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(14);
  const MatmulOptions options{false, true, Epilogue::gelu};
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Inputs in = make_inputs({257, 65}, {64, 65}, 64, true, {257, 64}, dtype, rng);
    for (bool grad_a : {false, true}) {
      const bool grad_b = !grad_a;
      const Results cpu = run(in, options, Device::cpu, DType::f32, 2, grad_a, grad_b);
      const Results gpu = run(in, options, Device::cuda, dtype, 2, grad_a, grad_b);
      EXPECT_EQ(gpu.da.defined(), grad_a);
      EXPECT_EQ(gpu.db.defined(), grad_b);
      expect_match(gpu, cpu, dtype,
                   std::string(dtype_name(dtype)) + (grad_a ? " frozen b" : " frozen a"));
    }
  }
}

TEST(CudaMatmul, RunsAreBitIdentical) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(15);
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (int64_t n : {int64_t{1000}, int64_t{257}}) {
      const Inputs in = make_inputs({1000, 257}, {n, 257}, n, true, {1000, n}, dtype, rng);
      const MatmulOptions options{false, true, Epilogue::gelu};
      const Results first = run(in, options, Device::cuda, dtype, 2);
      const Results second = run(in, options, Device::cuda, dtype, 2);
      const std::string what = std::string(dtype_name(dtype)) + " n=" + std::to_string(n);
      auto values = [](const Tensor& t) { return testing::as_doubles(testing::to_cpu_f32(t)); };
      EXPECT_EQ(values(first.out), values(second.out)) << what << " out";
      EXPECT_EQ(values(first.da), values(second.da)) << what << " da";
      EXPECT_EQ(values(first.db), values(second.db)) << what << " db";
      EXPECT_EQ(values(first.dbias), values(second.dbias)) << what << " dbias";
    }
  }
}

TEST(CudaMatmul, LedgerCountsMatchTheCpu) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(16);
  const Inputs in = make_inputs({9, 11}, {7, 11}, 7, true, {9, 7}, DType::f32, rng);
  const MatmulOptions options{false, true, Epilogue::gelu};
  FlopsCounts forward[2], backward[2];
  for (int s = 0; s < 2; ++s) {
    flops_ledger().reset();
    run(in, options, s == 0 ? Device::cpu : Device::cuda, DType::f32);
    forward[s] = flops_ledger().forward();
    backward[s] = flops_ledger().backward();
  }
  EXPECT_EQ(forward[1].matmul, forward[0].matmul);
  EXPECT_EQ(forward[1].other, forward[0].other);
  EXPECT_EQ(backward[1].matmul, backward[0].matmul);
  EXPECT_EQ(backward[1].other, backward[0].other);
  EXPECT_EQ(forward[1].matmul, 2.0 * 9 * 7 * 11);
}

TEST(CudaMatmul, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(17);
  Tensor a = random_f32({4, 5}, rng), b = random_f32({5, 3}, rng);
  testing::expect_error_containing(
      [&] { matmul(a.to(DType::f64).to(Device::cuda), b.to(DType::f64).to(Device::cuda)); },
      {"matmul", "f32 or bf16", "f64"});
  testing::expect_error_containing([&] { matmul(a.to(Device::cuda), b); }, {"matmul", "b", "cuda"});
}

}  // namespace
}  // namespace graft
