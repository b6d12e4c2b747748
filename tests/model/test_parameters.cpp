#include <gtest/gtest.h>

#include <cmath>

#include "model/model.h"
#include "model/parameters.h"
#include "tests/model/tiny_models.h"

namespace graft {
namespace {

TEST(GlobMatch, StarMatchesAnyRunIncludingDots) {
  EXPECT_TRUE(glob_match("encoder.*", "encoder.layers.3.attn.q.weight"));
  EXPECT_TRUE(glob_match("*.attn.*.bias", "decoder.layers.0.attn.o.bias"));
  EXPECT_FALSE(glob_match("*.attn.*.bias", "decoder.layers.0.cross_attn.o.weight"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("exact.name", "exact.name"));
  EXPECT_FALSE(glob_match("exact.name", "exact.names"));
  EXPECT_FALSE(glob_match("encoder.*", "decoder.layers.0.attn.q.weight"));
  EXPECT_TRUE(glob_match("**layers.1*", "encoder.layers.1.mlp.up.weight"));
  EXPECT_FALSE(glob_match("*layers.1.*", "encoder.layers.10.mlp.up.weight"));
}

TEST(Parameters, LookupByNameAndUnknownNamesListNearNames) {
  Parameters p;
  p.add("encoder.layers.0.attn.q.weight", Tensor::zeros({2, 2}));
  p.add("encoder.layers.0.attn.k.weight", Tensor::zeros({2, 2}));
  p.add("embed.tokens.weight", Tensor::zeros({5, 2}));
  EXPECT_EQ(p.get("embed.tokens.weight").numel(), 10);
  EXPECT_TRUE(p.contains("encoder.layers.0.attn.k.weight"));
  EXPECT_FALSE(p.contains("encoder.layers.0.attn.v.weight"));
  try {
    p.get("encoder.layers.0.atn.q.weight");
    FAIL() << "unknown name accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'encoder.layers.0.atn.q.weight'"), std::string::npos) << message;
    EXPECT_NE(message.find("closest: encoder.layers.0.attn.q.weight"), std::string::npos)
        << message;
  }
  EXPECT_THROW(p.add("embed.tokens.weight", Tensor::zeros({1})), Error);
}

TEST(Parameters, GlobFreezingAndCounts) {
  auto model = make_model(testing::tiny_config(ModelKind::encoder_decoder));
  Parameters& p = model->parameters();
  const int64_t total = p.numel();
  EXPECT_EQ(p.trainable_numel(), total);
  EXPECT_EQ(p.numel_with_prefix("encoder.") + p.numel_with_prefix("decoder.") +
                p.numel_with_prefix("embed.") + p.numel_with_prefix("mlm_head.") +
                p.numel_with_prefix("rtd_head.") + p.numel_with_prefix("classifier."),
            total);

  const size_t frozen = p.freeze("encoder.*");
  EXPECT_EQ(frozen, p.match("encoder.*").size());
  EXPECT_GT(frozen, 0u);
  EXPECT_EQ(p.trainable_numel(), total - p.numel_with_prefix("encoder."));
  for (const NamedParameter& e : p.entries()) {
    EXPECT_EQ(e.tensor.requires_grad(), e.name.rfind("encoder.", 0) != 0) << e.name;
  }
  // Every cross-attention query weight of the decoder, and nothing else.
  const std::vector<std::string> q = p.match("decoder.layers.*.cross_attn.q.weight");
  EXPECT_EQ(q, (std::vector<std::string>{"decoder.layers.0.cross_attn.q.weight",
                                         "decoder.layers.1.cross_attn.q.weight"}));
  p.unfreeze("*");
  EXPECT_EQ(p.trainable_numel(), total);
  EXPECT_THROW(p.freeze("encoder.layer.*"), InputError);
}

}  // namespace
}  // namespace graft

namespace graft {
namespace {

std::vector<std::string> layer_names(const std::string& prefix, bool cross) {
  std::vector<std::string> out{prefix + ".attn_norm.weight", prefix + ".attn_norm.bias"};
  for (const char* p : {"q", "k", "v", "o"}) {
    out.push_back(prefix + ".attn." + p + ".weight");
    out.push_back(prefix + ".attn." + p + ".bias");
  }
  if (cross) {
    out.push_back(prefix + ".cross_attn_norm.weight");
    out.push_back(prefix + ".cross_attn_norm.bias");
    for (const char* p : {"q", "k", "v", "o"}) {
      out.push_back(prefix + ".cross_attn." + p + ".weight");
      out.push_back(prefix + ".cross_attn." + p + ".bias");
    }
  }
  for (const char* p : {"mlp_norm.weight", "mlp_norm.bias", "mlp.up.weight", "mlp.up.bias",
                        "mlp.down.weight", "mlp.down.bias"}) {
    out.push_back(prefix + "." + p);
  }
  return out;
}

// The binding naming scheme, spelled out: recipes move weights by these names.
TEST(Parameters, EncoderDecoderNamesFollowTheScheme) {
  ModelConfig c = testing::tiny_config(ModelKind::encoder_decoder);
  c.encoder_layers = 1;
  c.decoder_layers = 1;
  c.tie_embeddings = false;
  auto model = make_model(c);
  std::vector<std::string> expected{"embed.tokens.weight", "encoder.positions.weight"};
  for (const std::string& n : layer_names("encoder.layers.0", false))
    expected.push_back(n);
  expected.insert(expected.end(), {"encoder.final_norm.weight", "encoder.final_norm.bias",
                                   "decoder.positions.weight"});
  for (const std::string& n : layer_names("decoder.layers.0", true))
    expected.push_back(n);
  expected.insert(
      expected.end(),
      {"decoder.final_norm.weight", "decoder.final_norm.bias", "lm_head.weight",
       "mlm_head.transform.weight", "mlm_head.transform.bias", "mlm_head.norm.weight",
       "mlm_head.norm.bias", "mlm_head.bias", "rtd_head.dense.weight", "rtd_head.dense.bias",
       "rtd_head.out.weight", "rtd_head.out.bias", "classifier.out.weight", "classifier.out.bias"});
  EXPECT_EQ(model->parameters().names(), expected);

  const Parameters& p = model->parameters();
  EXPECT_EQ(p.get("decoder.layers.0.mlp.up.weight").shape(), (Shape{c.d_ff, c.d_model}));
  EXPECT_EQ(p.get("decoder.layers.0.mlp.down.weight").shape(), (Shape{c.d_model, c.d_ff}));
  EXPECT_EQ(p.get("rtd_head.out.weight").shape(), (Shape{1, c.d_model}));
  EXPECT_EQ(p.get("classifier.out.weight").shape(), (Shape{c.num_classes, c.d_model}));
  EXPECT_EQ(p.get("mlm_head.bias").shape(), (Shape{c.vocab_size}));
  EXPECT_EQ(p.get("encoder.positions.weight").shape(), (Shape{c.max_positions, c.d_model}));
}

TEST(Parameters, RotaryRmsTiedDecoderHasNoPositionsNormBiasesOrLmWeight) {
  ModelConfig c = testing::tiny_config(ModelKind::decoder);
  c.positions = PositionKind::rotary;
  c.norm = NormKind::rms;
  c.mlm_head = c.rtd_head = false;
  c.num_classes = 0;
  auto model = make_model(c);
  const Parameters& p = model->parameters();
  EXPECT_TRUE(p.match("*positions*").empty());
  EXPECT_TRUE(p.match("*norm.bias").empty());
  EXPECT_FALSE(p.contains("lm_head.weight"));
  EXPECT_TRUE(p.contains("decoder.final_norm.weight"));
  EXPECT_TRUE(p.match("*cross_attn*").empty());
  EXPECT_EQ(p.match("decoder.layers.1.*").size(), 14u);  // 2 norms + 8 attn + 4 mlp
}

// Parameters shared by name get the same initial values in every kind: the
// initialiser is keyed by name, not by creation order.
TEST(Parameters, InitialisationIsKeyedByNameAndSeed) {
  auto dec = make_model(testing::tiny_config(ModelKind::decoder), 5);
  auto encdec = make_model(testing::tiny_config(ModelKind::encoder_decoder), 5);
  auto other_seed = make_model(testing::tiny_config(ModelKind::decoder), 6);
  for (const char* name : {"embed.tokens.weight", "decoder.layers.1.attn.q.weight",
                           "decoder.positions.weight", "rtd_head.out.weight"}) {
    EXPECT_EQ(dec->parameters().get(name).to_vector<float>(),
              encdec->parameters().get(name).to_vector<float>())
        << name;
    EXPECT_NE(dec->parameters().get(name).to_vector<float>(),
              other_seed->parameters().get(name).to_vector<float>())
        << name;
  }
  EXPECT_NE(dec->parameters().get("decoder.layers.0.attn.q.weight").to_vector<float>(),
            dec->parameters().get("decoder.layers.0.attn.k.weight").to_vector<float>());
  // Norm weights start at one, biases at zero; weights have about init_std.
  const std::vector<float> norm =
      dec->parameters().get("decoder.final_norm.weight").to_vector<float>();
  EXPECT_EQ(norm, std::vector<float>(norm.size(), 1.0f));
  const std::vector<float> bias =
      dec->parameters().get("decoder.layers.0.mlp.up.bias").to_vector<float>();
  EXPECT_EQ(bias, std::vector<float>(bias.size(), 0.0f));
  ModelConfig big = model_preset(ModelKind::decoder, "tiny");
  auto model = make_model(big, 1);
  const std::vector<float> w = model->parameters().get("embed.tokens.weight").to_vector<float>();
  double sum = 0, squares = 0;
  for (float x : w) {
    sum += x;
    squares += static_cast<double>(x) * x;
  }
  const double mean = sum / w.size(), std = std::sqrt(squares / w.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_NEAR(std, big.init_std, 0.001);
}

}  // namespace
}  // namespace graft

namespace graft {
namespace {

// The basis of every recipe: a trained decoder's weights land in an
// encoder-decoder by name, and only where names and shapes agree.
TEST(Parameters, CopyMatchingMovesWeightsBetweenKindsByName) {
  ModelConfig dec_config = testing::tiny_config(ModelKind::decoder);
  auto dec = make_model(dec_config, 1);
  auto encdec = make_model(testing::tiny_config(ModelKind::encoder_decoder), 2);
  const std::vector<std::string> copied =
      encdec->parameters().copy_matching(dec->parameters(), "decoder.*");
  EXPECT_EQ(copied.size(), dec->parameters().match("decoder.*").size());
  for (const std::string& name : copied) {
    EXPECT_EQ(encdec->parameters().get(name).to_vector<float>(),
              dec->parameters().get(name).to_vector<float>())
        << name;
  }
  // Cross-attention has no counterpart in the decoder: left as initialised.
  EXPECT_TRUE(encdec->parameters().match("decoder.layers.0.cross_attn.*").size() > 0);
  EXPECT_NE(encdec->parameters().get("embed.tokens.weight").to_vector<float>(),
            dec->parameters().get("embed.tokens.weight").to_vector<float>());
  dec_config.d_ff = 16;
  auto wider = make_model(dec_config, 1);
  EXPECT_THROW(encdec->parameters().copy_matching(wider->parameters(), "decoder.*"), InputError);
}

}  // namespace
}  // namespace graft
