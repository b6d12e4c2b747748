// bench_kernels: graft's ops against the raw sgemm of the BLAS graft links
// (GRAFT_BLAS), on the transformer shapes of bench/shapes.h, side by side in
// one run. Every graft benchmark "graft/<case>" has its reference
// "blas/<case>" registered next to it; after the run a summary table prints
// both median GFLOP/s and the fraction graft reaches.
//
//   graft/<case>/fwd     op level: linear(x, w, bias[, GELU]) in training mode
//                        (weights require grad, so the GELU pre-activation is
//                        kept), output allocated per call as in a real step.
//   graft/<case>/bwd_dX  kernel level: cpu::matmul_backward with only dX asked
//                        (FFN up: includes the GELU derivative pass).
//   graft/<case>/bwd_dW  kernel level: cpu::matmul_backward with dW and dbias
//                        (FFN up: includes the GELU derivative pass).
//   blas/<case>/<pass>   the one raw cblas_sgemm that pass needs (NT/NN/TN).
//   headline             linear forward + backward (dX, dW, dbias) through the
//                        tape at M=2048, K=768, N=768 vs the three raw sgemms;
//                        target: >= 85% of the raw rate.
//   parts/...            the non-GEMM pieces of the headline, timed alone.
//   graft/attention/...  scaled_dot_product_attention, B=16 T=128, d=384 (6
//                        heads) and 768 (12 heads), full and causal, forward
//                        and forward+backward; GFLOP/s from flops_ledger().
//   graft/layer_norm/... layer_norm on [2048, d], forward and fwd+bwd.
//
// GFLOP/s counts the model FLOPs (2*M*N*K per GEMM, what flops_ledger() books
// as matmul) for graft and raw alike, so the fraction is a ratio of times.
// Before timing, main() checks graft's headline results against the raw
// sgemms (the kernel workbench habit: versions checked, then timed).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/raw_sgemm.h"
#include "bench/shapes.h"
#include "bench/summary.h"
#include "ops/attention.h"
#include "ops/autograd.h"
#include "ops/cpu/blas.h"
#include "ops/cpu/matmul.h"
#include "ops/cpu/parallel.h"
#include "ops/flops.h"
#include "ops/layer_norm.h"
#include "ops/matmul.h"
#include "ops/tensor.h"

namespace gb = graft::bench;
using graft::Tensor;

namespace {

Tensor random_tensor(const graft::Shape& shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::empty(shape);
  gb::Buffer b = gb::random_buffer(t.numel(), seed);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = scale * b[i];
  return t;
}

// The operands of one linear layer X[m,k] @ W[n,k]^T + bias[n].
struct LinearOperands {
  Tensor x, w, bias, dy;
  explicit LinearOperands(const gb::LinearShape& s)
      : x(random_tensor({s.m, s.k}, 11)),
        w(random_tensor({s.n, s.k}, 12, 1.0f / std::sqrt(static_cast<float>(s.k)))),
        bias(random_tensor({s.n}, 13, 0.1f)),
        dy(random_tensor({s.m, s.n}, 14)) {}
};

graft::MatmulShape linear_geometry(const gb::LinearShape& s) {
  graft::MatmulShape g;
  g.m = s.m;
  g.n = s.n;
  g.k = s.k;
  g.transpose_b = true;
  return g;
}

// Op-level forward in training mode (weights require grad, tape recorded and
// cleared each iteration).
void bm_graft_forward(benchmark::State& state, gb::LinearShape s) {
  LinearOperands op(s);
  op.w.set_requires_grad(true);
  op.bias.set_requires_grad(true);
  const auto epilogue = s.gelu ? graft::Epilogue::gelu : graft::Epilogue::none;
  for (auto _ : state) {
    Tensor y = graft::linear(op.x, op.w, op.bias, epilogue);
    benchmark::DoNotOptimize(y.data<float>());
    graft::tape().clear();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(gb::gemm_flop_count(s.m, s.n, s.k));
}

// Kernel-level backward: one of dX (with_dw false) or dW + dbias (true).
void bm_graft_backward(benchmark::State& state, gb::LinearShape s, bool with_dw) {
  LinearOperands op(s);
  const graft::MatmulShape g = linear_geometry(s);
  Tensor pre;
  if (s.gelu) {  // the kept pre-activation the forward would leave
    pre = Tensor::empty({s.m, s.n});
    Tensor out = Tensor::empty({s.m, s.n});
    graft::cpu::matmul_forward(g, op.x, op.w, op.bias, true, pre, out);
  }
  graft::GradSlot dx{Tensor::empty({s.m, s.k}), false};
  graft::GradSlot dw{Tensor::empty({s.n, s.k}), false};
  graft::GradSlot db{Tensor::empty({s.n}), false};
  for (auto _ : state) {
    graft::cpu::matmul_backward(g, op.x, op.w, pre, op.dy, s.gelu, with_dw ? nullptr : &dx,
                                with_dw ? &dw : nullptr, with_dw ? &db : nullptr);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(gb::gemm_flop_count(s.m, s.n, s.k));
}

// --- the headline: linear forward + backward at 2048 x 768 x 768 -------------

constexpr gb::LinearShape kHeadline = {gb::kTokens, 768, 768, false};
const double kHeadlineFlops = 3 * gb::gemm_flop_count(kHeadline.m, kHeadline.n, kHeadline.k);

// One training step of the layer through the op API and the tape.
Tensor headline_step(LinearOperands& op) {
  op.x.zero_grad();
  op.w.zero_grad();
  op.bias.zero_grad();
  Tensor y = graft::linear(op.x, op.w, op.bias);
  graft::tape().backward(y, op.dy);
  return y;
}

LinearOperands headline_operands() {
  LinearOperands op(kHeadline);
  op.x.set_requires_grad(true);
  op.w.set_requires_grad(true);
  op.bias.set_requires_grad(true);
  return op;
}

void bm_graft_headline(benchmark::State& state) {
  LinearOperands op = headline_operands();
  for (auto _ : state) {
    Tensor y = headline_step(op);
    benchmark::DoNotOptimize(y.data<float>());
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(kHeadlineFlops);
}

// The same step through graft's CPU kernels directly: no tape, no allocation.
void bm_graft_headline_kernels(benchmark::State& state) {
  const gb::LinearShape s = kHeadline;
  LinearOperands op(s);
  const graft::MatmulShape g = linear_geometry(s);
  Tensor y = Tensor::empty({s.m, s.n});
  graft::GradSlot dx{Tensor::empty({s.m, s.k}), false};
  graft::GradSlot dw{Tensor::empty({s.n, s.k}), false};
  graft::GradSlot db{Tensor::empty({s.n}), false};
  for (auto _ : state) {
    graft::cpu::matmul_forward(g, op.x, op.w, op.bias, false, Tensor(), y);
    graft::cpu::matmul_backward(g, op.x, op.w, Tensor(), op.dy, false, &dx, &dw, &db);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(kHeadlineFlops);
}

void bm_raw_headline(benchmark::State& state) {
  const gb::LinearShape s = kHeadline;
  gb::Buffer x = gb::random_buffer(s.m * s.k, 1), w = gb::random_buffer(s.n * s.k, 2);
  gb::Buffer dy = gb::random_buffer(s.m * s.n, 3), y = gb::random_buffer(s.m * s.n, 4);
  gb::Buffer dx = gb::random_buffer(s.m * s.k, 5), dw = gb::random_buffer(s.n * s.k, 6);
  for (auto _ : state) {
    gb::raw_sgemm(gb::gemm_call(s, gb::Pass::forward), x.get(), w.get(), y.get());
    gb::raw_sgemm(gb::gemm_call(s, gb::Pass::backward_dx), dy.get(), w.get(), dx.get());
    gb::raw_sgemm(gb::gemm_call(s, gb::Pass::backward_dw), dy.get(), x.get(), dw.get());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(kHeadlineFlops);
}

// --- the non-GEMM parts of the headline, alone ---------------------------------

// Bias gradient: column sums of dY [2048, 768].
void bm_part_bias_grad(benchmark::State& state) {
  const gb::LinearShape s = kHeadline;
  Tensor dy = random_tensor({s.m, s.n}, 3);
  std::vector<float> db(static_cast<size_t>(s.n));
  for (auto _ : state) {
    graft::cpu::sum_rows(dy.data<float>(), s.m, s.n, db.data(), false);
    benchmark::ClobberMemory();
  }
}

// Bias epilogue: forward with bias minus the same forward without (the
// difference of these two is the bias pass).
void bm_part_forward(benchmark::State& state, bool with_bias) {
  const gb::LinearShape s = kHeadline;
  LinearOperands op(s);
  const graft::MatmulShape g = linear_geometry(s);
  Tensor y = Tensor::empty({s.m, s.n});
  const Tensor bias = with_bias ? op.bias : Tensor();
  for (auto _ : state) {
    graft::cpu::matmul_forward(g, op.x, op.w, bias, false, Tensor(), y);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(gb::gemm_flop_count(s.m, s.n, s.k));
}

// Allocating a fresh [2048, 768] f32 tensor and writing it once (what the op
// API pays per output/gradient on top of the kernels).
void bm_part_alloc_touch(benchmark::State& state) {
  for (auto _ : state) {
    Tensor t = Tensor::empty({kHeadline.m, kHeadline.n});
    std::memset(t.data<float>(), 0, t.bytes());
    benchmark::DoNotOptimize(t.data<float>());
  }
}

// The tape's copy of the backward seed dY [2048, 768].
void bm_part_seed_clone(benchmark::State& state) {
  Tensor dy = random_tensor({kHeadline.m, kHeadline.n}, 3);
  for (auto _ : state) {
    Tensor c = dy.clone();
    benchmark::DoNotOptimize(c.data<float>());
  }
}

// --- attention and layer norm --------------------------------------------------
// Training mode (inputs require grad). GFLOP/s counts what flops_ledger()
// books for one iteration, measured by running it once before timing:
// attention benchmarks count FlopsKind::attention (the score and value
// products, full even when causal), layer norm FlopsKind::other.

constexpr int64_t kAttnBatch = 16, kAttnSeq = 128;

// Ledger FLOPs of one call of step (attention or other kind).
template <class Step>
double ledger_flops(Step&& step, graft::FlopsKind kind) {
  const graft::FlopsLedger before = graft::flops_ledger();
  step();
  const graft::FlopsLedger& after = graft::flops_ledger();
  auto pick = [kind](const graft::FlopsCounts& c) {
    return kind == graft::FlopsKind::attention ? c.attention
           : kind == graft::FlopsKind::matmul  ? c.matmul
                                               : c.other;
  };
  return pick(after.forward()) - pick(before.forward()) + pick(after.backward()) -
         pick(before.backward());
}

std::string attention_name(int64_t d, bool causal, bool backward) {
  std::string name = gb::with_prefix("graft/attention/d", std::to_string(d));
  name += gb::with_prefix("_h", std::to_string(d / 64));
  name += causal ? "_causal/" : "_full/";
  name += backward ? "fwd_bwd" : "fwd";
  return name;
}

std::string layer_norm_name(int64_t d, bool backward) {
  std::string name = gb::with_prefix("graft/layer_norm/2048x", std::to_string(d));
  name += backward ? "/fwd_bwd" : "/fwd";
  return name;
}

void bm_attention(benchmark::State& state, int64_t d, int64_t heads, bool causal, bool backward) {
  const graft::Shape shape = {kAttnBatch, kAttnSeq, d};
  Tensor q = random_tensor(shape, 21), k = random_tensor(shape, 22), v = random_tensor(shape, 23);
  Tensor dout = random_tensor(shape, 24);
  for (Tensor* t : {&q, &k, &v})
    t->set_requires_grad(true);
  graft::AttentionOptions options;
  options.num_heads = heads;
  options.causal = causal;
  auto step = [&] {
    for (Tensor* t : {&q, &k, &v})
      t->zero_grad();
    Tensor out = graft::scaled_dot_product_attention(q, k, v, options);
    if (backward) {
      graft::tape().backward(out, dout);
    } else {
      graft::tape().clear();
    }
    benchmark::DoNotOptimize(out.data<float>());
  };
  const double flops = ledger_flops(step, graft::FlopsKind::attention);
  for (auto _ : state)
    step();
  state.counters["GFLOP/s"] = gb::gflops_counter(flops);
}

void bm_layer_norm(benchmark::State& state, int64_t d, bool backward) {
  Tensor x = random_tensor({gb::kTokens, d}, 31), dout = random_tensor({gb::kTokens, d}, 32);
  Tensor w = random_tensor({d}, 33), b = random_tensor({d}, 34, 0.1f);
  for (Tensor* t : {&x, &w, &b})
    t->set_requires_grad(true);
  auto step = [&] {
    for (Tensor* t : {&x, &w, &b})
      t->zero_grad();
    Tensor y = graft::layer_norm(x, w, b);
    if (backward) {
      graft::tape().backward(y, dout);
    } else {
      graft::tape().clear();
    }
    benchmark::DoNotOptimize(y.data<float>());
  };
  const double flops = ledger_flops(step, graft::FlopsKind::other);
  for (auto _ : state)
    step();
  state.counters["GFLOP/s"] = gb::gflops_counter(flops);
  // Bytes a single pass must move at least: read x, write y (+ read dy and x,
  // write dx for backward), f32.
  const double bytes = (backward ? 5.0 : 2.0) * 4.0 * static_cast<double>(x.numel());
  state.counters["GB/s(min)"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// --- correctness before timing -------------------------------------------------

double max_rel_diff(const float* a, const float* b, int64_t n) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// graft's headline step against raw sgemms (+ a double bias and bias gradient).
bool check_headline() {
  const gb::LinearShape s = kHeadline;
  LinearOperands op = headline_operands();
  Tensor y = headline_step(op);
  std::vector<float> ry(static_cast<size_t>(s.m * s.n)), rdx(static_cast<size_t>(s.m * s.k)),
      rdw(static_cast<size_t>(s.n * s.k)), rdb(static_cast<size_t>(s.n));
  gb::raw_sgemm(gb::gemm_call(s, gb::Pass::forward), op.x.data<float>(), op.w.data<float>(),
                ry.data());
  const float* bias = op.bias.data<float>();
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j)
      ry[i * s.n + j] += bias[j];
  gb::raw_sgemm(gb::gemm_call(s, gb::Pass::backward_dx), op.dy.data<float>(), op.w.data<float>(),
                rdx.data());
  gb::raw_sgemm(gb::gemm_call(s, gb::Pass::backward_dw), op.dy.data<float>(), op.x.data<float>(),
                rdw.data());
  const float* dy = op.dy.data<float>();
  for (int64_t j = 0; j < s.n; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < s.m; ++i)
      sum += dy[i * s.n + j];
    rdb[j] = static_cast<float>(sum);
  }
  const double e[4] = {max_rel_diff(y.data<float>(), ry.data(), s.m * s.n),
                       max_rel_diff(op.x.grad().data<float>(), rdx.data(), s.m * s.k),
                       max_rel_diff(op.w.grad().data<float>(), rdw.data(), s.n * s.k),
                       max_rel_diff(op.bias.grad().data<float>(), rdb.data(), s.n)};
  std::printf(
      "check headline vs raw sgemm (max |diff| / max |ref|): y %.2e, dX %.2e, dW %.2e, "
      "dbias %.2e\n",
      e[0], e[1], e[2], e[3]);
  return std::all_of(std::begin(e), std::end(e), [](double v) { return v < 1e-4; });
}

void register_benchmarks() {
  auto reg = [](const std::string& name, auto fn, auto... args) {
    return benchmark::RegisterBenchmark(name.c_str(), fn, args...)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  };
  // Headline first: it is the number that matters most.
  reg("graft/headline/linear_fwd_bwd", bm_graft_headline);
  reg("blas/headline/linear_fwd_bwd", bm_raw_headline);
  reg("graft/headline_kernels/linear_fwd_bwd", bm_graft_headline_kernels);
  reg("parts/fwd_bias_2048x768x768", bm_part_forward, true);
  reg("parts/fwd_nobias_2048x768x768", bm_part_forward, false);
  reg("parts/bias_grad_2048x768", bm_part_bias_grad)->Unit(benchmark::kMicrosecond);
  reg("parts/alloc_touch_2048x768", bm_part_alloc_touch)->Unit(benchmark::kMicrosecond);
  reg("parts/seed_clone_2048x768", bm_part_seed_clone)->Unit(benchmark::kMicrosecond);
  for (int64_t d : gb::kWidths) {
    for (bool causal : {false, true}) {
      for (bool backward : {false, true}) {
        reg(attention_name(d, causal, backward), bm_attention, d, d / 64, causal, backward);
      }
    }
    for (bool backward : {false, true}) {
      reg(layer_norm_name(d, backward), bm_layer_norm, d, backward)->Unit(benchmark::kMicrosecond);
    }
  }
  for (int64_t d : gb::kWidths) {
    for (gb::Layer layer : gb::kLayers) {
      const gb::LinearShape s = gb::layer_shape(layer, d);
      for (gb::Pass pass : gb::kPasses) {
        const std::string name = gb::case_name(layer, d, pass);
        if (pass == gb::Pass::forward) {
          reg(gb::with_prefix("graft/", name), bm_graft_forward, s);
        } else {
          reg(gb::with_prefix("graft/", name), bm_graft_backward, s, pass == gb::Pass::backward_dw);
        }
        reg(gb::with_prefix("blas/", name), gb::bm_raw_sgemm, gb::gemm_call(s, pass));
      }
    }
  }
}

void print_summary(const gb::SummaryReporter& r) {
  std::printf("\ngraft vs raw %s sgemm, %d thread(s): median GFLOP/s (model FLOPs)\n",
              graft::cpu::blas_name(), omp_get_max_threads());
  std::printf("%-32s %6s %10s %10s %9s %9s\n", "case", "layout", "graft", "blas", "fraction",
              "best/best");
  auto row = [&](const std::string& name, const char* layout) {
    const std::string g = gb::with_prefix("graft/", name), b = gb::with_prefix("blas/", name);
    if (!r.has(g) || !r.has(b)) return;
    const double gf = r.median_gflops(g), bf = r.median_gflops(b);
    std::printf("%-32s %6s %10.1f %10.1f %8.1f%% %8.1f%%\n", name.c_str(), layout, gf, bf,
                100.0 * gf / bf, 100.0 * r.best_gflops(g) / r.best_gflops(b));
  };
  for (int64_t d : gb::kWidths)
    for (gb::Layer layer : gb::kLayers)
      for (gb::Pass pass : gb::kPasses)
        row(gb::case_name(layer, d, pass), gb::gemm_call(gb::layer_shape(layer, d), pass).layout);

  const std::string g = "graft/headline/linear_fwd_bwd", b = "blas/headline/linear_fwd_bwd";
  if (r.has(g) && r.has(b)) {
    const double gs = r.median_seconds(g), bs = r.median_seconds(b);
    std::printf("\nHEADLINE linear fwd+bwd (dX, dW, bias) M=2048 K=768 N=768:\n");
    std::printf(
        "  graft %.2f ms = %.1f GFLOP/s; raw 3x sgemm (NT, NN, TN) %.2f ms = %.1f "
        "GFLOP/s; ratio %.1f%% (target >= 85%%)\n",
        gs * 1e3, kHeadlineFlops / gs * 1e-9, bs * 1e3, kHeadlineFlops / bs * 1e-9,
        100.0 * bs / gs);
    std::printf("  best repetitions: graft %.1f GFLOP/s, raw %.1f GFLOP/s; ratio %.1f%%\n",
                r.best_gflops(g), r.best_gflops(b), 100.0 * r.best_gflops(g) / r.best_gflops(b));
    const std::string k = "graft/headline_kernels/linear_fwd_bwd";
    if (r.has(k)) {
      const double ks = r.median_seconds(k);
      std::printf("  graft kernels only (no tape, no allocation) %.2f ms; ratio %.1f%%\n", ks * 1e3,
                  100.0 * bs / ks);
    }
  }
  std::printf(
      "\nattention (B=16, T=128) and layer norm (2048 rows): median, GFLOP/s from "
      "flops_ledger()\n");
  for (int64_t d : gb::kWidths) {
    std::vector<std::string> names;
    for (bool causal : {false, true})
      for (bool backward : {false, true})
        names.push_back(attention_name(d, causal, backward));
    for (bool backward : {false, true})
      names.push_back(layer_norm_name(d, backward));
    for (const std::string& name : names) {
      if (r.has(name)) {
        std::printf("  %-40s %9.3f ms %8.1f GFLOP/s\n", name.c_str(), r.median_seconds(name) * 1e3,
                    r.median_gflops(name));
      }
    }
  }
  std::printf("\nparts (median per call):\n");
  for (const char* p :
       {"parts/fwd_bias_2048x768x768", "parts/fwd_nobias_2048x768x768", "parts/bias_grad_2048x768",
        "parts/alloc_touch_2048x768", "parts/seed_clone_2048x768"}) {
    if (r.has(p)) std::printf("  %-34s %9.3f ms\n", p, r.median_seconds(p) * 1e3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("blas", graft::cpu::blas_name());
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  if (!check_headline()) {
    std::fprintf(stderr, "graft's linear disagrees with raw sgemm: not timing it\n");
    return 1;
  }
  register_benchmarks();
  gb::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_summary(reporter);
  return 0;
}
