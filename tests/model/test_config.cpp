#include <gtest/gtest.h>

#include "model/config.h"
#include "model/config_toml.h"
#include "model/counts.h"

namespace graft {
namespace {

// The InputError message parse produces for text, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    model_config_from_toml_text(text, "recipe.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& text, std::initializer_list<const char*> fragments) {
  const std::string message = error_of(text);
  ASSERT_FALSE(message.empty()) << "accepted:\n" << text;
  for (const char* f : fragments) {
    EXPECT_NE(message.find(f), std::string::npos) << "'" << f << "' not in: " << message;
  }
}

TEST(ModelConfig, EveryPresetValidatesAndHasTheDesignScale) {
  for (ModelKind kind : {ModelKind::encoder, ModelKind::decoder, ModelKind::encoder_decoder}) {
    for (const char* scale : {"tiny", "small", "base", "large"}) {
      const ModelConfig c = model_preset(kind, scale);
      EXPECT_NO_THROW(c.validate()) << kind_name(kind) << " " << scale;
      const int64_t n = closed_form_parameter_counts(c).total();
      const std::string s = scale;
      if (s == "tiny") {
        EXPECT_TRUE(c.d_model >= 64 && c.d_model <= 128 && c.vocab_size <= 4096);
        EXPECT_EQ(c.max_positions, 64);
      } else if (s == "small") {
        EXPECT_TRUE(c.d_model >= 256 && c.d_model <= 384 && c.vocab_size == 8192);
        EXPECT_EQ(c.max_positions, 128);
      } else if (s == "base") {
        EXPECT_GT(n, 50'000'000) << kind_name(kind);
        EXPECT_LT(n, 70'000'000) << kind_name(kind);
      } else {
        EXPECT_GT(n, 330'000'000) << kind_name(kind);
        EXPECT_LT(n, 1'000'000'000) << kind_name(kind);
      }
    }
  }
  EXPECT_TRUE(model_preset(ModelKind::encoder, "tiny").mlm_head);
  EXPECT_FALSE(model_preset(ModelKind::encoder, "tiny").lm_head);
  EXPECT_TRUE(model_preset(ModelKind::encoder_decoder, "tiny").lm_head);
  EXPECT_THROW(model_preset(ModelKind::decoder, "huge"), InputError);
}

TEST(ModelConfig, TomlOverridesThePreset) {
  const ModelConfig c = model_config_from_toml_text(R"(
kind = "encoder_decoder"
preset = "small"
d_model = 384
num_heads = 6
positions = "rotary"
norm = "rms"
dropout = 0
tie_embeddings = false
heads = ["lm", "classifier"]
num_classes = 4
pooling = "mean"
)",
                                                    "recipe.toml");
  EXPECT_EQ(c.kind, ModelKind::encoder_decoder);
  EXPECT_EQ(c.d_model, 384);
  EXPECT_EQ(c.num_heads, 6);
  EXPECT_EQ(c.vocab_size, 8192);  // from the preset
  EXPECT_EQ(c.encoder_layers, 4);
  EXPECT_EQ(c.positions, PositionKind::rotary);
  EXPECT_EQ(c.norm, NormKind::rms);
  EXPECT_EQ(c.dropout, 0.0);
  EXPECT_FALSE(c.tie_embeddings);
  EXPECT_TRUE(c.lm_head);
  EXPECT_FALSE(c.mlm_head);
  EXPECT_EQ(c.num_classes, 4);
  EXPECT_EQ(c.pooling, Pooling::mean);
}

TEST(ModelConfig, ResolvedConfigRoundTripsThroughToml) {
  ModelConfig c = model_preset(ModelKind::decoder, "base");
  c.cross_attention = true;
  c.rtd_head = true;
  c.num_classes = 2;
  c.init_std = 0.01;
  const toml::table t = model_config_to_toml(c);
  const ModelConfig back = model_config_from_toml(t, "saved");
  EXPECT_EQ(describe(back), describe(c));
  EXPECT_EQ(back.cross_attention, c.cross_attention);
  EXPECT_EQ(back.rtd_head, c.rtd_head);
  EXPECT_EQ(back.lm_head, c.lm_head);
  EXPECT_EQ(back.num_classes, c.num_classes);
  EXPECT_EQ(back.init_std, c.init_std);
  EXPECT_EQ(back.dropout, c.dropout);
  EXPECT_EQ(back.max_positions, c.max_positions);
}

TEST(ModelConfig, UnknownKeyIsNamedWithFileAndLine) {
  expect_error("kind = \"decoder\"\n\nnum_head = 4\n", {"recipe.toml:3", "model.num_head"});
}

TEST(ModelConfig, WrongTypesAreNamed) {
  expect_error("kind = \"decoder\"\nnum_heads = \"four\"\n",
               {"recipe.toml:2", "model.num_heads", "expected an integer, got a string"});
  expect_error("kind = \"decoder\"\nd_model = 64.5\n", {"model.d_model", "integer"});
  expect_error("kind = \"decoder\"\ndropout = \"high\"\n", {"model.dropout", "number"});
  expect_error("kind = \"decoder\"\ntie_embeddings = 1\n",
               {"model.tie_embeddings", "true or false"});
  expect_error("kind = 3\n", {"model.kind", "string"});
  expect_error("kind = \"decoder\"\nheads = \"lm\"\n", {"model.heads", "array"});
}

TEST(ModelConfig, BadValuesAreNamed) {
  expect_error("kind = \"transformer\"\n", {"model.kind", "transformer", "encoder_decoder"});
  expect_error("kind = \"decoder\"\npositions = \"alibi\"\n", {"model.positions", "alibi"});
  expect_error("kind = \"decoder\"\npreset = \"xl\"\n", {"model.preset", "xl"});
  expect_error("kind = \"decoder\"\nheads = [\"lm\", \"seq2seq\"]\n", {"model.heads", "seq2seq"});
  expect_error("kind = \"decoder\"\nheads = [\"classifier\"]\n", {"num_classes"});
  expect_error("kind = \"decoder\"\nheads = [\"lm\"]\nnum_classes = 3\n",
               {"model.num_classes", "classifier"});
  expect_error("num_heads = 4\n", {"model.kind", "missing"});
  expect_error("kind = \"decoder\"\nd_model = [\n", {"recipe.toml:"});
}

TEST(ModelConfig, ValidationErrorsSayWhatIsWrong) {
  expect_error("kind = \"decoder\"\nd_model = 64\nnum_heads = 3\n",
               {"recipe.toml", "num_heads = 3 does not divide d_model = 64"});
  expect_error("kind = \"decoder\"\nencoder_layers = 2\n", {"encoder_layers = 2", "no encoder"});
  expect_error("kind = \"encoder\"\ncross_attention = true\n", {"cross_attention"});
  expect_error("kind = \"decoder\"\ndropout = 1.5\n", {"dropout"});
  expect_error("kind = \"decoder\"\nd_model = 12\nnum_heads = 4\npositions = \"rotary\"\n",
               {"rotary", "even"});
  ModelConfig c = model_preset(ModelKind::encoder, "tiny");
  c.num_heads = 5;
  EXPECT_THROW(c.validate(), InputError);
  c.num_heads = 4;
  c.vocab_size = 0;
  EXPECT_THROW(c.validate(), InputError);
}

}  // namespace
}  // namespace graft
