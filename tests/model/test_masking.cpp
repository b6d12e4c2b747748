// What masks and causality promise: a decoder never looks ahead, padded keys
// have no influence (self- and cross-attention), and dropout is a pure
// function of the forward context's seed.
#include <gtest/gtest.h>

#include "model/model.h"
#include "ops/autograd.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

// Max |a - b| over the positions t in [from, to) of [B, T, ...] tensors.
double max_diff(const Tensor& a, const Tensor& b, int64_t from, int64_t to) {
  const std::vector<double> x = testing::as_doubles(a), y = testing::as_doubles(b);
  const int64_t batch = a.dim(0), len = a.dim(1), inner = a.numel() / (batch * len);
  double worst = 0;
  for (int64_t i = 0; i < batch; ++i) {
    for (int64_t t = from; t < to; ++t) {
      for (int64_t j = 0; j < inner; ++j) {
        const size_t k = static_cast<size_t>((i * len + t) * inner + j);
        worst = std::max(worst, std::fabs(x[k] - y[k]));
      }
    }
  }
  return worst;
}

Tensor with_tail_changed(const Tensor& ids, int64_t from, int32_t vocab) {
  Tensor out = ids.clone();
  int32_t* v = out.data<int32_t>();
  const int64_t batch = ids.dim(0), len = ids.dim(1);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = from; t < len; ++t)
      v[b * len + t] = (v[b * len + t] + 1 + t) % vocab;
  }
  return out;
}

class DecoderCausality : public ::testing::TestWithParam<PositionKind> {};

TEST_P(DecoderCausality, LogitsAtTIgnoreLaterTokens) {
  NoGradGuard no_grad;
  for (ModelKind kind : {ModelKind::decoder, ModelKind::encoder_decoder}) {
    ModelConfig c = testing::tiny_config(kind);
    c.positions = GetParam();
    auto model = make_model(c, 1, DType::f64);
    std::mt19937_64 rng(2);
    const Tensor src = testing::random_ids(2, 6, 11, rng);
    const Tensor ids = testing::random_ids(2, 7, 11, rng);
    ForwardContext eval;
    const Tensor memory = kind == ModelKind::encoder_decoder ? model->encode(eval, src) : Tensor();
    auto logits = [&](const Tensor& x) {
      return model->lm_logits(model->decode(eval, x, Tensor(), memory));
    };
    const Tensor base = logits(ids);
    for (int64_t t = 0; t + 1 < ids.dim(1); ++t) {
      const Tensor changed = logits(with_tail_changed(ids, t + 1, 11));
      EXPECT_EQ(max_diff(base, changed, 0, t + 1), 0.0) << kind_name(kind) << " t=" << t;
      // The change is visible from t + 1 on, so the comparison above can fail.
      EXPECT_GT(max_diff(base, changed, t + 1, ids.dim(1)), 1e-6) << kind_name(kind) << " t=" << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Positions, DecoderCausality,
                         ::testing::Values(PositionKind::learned, PositionKind::rotary),
                         [](const auto& info) { return std::string(position_name(info.param)); });

TEST(Padding, PaddedTokensChangeNothingInTheEncoder) {
  NoGradGuard no_grad;
  for (PositionKind positions : {PositionKind::learned, PositionKind::rotary}) {
    ModelConfig c = testing::tiny_config(ModelKind::encoder);
    c.positions = positions;
    c.pooling = Pooling::mean;
    auto model = make_model(c, 4, DType::f64);
    std::mt19937_64 rng(3);
    const Tensor ids = testing::random_ids(2, 6, 11, rng);
    const Tensor mask = testing::ids_tensor({1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0}, 2);
    ForwardContext eval;
    const Tensor base = model->encode(eval, ids, mask);
    const Tensor repadded = with_tail_changed(ids, 4, 11);
    const Tensor other = model->encode(eval, repadded, mask);
    EXPECT_EQ(max_diff(base, other, 0, 4), 0.0) << position_name(positions);
    EXPECT_GT(max_diff(base, other, 4, 6), 1e-6);  // the padded positions themselves differ
    // Mean pooling reads only real positions, so the classifier agrees too.
    EXPECT_EQ(max_diff(model->classify(base, mask).reshape({2, 1, 3}),
                       model->classify(other, mask).reshape({2, 1, 3}), 0, 1),
              0.0);
    // Without the mask the same change does reach the real positions.
    EXPECT_GT(max_diff(model->encode(eval, ids), model->encode(eval, repadded), 0, 4), 1e-6);
  }
}

TEST(Padding, PaddedEncoderPositionsChangeNothingThroughCrossAttention) {
  NoGradGuard no_grad;
  auto model = make_model(testing::tiny_config(ModelKind::encoder_decoder), 5, DType::f64);
  std::mt19937_64 rng(4);
  const Tensor src = testing::random_ids(2, 6, 11, rng);
  const Tensor src_mask = testing::ids_tensor({1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0}, 2);
  const Tensor tgt = testing::random_ids(2, 5, 11, rng);
  ForwardContext eval;
  auto& encdec = dynamic_cast<EncoderDecoder&>(*model);
  const Tensor base = encdec.forward(eval, src, src_mask, tgt);
  EXPECT_EQ(
      max_diff(base, encdec.forward(eval, with_tail_changed(src, 5, 11), src_mask, tgt), 0, 5),
      0.0);
  // Unmasked, a source change reaches the decoder: the comparison can fail.
  EXPECT_GT(
      max_diff(base, encdec.forward(eval, with_tail_changed(src, 5, 11), Tensor(), tgt), 0, 5),
      1e-6);

  // A decoder with cross-attention to an external memory: masked memory rows
  // are ignored whatever they hold.
  ModelConfig c = testing::tiny_config(ModelKind::decoder);
  c.cross_attention = true;
  auto dec = make_model(c, 6, DType::f64);
  Tensor memory = testing::random_tensor({2, 6, c.d_model}, rng);
  const Tensor before = dec->decode(eval, tgt, Tensor(), memory, src_mask);
  Tensor altered = memory.clone();
  double* m = altered.data<double>();
  for (int64_t d = 0; d < c.d_model; ++d)
    m[(0 * 6 + 4) * c.d_model + d] += 3.0;  // padded row
  EXPECT_EQ(max_diff(before, dec->decode(eval, tgt, Tensor(), altered, src_mask), 0, 5), 0.0);
  for (int64_t d = 0; d < c.d_model; ++d)
    m[(0 * 6 + 1) * c.d_model + d] += 3.0;  // real row
  EXPECT_GT(max_diff(before, dec->decode(eval, tgt, Tensor(), altered, src_mask), 0, 5), 1e-6);
}

TEST(Dropout, SameSeedSameForwardBitForBit) {
  ModelConfig c = testing::tiny_config(ModelKind::encoder_decoder);
  c.dropout = 0.3;
  auto model = make_model(c, 7);
  auto& encdec = dynamic_cast<EncoderDecoder&>(*model);
  std::mt19937_64 rng(5);
  const Tensor src = testing::random_ids(2, 6, 11, rng), tgt = testing::random_ids(2, 5, 11, rng);
  NoGradGuard no_grad;
  auto run = [&](ForwardContext context) {
    return encdec.forward(context, src, Tensor(), tgt).to_vector<float>();
  };
  EXPECT_EQ(run(ForwardContext(true, 1)), run(ForwardContext(true, 1)));
  EXPECT_NE(run(ForwardContext(true, 1)), run(ForwardContext(true, 2)));
  // Evaluation ignores dropout and the seed.
  EXPECT_NE(run(ForwardContext(true, 1)), run(ForwardContext(false, 1)));
  EXPECT_EQ(run(ForwardContext(false, 1)), run(ForwardContext(false, 2)));
  c.dropout = 0.0;
  auto no_dropout = make_model(c, 7);
  ForwardContext training(true, 3);
  EXPECT_EQ(run(ForwardContext(false, 1)), dynamic_cast<EncoderDecoder&>(*no_dropout)
                                               .forward(training, src, Tensor(), tgt)
                                               .to_vector<float>());
}

// Rows [begin, begin + count) of a [B, ...] tensor.
Tensor rows_of(const Tensor& t, int64_t begin, int64_t count) {
  const std::vector<int32_t> v = t.to_vector<int32_t>();
  const int64_t per_row = t.numel() / t.dim(0);
  Shape shape = t.shape();
  shape[0] = count;
  return Tensor::from_vector(
      std::vector<int32_t>(v.begin() + begin * per_row, v.begin() + (begin + count) * per_row),
      shape);
}

// A data-parallel rank holding rows [2, 4) of a global batch of 5 passes
// first_row = 2: its forward is those rows of the whole batch's forward,
// masks included (encoder, decoder and cross-attention sites).
TEST(Dropout, RowsFromFirstRowDrawTheWholeBatchsMasksForThoseRows) {
  ModelConfig c = testing::tiny_config(ModelKind::encoder_decoder);
  c.dropout = 0.3;
  auto model = make_model(c, 7, DType::f64);
  auto& encdec = dynamic_cast<EncoderDecoder&>(*model);
  std::mt19937_64 rng(8);
  const Tensor src = testing::random_ids(5, 6, 11, rng), tgt = testing::random_ids(5, 4, 11, rng);
  NoGradGuard no_grad;
  ForwardContext global(true, 9);
  const Tensor whole = encdec.forward(global, src, Tensor(), tgt);
  const std::vector<double> all = testing::as_doubles(whole);
  const int64_t per_row = whole.numel() / whole.dim(0);
  const std::vector<double> expected(all.begin() + 2 * per_row, all.begin() + 4 * per_row);
  auto slice_forward = [&](int64_t first_row) {
    ForwardContext context(true, 9, first_row);
    return testing::as_doubles(
        encdec.forward(context, rows_of(src, 2, 2), Tensor(), rows_of(tgt, 2, 2)));
  };
  auto max_abs_diff = [](const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
  };
  EXPECT_LT(max_abs_diff(slice_forward(2), expected), 1e-12);
  // Drawn as rows 0 and 1 instead, the masks (and outputs) are others.
  EXPECT_GT(max_abs_diff(slice_forward(0), expected), 1e-3);
}

TEST(ModelInputs, BadInputsAreRefusedClearly) {
  auto dec = make_model(testing::tiny_config(ModelKind::decoder));
  ForwardContext eval;
  std::mt19937_64 rng(6);
  EXPECT_THROW(dec->decode(eval, testing::random_ids(1, 10, 11, rng)),
               InputError);  // > max_positions
  EXPECT_THROW(dec->encode(eval, testing::random_ids(1, 3, 11, rng)), Error);
  EXPECT_THROW(
      dec->decode(eval, testing::random_ids(1, 3, 11, rng), Tensor(), Tensor::zeros({1, 3, 8})),
      Error);
  ModelConfig c = testing::tiny_config(ModelKind::decoder);
  EXPECT_THROW(Encoder{c}, InputError);
  c.lm_head = false;
  auto headless = make_model(c);
  EXPECT_THROW(headless->lm_logits(Tensor::zeros({1, 2, 8})), Error);
}

}  // namespace
}  // namespace graft
