// The transformer GEMM shapes every bench/ program times, in one place.
//
// Tokens M = 2048 (batch 16 x sequence 128); model widths d = 384 and 768.
// graft's linear stores W as [out, in] (torch.nn.Linear), so one layer is three
// row-major sgemms:
//   forward  Y[M,N]  = X[M,K] @ W[N,K]^T   NT  (m=M, n=N, k=K)
//   dX       dX[M,K] = dY[M,N] @ W[N,K]    NN  (m=M, n=K, k=N)
//   dW       dW[N,K] = dY[M,N]^T @ X[M,K]  TN  (m=N, n=K, k=M)
// Each is 2*M*N*K FLOPs.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace graft::bench {

inline constexpr int64_t kTokens = 2048;
inline constexpr std::array<int64_t, 2> kWidths = {384, 768};

enum class Layer { qkv, attn_out, ffn_up, ffn_down };
inline constexpr std::array<Layer, 4> kLayers = {Layer::qkv, Layer::attn_out, Layer::ffn_up,
                                                 Layer::ffn_down};

enum class Pass { forward, backward_dx, backward_dw };
inline constexpr std::array<Pass, 3> kPasses = {Pass::forward, Pass::backward_dx,
                                                Pass::backward_dw};

struct LinearShape {
  int64_t m, k, n;  // X[m,k] @ W[n,k]^T
  bool gelu;        // bias + GELU epilogue (FFN up)
};

inline LinearShape layer_shape(Layer layer, int64_t d) {
  switch (layer) {
    case Layer::qkv:
      return {kTokens, d, 3 * d, false};
    case Layer::attn_out:
      return {kTokens, d, d, false};
    case Layer::ffn_up:
      return {kTokens, d, 4 * d, true};
    case Layer::ffn_down:
      return {kTokens, 4 * d, d, false};
  }
  return {};
}

inline const char* layer_name(Layer layer) {
  switch (layer) {
    case Layer::qkv:
      return "qkv";
    case Layer::attn_out:
      return "attn_out";
    case Layer::ffn_up:
      return "ffn_up_gelu";
    case Layer::ffn_down:
      return "ffn_down";
  }
  return "?";
}

inline const char* pass_name(Pass pass) {
  switch (pass) {
    case Pass::forward:
      return "fwd";
    case Pass::backward_dx:
      return "bwd_dX";
    case Pass::backward_dw:
      return "bwd_dW";
  }
  return "?";
}

// The row-major sgemm one pass runs: C[m,n] = op(A) op(B).
struct GemmCall {
  bool transpose_a, transpose_b;
  int64_t m, n, k;
  const char* layout;  // "NT", "NN", "TN"
};

inline GemmCall gemm_call(const LinearShape& s, Pass pass) {
  switch (pass) {
    case Pass::forward:
      return {false, true, s.m, s.n, s.k, "NT"};
    case Pass::backward_dx:
      return {false, false, s.m, s.k, s.n, "NN"};
    case Pass::backward_dw:
      return {true, false, s.n, s.k, s.m, "TN"};
  }
  return {};
}

inline double gemm_flop_count(int64_t m, int64_t n, int64_t k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

// "d768/qkv/fwd": the name both the graft and the raw-BLAS benchmark carry.
inline std::string case_name(Layer layer, int64_t d, Pass pass) {
  std::string name = "d";  // appended piecewise: GCC 12 warns (-Wrestrict) on a + chain
  name += std::to_string(d);
  name += '/';
  name += layer_name(layer);
  name += '/';
  name += pass_name(pass);
  return name;
}

// prefix + name, appended (GCC 12 -Wrestrict false positive on "lit" + string&&).
inline std::string with_prefix(const char* prefix, const std::string& name) {
  std::string s = prefix;
  s += name;
  return s;
}

}  // namespace graft::bench
