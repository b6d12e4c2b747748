// CUDA scaled_dot_product_attention against the CPU op: outputs and dQ, dK,
// dV on awkward shapes (head dims 1 to 128, lengths that are no multiple of
// a tile, cross attention, padding that leaves whole rows without a key),
// for both kernel families (general, tensor-core), plus aliasing,
// accumulation, determinism and argument errors.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/attention.h"
#include "ops/autograd.h"
#include "ops/cuda/attention.h"
#include "ops/flops.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_relative_error_below;
using testing::random_f32;

struct Case {
  const char* name;
  int64_t batch, q_len, k_len, heads, head_dim;
  bool causal, masked;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// Batch 0 pads a middle and the last key, batch 1 every key (its rows see
// nothing), batch 2 the first key.
Tensor make_mask(int64_t batch, int64_t k_len) {
  std::vector<int32_t> m(static_cast<size_t>(batch * k_len), 1);
  for (int64_t b = 0; b < batch; ++b) {
    int32_t* row = m.data() + b * k_len;
    if (b % 3 == 0) {
      row[k_len / 2] = 0;
      row[k_len - 1] = 0;
    } else if (b % 3 == 1) {
      for (int64_t j = 0; j < k_len; ++j)
        row[j] = 0;
    } else {
      row[0] = 0;
    }
  }
  return Tensor::from_vector(m, {batch, k_len});
}

// Restores the kernel choice on scope exit.
class KernelChoice {
 public:
  explicit KernelChoice(cuda::AttentionKernels choice) : previous_(cuda::attention_kernels()) {
    cuda::set_attention_kernels(choice);
  }
  ~KernelChoice() { cuda::set_attention_kernels(previous_); }

 private:
  cuda::AttentionKernels previous_;
};

struct Inputs {
  Tensor q, k, v, upstream, mask;  // f32 on the CPU
};

Inputs make_inputs(const Case& c, bool round_to_bf16, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t e = c.heads * c.head_dim;
  Inputs in;
  in.q = random_f32({c.batch, c.q_len, e}, rng, -2, 2, round_to_bf16);
  in.k = random_f32({c.batch, c.k_len, e}, rng, -2, 2, round_to_bf16);
  in.v = random_f32({c.batch, c.k_len, e}, rng, -1, 1, round_to_bf16);
  in.upstream = random_f32({c.batch, c.q_len, e}, rng, -1, 1, round_to_bf16);
  if (c.masked) in.mask = make_mask(c.batch, c.k_len);
  return in;
}

struct Result {
  Tensor out, dq, dk, dv;
};

// Forward and backward on `device` in `dtype`; backward_runs > 1 calls
// backward again on a fresh forward (gradients accumulate).
Result run(const Case& c, const Inputs& in, Device device, DType dtype, int backward_runs = 1) {
  auto place = [&](const Tensor& t) {
    return device == Device::cpu ? t.clone() : testing::to_gpu(t, dtype);
  };
  Tensor q = place(in.q).set_requires_grad();
  Tensor k = place(in.k).set_requires_grad();
  Tensor v = place(in.v).set_requires_grad();
  Tensor upstream = place(in.upstream);
  AttentionOptions o;
  o.num_heads = c.heads;
  o.causal = c.causal;
  if (in.mask.defined()) o.key_padding_mask = in.mask.to(device);
  Tensor out;
  for (int r = 0; r < backward_runs; ++r) {
    out = scaled_dot_product_attention(q, k, v, o);
    tape().backward(out, upstream);
  }
  return {out, q.grad(), k.grad(), v.grad()};
}

void expect_match(const Result& gpu, const Result& cpu, double tolerance, const std::string& what) {
  expect_relative_error_below(gpu.out, cpu.out, tolerance, what + " out");
  expect_relative_error_below(gpu.dq, cpu.dq, tolerance, what + " dq");
  expect_relative_error_below(gpu.dk, cpu.dk, tolerance, what + " dk");
  expect_relative_error_below(gpu.dv, cpu.dv, tolerance, what + " dv");
}

class CudaAttentionCases : public ::testing::TestWithParam<Case> {};

TEST_P(CudaAttentionCases, F32MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  const Case c = GetParam();
  const Inputs in = make_inputs(c, false, 21);
  const Result cpu = run(c, in, Device::cpu, DType::f32);
  expect_match(run(c, in, Device::cuda, DType::f32), cpu, 1e-5, std::string(c.name) + " f32");
}

TEST_P(CudaAttentionCases, Bf16MatchesCpuWithBothKernelFamilies) {
  GRAFT_REQUIRE_GPU();
  const Case c = GetParam();
  const Inputs in = make_inputs(c, true, 22);
  const Result cpu = run(c, in, Device::cpu, DType::f32);
  for (auto choice : {cuda::AttentionKernels::general, cuda::AttentionKernels::automatic}) {
    KernelChoice scoped(choice);
    const std::string what = std::string(c.name) + " bf16 " +
                             (choice == cuda::AttentionKernels::general ? "general" : "automatic");
    expect_match(run(c, in, Device::cuda, DType::bf16), cpu, 1e-2, what);
  }
}

TEST_P(CudaAttentionCases, GradientsAccumulate) {
  GRAFT_REQUIRE_GPU();
  const Case c = GetParam();
  const Inputs in = make_inputs(c, true, 23);
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Result once = run(c, in, Device::cuda, dtype);
    const Result twice = run(c, in, Device::cuda, dtype, 2);
    const double tolerance = dtype == DType::f32 ? 1e-6 : 1e-2;
    const std::string what = std::string(c.name) + " " + dtype_name(dtype) + " twice";
    Tensor doubled_q = testing::to_cpu_f32(once.dq), doubled_k = testing::to_cpu_f32(once.dk);
    Tensor doubled_v = testing::to_cpu_f32(once.dv);
    for (Tensor* t : {&doubled_q, &doubled_k, &doubled_v}) {
      float* p = t->data<float>();
      for (int64_t i = 0; i < t->numel(); ++i)
        p[i] *= 2.0f;
    }
    expect_relative_error_below(twice.dq, doubled_q, tolerance, what + " dq");
    expect_relative_error_below(twice.dk, doubled_k, tolerance, what + " dk");
    expect_relative_error_below(twice.dv, doubled_v, tolerance, what + " dv");
  }
}

TEST_P(CudaAttentionCases, RerunsAreBitIdentical) {
  GRAFT_REQUIRE_GPU();
  const Case c = GetParam();
  const Inputs in = make_inputs(c, true, 24);
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Result first = run(c, in, Device::cuda, dtype);
    const Result second = run(c, in, Device::cuda, dtype);
    const std::vector<std::pair<Tensor, Tensor>> pairs = {{first.out, second.out},
                                                          {first.dq, second.dq},
                                                          {first.dk, second.dk},
                                                          {first.dv, second.dv}};
    for (const auto& [a, b] : pairs) {
      const std::vector<float> x = testing::to_cpu_f32(a).to_vector<float>();
      const std::vector<float> y = testing::to_cpu_f32(b).to_vector<float>();
      ASSERT_EQ(x.size(), y.size());
      EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)), 0)
          << c.name << " " << dtype_name(dtype);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaAttentionCases,
    ::testing::Values(Case{"CausalSelfDh24", 3, 37, 37, 4, 24, true, false},
                      Case{"BidirectionalPaddedDh40", 3, 41, 41, 4, 40, false, true},
                      Case{"CrossDh5", 1, 5, 17, 4, 5, false, false},
                      Case{"CrossCausalPaddedDh72", 3, 5, 17, 1, 72, true, true},
                      Case{"MoreQueriesThanKeysCausalDh1", 1, 17, 5, 2, 1, true, false},
                      Case{"CausalPaddedDh64", 3, 70, 70, 4, 64, true, true},
                      Case{"CausalDh64Long", 1, 200, 200, 2, 64, true, false},
                      Case{"CrossDh64", 3, 5, 17, 4, 64, false, true},
                      Case{"CrossDh128", 1, 45, 130, 1, 128, false, false},
                      Case{"CausalPaddedDh128", 3, 67, 67, 2, 128, true, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(CudaAttention, OneTensorAsQueryKeyAndValue) {
  GRAFT_REQUIRE_GPU();
  for (int64_t head_dim : {24, 64}) {
    std::mt19937_64 rng(25);
    const int64_t heads = 2, e = heads * head_dim;
    Tensor x = random_f32({2, 45, e}, rng, -2, 2, true);
    Tensor upstream = random_f32({2, 45, e}, rng, -1, 1, true);
    AttentionOptions o;
    o.num_heads = heads;
    o.causal = true;
    auto grad_of = [&](Device device, DType dtype) {
      Tensor t = device == Device::cpu ? x.clone() : testing::to_gpu(x, dtype);
      t.set_requires_grad();
      Tensor out = scaled_dot_product_attention(t, t, t, o);
      tape().backward(out, device == Device::cpu ? upstream : testing::to_gpu(upstream, dtype));
      return t.grad();
    };
    const Tensor cpu = grad_of(Device::cpu, DType::f32);
    const std::string what = "aliased head_dim " + std::to_string(head_dim);
    expect_relative_error_below(grad_of(Device::cuda, DType::f32), cpu, 1e-5, what + " f32");
    expect_relative_error_below(grad_of(Device::cuda, DType::bf16), cpu, 1e-2, what + " bf16");
  }
}

TEST(CudaAttention, TensorCoreKernelsMatchTheGeneralOnes) {
  GRAFT_REQUIRE_GPU();
  const Case c{"Gpt2Like", 2, 256, 256, 3, 64, true, false};
  AttentionShape shape;
  shape.batch = c.batch;
  shape.q_len = c.q_len;
  shape.k_len = c.k_len;
  shape.heads = c.heads;
  shape.head_dim = c.head_dim;
  if (!cuda::attention_uses_tensor_cores(shape, DType::bf16))
    GTEST_SKIP() << "this GPU has no bf16 tensor-core path";
  const Inputs in = make_inputs(c, true, 26);
  Result general;
  {
    KernelChoice scoped(cuda::AttentionKernels::general);
    general = run(c, in, Device::cuda, DType::bf16);
  }
  const Result fast = run(c, in, Device::cuda, DType::bf16);
  expect_match(fast, general, 1e-2, "tensor-core vs general");
}

TEST(CudaAttention, PaddedKeysGetExactlyZeroGradient) {
  GRAFT_REQUIRE_GPU();
  const Case c{"Padded", 3, 33, 33, 2, 64, false, true};
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Inputs in = make_inputs(c, true, 27);
    const Result r = run(c, in, Device::cuda, dtype);
    const std::vector<int32_t> mask = in.mask.to_vector<int32_t>();
    const std::vector<float> out = testing::to_cpu_f32(r.out).to_vector<float>();
    const std::vector<float> dk = testing::to_cpu_f32(r.dk).to_vector<float>();
    const std::vector<float> dv = testing::to_cpu_f32(r.dv).to_vector<float>();
    const int64_t e = c.heads * c.head_dim;
    for (int64_t b = 0; b < c.batch; ++b) {
      for (int64_t j = 0; j < c.k_len; ++j) {
        if (mask[b * c.k_len + j] != 0) continue;
        for (int64_t d = 0; d < e; ++d) {
          const size_t at = static_cast<size_t>((b * c.k_len + j) * e + d);
          ASSERT_EQ(dk[at], 0.0f) << dtype_name(dtype) << " batch " << b << " key " << j;
          ASSERT_EQ(dv[at], 0.0f) << dtype_name(dtype) << " batch " << b << " key " << j;
        }
      }
    }
    // Batch 1 has no real key: its output rows are zeros.
    for (int64_t x = c.q_len * e; x < 2 * c.q_len * e; ++x)
      ASSERT_EQ(out[static_cast<size_t>(x)], 0.0f) << dtype_name(dtype);
  }
}

TEST(CudaAttention, LedgerCountsTheCpuWork) {
  GRAFT_REQUIRE_GPU();
  const Case c{"Ledger", 2, 9, 11, 2, 8, true, false};
  const Inputs in = make_inputs(c, false, 28);
  auto counted = [&](Device device) {
    flops_ledger().reset();
    run(c, in, device, DType::f32);
    return std::vector<double>{flops_ledger().forward().attention, flops_ledger().forward().other,
                               flops_ledger().backward().attention,
                               flops_ledger().backward().other};
  };
  EXPECT_EQ(counted(Device::cuda), counted(Device::cpu));
}

TEST(CudaAttention, RefusesF64AndMixedDevices) {
  GRAFT_REQUIRE_GPU();
  AttentionOptions o;
  o.num_heads = 2;
  Tensor q64 = Tensor::zeros({1, 3, 4}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { scaled_dot_product_attention(q64, q64, q64, o); },
                                   {"scaled_dot_product_attention", "f64"});
  Tensor gpu = Tensor::zeros({1, 3, 4}, DType::f32, Device::cuda);
  Tensor cpu = Tensor::zeros({1, 3, 4}, DType::f32);
  testing::expect_error_containing([&] { scaled_dot_product_attention(gpu, cpu, cpu, o); },
                                   {"scaled_dot_product_attention"});
  o.key_padding_mask = Tensor::zeros({1, 3}, DType::i32);
  testing::expect_error_containing([&] { scaled_dot_product_attention(gpu, gpu, gpu, o); },
                                   {"scaled_dot_product_attention", "key_padding_mask"});
}

}  // namespace
}  // namespace graft
