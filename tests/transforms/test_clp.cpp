// CLP-Transfer: overlap rows are copies, every other row is the
// similarity-weighted mean of RECIPES.md §3 (raw cosines in the helper's
// space, no top-k, no clipping), checked against a direct float64
// computation; the CLP model keeps every other weight of the source.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "ops/autograd.h"
#include "recipes/transforms/clp.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"
#include "tests/transforms/transform_checks.h"

namespace graft {
namespace {

using testing::bit_equal;

const std::vector<std::string> kSourceVocab = {"<s>", "the", "▁cat", "ing", "▁dog", "s", "!"};
// Overlap: "<s>" (target 1 <- source 0), "s" (3 <- 5), "▁dog" (5 <- 4).
const std::vector<std::string> kTargetVocab = {"▁der", "<s>", "▁Hund", "s", "en", "▁dog"};

// The formula of RECIPES.md §3, written out in the most direct way.
std::vector<double> direct_clp_row(const std::vector<double>& src, int64_t d_large,
                                   const std::vector<double>& helper, int64_t d_small, int64_t v,
                                   const std::vector<std::pair<int64_t, int64_t>>& overlap) {
  auto cosine = [&](int64_t a, int64_t b) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t j = 0; j < d_small; ++j) {
      dot += helper[a * d_small + j] * helper[b * d_small + j];
      na += helper[a * d_small + j] * helper[a * d_small + j];
      nb += helper[b * d_small + j] * helper[b * d_small + j];
    }
    return dot / (std::sqrt(na) * std::sqrt(nb));
  };
  std::vector<double> num(static_cast<size_t>(d_large), 0.0);
  double den = 0;
  for (const auto& [t, s] : overlap) {
    const double delta = cosine(v, t);
    den += delta;
    for (int64_t j = 0; j < d_large; ++j)
      num[static_cast<size_t>(j)] += delta * src[s * d_large + j];
  }
  for (double& x : num)
    x /= den;
  return num;
}

TEST(ClpEmbeddings, MatchADirectFloat64ComputationOnAHandBuiltCase) {
  std::mt19937_64 rng(8);
  const Tensor src = testing::random_tensor({7, 4}, rng);     // V_s = 7, D_large = 4
  const Tensor helper = testing::random_tensor({6, 3}, rng);  // V_t = 6, D_small = 3
  ClpStats stats;
  const Tensor out = clp_embeddings(src, kSourceVocab, helper, kTargetVocab, &stats);
  EXPECT_EQ(out.shape(), (Shape{6, 4}));
  EXPECT_EQ(out.dtype(), DType::f64);
  EXPECT_EQ(stats.overlap, 3);
  EXPECT_EQ(stats.combined, 3);

  const std::vector<std::pair<int64_t, int64_t>> overlap = {{1, 0}, {3, 5}, {5, 4}};
  const double* o = out.data<double>();
  for (const auto& [t, s] : overlap)
    EXPECT_EQ(std::memcmp(o + t * 4, src.data<double>() + s * 4, 4 * sizeof(double)), 0) << t;
  const std::vector<double> s = src.to_vector<double>(), h = helper.to_vector<double>();
  for (int64_t v : {0, 2, 4}) {
    const std::vector<double> expected = direct_clp_row(s, 4, h, 3, v, overlap);
    for (int64_t j = 0; j < 4; ++j)
      EXPECT_NEAR(o[v * 4 + j], expected[static_cast<size_t>(j)], 1e-12) << v << "," << j;
  }
}

TEST(ClpEmbeddings, NegativeSimilaritiesAreKeptNotClipped) {
  // Helper rows chosen so token 0's cosines to the overlap are +1, -0.5 and
  // +1 (sum 1.5): clipping negatives or a top-k would give another result.
  const Tensor helper = Tensor::from_vector<double>(
      {1, 0, 0, 1, 0, 0, 1, 1, 0, -0.5, std::sqrt(0.75), 0, 0, 1, 0, 1, 0, 0}, {6, 3});
  const Tensor src = Tensor::from_vector<double>(
      {10, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 5, 5, 5, 5, 0, 0, 0, 0},
      {7, 4});
  // Overlap: <s> (t1, s0) helper (1,0,0); s (t3, s5) helper (-.5, .87, 0);
  // ▁dog (t5, s4) helper (1,0,0). Token 0 has helper (1,0,0).
  const Tensor out = clp_embeddings(src, kSourceVocab, helper, kTargetVocab);
  const double expected0 = (1 * 10 + -0.5 * 5 + 1 * 3) / 1.5;
  EXPECT_NEAR(out.data<double>()[0], expected0, 1e-12);
}

TEST(ClpEmbeddings, F32OverlapRowsAreBitEqualCopies) {
  std::mt19937_64 rng(9);
  const Tensor src = testing::random_tensor({7, 5}, rng, DType::f32);
  const Tensor helper = testing::random_tensor({6, 3}, rng, DType::f32);
  const Tensor out = clp_embeddings(src, kSourceVocab, helper, kTargetVocab);
  EXPECT_EQ(out.dtype(), DType::f32);
  for (const auto& [t, s] : std::vector<std::pair<int, int>>{{1, 0}, {3, 5}, {5, 4}}) {
    EXPECT_EQ(std::memcmp(out.data<float>() + t * 5, src.data<float>() + s * 5, 5 * sizeof(float)),
              0);
  }
}

void expect_input_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(ClpEmbeddings, DegenerateInputsAreClearErrors) {
  const Tensor src = Tensor::zeros({7, 4}, DType::f64);
  // Token "en" (id 4) is orthogonal to every overlap token: Σδ = 0.
  const Tensor helper =
      Tensor::from_vector<double>({0, 1, 0, 1, 0, 0, 1, 1, 1, -1, 0, 0, 0, 0, 1, 0, 1, 0}, {6, 3});
  expect_input_error([&] { clp_embeddings(src, kSourceVocab, helper, kTargetVocab); },
                     "'en' (id 4)");
  // A zero helper row has cosine 0 with everything: the same error.
  const Tensor zero_row =
      Tensor::from_vector<double>({1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}, {6, 3});
  expect_input_error([&] { clp_embeddings(src, kSourceVocab, zero_row, kTargetVocab); },
                     "'en' (id 4)");
  std::vector<std::string> disjoint = {"a", "b", "c", "d", "e", "f"};
  expect_input_error([&] { clp_embeddings(src, kSourceVocab, helper, disjoint); },
                     "share no piece");
  std::vector<std::string> twice = kTargetVocab;
  twice[2] = "▁der";
  expect_input_error([&] { clp_embeddings(src, kSourceVocab, helper, twice); }, "twice");
  expect_input_error(
      [&] {
        clp_embeddings(Tensor::zeros({6, 4}, DType::f64), kSourceVocab, helper, kTargetVocab);
      },
      "V_s = 7");
}

// A large source decoder (d=8, V=7), a small helper with the target tokenizer
// (d=4, V=6) and the CLP target (d=8, V=6).
struct ClpModels {
  std::unique_ptr<Model> source, helper;
  ModelConfig target;
};

ClpModels clp_models(bool tie) {
  ModelConfig large = testing::tiny_config(ModelKind::decoder);
  large.vocab_size = 7;
  large.tie_embeddings = tie;
  ModelConfig small = testing::tiny_config(ModelKind::decoder);
  small.vocab_size = 6;
  small.d_model = 4;
  small.d_ff = 6;
  small.decoder_layers = 1;
  ModelConfig target = large;
  target.vocab_size = 6;
  return {make_model(large, 31), make_model(small, 32), target};
}

TEST(ClpTransfer, ReplacesTheVocabularyTensorsAndCopiesEverythingElse) {
  for (bool tie : {true, false}) {
    ClpModels m = clp_models(tie);
    const TransformResult result =
        clp_transfer(*m.source, kSourceVocab, *m.helper, kTargetVocab, m.target, 3);
    testing::expect_report_accounts_for_everything(result, {m.source.get()}, 3);
    const Parameters& p = result.model->parameters();
    EXPECT_EQ(result.model->config().vocab_size, 6);

    std::vector<std::string> computed = {"embed.tokens.weight"};
    if (!tie) computed.push_back("lm_head.weight");
    computed.push_back("mlm_head.bias");
    EXPECT_EQ(result.report.computed, computed);
    EXPECT_TRUE(result.report.random.empty());
    EXPECT_EQ(result.report.copied.size() + computed.size(), p.size());
    for (const CopiedParameter& c : result.report.copied)
      EXPECT_EQ(c.name, c.source);

    const Tensor& helper_embed = m.helper->parameters().get("embed.tokens.weight");
    for (const std::string& name : computed) {
      const Tensor expected =
          clp_map({m.source->parameters().get(name)}, kSourceVocab, helper_embed, kTargetVocab)[0];
      EXPECT_TRUE(bit_equal(p.get(name), expected)) << name;
    }
    // Target ids run through the CLP model.
    NoGradGuard no_grad;
    ForwardContext eval;
    std::mt19937_64 rng(2);
    const Tensor logits =
        result.model->lm_logits(result.model->decode(eval, testing::random_ids(2, 5, 6, rng)));
    EXPECT_EQ(logits.shape(), (Shape{2, 5, 6}));
  }
}

TEST(CrossLingualTransfer, NewRandomVocabularyTensorsAndSourceWeights) {
  ClpModels m = clp_models(false);
  const TransformResult result = cross_lingual_transfer(*m.source, m.target, 3);
  testing::expect_report_accounts_for_everything(result, {m.source.get()}, 3);
  EXPECT_EQ(result.report.random,
            (std::vector<std::string>{"embed.tokens.weight", "lm_head.weight", "mlm_head.bias"}));
  EXPECT_TRUE(result.report.computed.empty());
  // Same vocabulary size: still new embeddings, never the source's rows.
  ModelConfig same = m.target;
  same.vocab_size = 7;
  const TransformResult r7 = cross_lingual_transfer(*m.source, same, 3);
  EXPECT_EQ(r7.report.random.size(), 3u);
}

TEST(ClpTransfer, IncompatibleConfigsNameTheKey) {
  ClpModels m = clp_models(true);
  ModelConfig c = m.target;
  c.vocab_size = 5;
  expect_input_error([&] { clp_transfer(*m.source, kSourceVocab, *m.helper, kTargetVocab, c); },
                     "vocab_size mismatch: target vocab_size = 5");
  c = m.target;
  c.decoder_layers = 3;
  expect_input_error([&] { clp_transfer(*m.source, kSourceVocab, *m.helper, kTargetVocab, c); },
                     "target decoder_layers = 3, large source decoder_layers = 2");
  c = m.target;
  c.tie_embeddings = false;
  expect_input_error([&] { cross_lingual_transfer(*m.source, c); }, "tie_embeddings");
  c = m.target;
  c.d_ff = 20;
  expect_input_error([&] { cross_lingual_transfer(*m.source, c); },
                     "d_ff mismatch: target d_ff = 20, source d_ff = 12");
  std::vector<std::string> short_vocab(kSourceVocab.begin(), kSourceVocab.end() - 1);
  expect_input_error(
      [&] { clp_transfer(*m.source, short_vocab, *m.helper, kTargetVocab, m.target); },
      "large source vocab_size = 7");
}

}  // namespace
}  // namespace graft
