// Multi-rank check of tensor and data parallelism, run by ctest under mpirun
// (tests/dist/tp_tests.cmake): for each model kind, a model split over the
// grid (tp × dp) must train exactly like one unsplit model on the same global
// batch. Every rank also builds the one-rank reference and, for every step,
// compares the loss (averaged over dp) and every gradient (gathered over tp
// to its logical tensor) with the reference's, within 1e-5 relative; then
// both take an AdamW step (the split model on its shards, which is the same
// element-wise update). After the last step the gathered parameters must
// match, and sharding them again (shard_logical) must give this rank's
// parameters bit for bit. Runs in f64, so any error in the parallel math
// shows far above rounding.
//
// Options: --tp N (default 1), --steps S (default 20), --dtype f64|f32
// (default f64), --width D (d_model = d_ff = vocab; default 16), --bucket-kb K
// (reducer bucket size; default 4). Exits 1 on a mismatch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dist/context.h"
#include "dist/gradient_reducer.h"
#include "model/model.h"
#include "model/tensor_parallel.h"
#include "ops/adamw.h"
#include "ops/autograd.h"
#include "ops/binary_cross_entropy.h"
#include "ops/elementwise.h"

namespace graft {
namespace {

constexpr double kTolerance = 1e-5;
int g_failures = 0;
DType g_dtype = DType::f64;
int64_t g_width = 16;          // d_model (d_ff = d_model, vocab 16 · d_model / 16)
size_t g_bucket_bytes = 4096;  // several buckets even for the tiny model

#define EXPECT_OR_COUNT(cond, msg)                                                        \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      if (g_failures++ < 20) std::fprintf(stderr, "FAIL %s\n", std::string(msg).c_str()); \
    }                                                                                     \
  } while (0)

struct Case {
  std::string name;
  ModelConfig config;
};

ModelConfig base_config(ModelKind kind) {
  ModelConfig c;
  c.kind = kind;
  c.vocab_size = g_width;
  c.d_model = g_width;
  c.num_heads = 4;
  c.d_ff = g_width;
  c.encoder_layers = kind == ModelKind::decoder ? 0 : 2;
  c.decoder_layers = kind == ModelKind::encoder ? 0 : 2;
  c.max_positions = 8;
  c.init_std = 0.3;
  c.lm_head = kind != ModelKind::encoder;
  c.mlm_head = kind == ModelKind::encoder;
  return c;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  ModelConfig enc = base_config(ModelKind::encoder);  // MLM + the replicated heads
  enc.rtd_head = true;
  enc.num_classes = 3;
  out.push_back({"encoder_mlm", enc});
  out.push_back({"decoder_lm", base_config(ModelKind::decoder)});
  ModelConfig untied = base_config(ModelKind::decoder);
  untied.tie_embeddings = false;
  untied.positions = PositionKind::rotary;
  untied.norm = NormKind::rms;
  out.push_back({"decoder_lm_untied_rotary", untied});
  out.push_back({"encoder_decoder_lm", base_config(ModelKind::encoder_decoder)});
  return out;
}

constexpr int64_t kBatch = 4, kEncLen = 6, kDecLen = 5;

struct Batch {
  Tensor enc_ids, enc_mask, dec_ids, targets, rtd_labels, classes;
};

Tensor rows(const Tensor& t, int64_t begin, int64_t count) {
  Shape shape = t.shape();
  const int64_t per = t.numel() / shape[0];
  shape[0] = count;
  Tensor out = Tensor::empty(shape, t.dtype());
  const size_t elem = dtype_size(t.dtype());
  std::memcpy(out.raw_data(), static_cast<const char*>(t.raw_data()) + begin * per * elem,
              static_cast<size_t>(count * per) * elem);
  return out;
}

Batch make_batch(const ModelConfig& c, int step) {
  std::mt19937_64 rng(1000 + step);
  auto ints = [&](Shape shape, int32_t hi) {
    std::uniform_int_distribution<int32_t> d(0, hi - 1);
    std::vector<int32_t> v(static_cast<size_t>(shape_numel(shape)));
    for (auto& x : v)
      x = d(rng);
    return Tensor::from_vector(v, shape);
  };
  Batch b;
  const int32_t vocab = static_cast<int32_t>(c.vocab_size);
  const int64_t len = c.kind == ModelKind::decoder ? kDecLen : kEncLen;
  b.enc_ids = ints({kBatch, kEncLen}, vocab);
  b.dec_ids = ints({kBatch, kDecLen}, vocab);
  // Padding in the encoder (keys only, so the loss counts stay equal per example).
  std::vector<int32_t> mask(kBatch * kEncLen, 1);
  for (int64_t i = 0; i < kBatch; ++i)
    for (int64_t t = kEncLen - i % 3; t < kEncLen; ++t)
      mask[i * kEncLen + t] = 0;
  b.enc_mask = Tensor::from_vector(mask, {kBatch, kEncLen});
  b.targets = ints({kBatch, c.kind == ModelKind::encoder_decoder ? kDecLen : len}, vocab);
  if (c.kind == ModelKind::encoder) {  // MLM: every third position ignored, in every example
    int32_t* t = b.targets.data<int32_t>();
    for (int64_t i = 0; i < b.targets.numel(); ++i)
      if (i % kEncLen % 3 == 0) t[i] = -100;
  }
  b.rtd_labels = ints({kBatch, kEncLen}, 2).to(g_dtype);
  b.classes = ints({kBatch}, 3);
  return b;
}

Batch local_batch(const Batch& g, int dp_rank, int dp) {
  const int64_t n = kBatch / dp, at = n * dp_rank;
  return {rows(g.enc_ids, at, n), rows(g.enc_mask, at, n),   rows(g.dec_ids, at, n),
          rows(g.targets, at, n), rows(g.rtd_labels, at, n), rows(g.classes, at, n)};
}

Tensor loss_of(const Model& model, const Batch& b) {
  const ModelConfig& c = model.config();
  const TensorParallel& tp = model.tensor_parallel();
  ForwardContext context;
  switch (c.kind) {
    case ModelKind::encoder: {
      Tensor h = model.encode(context, b.enc_ids, b.enc_mask);
      Tensor loss = vocab_cross_entropy(tp, c.vocab_size, model.mlm_logits(h), b.targets);
      loss = add(loss, scale(bce_with_logits(model.rtd_logits(h), b.rtd_labels), 0.5));
      return add(loss, softmax_cross_entropy(model.classify(h, b.enc_mask), b.classes));
    }
    case ModelKind::decoder: {
      Tensor h = model.decode(context, b.dec_ids);
      return vocab_cross_entropy(tp, c.vocab_size, model.lm_logits(h), b.targets);
    }
    case ModelKind::encoder_decoder: {
      const auto& m = static_cast<const EncoderDecoder&>(model);
      Tensor h = m.forward(context, b.enc_ids, b.enc_mask, b.dec_ids);
      return vocab_cross_entropy(tp, c.vocab_size, model.lm_logits(h), b.targets);
    }
  }
  return Tensor();
}

// max |a - b| / max(max |b|, 1e-3): relative to the tensor's scale, so
// near-zero elements of a large gradient do not dominate.
double rel_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to(DType::f64).to_vector<double>();
  const std::vector<double> y = b.to(DType::f64).to_vector<double>();
  double diff = 0, scale = 1e-3;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

struct Moments {
  std::vector<Tensor> m, v;
  explicit Moments(const Parameters& p) {
    for (const NamedParameter& e : p.entries()) {
      m.push_back(Tensor::zeros(e.tensor.shape(), e.tensor.dtype()));
      v.push_back(Tensor::zeros(e.tensor.shape(), e.tensor.dtype()));
    }
  }
  void step(const Parameters& p, int64_t t) {
    AdamWOptions o;
    o.lr = 3e-3;
    for (size_t i = 0; i < p.entries().size(); ++i) {
      const Tensor& w = p.entries()[i].tensor;
      if (w.has_grad()) adamw_step(w, w.grad(), m[i], v[i], t, o);
    }
  }
};

void run_case(const Case& c, dist::DistContext& dist, int steps) {
  const dist::ProcessGrid& grid = dist.grid();
  const TensorParallel tp{&dist.tp(), grid.tp_rank(), grid.tp};
  auto ref = make_model(c.config, 7, g_dtype);
  auto par = make_model(c.config, 7, g_dtype, tp);
  Moments ref_opt(ref->parameters()), par_opt(par->parameters());
  std::vector<Tensor> params;
  for (const NamedParameter& e : par->parameters().entries())
    params.push_back(e.tensor);
  dist::ReducerOptions ro;
  ro.bucket_bytes = g_bucket_bytes;
  dist::GradientReducer reducer(dist.dp(), params, ro);
  const ShardingRules& rules = megatron_sharding_rules();
  double worst_loss = 0, worst_grad = 0, comm = 0, hidden = 0;
  size_t early = 0;
  for (int step = 1; step <= steps; ++step) {
    const Batch global = make_batch(c.config, step);
    ref->parameters().zero_grad();
    Tensor ref_loss = loss_of(*ref, global);
    tape().backward(ref_loss);

    par->parameters().zero_grad();
    reducer.begin();
    Tensor loss = loss_of(*par, local_batch(global, grid.dp_rank(), grid.dp));
    tape().backward(loss);
    reducer.finish();
    comm += reducer.last_stats().comm_seconds;
    hidden += reducer.last_stats().hidden_seconds();
    early += reducer.last_stats().started_during_backward;

    Tensor mean = loss.detach().clone();
    dist.dp().all_reduce(mean, dist::ReduceOp::average);
    const double rel = std::abs(mean.item() - ref_loss.item()) / std::abs(ref_loss.item());
    worst_loss = std::max(worst_loss, rel);
    EXPECT_OR_COUNT(rel <= kTolerance, c.name + " step " + std::to_string(step) + ": loss " +
                                           std::to_string(mean.item()) + " vs " +
                                           std::to_string(ref_loss.item()));
    for (const NamedParameter& e : par->parameters().entries()) {
      const Tensor& want = ref->parameters().get(e.name).grad();
      EXPECT_OR_COUNT(e.tensor.has_grad() == want.defined(),
                      c.name + ": gradient presence differs for " + e.name);
      if (!want.defined() || !e.tensor.has_grad()) continue;
      Tensor got = gather_tensor(e.tensor.grad(), shard_dim(rules, e.name), dist.tp());
      const double d = rel_diff(got, want);
      worst_grad = std::max(worst_grad, d);
      EXPECT_OR_COUNT(d <= kTolerance, c.name + " step " + std::to_string(step) + ": gradient of " +
                                           e.name + " differs by " + std::to_string(d));
    }
    ref_opt.step(ref->parameters(), step);
    par_opt.step(par->parameters(), step);
  }
  // Parameters after training, and the checkpoint round trip.
  Parameters logical = gather_logical(par->parameters(), rules, dist.tp());
  double worst_param = 0;
  for (const NamedParameter& e : logical.entries())
    worst_param = std::max(worst_param, rel_diff(e.tensor, ref->parameters().get(e.name)));
  EXPECT_OR_COUNT(worst_param <= kTolerance,
                  c.name + ": parameters differ by " + std::to_string(worst_param));
  auto fresh = make_model(c.config, 99, g_dtype, tp);
  shard_logical(logical, fresh->parameters(), rules, tp.rank, tp.size);
  for (const NamedParameter& e : fresh->parameters().entries()) {
    const Tensor& mine = par->parameters().get(e.name);
    EXPECT_OR_COUNT(std::memcmp(mine.raw_data(), e.tensor.raw_data(), mine.bytes()) == 0,
                    c.name + ": shard_logical(gather_logical) is not bit-identical for " + e.name);
  }
  if (grid.rank == 0) {
    std::printf(
        "%-26s %s tp=%d dp=%d steps=%d buckets=%zu  max rel diff: loss %.1e grad %.1e "
        "param %.1e  dp comm %.2f ms/step, %.0f%% hidden, %.1f buckets/step started "
        "during backward\n",
        c.name.c_str(), dtype_name(g_dtype), grid.tp, grid.dp, steps, reducer.num_buckets(),
        worst_loss, worst_grad, worst_param, 1e3 * comm / steps,
        comm > 0 ? 100 * hidden / comm : 0.0, static_cast<double>(early) / steps);
  }
  if (grid.dp > 1) {
    EXPECT_OR_COUNT(early > 0, c.name + ": no bucket started during backward");
  }
}

}  // namespace
}  // namespace graft

int main(int argc, char** argv) {
  using namespace graft;
  try {
    dist::DistOptions options;
    int steps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string arg = argv[i];
      if (arg == "--tp") {
        options.tp = std::stoi(argv[i + 1]);
      } else if (arg == "--dtype") {
        g_dtype = std::string(argv[i + 1]) == "f32" ? DType::f32 : DType::f64;
      } else if (arg == "--width") {
        g_width = std::stoi(argv[i + 1]);
      } else if (arg == "--bucket-kb") {
        g_bucket_bytes = static_cast<size_t>(std::stoi(argv[i + 1])) << 10;
      } else if (arg == "--steps") {
        steps = std::stoi(argv[i + 1]);
      } else {
        GRAFT_INPUT_CHECK(false, "unknown option " << arg);
      }
    }
    options.timeout_seconds = 60;
    dist::DistContext dist(options);
    GRAFT_INPUT_CHECK(kBatch % dist.grid().dp == 0, "dp must divide the batch of " << kBatch);
    for (const Case& c : cases())
      run_case(c, dist, steps);
    Tensor failures = Tensor::from_vector(std::vector<int32_t>{g_failures}, {1});
    dist.world().all_reduce(failures);
    const int total = failures.data<int32_t>()[0];
    if (dist.grid().rank == 0)
      std::printf("%s (%d failures over all ranks)\n", total ? "FAILED" : "PASSED", total);
    return total ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tp_equivalence: error: %s\n", e.what());
    dist::abort_job(2);
  }
}
