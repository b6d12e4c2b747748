#include <gtest/gtest.h>

#include <cmath>

#include "train/optimizer.h"

namespace graft {
namespace {

// One AdamW step by hand, in double.
double reference_update(double p, double g, double lr, double wd, int64_t step,
                        const AdamWOptions& o) {
  p -= lr * wd * p;
  const double m = (1 - o.beta1) * g, v = (1 - o.beta2) * g * g;
  const double m_hat = m / (1 - std::pow(o.beta1, step)), v_hat = v / (1 - std::pow(o.beta2, step));
  return p - lr * m_hat / (std::sqrt(v_hat) + o.eps);
}

TEST(AdamW, SkipsFrozenAndGradlessParametersAndHonoursNoDecay) {
  Parameters params;
  Tensor w = params.add("layers.0.mlp.up.weight",
                        Tensor::from_vector<double>({1.0, -2.0}, {2}).set_requires_grad());
  Tensor b = params.add("layers.0.mlp.up.bias",
                        Tensor::from_vector<double>({0.5}, {1}).set_requires_grad());
  Tensor frozen = params.add("embed.tokens.weight", Tensor::from_vector<double>({3.0}, {1}));
  Tensor unused =
      params.add("lm_head.weight", Tensor::from_vector<double>({4.0}, {1}).set_requires_grad());
  frozen.set_grad(Tensor::from_vector<double>({9.0}, {1}));  // must be ignored: frozen
  w.set_grad(Tensor::from_vector<double>({0.1, 0.2}, {2}));
  b.set_grad(Tensor::from_vector<double>({-0.3}, {1}));

  AdamWOptions o;
  o.weight_decay = 0.1;
  AdamW opt(params, o);
  EXPECT_TRUE(opt.decays("layers.0.mlp.up.weight"));
  EXPECT_FALSE(opt.decays("layers.0.mlp.up.bias"));
  EXPECT_FALSE(opt.decays("encoder.layers.1.attn_norm.weight"));
  opt.step(0.01);

  EXPECT_NEAR(w.to_vector<double>()[0], reference_update(1.0, 0.1, 0.01, 0.1, 1, o), 1e-15);
  EXPECT_NEAR(w.to_vector<double>()[1], reference_update(-2.0, 0.2, 0.01, 0.1, 1, o), 1e-15);
  EXPECT_NEAR(b.to_vector<double>()[0], reference_update(0.5, -0.3, 0.01, 0.0, 1, o), 1e-15);
  EXPECT_EQ(frozen.to_vector<double>()[0], 3.0);
  EXPECT_EQ(unused.to_vector<double>()[0], 4.0);
  EXPECT_EQ(opt.state().at("embed.tokens.weight").step, 0);
  EXPECT_EQ(opt.state().at("layers.0.mlp.up.weight").step, 1);
}

TEST(AdamW, ParameterUnfrozenLaterStartsItsOwnBiasCorrection) {
  Parameters params;
  Tensor a = params.add("a", Tensor::from_vector<double>({1.0}, {1}).set_requires_grad());
  Tensor late = params.add("late", Tensor::from_vector<double>({1.0}, {1}));
  AdamWOptions o;
  o.weight_decay = 0;
  AdamW opt(params, o);
  for (int i = 0; i < 5; ++i) {
    a.set_grad(Tensor::from_vector<double>({0.5}, {1}));
    opt.step(0.1);
  }
  late.set_requires_grad(true);
  late.set_grad(Tensor::from_vector<double>({0.5}, {1}));
  opt.step(0.1);
  // First update of `late` is a full-size Adam step (bias-corrected at step 1).
  EXPECT_NEAR(late.to_vector<double>()[0], reference_update(1.0, 0.5, 0.1, 0.0, 1, o), 1e-15);
  EXPECT_EQ(opt.state().at("late").step, 1);
  EXPECT_EQ(opt.state().at("a").step, 6);
}

}  // namespace
}  // namespace graft
