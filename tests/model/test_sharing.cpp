// share_encoder_decoder (BERTShare): the decoder's layers are the encoder's
// tensors under alias names, stored once, trained once with the gradient of
// both uses.
#include <gtest/gtest.h>

#include "model/config_toml.h"
#include "model/counts.h"
#include "model/model.h"
#include "ops/autograd.h"
#include "ops/cross_entropy.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

ModelConfig shared_config() {
  ModelConfig c = testing::tiny_config(ModelKind::encoder_decoder);
  c.share_encoder_decoder = true;
  return c;
}

TEST(Sharing, DecoderNamesAliasEncoderTensorsExceptCrossAttention) {
  const ModelConfig c = shared_config();
  auto model = make_model(c, 3);
  const Parameters& p = model->parameters();
  EXPECT_TRUE(p.match("decoder.layers.*.attn.*").empty());
  EXPECT_TRUE(p.match("decoder.positions.*").empty());
  EXPECT_TRUE(p.match("decoder.final_norm.*").empty());
  EXPECT_EQ(p.match("decoder.*"), p.match("decoder.layers.*.cross_attn*"));
  EXPECT_FALSE(p.match("decoder.layers.1.cross_attn.k.weight").empty());

  for (const char* rest : {"layers.0.attn.q.weight", "layers.1.mlp.down.bias",
                           "layers.1.attn_norm.weight", "final_norm.bias", "positions.weight"}) {
    const std::string dec = std::string("decoder.") + rest, enc = std::string("encoder.") + rest;
    EXPECT_TRUE(p.is_alias(dec)) << dec;
    EXPECT_EQ(p.canonical_name(dec), enc);
    EXPECT_TRUE(p.contains(dec));
    EXPECT_TRUE(p.get(dec).same_storage(p.get(enc))) << dec;
  }
  EXPECT_FALSE(p.is_alias("decoder.layers.0.cross_attn.q.weight"));
  // Every decoder name of the unshared model is reachable, each once.
  auto unshared = make_model(testing::tiny_config(ModelKind::encoder_decoder), 3);
  for (const std::string& name : unshared->parameters().names())
    EXPECT_TRUE(p.contains(name)) << name;
  EXPECT_EQ(p.size() + p.aliases().size(), unshared->parameters().size());

  const ParameterCounts n = closed_form_parameter_counts(c);
  EXPECT_EQ(p.numel(), n.stored());
  EXPECT_EQ(n.total(), unshared->parameters().numel());
}

TEST(Sharing, AnUpdateThroughOneNameIsSeenThroughTheOther) {
  auto model = make_model(shared_config(), 3);
  const Parameters& p = model->parameters();
  p.get("decoder.layers.1.mlp.up.weight").fill(0.25);
  EXPECT_EQ(p.get("encoder.layers.1.mlp.up.weight").to_vector<float>(),
            std::vector<float>(p.get("encoder.layers.1.mlp.up.weight").numel(), 0.25f));
}

// The shared tensor's gradient is the sum of the gradients the encoder and
// the decoder use would get as separate tensors holding the same values.
TEST(Sharing, GradientOfASharedTensorSumsBothUses) {
  auto shared = make_model(shared_config(), 3, DType::f64);
  ModelConfig plain_config = shared_config();
  plain_config.share_encoder_decoder = false;
  auto plain = make_model(plain_config, 9, DType::f64);
  // Alias names resolve on the source side, so this copies the encoder's
  // values into both stacks of the unshared model.
  EXPECT_EQ(plain->parameters().copy_matching(shared->parameters()).size(),
            plain->parameters().size());

  std::mt19937_64 rng(4);
  const Tensor src = testing::random_ids(2, 5, 11, rng), tgt = testing::random_ids(2, 4, 11, rng);
  const Tensor labels = testing::random_ids(2, 4, 11, rng);
  auto loss_grads = [&](const Model& m) {
    m.parameters().zero_grad();
    ForwardContext eval;
    const auto& encdec = dynamic_cast<const EncoderDecoder&>(m);
    const Tensor loss =
        softmax_cross_entropy(m.lm_logits(encdec.forward(eval, src, Tensor(), tgt)), labels);
    tape().backward(loss);
    return loss.item();
  };
  EXPECT_DOUBLE_EQ(loss_grads(*shared), loss_grads(*plain));
  for (const char* rest : {"layers.0.attn.q.weight", "layers.1.mlp.up.bias", "positions.weight",
                           "final_norm.weight"}) {
    const std::vector<double> both =
        testing::as_doubles(shared->parameters().get(std::string("encoder.") + rest).grad());
    const std::vector<double> enc =
        testing::as_doubles(plain->parameters().get(std::string("encoder.") + rest).grad());
    const std::vector<double> dec =
        testing::as_doubles(plain->parameters().get(std::string("decoder.") + rest).grad());
    ASSERT_EQ(both.size(), enc.size());
    for (size_t i = 0; i < both.size(); ++i)
      EXPECT_NEAR(both[i], enc[i] + dec[i], 1e-12) << rest << " [" << i << "]";
  }
}

TEST(Sharing, ConfigIsValidatedAndRoundTripsThroughToml) {
  ModelConfig c = shared_config();
  c.decoder_layers = 3;
  EXPECT_THROW(c.validate(), InputError);
  ModelConfig dec = testing::tiny_config(ModelKind::decoder);
  dec.share_encoder_decoder = true;
  try {
    dec.validate();
    FAIL() << "a shared decoder-only config was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("share_encoder_decoder"), std::string::npos) << e.what();
  }
  const toml::table table = model_config_to_toml(shared_config());
  EXPECT_TRUE(model_config_from_toml(table, "test").share_encoder_decoder);
}

}  // namespace
}  // namespace graft
