// Warm-started encoder-decoders (Rothe et al. 2020): which tensors each
// scheme copies, shares and leaves random, causality of a BERT-made decoder,
// and compatibility errors that name the key.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "ops/autograd.h"
#include "recipes/transforms/warm_start.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"
#include "tests/transforms/transform_checks.h"

namespace graft {
namespace {

using testing::as_set;
using testing::bit_equal;

constexpr uint64_t kSeed = 5;

ModelConfig target_config() {
  return testing::tiny_config(ModelKind::encoder_decoder);
}

std::unique_ptr<Model> bert(uint64_t seed = 11, DType dtype = DType::f32) {
  return make_model(testing::tiny_config(ModelKind::encoder), seed, dtype);
}

std::unique_ptr<Model> gpt(uint64_t seed = 12) {
  return make_model(testing::tiny_config(ModelKind::decoder), seed);
}

// The target's own (non-alias) names under prefix, split by cross-attention.
std::set<std::string> names(const Model& m, const std::string& prefix, bool cross) {
  std::set<std::string> out;
  for (const std::string& n : m.parameters().match(prefix + "*")) {
    if ((n.find(".cross_attn") != std::string::npos) == cross) out.insert(n);
  }
  return out;
}

std::string swap_stack(const std::string& name, const std::string& from, const std::string& to) {
  return to + name.substr(from.size());
}

// Every target tensor under target_prefix (but cross-attention) was copied
// from source_prefix + the same rest.
void expect_stack_copied(const TransformReport& r, const Model& target,
                         const std::string& target_prefix, const std::string& source_prefix) {
  std::map<std::string, std::string> copied;
  for (const CopiedParameter& c : r.copied)
    copied[c.name] = c.source;
  const std::set<std::string> own = names(target, target_prefix, false);
  EXPECT_FALSE(own.empty());
  for (const std::string& n : own) {
    ASSERT_TRUE(copied.count(n)) << r.transform << ": " << n << " not copied";
    EXPECT_EQ(copied[n], swap_stack(n, target_prefix, source_prefix)) << r.transform;
  }
}

void expect_random(const TransformReport& r, const std::set<std::string>& names) {
  const std::set<std::string> random = as_set(r.random);
  for (const std::string& n : names)
    EXPECT_TRUE(random.count(n)) << r.transform << ": " << n << " should be random";
}

TEST(WarmStart, Bert2BertCopiesBothStacksFromTheEncoderAndLeavesCrossAttentionRandom) {
  auto src = bert();
  const TransformResult result = bert2bert(*src, target_config(), kSeed);
  const Model& m = *result.model;
  testing::expect_report_accounts_for_everything(result, {src.get()}, kSeed);
  expect_stack_copied(result.report, m, "encoder.", "encoder.");
  expect_stack_copied(result.report, m, "decoder.", "encoder.");
  EXPECT_TRUE(bit_equal(m.parameters().get("decoder.layers.1.attn.v.weight"),
                        src->parameters().get("encoder.layers.1.attn.v.weight")));
  EXPECT_TRUE(bit_equal(m.parameters().get("embed.tokens.weight"),
                        src->parameters().get("embed.tokens.weight")));
  // Cross-attention (and only it, with no heads missing from the source) is new.
  EXPECT_EQ(as_set(result.report.random), names(m, "decoder.", true));
  EXPECT_TRUE(result.report.shared.empty());
  EXPECT_FALSE(m.parameters()
                   .get("decoder.layers.0.attn.q.weight")
                   .same_storage(m.parameters().get("encoder.layers.0.attn.q.weight")));
}

// A BERT layer becomes a decoder layer by running causally: decoder logits at
// t do not change when later decoder tokens do.
TEST(WarmStart, Bert2BertDecoderIsCausal) {
  NoGradGuard no_grad;
  auto src = bert(11, DType::f64);
  const TransformResult result = bert2bert(*src, target_config(), kSeed);
  const auto& model = dynamic_cast<const EncoderDecoder&>(*result.model);
  std::mt19937_64 rng(3);
  const Tensor source_ids = testing::random_ids(2, 5, 11, rng);
  const Tensor ids = testing::random_ids(2, 7, 11, rng);
  ForwardContext eval;
  const std::vector<double> base =
      testing::as_doubles(model.lm_logits(model.forward(eval, source_ids, Tensor(), ids)));
  const int64_t len = ids.dim(1), vocab = 11;
  for (int64_t t = 0; t + 1 < len; ++t) {
    Tensor changed = ids.clone();
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t s = t + 1; s < len; ++s) {
        int32_t& x = changed.data<int32_t>()[b * len + s];
        x = (x + 1 + static_cast<int32_t>(s)) % 11;
      }
    }
    const std::vector<double> after =
        testing::as_doubles(model.lm_logits(model.forward(eval, source_ids, Tensor(), changed)));
    double worst = 0, later = 0;  // max |change| at positions <= t and > t
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t s = 0; s < len; ++s) {
        for (int64_t v = 0; v < vocab; ++v) {
          const size_t k = static_cast<size_t>((b * len + s) * vocab + v);
          double& slot = s <= t ? worst : later;
          slot = std::max(slot, std::fabs(base[k] - after[k]));
        }
      }
    }
    EXPECT_EQ(worst, 0.0) << "t=" << t;
    EXPECT_GT(later, 0.0) << "t=" << t;  // the change did reach later positions
  }
}

TEST(WarmStart, BertShareBindsTheDecoderToTheEncoderTensors) {
  auto src = bert();
  const TransformResult result = bert_share(*src, target_config(), kSeed);
  const Model& m = *result.model;
  const Parameters& p = m.parameters();
  EXPECT_TRUE(m.config().share_encoder_decoder);
  testing::expect_report_accounts_for_everything(result, {src.get()}, kSeed);
  expect_stack_copied(result.report, m, "encoder.", "encoder.");
  // The decoder's only own tensors are cross-attention's, all random.
  EXPECT_EQ(as_set(result.report.random), names(m, "decoder.", true));
  EXPECT_TRUE(names(m, "decoder.", false).empty());

  std::set<std::string> shared;
  for (const SharedParameter& s : result.report.shared) {
    EXPECT_EQ(s.canonical, swap_stack(s.name, "decoder.", "encoder."));
    EXPECT_TRUE(p.get(s.name).same_storage(p.get(s.canonical))) << s.name;
    EXPECT_TRUE(bit_equal(p.get(s.name), src->parameters().get(s.canonical))) << s.name;
    shared.insert(s.name);
  }
  auto unshared = make_model(target_config(), kSeed);
  std::set<std::string> expected = names(*unshared, "decoder.", false);
  EXPECT_EQ(shared, expected);

  // An update through the decoder's name is the encoder's update.
  const Tensor& w = p.get("decoder.layers.1.mlp.up.weight");
  w.data<float>()[3] += 1.0f;
  EXPECT_EQ(p.get("encoder.layers.1.mlp.up.weight").data<float>()[3], w.data<float>()[3]);
}

TEST(WarmStart, Bert2GptTakesTheEncoderFromBertAndTheDecoderFromGpt) {
  auto enc = bert(), dec = gpt();
  const TransformResult result = bert2gpt(*enc, *dec, target_config(), kSeed);
  const Model& m = *result.model;
  testing::expect_report_accounts_for_everything(result, {enc.get(), dec.get()}, kSeed);
  expect_stack_copied(result.report, m, "encoder.", "encoder.");
  expect_stack_copied(result.report, m, "decoder.", "decoder.");
  EXPECT_TRUE(bit_equal(m.parameters().get("decoder.layers.0.mlp.down.weight"),
                        dec->parameters().get("decoder.layers.0.mlp.down.weight")));
  EXPECT_TRUE(bit_equal(m.parameters().get("embed.tokens.weight"),
                        enc->parameters().get("embed.tokens.weight")));
  EXPECT_EQ(as_set(result.report.random), names(m, "decoder.", true));
}

TEST(WarmStart, GptOnlyBuildsBothStacksFromTheDecoder) {
  auto dec = gpt();
  const TransformResult result = gpt_only(*dec, target_config(), kSeed);
  const Model& m = *result.model;
  testing::expect_report_accounts_for_everything(result, {dec.get()}, kSeed);
  expect_stack_copied(result.report, m, "encoder.", "decoder.");
  expect_stack_copied(result.report, m, "decoder.", "decoder.");
  EXPECT_TRUE(bit_equal(m.parameters().get("encoder.layers.1.attn.k.weight"),
                        dec->parameters().get("decoder.layers.1.attn.k.weight")));
  expect_random(result.report, names(m, "decoder.", true));
}

TEST(WarmStart, Rnd2BertAndBert2RndLeaveOneStackRandom) {
  auto src = bert();
  const TransformResult r2b = rnd2bert(*src, target_config(), kSeed);
  testing::expect_report_accounts_for_everything(r2b, {src.get()}, kSeed);
  expect_stack_copied(r2b.report, *r2b.model, "decoder.", "encoder.");
  expect_random(r2b.report, names(*r2b.model, "encoder.", false));
  expect_random(r2b.report, {"mlm_head.transform.weight", "rtd_head.out.weight"});
  EXPECT_TRUE(bit_equal(r2b.model->parameters().get("embed.tokens.weight"),
                        src->parameters().get("embed.tokens.weight")));

  const TransformResult b2r = bert2rnd(*src, target_config(), kSeed);
  testing::expect_report_accounts_for_everything(b2r, {src.get()}, kSeed);
  expect_stack_copied(b2r.report, *b2r.model, "encoder.", "encoder.");
  expect_random(b2r.report, names(*b2r.model, "decoder.", false));
  expect_random(b2r.report, names(*b2r.model, "decoder.", true));
  EXPECT_TRUE(bit_equal(b2r.model->parameters().get("mlm_head.bias"),
                        src->parameters().get("mlm_head.bias")));
}

TEST(WarmStart, SchemesByNameDispatchAndNeedTheirCheckpoints) {
  auto enc = bert(), dec = gpt();
  const SourceModel e(*enc), d(*dec);
  for (WarmStart s :
       {WarmStart::bert2bert, WarmStart::bert_share, WarmStart::bert2gpt, WarmStart::gpt_only,
        WarmStart::rnd2bert, WarmStart::bert2rnd, WarmStart::rnd2rnd}) {
    EXPECT_EQ(parse_warm_start(warm_start_name(s)), s);
    const TransformResult r = warm_start(s, &e, &d, target_config(), kSeed);
    EXPECT_EQ(r.report.transform, warm_start_name(s));
    // The checkpoints the scheme reads, in the order copies are looked up.
    std::vector<const Model*> read = {enc.get()};
    if (s == WarmStart::bert2gpt) read.push_back(dec.get());
    if (s == WarmStart::gpt_only) read = {dec.get()};
    testing::expect_report_accounts_for_everything(r, read, kSeed);
  }
  const TransformResult rnd = warm_start(WarmStart::rnd2rnd, nullptr, nullptr, target_config());
  EXPECT_TRUE(rnd.report.copied.empty());
  EXPECT_THROW(warm_start(WarmStart::bert2gpt, &e, nullptr, target_config()), InputError);
  EXPECT_THROW(parse_warm_start("bert2bart"), InputError);
}

void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "accepted";
  } catch (const InputError& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(WarmStart, IncompatibleConfigsNameTheKeyAndBothValues) {
  auto src = bert();
  ModelConfig c = target_config();
  c.d_model = 12;
  c.num_heads = 2;
  expect_input_error([&] { bert2bert(*src, c); }, {"d_model", "= 12", "= 8"});
  c = target_config();
  c.decoder_layers = 3;
  expect_input_error([&] { bert2bert(*src, c); },
                     {"decoder_layers = 3", "encoder_layers = 2", "encoder checkpoint"});
  c = target_config();
  c.vocab_size = 13;
  expect_input_error([&] { bert2rnd(*src, c); }, {"vocab_size", "13", "11"});
  c = target_config();
  c.num_heads = 4;
  expect_input_error([&] { rnd2bert(*src, c); }, {"num_heads", "4", "2"});
  c = target_config();
  c.positions = PositionKind::rotary;
  expect_input_error([&] { gpt_only(*gpt(), c); }, {"positions", "rotary", "learned"});
  c = target_config();
  c.d_ff = 16;
  expect_input_error([&] { bert2gpt(*src, *gpt(), c); }, {"d_ff", "16", "12"});
  expect_input_error([&] { bert2bert(*gpt(), target_config()); }, {"kind = decoder", "no encoder"});
  expect_input_error([&] { bert2bert(*src, testing::tiny_config(ModelKind::encoder)); }, {"kind"});
  c = target_config();
  c.share_encoder_decoder = true;
  expect_input_error([&] { bert2bert(*src, c); }, {"share_encoder_decoder"});
}

}  // namespace
}  // namespace graft
