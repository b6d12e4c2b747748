// Extracting the encoder of an encoder-decoder keeps every encoder and
// embedding tensor bit for bit, so the extracted encoder computes what the
// seq2seq model's encoder computed.
#include <gtest/gtest.h>

#include "ops/autograd.h"
#include "recipes/transforms/extract.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"
#include "tests/transforms/transform_checks.h"

namespace graft {
namespace {

using testing::bit_equal;

TEST(ExtractEncoder, EveryEncoderAndEmbeddingTensorIsBitEqual) {
  auto seq2seq = make_model(testing::tiny_config(ModelKind::encoder_decoder), 21);
  ModelConfig target = testing::tiny_config(ModelKind::encoder);
  target.tie_embeddings = false;  // an lm_head.weight of its own: must stay random
  const TransformResult result = extract_encoder(*seq2seq, target, 4);
  const Model& encoder = *result.model;
  EXPECT_NE(dynamic_cast<const Encoder*>(&encoder), nullptr);
  testing::expect_report_accounts_for_everything(result, {seq2seq.get()}, 4);

  const Parameters& p = encoder.parameters();
  std::vector<std::string> expected = seq2seq->parameters().match("encoder.*");
  expected.insert(expected.begin(), "embed.tokens.weight");
  for (const std::string& name : expected) {
    ASSERT_TRUE(p.contains(name)) << name;
    EXPECT_TRUE(bit_equal(p.get(name), seq2seq->parameters().get(name))) << name;
  }
  for (const char* head : {"mlm_head.", "rtd_head.", "classifier."}) {
    for (const std::string& name : p.match(std::string(head) + "*"))
      expected.push_back(name);
  }
  EXPECT_EQ(result.report.copied_names(), expected);
  EXPECT_EQ(result.report.random, std::vector<std::string>{"lm_head.weight"});
  EXPECT_TRUE(p.match("decoder.*").empty());

  NoGradGuard no_grad;
  std::mt19937_64 rng(1);
  const Tensor ids = testing::random_ids(2, 6, 11, rng);
  ForwardContext eval;
  EXPECT_TRUE(bit_equal(encoder.encode(eval, ids), seq2seq->encode(eval, ids)));
}

TEST(ExtractEncoder, FromABertShareModelTakesTheSharedTensors) {
  ModelConfig c = testing::tiny_config(ModelKind::encoder_decoder);
  c.share_encoder_decoder = true;
  auto shared = make_model(c, 21);
  const TransformResult result =
      extract_encoder(*shared, testing::tiny_config(ModelKind::encoder), 4);
  testing::expect_report_accounts_for_everything(result, {shared.get()}, 4);
  EXPECT_TRUE(result.report.random.empty());
}

TEST(ExtractEncoder, IncompatibleTargetsNameTheKey) {
  auto seq2seq = make_model(testing::tiny_config(ModelKind::encoder_decoder), 21);
  ModelConfig target = testing::tiny_config(ModelKind::encoder);
  target.encoder_layers = 3;
  try {
    extract_encoder(*seq2seq, target);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder_layers = 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("encoder_layers = 2"), std::string::npos) << e.what();
  }
  target = testing::tiny_config(ModelKind::encoder);
  target.norm = NormKind::rms;
  EXPECT_THROW(extract_encoder(*seq2seq, target), InputError);
  EXPECT_THROW(extract_encoder(*seq2seq, testing::tiny_config(ModelKind::encoder_decoder)),
               InputError);
  EXPECT_THROW(extract_encoder(*make_model(testing::tiny_config(ModelKind::decoder)),
                               testing::tiny_config(ModelKind::encoder)),
               InputError);
}

}  // namespace
}  // namespace graft
