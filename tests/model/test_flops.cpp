// The analytic formulas against what the kernels really executed, and the
// closed-form parameter counts against the built registry.
#include <gtest/gtest.h>

#include "model/counts.h"
#include "model/flops.h"
#include "model/model.h"
#include "ops/autograd.h"
#include "ops/binary_cross_entropy.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "tests/model/tiny_models.h"

namespace graft {
namespace {

struct Variant {
  const char* name;
  ModelKind kind;
  bool tie = true;
  PositionKind positions = PositionKind::learned;
  NormKind norm = NormKind::layer;
  bool cross = false;
  Pooling pooling = Pooling::first_token;
  bool all_heads = true;  // false: only the kind's default head
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

// A config whose sizes are all different, so a formula that mixes up d_model,
// d_ff, vocab, lengths or layer counts cannot match by accident.
ModelConfig flops_config(const Variant& v) {
  ModelConfig c;
  c.kind = v.kind;
  c.vocab_size = 37;
  c.d_model = 12;
  c.num_heads = 3;
  c.d_ff = 20;
  c.encoder_layers = v.kind == ModelKind::decoder ? 0 : 2;
  c.decoder_layers = v.kind == ModelKind::encoder ? 0 : 3;
  c.max_positions = 16;
  c.positions = v.positions;
  c.norm = v.norm;
  c.tie_embeddings = v.tie;
  c.cross_attention = v.cross;
  c.pooling = v.pooling;
  c.dropout = 0.1;
  c.lm_head = v.all_heads || v.kind != ModelKind::encoder;
  c.mlm_head = v.all_heads || v.kind == ModelKind::encoder;
  c.rtd_head = v.all_heads;
  c.num_classes = v.all_heads ? 5 : 0;
  return c;
}

class StepFlops : public ::testing::TestWithParam<Variant> {};

// One training step (forward, every head's loss, backward; all parameters
// trainable, dropout on, padding present): the ledger's matmul and attention
// counts equal the formula's exactly, forward and backward.
TEST_P(StepFlops, LedgerEqualsAnalyticFormula) {
  const ModelConfig c = flops_config(GetParam());
  auto model = make_model(c, 1);
  const StepShape shape{3, 7, 9};  // batch 3, encoder (or memory) 7, decoder 9
  std::mt19937_64 rng(2);
  const int32_t v = static_cast<int32_t>(c.vocab_size);
  const Tensor enc_ids = testing::random_ids(3, 7, v, rng);
  const Tensor enc_mask =
      testing::ids_tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0}, 3);
  const Tensor dec_ids = testing::random_ids(3, 9, v, rng);
  const Tensor memory = Tensor::full({3, 7, c.d_model}, 0.5);

  tape().clear();
  flops_ledger().reset();
  ForwardContext context(true, 17);
  Tensor enc, dec;
  if (c.has_encoder()) enc = model->encode(context, enc_ids, enc_mask);
  if (c.has_decoder()) {
    const bool x = c.decoder_cross_attention();
    dec = model->decode(context, dec_ids, Tensor(), x ? (enc.defined() ? enc : memory) : Tensor(),
                        x ? enc_mask : Tensor());
  }
  const Tensor top = dec.defined() ? dec : enc, bottom = enc.defined() ? enc : dec;
  const Tensor& top_ids = dec.defined() ? dec_ids : enc_ids;
  const Tensor& bottom_ids = enc.defined() ? enc_ids : dec_ids;
  Tensor loss = Tensor::scalar(0.0);
  if (c.lm_head) loss = add(loss, softmax_cross_entropy(model->lm_logits(top), top_ids));
  if (c.mlm_head) loss = add(loss, softmax_cross_entropy(model->mlm_logits(bottom), bottom_ids));
  if (c.rtd_head) {
    loss = add(loss,
               bce_with_logits(model->rtd_logits(bottom), Tensor::full(bottom_ids.shape(), 1.0)));
  }
  if (c.has_classifier()) {
    const Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 4, 2}, {3});
    loss =
        add(loss,
            softmax_cross_entropy(
                model->classify(bottom, enc_mask.defined() && enc.defined() ? enc_mask : Tensor()),
                labels));
  }
  const FlopsLedger forward_only = flops_ledger();
  tape().backward(loss);

  const ModelFlops expected = training_step_flops(c, shape);
  EXPECT_EQ(forward_only.forward().matmul, expected.forward.matmul);
  EXPECT_EQ(forward_only.forward().attention, expected.forward.attention);
  EXPECT_EQ(forward_only.backward().model(), 0.0);
  EXPECT_EQ(flops_ledger().forward().matmul, expected.forward.matmul);
  EXPECT_EQ(flops_ledger().forward().attention, expected.forward.attention);
  EXPECT_EQ(flops_ledger().backward().matmul, expected.backward.matmul);
  EXPECT_EQ(flops_ledger().backward().attention, expected.backward.attention);
  EXPECT_EQ(flops_ledger().model_total(), expected.total());
  EXPECT_GT(expected.forward.attention, 0.0);
  for (const NamedParameter& p : model->parameters().entries()) {
    if (glob_match("*k.bias", p.name)) continue;  // may be exactly zero (softmax shift)
    EXPECT_TRUE(p.tensor.has_grad()) << p.name << ": the step did not train everything";
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, StepFlops,
    ::testing::Values(Variant{"encoder", ModelKind::encoder},
                      Variant{"encoder_mlm_only", ModelKind::encoder, true, PositionKind::rotary,
                              NormKind::rms, false, Pooling::mean, false},
                      Variant{"encoder_untied_mean_pool", ModelKind::encoder, false,
                              PositionKind::learned, NormKind::layer, false, Pooling::mean},
                      Variant{"decoder", ModelKind::decoder},
                      Variant{"decoder_lm_only_rotary_untied", ModelKind::decoder, false,
                              PositionKind::rotary, NormKind::rms, false, Pooling::first_token,
                              false},
                      Variant{"decoder_cross_attention", ModelKind::decoder, true,
                              PositionKind::learned, NormKind::layer, true},
                      Variant{"encoder_decoder", ModelKind::encoder_decoder},
                      Variant{"encoder_decoder_lm_only_untied", ModelKind::encoder_decoder, false,
                              PositionKind::rotary, NormKind::layer, false, Pooling::first_token,
                              false}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

// The formula written out for one encoder-decoder in RECIPES.md's terms
// (training = 3 × forward): a check on the implementation's algebra that does
// not reuse its code.
TEST(AnalyticFlops, EncoderDecoderMatchesTheRecipesFormula) {
  ModelConfig c = model_preset(ModelKind::encoder_decoder, "base");
  const double h = 512, f = 2048, v = 32768, le = 6, ld = 6, se = 512, sd = 114, b = 8;
  const double n_enc = le * (4 * h * h + 2 * h * f);
  const double n_xkv = 2 * h * h * ld;
  const double n_dec = ld * (4 * h * h + 2 * h * f + 4 * h * h);
  const double per_example = 6 * se * n_enc + 12 * le * se * se * h + 6 * sd * (n_dec - n_xkv) +
                             12 * ld * sd * sd * h + 12 * ld * sd * se * h + 6 * se * n_xkv +
                             6 * sd * h * v;
  const ModelFlops m = training_step_flops(c, {8, 512, 114});
  EXPECT_DOUBLE_EQ(m.total(), b * per_example);
  EXPECT_DOUBLE_EQ(m.backward.model(), 2 * m.forward.model());
  // A frozen encoder prices as its forward only.
  const ForwardFlopsParts parts = forward_flops_parts(c, {8, 512, 114});
  EXPECT_DOUBLE_EQ(parts.encoder.model(), b * (2 * se * n_enc + 4 * le * se * se * h));
  EXPECT_DOUBLE_EQ(parts.decoder_cross_kv.matmul, b * 2 * se * n_xkv);
}

// A decoder's model FLOPs per token are PaLM's 6·N + 12·L·D·T, with N the
// GEMM weights (the tied LM head counted as a GEMM).
TEST(AnalyticFlops, DecoderPerTokenIsPalmsFormula) {
  const ModelConfig c = model_preset(ModelKind::decoder, "small");
  const double d = 256, l = 4, t = 128;
  const double n = l * (4 * d * d + 2 * d * 1024) + d * 8192;
  EXPECT_DOUBLE_EQ(model_flops_per_token(c, {4, 0, 128}), 6 * n + 12 * l * d * t);
  const ParameterCounts counts = closed_form_parameter_counts(c);
  EXPECT_DOUBLE_EQ(kaplan_flops_per_token(c), 6.0 * counts.non_embedding());
  EXPECT_DOUBLE_EQ(kaplan_flops_per_token(c, true), 6.0 * counts.total());
  EXPECT_THROW(training_step_flops(c, {4, 0, 0}), InputError);
}

class ParameterCountsTest : public ::testing::TestWithParam<Variant> {};

TEST_P(ParameterCountsTest, RegistryEqualsClosedForm) {
  const ModelConfig c = flops_config(GetParam());
  auto model = make_model(c);
  const Parameters& p = model->parameters();
  const ParameterCounts n = closed_form_parameter_counts(c);
  EXPECT_EQ(p.numel(), n.total());
  EXPECT_EQ(p.numel_with_prefix("embed."), n.token_embedding);
  EXPECT_EQ(p.numel_with_prefix("encoder.") + p.numel_with_prefix("decoder."),
            n.encoder + n.decoder + n.positions);
  int64_t positions = 0, cross_kv = 0;
  for (const std::string& name : p.match("*.positions.weight"))
    positions += p.get(name).numel();
  for (const char* pattern :
       {"decoder.layers.*.cross_attn.k.weight", "decoder.layers.*.cross_attn.v.weight"}) {
    for (const std::string& name : p.match(pattern))
      cross_kv += p.get(name).numel();
  }
  EXPECT_EQ(positions, n.positions);
  EXPECT_EQ(cross_kv, n.decoder_cross_kv);
  EXPECT_EQ(p.numel() - p.numel_with_prefix("encoder.") - p.numel_with_prefix("decoder.") -
                p.numel_with_prefix("embed."),
            n.heads);
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, ParameterCountsTest,
    ::testing::Values(Variant{"encoder", ModelKind::encoder},
                      Variant{"encoder_rotary_rms", ModelKind::encoder, true, PositionKind::rotary,
                              NormKind::rms},
                      Variant{"decoder_untied", ModelKind::decoder, false},
                      Variant{"decoder_cross_rms", ModelKind::decoder, true, PositionKind::learned,
                              NormKind::rms, true},
                      Variant{"encoder_decoder", ModelKind::encoder_decoder},
                      Variant{"encoder_decoder_untied_rotary", ModelKind::encoder_decoder, false,
                              PositionKind::rotary, NormKind::layer, false, Pooling::mean, false}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

// The presets too, as they are what users run (checked without allocating).
TEST(ParameterCounts, PresetsMatchTheirArchitecture) {
  const ModelConfig c = model_preset(ModelKind::decoder, "base");
  const ParameterCounts n = closed_form_parameter_counts(c);
  EXPECT_EQ(n.token_embedding, 32768 * 512);
  EXPECT_EQ(n.positions, 512 * 512);
  EXPECT_EQ(n.decoder,
            12 * (2 * 1024 + 4 * 512 * 512 + 4 * 512 + 2 * 512 * 2048 + 2048 + 512) + 1024);
  EXPECT_EQ(n.heads, 0);
  auto tiny = make_model(model_preset(ModelKind::encoder_decoder, "tiny"));
  EXPECT_EQ(tiny->parameters().numel(),
            closed_form_parameter_counts(model_preset(ModelKind::encoder_decoder, "tiny")).total());
}

}  // namespace
}  // namespace graft
