// Whole tiny models in float64: every parameter tensor's gradient, from one
// backward pass through every head's loss, against central differences.
#include <gtest/gtest.h>

#include <cmath>

#include "model/model.h"
#include "ops/autograd.h"
#include "ops/binary_cross_entropy.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

struct Variant {
  const char* name;
  ModelKind kind;
  PositionKind positions = PositionKind::learned;
  NormKind norm = NormKind::layer;
  bool tie = true;
  bool cross = false;  // decoder kind only
  Pooling pooling = Pooling::first_token;
  double dropout = 0.0;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

// Inputs of one step: batch 2, encoder length 6 and decoder length 5, the
// second sequence of each side padded at the end.
struct Batch {
  Tensor enc_ids, enc_mask, dec_ids, dec_mask, memory;
  Tensor lm_targets, mlm_targets, rtd_targets, labels;
};

Batch make_batch(const ModelConfig& c) {
  std::mt19937_64 rng(11);
  Batch b;
  b.enc_ids = testing::random_ids(2, 6, static_cast<int32_t>(c.vocab_size), rng);
  b.enc_mask = testing::ids_tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2);
  b.dec_ids = testing::random_ids(2, 5, static_cast<int32_t>(c.vocab_size), rng);
  b.dec_mask = testing::ids_tensor({1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2);
  b.memory = testing::random_tensor({2, 6, c.d_model}, rng);
  const int64_t lm_len = c.has_decoder() ? 5 : 6, enc_len = c.has_encoder() ? 6 : 5;
  b.lm_targets = testing::random_ids(2, lm_len, static_cast<int32_t>(c.vocab_size), rng);
  b.mlm_targets = testing::random_ids(2, enc_len, static_cast<int32_t>(c.vocab_size), rng);
  b.rtd_targets = testing::random_ids(2, enc_len, 2, rng).to(DType::f64);
  b.labels = testing::random_ids(2, 1, static_cast<int32_t>(c.num_classes), rng).reshape({2});
  return b;
}

// The sum of every head's loss, each on the stack its FLOPs are counted on.
Tensor total_loss(const Model& model, const Batch& b, uint64_t seed) {
  const ModelConfig& c = model.config();
  ForwardContext context(/*training=*/c.dropout > 0, seed);
  Tensor enc, dec;
  if (c.has_encoder()) enc = model.encode(context, b.enc_ids, b.enc_mask);
  if (c.has_decoder()) {
    const bool x = c.decoder_cross_attention();
    const Tensor memory = !x ? Tensor() : c.has_encoder() ? enc : b.memory;
    dec = model.decode(context, b.dec_ids, b.dec_mask, memory, x ? b.enc_mask : Tensor());
  }
  const Tensor top = dec.defined() ? dec : enc, bottom = enc.defined() ? enc : dec;
  const Tensor bottom_mask = enc.defined() ? b.enc_mask : b.dec_mask;
  Tensor loss = softmax_cross_entropy(model.lm_logits(top), b.lm_targets);
  loss = add(loss, softmax_cross_entropy(model.mlm_logits(bottom), b.mlm_targets));
  loss = add(loss, bce_with_logits(model.rtd_logits(bottom), b.rtd_targets));
  return add(loss, softmax_cross_entropy(model.classify(bottom, bottom_mask), b.labels));
}

class ModelGradients : public ::testing::TestWithParam<Variant> {};

TEST_P(ModelGradients, EveryParameterMatchesFiniteDifferences) {
  const Variant v = GetParam();
  ModelConfig c = testing::tiny_config(v.kind);
  c.positions = v.positions;
  c.norm = v.norm;
  c.tie_embeddings = v.tie;
  c.cross_attention = v.cross;
  c.pooling = v.pooling;
  c.dropout = v.dropout;
  auto model = make_model(c, 3, DType::f64);
  const Batch batch = make_batch(c);
  const uint64_t seed = 99;

  tape().clear();
  model->parameters().zero_grad();
  tape().backward(total_loss(*model, batch, seed));

  NoGradGuard no_grad;
  std::mt19937_64 rng(5);
  const double eps = 1e-6;
  for (const NamedParameter& p : model->parameters().entries()) {
    ASSERT_TRUE(p.tensor.has_grad()) << p.name << " got no gradient";
    const double* grad = p.tensor.grad().data<double>();
    double* values = p.tensor.data<double>();
    // Three random elements and the one with the largest gradient, which must
    // not be zero: every parameter influences some head's loss.
    std::vector<int64_t> picks;
    int64_t largest = 0;
    for (int64_t i = 0; i < p.tensor.numel(); ++i) {
      if (std::fabs(grad[i]) > std::fabs(grad[largest])) largest = i;
    }
    // A key bias adds the same score to every key of a query, which softmax
    // cancels: its gradient is zero unless rotary positions rotate it
    // differently per position (self-attention only).
    const bool key_bias_cancels =
        glob_match("*cross_attn.k.bias", p.name) ||
        (glob_match("*.attn.k.bias", p.name) && c.positions == PositionKind::learned);
    if (key_bias_cancels) {
      EXPECT_LT(std::fabs(grad[largest]), 1e-12) << p.name;
    } else {
      EXPECT_GT(std::fabs(grad[largest]), 1e-8) << p.name << " has an all-zero gradient";
    }
    picks.push_back(largest);
    std::uniform_int_distribution<int64_t> pick(0, p.tensor.numel() - 1);
    for (int k = 0; k < 3; ++k)
      picks.push_back(pick(rng));
    for (int64_t i : picks) {
      const double saved = values[i];
      values[i] = saved + eps;
      const double plus = total_loss(*model, batch, seed).item();
      values[i] = saved - eps;
      const double minus = total_loss(*model, batch, seed).item();
      values[i] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      EXPECT_NEAR(grad[i], numeric, 1e-8 + 1e-5 * std::fabs(numeric)) << p.name << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, ModelGradients,
    ::testing::Values(Variant{"encoder", ModelKind::encoder},
                      Variant{"encoder_rotary_rms_mean_pool", ModelKind::encoder,
                              PositionKind::rotary, NormKind::rms, true, false, Pooling::mean},
                      Variant{"decoder", ModelKind::decoder},
                      Variant{"decoder_untied_rotary", ModelKind::decoder, PositionKind::rotary,
                              NormKind::layer, false},
                      Variant{"decoder_cross_attention", ModelKind::decoder, PositionKind::learned,
                              NormKind::layer, true, true},
                      Variant{"encoder_decoder", ModelKind::encoder_decoder},
                      Variant{"encoder_decoder_untied_rms_mean_pool", ModelKind::encoder_decoder,
                              PositionKind::learned, NormKind::rms, false, false, Pooling::mean},
                      // Dropout on: the same seed must give the same masks in every forward.
                      Variant{"encoder_decoder_dropout", ModelKind::encoder_decoder,
                              PositionKind::rotary, NormKind::layer, true, false,
                              Pooling::first_token, 0.2}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace graft
