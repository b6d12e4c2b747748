// softmax_cross_entropy and cross_entropy_stats on the GPU against the CPU op:
// the loss, dlogits, stats, f32 and bf16, vocabularies from 3 to GPT-2's 50304,
// ignored targets, label smoothing, accumulation, bit-identical reruns, bad
// targets (the CPU's message) and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "ops/autograd.h"
#include "ops/cross_entropy.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

constexpr int32_t kIgnore = -100;

// Targets in [0, vocab) with about a quarter ignored.
Tensor make_targets(int64_t rows, int64_t vocab, std::mt19937_64& rng) {
  Tensor t = testing::random_indices({rows}, static_cast<int32_t>(vocab), rng);
  int32_t* p = t.data<int32_t>();
  for (int64_t i = 0; i < rows; ++i) {
    if (rng() % 4 == 0) p[i] = kIgnore;
  }
  return t;
}

struct Results {
  Tensor loss, dlogits;
};

Results run(const Tensor& logits_cpu, const Tensor& targets_cpu, double smoothing, Device device,
            DType dtype, int passes = 1, double upstream = 0.75) {
  Tensor logits = device == Device::cuda ? testing::to_gpu(logits_cpu, dtype) : logits_cpu.clone();
  Tensor targets = device == Device::cuda ? targets_cpu.to(Device::cuda) : targets_cpu;
  logits.set_requires_grad();
  Results r;
  for (int p = 0; p < passes; ++p) {
    r.loss = softmax_cross_entropy(logits, targets, {kIgnore, smoothing});
    Tensor seed = Tensor::scalar(upstream, r.loss.dtype());
    tape().backward(r.loss, device == Device::cuda ? seed.to(Device::cuda) : seed);
  }
  r.dlogits = logits.grad();
  return r;
}

std::string name(int64_t rows, int64_t vocab, double smoothing) {
  return "rows " + std::to_string(rows) + " V " + std::to_string(vocab) + " smoothing " +
         std::to_string(smoothing);
}

void check_against_cpu(DType dtype, double tolerance) {
  for (int64_t rows : {1, 3, 129}) {
    for (int64_t vocab : {3, 257, 50304}) {
      for (double smoothing : {0.0, 0.1}) {
        std::mt19937_64 rng(static_cast<uint64_t>(rows * 7 + vocab + smoothing * 10));
        Tensor logits = random_f32({rows, vocab}, rng, -4.0, 4.0, dtype == DType::bf16);
        Tensor targets = make_targets(rows, vocab, rng);
        const Results gpu = run(logits, targets, smoothing, Device::cuda, dtype);
        const Results cpu = run(logits, targets, smoothing, Device::cpu, DType::f32);
        const std::string what =
            std::string(dtype_name(dtype)) + " " + name(rows, vocab, smoothing);
        EXPECT_EQ(gpu.loss.dtype(), DType::f32) << what;
        EXPECT_EQ(gpu.loss.device(), Device::cuda) << what;
        EXPECT_EQ(gpu.loss.shape(), Shape{}) << what;
        EXPECT_EQ(gpu.dlogits.dtype(), dtype) << what;
        testing::expect_relative_error_below(gpu.loss, cpu.loss, tolerance, what + " loss");
        testing::expect_relative_error_below(gpu.dlogits, cpu.dlogits, tolerance,
                                             what + " dlogits");
      }
    }
  }
}

TEST(CudaCrossEntropy, F32MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  check_against_cpu(DType::f32, 1e-5);
}

TEST(CudaCrossEntropy, Bf16MatchesCpuOnRoundedInputs) {
  GRAFT_REQUIRE_GPU();
  check_against_cpu(DType::bf16, 1e-2);
}

TEST(CudaCrossEntropy, ManyRowsWithLeadingDims) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(1);
  Tensor logits = random_f32({4, 4097, 65}, rng, -3.0, 3.0);
  Tensor targets = make_targets(4 * 4097, 65, rng).reshape({4, 4097});
  const Results gpu = run(logits, targets, 0.1, Device::cuda, DType::f32);
  const Results cpu = run(logits, targets, 0.1, Device::cpu, DType::f32);
  testing::expect_relative_error_below(gpu.loss, cpu.loss, 1e-5, "16388 rows loss");
  testing::expect_relative_error_below(gpu.dlogits, cpu.dlogits, 1e-5, "16388 rows dlogits");
}

TEST(CudaCrossEntropy, AllIgnoredIsZeroWithZeroGradient) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(2);
  Tensor logits = random_f32({5, 257}, rng);
  Tensor targets = Tensor::full({5}, kIgnore, DType::i32);
  const Results gpu = run(logits, targets, 0.1, Device::cuda, DType::f32);
  EXPECT_EQ(gpu.loss.item(), 0.0);
  for (float g : gpu.dlogits.to_vector<float>())
    ASSERT_EQ(g, 0.0f);
  const CrossEntropyStats stats =
      cross_entropy_stats(logits.to(Device::cuda), targets.to(Device::cuda));
  EXPECT_EQ(stats.loss_sum, 0.0);
  EXPECT_EQ(stats.count, 0);
  EXPECT_EQ(stats.correct, 0);
}

TEST(CudaCrossEntropy, StatsMatchCpuWithTiesToLowestIndex) {
  GRAFT_REQUIRE_GPU();
  for (int64_t vocab : {3, 257, 50304}) {
    std::mt19937_64 rng(static_cast<uint64_t>(vocab));
    const int64_t rows = 129;
    Tensor logits = random_f32({rows, vocab}, rng, -2.0, 2.0, /*round_to_bf16=*/true);
    Tensor targets = make_targets(rows, vocab, rng);
    float* x = logits.data<float>();
    int32_t* t = targets.data<int32_t>();
    for (int64_t i = 0; i < rows; ++i) {
      if (t[i] == kIgnore) continue;
      // Rows 0 mod 3: the target is the max; 1 mod 3: the target ties the max
      // at a lower index (correct); 2 mod 3: at a higher one (wrong).
      const int64_t other = (t[i] + vocab / 2 + 1) % vocab;
      if (i % 3 == 0) x[i * vocab + t[i]] = 5.0f;
      if (i % 3 != 0 && other != t[i]) {
        x[i * vocab + t[i]] = 5.0f;
        x[i * vocab + other] = 5.0f;
      }
    }
    const CrossEntropyStats cpu = cross_entropy_stats(logits, targets, kIgnore);
    for (DType dtype : {DType::f32, DType::bf16}) {
      const CrossEntropyStats gpu =
          cross_entropy_stats(testing::to_gpu(logits, dtype), targets.to(Device::cuda), kIgnore);
      EXPECT_EQ(gpu.count, cpu.count) << vocab;
      EXPECT_EQ(gpu.correct, cpu.correct) << vocab << " " << dtype_name(dtype);
      EXPECT_NEAR(gpu.loss_sum, cpu.loss_sum, 1e-5 * std::fabs(cpu.loss_sum)) << vocab;
    }
  }
}

TEST(CudaCrossEntropy, GradientsAccumulateAcrossBackwardPasses) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    std::mt19937_64 rng(3);
    Tensor logits = random_f32({33, 1000}, rng, -3.0, 3.0, true);
    Tensor targets = make_targets(33, 1000, rng);
    const std::vector<double> once = testing::as_doubles(
        testing::to_cpu_f32(run(logits, targets, 0.1, Device::cuda, dtype, 1).dlogits));
    const std::vector<double> twice = testing::as_doubles(
        testing::to_cpu_f32(run(logits, targets, 0.1, Device::cuda, dtype, 2).dlogits));
    ASSERT_EQ(once.size(), twice.size());
    for (size_t i = 0; i < once.size(); ++i)
      ASSERT_EQ(twice[i], 2 * once[i]) << dtype_name(dtype) << " element " << i;
  }
}

TEST(CudaCrossEntropy, RerunsAreBitIdentical) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(4);
  Tensor logits = random_f32({1024, 50304}, rng, -4.0, 4.0);
  Tensor targets = make_targets(1024, 50304, rng);
  const Results a = run(logits, targets, 0.1, Device::cuda, DType::bf16);
  const Results b = run(logits, targets, 0.1, Device::cuda, DType::bf16);
  EXPECT_EQ(a.loss.item(), b.loss.item());
  EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(a.dlogits)),
            testing::as_doubles(testing::to_cpu_f32(b.dlogits)));
  const CrossEntropyStats s1 =
      cross_entropy_stats(logits.to(Device::cuda), targets.to(Device::cuda), kIgnore);
  const CrossEntropyStats s2 =
      cross_entropy_stats(logits.to(Device::cuda), targets.to(Device::cuda), kIgnore);
  EXPECT_EQ(s1.loss_sum, s2.loss_sum);
  EXPECT_EQ(s1.correct, s2.correct);
}

// The error's message without the "(check ... failed at file:line)" suffix,
// which names the source that threw.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    const std::string message = e.what();
    return message.substr(0, message.find(" (check"));
  }
  return "no error";
}

TEST(CudaCrossEntropy, BadTargetsGiveTheCpuMessage) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(5);
  Tensor logits = random_f32({300, 257}, rng);
  for (int32_t bad : {257, -1, 100000}) {
    Tensor targets = make_targets(300, 257, rng);
    targets.data<int32_t>()[211] = bad;
    targets.data<int32_t>()[250] = 257;  // a later bad target is not the one named
    const std::string cpu = error_of([&] { softmax_cross_entropy(logits, targets); });
    const std::string gpu =
        error_of([&] { softmax_cross_entropy(logits.to(Device::cuda), targets.to(Device::cuda)); });
    EXPECT_NE(cpu.find("at row 211"), std::string::npos) << cpu;
    EXPECT_EQ(gpu, cpu);
    const std::string cpu_stats = error_of([&] { cross_entropy_stats(logits, targets); });
    const std::string gpu_stats =
        error_of([&] { cross_entropy_stats(logits.to(Device::cuda), targets.to(Device::cuda)); });
    EXPECT_EQ(gpu_stats, cpu_stats);
  }
}

TEST(CudaCrossEntropy, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(6);
  Tensor targets = testing::random_indices({4}, 9, rng);
  Tensor logits64 = testing::random_tensor({4, 9}, rng, DType::f64).to(Device::cuda);
  testing::expect_error_containing(
      [&] { softmax_cross_entropy(logits64, targets.to(Device::cuda)); },
      {"softmax_cross_entropy", "f64"});
  Tensor logits = random_f32({4, 9}, rng).to(Device::cuda);
  testing::expect_error_containing([&] { softmax_cross_entropy(logits, targets); },
                                   {"softmax_cross_entropy", "different devices"});
}

}  // namespace
}  // namespace graft
