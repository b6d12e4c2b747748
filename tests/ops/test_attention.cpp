#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "ops/attention.h"
#include "ops/autograd.h"
#include "ops/flops.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::as_doubles;
using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

struct Geometry {
  int64_t batch, q_len, k_len, heads, head_dim;
  int64_t width() const { return heads * head_dim; }
};

// Batch 0 pads out a middle and the last key; batch 1 the first and last two,
// so with causal masking its first query row sees no key at all.
Tensor make_mask(int64_t batch, int64_t k_len) {
  std::vector<int32_t> m(static_cast<size_t>(batch * k_len), 1);
  for (int64_t b = 0; b < batch; ++b) {
    int32_t* row = m.data() + b * k_len;
    if (b % 2 == 0) {
      row[1] = 0;
      row[k_len - 1] = 0;
    } else {
      row[0] = 0;
      row[k_len - 2] = 0;
      row[k_len - 1] = 0;
    }
  }
  return Tensor::from_vector(m, {batch, k_len});
}

bool key_visible(const Geometry& g, const AttentionOptions& o, int64_t b, int64_t i, int64_t j) {
  if (o.causal && j > i + (g.k_len - g.q_len)) return false;
  if (o.key_padding_mask.defined() && o.key_padding_mask.data<int32_t>()[b * g.k_len + j] == 0) {
    return false;
  }
  return true;
}

double resolved_scale(const Geometry& g, const AttentionOptions& o) {
  return o.scale != 0.0 ? o.scale : 1.0 / std::sqrt(static_cast<double>(g.head_dim));
}

// Probabilities [B, H, Tq, Tk] by loops in double; a row with no visible key
// is all zeros.
std::vector<double> naive_probs(const Geometry& g, const std::vector<double>& q,
                                const std::vector<double>& k, const AttentionOptions& o) {
  const int64_t e = g.width();
  const double scale = resolved_scale(g, o);
  std::vector<double> p(static_cast<size_t>(g.batch * g.heads * g.q_len * g.k_len), 0.0);
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t h = 0; h < g.heads; ++h) {
      for (int64_t i = 0; i < g.q_len; ++i) {
        double* row = p.data() + ((b * g.heads + h) * g.q_len + i) * g.k_len;
        double max = -INFINITY;
        for (int64_t j = 0; j < g.k_len; ++j) {
          if (!key_visible(g, o, b, i, j)) continue;
          double s = 0;
          for (int64_t d = 0; d < g.head_dim; ++d) {
            s += q[(b * g.q_len + i) * e + h * g.head_dim + d] *
                 k[(b * g.k_len + j) * e + h * g.head_dim + d];
          }
          row[j] = s * scale;
          max = std::max(max, row[j]);
        }
        if (max == -INFINITY) continue;
        double sum = 0;
        for (int64_t j = 0; j < g.k_len; ++j) {
          row[j] = key_visible(g, o, b, i, j) ? std::exp(row[j] - max) : 0.0;
          sum += row[j];
        }
        for (int64_t j = 0; j < g.k_len; ++j)
          row[j] /= sum;
      }
    }
  }
  return p;
}

Tensor naive_attention(const Geometry& g, const Tensor& q, const Tensor& k, const Tensor& v,
                       const AttentionOptions& o) {
  const std::vector<double> qv = as_doubles(q), kv = as_doubles(k), vv = as_doubles(v);
  const std::vector<double> p = naive_probs(g, qv, kv, o);
  const int64_t e = g.width();
  std::vector<double> out(static_cast<size_t>(g.batch * g.q_len * e), 0.0);
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t h = 0; h < g.heads; ++h) {
      for (int64_t i = 0; i < g.q_len; ++i) {
        for (int64_t j = 0; j < g.k_len; ++j) {
          const double pij = p[((b * g.heads + h) * g.q_len + i) * g.k_len + j];
          for (int64_t d = 0; d < g.head_dim; ++d) {
            out[(b * g.q_len + i) * e + h * g.head_dim + d] +=
                pij * vv[(b * g.k_len + j) * e + h * g.head_dim + d];
          }
        }
      }
    }
  }
  return Tensor::from_vector(out, {g.batch, g.q_len, e});
}

// dQ, dK, dV for upstream dO, by loops in double straight from the softmax
// Jacobian (an independent check of the strided, threaded kernel on shapes
// too big for finite differences).
std::vector<Tensor> naive_attention_grads(const Geometry& g, const Tensor& q, const Tensor& k,
                                          const Tensor& v, const Tensor& dout,
                                          const AttentionOptions& o) {
  const std::vector<double> qv = as_doubles(q), kv = as_doubles(k), vv = as_doubles(v);
  const std::vector<double> dov = as_doubles(dout);
  const std::vector<double> p = naive_probs(g, qv, kv, o);
  const int64_t e = g.width(), dh = g.head_dim;
  const double scale = resolved_scale(g, o);
  std::vector<double> dq(qv.size(), 0.0), dk(kv.size(), 0.0), dv(vv.size(), 0.0);
  std::vector<double> dp(static_cast<size_t>(g.k_len));
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t h = 0; h < g.heads; ++h) {
      for (int64_t i = 0; i < g.q_len; ++i) {
        const double* prow = p.data() + ((b * g.heads + h) * g.q_len + i) * g.k_len;
        const int64_t qi = (b * g.q_len + i) * e + h * dh;
        for (int64_t j = 0; j < g.k_len; ++j) {
          const int64_t kj = (b * g.k_len + j) * e + h * dh;
          dp[j] = 0;
          for (int64_t d = 0; d < dh; ++d) {
            dp[j] += dov[qi + d] * vv[kj + d];
            dv[kj + d] += prow[j] * dov[qi + d];
          }
        }
        for (int64_t j = 0; j < g.k_len; ++j) {
          double ds = 0;  // sum_l dP_l * dP_l/dS_j with dP_l/dS_j = P_l (delta_lj - P_j)
          for (int64_t l = 0; l < g.k_len; ++l) {
            ds += dp[l] * prow[l] * ((l == j ? 1.0 : 0.0) - prow[j]);
          }
          const int64_t kj = (b * g.k_len + j) * e + h * dh;
          for (int64_t d = 0; d < dh; ++d) {
            dq[qi + d] += scale * ds * kv[kj + d];
            dk[kj + d] += scale * ds * qv[qi + d];
          }
        }
      }
    }
  }
  return {Tensor::from_vector(dq, q.shape()), Tensor::from_vector(dk, k.shape()),
          Tensor::from_vector(dv, v.shape())};
}

struct Case {
  const char* name;
  Geometry g;
  bool causal, masked;
};

// Failing cases print their name, not their bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

AttentionOptions options_for(const Case& c) {
  AttentionOptions o;
  o.num_heads = c.g.heads;
  o.causal = c.causal;
  if (c.masked) o.key_padding_mask = make_mask(c.g.batch, c.g.k_len);
  return o;
}

class AttentionCases : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionCases, ForwardMatchesNaiveReference) {
  const Case c = GetParam();
  const Geometry& g = c.g;
  std::mt19937_64 rng(11);
  for (DType dtype : {DType::f64, DType::f32}) {
    for (double scale : {0.0, 0.7}) {
      // Wide inputs make the softmax far from uniform, so a wrong scale or a
      // dropped mask shows.
      Tensor q = random_tensor({g.batch, g.q_len, g.width()}, rng, dtype, -2, 2);
      Tensor k = random_tensor({g.batch, g.k_len, g.width()}, rng, dtype, -2, 2);
      Tensor v = random_tensor({g.batch, g.k_len, g.width()}, rng, dtype);
      AttentionOptions o = options_for(c);
      o.scale = scale;
      Tensor out = scaled_dot_product_attention(q, k, v, o);
      EXPECT_EQ(out.dtype(), dtype);
      const double tol = dtype == DType::f64 ? 1e-12 : 2e-5;
      expect_tensors_near(out, naive_attention(g, q, k, v, o), tol, tol);
    }
  }
}

TEST_P(AttentionCases, BackwardMatchesFiniteDifferences) {
  const Case c = GetParam();
  const Geometry& g = c.g;
  std::mt19937_64 rng(12);
  Tensor q = random_tensor({g.batch, g.q_len, g.width()}, rng).set_requires_grad();
  Tensor k = random_tensor({g.batch, g.k_len, g.width()}, rng).set_requires_grad();
  Tensor v = random_tensor({g.batch, g.k_len, g.width()}, rng).set_requires_grad();
  const AttentionOptions o = options_for(c);
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) {
        return scaled_dot_product_attention(in[0], in[1], in[2], o);
      },
      {q, k, v});
}

TEST_P(AttentionCases, MaskedKeysHaveExactlyNoInfluence) {
  const Case c = GetParam();
  const Geometry& g = c.g;
  std::mt19937_64 rng(13);
  Tensor q = random_tensor({g.batch, g.q_len, g.width()}, rng, DType::f32).set_requires_grad();
  Tensor k = random_tensor({g.batch, g.k_len, g.width()}, rng, DType::f32).set_requires_grad();
  Tensor v = random_tensor({g.batch, g.k_len, g.width()}, rng, DType::f32).set_requires_grad();
  Tensor seed = random_tensor({g.batch, g.q_len, g.width()}, rng, DType::f32);
  AttentionOptions o = options_for(c);
  o.key_padding_mask = make_mask(g.batch, g.k_len);  // every case, causal or not
  const std::vector<int32_t> mask = o.key_padding_mask.to_vector<int32_t>();

  auto run = [&] {
    q.zero_grad();
    k.zero_grad();
    v.zero_grad();
    Tensor out = scaled_dot_product_attention(q, k, v, o);
    tape().backward(out, seed);
    return std::vector<std::vector<float>>{out.to_vector<float>(), q.grad().to_vector<float>(),
                                           k.grad().to_vector<float>(),
                                           v.grad().to_vector<float>()};
  };
  const auto before = run();
  // Masked keys' k and v get exactly zero gradient.
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t j = 0; j < g.k_len; ++j) {
      if (mask[b * g.k_len + j] != 0) continue;
      for (int64_t d = 0; d < g.width(); ++d) {
        const size_t at = static_cast<size_t>((b * g.k_len + j) * g.width() + d);
        EXPECT_EQ(before[2][at], 0.0f) << "dK at key " << j << " of batch " << b;
        EXPECT_EQ(before[3][at], 0.0f) << "dV at key " << j << " of batch " << b;
      }
    }
  }
  // Huge values in the masked keys' k and v: outputs and gradients identical
  // bit for bit.
  float* kp = k.data<float>();
  float* vp = v.data<float>();
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t j = 0; j < g.k_len; ++j) {
      if (mask[b * g.k_len + j] != 0) continue;
      for (int64_t d = 0; d < g.width(); ++d) {
        kp[(b * g.k_len + j) * g.width() + d] = 1e3f * static_cast<float>(d + 1);
        vp[(b * g.k_len + j) * g.width() + d] = -5e3f;
      }
    }
  }
  const auto after = run();
  for (size_t t = 0; t < before.size(); ++t) {
    ASSERT_EQ(before[t].size(), after[t].size());
    EXPECT_EQ(std::memcmp(before[t].data(), after[t].data(), before[t].size() * sizeof(float)), 0)
        << "result " << t << " (out, dq, dk, dv) changed";
  }
  // The same change on a real key does change the output, so the comparison
  // above can see a difference.
  vp[0 * g.width() + 2 * g.width()] += 1.0f;  // key 2 of batch 0 is real
  ASSERT_NE(mask[2], 0);
  const auto changed = run();
  EXPECT_NE(std::memcmp(before[0].data(), changed[0].data(), before[0].size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionCases,
    ::testing::Values(Case{"Bidirectional", {2, 5, 5, 3, 4}, false, false},
                      Case{"BidirectionalPadded", {2, 5, 5, 3, 4}, false, true},
                      Case{"Causal", {2, 5, 5, 3, 4}, true, false},
                      Case{"CausalPadded", {2, 5, 5, 3, 4}, true, true},
                      Case{"Cross", {2, 5, 7, 3, 4}, false, false},
                      Case{"CrossPadded", {2, 5, 7, 3, 4}, false, true},
                      Case{"CrossCausal", {2, 5, 7, 3, 4}, true, true},
                      // More queries than keys: the first causal rows see nothing.
                      Case{"CausalMoreQueriesThanKeys", {2, 7, 5, 2, 3}, true, false},
                      Case{"SingleHead", {3, 4, 6, 1, 5}, false, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(Attention, ThreadedStridedKernelMatchesNaiveGradients) {
  // Big enough that (batch, head) pairs run in parallel; every head's slice is
  // read and written in place through leading dimensions.
  const Geometry g{2, 40, 48, 4, 16};
  std::mt19937_64 rng(14);
  Tensor q = random_tensor({g.batch, g.q_len, g.width()}, rng).set_requires_grad();
  Tensor k = random_tensor({g.batch, g.k_len, g.width()}, rng).set_requires_grad();
  Tensor v = random_tensor({g.batch, g.k_len, g.width()}, rng).set_requires_grad();
  Tensor seed = random_tensor({g.batch, g.q_len, g.width()}, rng);
  for (bool causal : {false, true}) {
    AttentionOptions o;
    o.num_heads = g.heads;
    o.causal = causal;
    o.key_padding_mask = make_mask(g.batch, g.k_len);
    q.zero_grad();
    k.zero_grad();
    v.zero_grad();
    Tensor out = scaled_dot_product_attention(q, k, v, o);
    expect_tensors_near(out, naive_attention(g, q, k, v, o), 1e-12, 1e-12);
    tape().backward(out, seed);
    const std::vector<Tensor> want = naive_attention_grads(g, q, k, v, seed, o);
    expect_tensors_near(q.grad(), want[0], 1e-10, 1e-12);
    expect_tensors_near(k.grad(), want[1], 1e-10, 1e-12);
    expect_tensors_near(v.grad(), want[2], 1e-10, 1e-12);
  }
}

TEST(Attention, CausalOutputIgnoresLaterKeysAndValues) {
  const Geometry g{2, 6, 6, 2, 3};
  std::mt19937_64 rng(15);
  Tensor q = random_tensor({g.batch, g.q_len, g.width()}, rng);
  Tensor k = random_tensor({g.batch, g.k_len, g.width()}, rng);
  Tensor v = random_tensor({g.batch, g.k_len, g.width()}, rng);
  AttentionOptions o;
  o.num_heads = g.heads;
  o.causal = true;
  const std::vector<double> before = scaled_dot_product_attention(q, k, v, o).to_vector<double>();
  const int64_t t = 2;
  double* kp = k.data<double>();
  double* vp = v.data<double>();
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t j = t + 1; j < g.k_len; ++j) {
      for (int64_t d = 0; d < g.width(); ++d) {
        kp[(b * g.k_len + j) * g.width() + d] += 3.0;
        vp[(b * g.k_len + j) * g.width() + d] -= 7.0;
      }
    }
  }
  const std::vector<double> after = scaled_dot_product_attention(q, k, v, o).to_vector<double>();
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t i = 0; i < g.q_len; ++i) {
      bool row_same = true;
      for (int64_t d = 0; d < g.width(); ++d) {
        const size_t at = static_cast<size_t>((b * g.q_len + i) * g.width() + d);
        row_same = row_same && before[at] == after[at];
      }
      // Rows up to t must be bit-identical; later rows see the change.
      EXPECT_EQ(row_same, i <= t) << "batch " << b << " row " << i;
    }
  }
}

TEST(Attention, FullyMaskedRowsGiveZerosAndZeroGradients) {
  const Geometry g{2, 4, 3, 2, 3};
  std::mt19937_64 rng(16);
  Tensor q = random_tensor({g.batch, g.q_len, g.width()}, rng).set_requires_grad();
  Tensor k = random_tensor({g.batch, g.k_len, g.width()}, rng).set_requires_grad();
  Tensor v = random_tensor({g.batch, g.k_len, g.width()}, rng).set_requires_grad();
  AttentionOptions o;
  o.num_heads = g.heads;
  // Batch 1 has no real key at all; in batch 0, causal alignment at the end
  // leaves query row 0 (Tq - Tk = 1) with no key.
  o.key_padding_mask = Tensor::from_vector(std::vector<int32_t>{1, 1, 1, 0, 0, 0}, {2, 3});
  o.causal = true;
  Tensor out = scaled_dot_product_attention(q, k, v, o);
  tape().backward(out, Tensor::full(out.shape(), 1.0, DType::f64));
  const std::vector<double> y = out.to_vector<double>();
  const std::vector<double> dq = q.grad().to_vector<double>();
  const std::vector<double> dk = k.grad().to_vector<double>();
  const std::vector<double> dv = v.grad().to_vector<double>();
  const int64_t e = g.width();
  for (int64_t i = 0; i < g.q_len; ++i) {
    for (int64_t d = 0; d < e; ++d) {
      EXPECT_EQ(y[(g.q_len + i) * e + d], 0.0);  // batch 1
      EXPECT_EQ(dq[(g.q_len + i) * e + d], 0.0);
    }
  }
  for (int64_t d = 0; d < e; ++d) {
    EXPECT_EQ(y[d], 0.0);  // batch 0, row 0
    EXPECT_EQ(dq[d], 0.0);
    EXPECT_NE(y[e + d], 0.0);  // row 1 sees key 0
  }
  for (size_t i = static_cast<size_t>(g.k_len * e); i < dk.size(); ++i) {
    EXPECT_EQ(dk[i], 0.0);
    EXPECT_EQ(dv[i], 0.0);
  }
  expect_tensors_near(out, naive_attention(g, q, k, v, o), 1e-12, 1e-12);
}

TEST(Attention, SelfAttentionOnOneTensorAccumulatesAllThreeGradients) {
  // q, k and v are the same tensor: the three gradients share one slot.
  std::mt19937_64 rng(17);
  Tensor x = random_tensor({2, 4, 6}, rng).set_requires_grad();
  AttentionOptions o;
  o.num_heads = 2;
  o.causal = true;
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) {
        return scaled_dot_product_attention(in[0], in[0], in[0], o);
      },
      {x});
}

TEST(Attention, GradientsAccumulateAcrossBackwardPasses) {
  std::mt19937_64 rng(18);
  Tensor q = random_tensor({2, 3, 4}, rng).set_requires_grad();
  Tensor k = random_tensor({2, 5, 4}, rng).set_requires_grad();
  Tensor v = random_tensor({2, 5, 4}, rng).set_requires_grad();
  Tensor seed = random_tensor({2, 3, 4}, rng);
  AttentionOptions o;
  o.num_heads = 2;
  o.key_padding_mask = make_mask(2, 5);
  tape().backward(scaled_dot_product_attention(q, k, v, o), seed);
  const std::vector<Tensor> first{q.grad().clone(), k.grad().clone(), v.grad().clone()};
  tape().backward(scaled_dot_product_attention(q, k, v, o), seed);
  const std::vector<Tensor> second{q.grad(), k.grad(), v.grad()};
  for (size_t t = 0; t < 3; ++t) {
    const std::vector<double> once = first[t].to_vector<double>();
    const std::vector<double> twice = second[t].to_vector<double>();
    for (size_t i = 0; i < once.size(); ++i)
      EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
  }
}

TEST(Attention, LedgerCountsExactlyTheProductsExecuted) {
  const int64_t b = 2, tq = 5, tk = 7, h = 3, dh = 4;
  const double product = 2.0 * b * h * tq * tk * dh;
  const double scores = static_cast<double>(b * h * tq * tk);
  std::mt19937_64 rng(19);
  Tensor q = random_tensor({b, tq, h * dh}, rng, DType::f32).set_requires_grad();
  Tensor k = random_tensor({b, tk, h * dh}, rng, DType::f32).set_requires_grad();
  Tensor v = random_tensor({b, tk, h * dh}, rng, DType::f32).set_requires_grad();
  Tensor seed = Tensor::full({b, tq, h * dh}, 1.0, DType::f32);
  AttentionOptions o;
  o.num_heads = h;
  o.causal = true;  // counted in full all the same

  flops_ledger().reset();
  Tensor y = scaled_dot_product_attention(q, k, v, o);
  EXPECT_EQ(flops_ledger().forward().attention, 2 * product);
  EXPECT_EQ(flops_ledger().forward().other, 5 * scores);
  EXPECT_EQ(flops_ledger().forward().matmul, 0.0);
  tape().backward(y, seed);
  // dP, dQ, dK, dV.
  EXPECT_EQ(flops_ledger().backward().attention, 4 * product);
  EXPECT_EQ(flops_ledger().backward().other, 4 * scores);

  // Only q learns: dP and dQ, nothing for dK or dV.
  k.set_requires_grad(false);
  v.set_requires_grad(false);
  q.zero_grad();
  k.zero_grad();
  v.zero_grad();
  flops_ledger().reset();
  y = scaled_dot_product_attention(q, k, v, o);
  tape().backward(y, seed);
  EXPECT_EQ(flops_ledger().backward().attention, 2 * product);
  EXPECT_EQ(flops_ledger().backward().other, 4 * scores);
  EXPECT_TRUE(q.has_grad());
  EXPECT_FALSE(k.has_grad());
  EXPECT_FALSE(v.has_grad());

  // Only v learns: dV alone; dP and the softmax backward are skipped.
  q.set_requires_grad(false);
  v.set_requires_grad(true);
  q.zero_grad();
  flops_ledger().reset();
  y = scaled_dot_product_attention(q, k, v, o);
  tape().backward(y, seed);
  EXPECT_EQ(flops_ledger().backward().attention, product);
  EXPECT_EQ(flops_ledger().backward().other, 0.0);
  EXPECT_FALSE(q.has_grad());
  EXPECT_TRUE(v.has_grad());

  // Nothing learns: no tape entry, forward still counted.
  v.set_requires_grad(false);
  flops_ledger().reset();
  y = scaled_dot_product_attention(q, k, v, o);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(tape().size(), 0u);
  EXPECT_EQ(flops_ledger().forward().attention, 2 * product);
}

void expect_rejected(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o,
                     const std::string& mention) {
  try {
    scaled_dot_product_attention(q, k, v, o);
    ADD_FAILURE() << "expected an error mentioning " << mention;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("scaled_dot_product_attention"), std::string::npos) << what;
    EXPECT_NE(what.find(mention), std::string::npos) << what;
  }
}

TEST(Attention, BadArgumentsThrowNamingTheOp) {
  const Tensor q = Tensor::zeros({2, 5, 12});
  const Tensor k = Tensor::zeros({2, 7, 12});
  AttentionOptions o;
  o.num_heads = 5;  // does not divide 12
  expect_rejected(q, k, k, o, "num_heads 5");
  o.num_heads = 3;
  expect_rejected(q, Tensor::zeros({3, 7, 12}), Tensor::zeros({3, 7, 12}), o, "f32[3, 7, 12]");
  expect_rejected(q, Tensor::zeros({2, 7, 8}), Tensor::zeros({2, 7, 8}), o, "f32[2, 7, 8]");
  expect_rejected(q, k, Tensor::zeros({2, 6, 12}), o, "v");
  expect_rejected(Tensor::zeros({10, 12}), k, k, o, "f32[10, 12]");
  expect_rejected(q, k, Tensor::zeros({2, 7, 12}, DType::f64), o, "v");
  o.key_padding_mask = Tensor::from_vector(std::vector<int32_t>(10, 1), {2, 5});  // Tq, not Tk
  expect_rejected(q, k, k, o, "key_padding_mask");
  o.key_padding_mask = Tensor::full({2, 7}, 1.0, DType::f32);
  expect_rejected(q, k, k, o, "key_padding_mask must be i32");
  o.key_padding_mask = Tensor();
  o.num_heads = 0;
  expect_rejected(q, k, k, o, "num_heads");
}

}  // namespace
}  // namespace graft
