// A tiny model trained on the GPU against the same model trained on the CPU:
// the whole stack (ops, tape, Trainer, AdamW, clipping) on device tensors.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/cuda_compare.h"
#include "tests/train/train_fixtures.h"
#include "train/trainer.h"

namespace graft {
namespace {

using testing::pattern_source;
using testing::quick_options;
using testing::train_steps;

const TokenPredictionTask kLm(TokenPredictionTask::Head::lm);

ModelConfig tiny_decoder() {
  ModelConfig c = testing::small_decoder(/*vocab=*/97, /*dropout=*/0.1);
  c.d_model = 64;
  c.num_heads = 4;
  c.d_ff = 256;
  c.max_positions = 64;
  return c;
}

ModelConfig tiny_encoder_decoder() {
  ModelConfig c = tiny_decoder();
  c.kind = ModelKind::encoder_decoder;
  c.encoder_layers = 2;
  return c;
}

std::vector<double> curve(const ModelConfig& config, Device device, DType dtype, int64_t steps,
                          std::vector<Tensor>* final_params = nullptr) {
  std::unique_ptr<Model> model = make_model(config, /*seed=*/11, DType::f32);
  if (device != Device::cpu) model->place(device, dtype);
  Trainer trainer(*model, kLm, quick_options(steps, /*seed=*/5));
  std::vector<double> losses = train_steps(trainer, pattern_source(4, 48, 97), steps, 2);
  if (final_params) {
    for (const NamedParameter& p : model->parameters().entries())
      final_params->push_back(testing::to_cpu_f32(p.tensor));
  }
  return losses;
}

TEST(CudaTraining, F32DecoderTracksTheCpuLossCurveFor20Steps) {
  GRAFT_REQUIRE_GPU();
  std::vector<Tensor> cpu_params, gpu_params;
  const std::vector<double> cpu = curve(tiny_decoder(), Device::cpu, DType::f32, 20, &cpu_params);
  const std::vector<double> gpu = curve(tiny_decoder(), Device::cuda, DType::f32, 20, &gpu_params);
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(gpu[i], cpu[i], 1e-4 * std::fabs(cpu[i])) << "step " << i + 1;
  EXPECT_LT(gpu.back(), gpu.front() - 0.5) << "the GPU run did not learn";
  for (size_t i = 0; i < cpu_params.size(); ++i)
    testing::expect_relative_error_below(gpu_params[i], cpu_params[i], 1e-3,
                                         "parameter " + std::to_string(i));
}

TEST(CudaTraining, F32EncoderDecoderTracksTheCpuLossCurve) {
  GRAFT_REQUIRE_GPU();
  // Span-corruption-like batches are not needed here: the LM head of an
  // encoder-decoder reading the same ids exercises cross-attention.
  const std::vector<double> cpu = curve(tiny_encoder_decoder(), Device::cpu, DType::f32, 10);
  const std::vector<double> gpu = curve(tiny_encoder_decoder(), Device::cuda, DType::f32, 10);
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(gpu[i], cpu[i], 1e-4 * std::fabs(cpu[i])) << "step " << i + 1;
}

TEST(CudaTraining, Bf16MixedPrecisionTracksTheCpuLossCurve) {
  GRAFT_REQUIRE_GPU();
  const std::vector<double> cpu = curve(tiny_decoder(), Device::cpu, DType::f32, 20);
  const std::vector<double> gpu = curve(tiny_decoder(), Device::cuda, DType::bf16, 20);
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(gpu[i], cpu[i], 2e-2 * std::fabs(cpu[i])) << "step " << i + 1;
  EXPECT_LT(gpu.back(), gpu.front() - 0.5) << "the bf16 run did not learn";
}

TEST(CudaTraining, GpuRunsAreBitIdenticalRunToRun) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    const std::vector<double> first = curve(tiny_decoder(), Device::cuda, dtype, 6);
    const std::vector<double> second = curve(tiny_decoder(), Device::cuda, dtype, 6);
    for (size_t i = 0; i < first.size(); ++i)
      EXPECT_EQ(first[i], second[i]) << dtype_name(dtype) << " step " << i + 1;
  }
}

}  // namespace
}  // namespace graft
