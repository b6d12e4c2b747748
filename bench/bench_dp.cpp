// bench_dp: data-parallel training steps of the bench/step_setup.h
// configurations with dist/gradient_reducer.h, one JSON line per
// configuration from rank 0. Run it once alone (one rank: no reducer, the
// plain single-process step) and once under mpiexec with 2 ranks, each rank
// with the same per-rank batch; bench/dp_scaling.sh does both, alternating,
// and computes the scaling efficiency tokens/s(2) / (2 x tokens/s(1)).
//
// A step here is what Trainer::train_step does plus the reducer (the Trainer
// has no data-parallel hook yet): reducer.begin(), forward, backward (bucket
// all-reduces start as soon as their gradients are final), reducer.finish(),
// clip to norm 1, AdamW. Per step the reducer's last_stats() gives the
// communication time and how much of it was hidden behind backward.
//
//   bench_dp [--config=gpt|t5|all] [--steps=N] [--warmup=N] [--bucket_mib=M]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/step_setup.h"
#include "dist/context.h"
#include "dist/gradient_reducer.h"
#include "ops/autograd.h"
#include "ops/grad_norm.h"
#include "train/optimizer.h"

namespace gb = graft::bench;
using graft::Tensor;

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

struct Args {
  std::string config = "all";
  int steps = 8;
  int warmup = 2;
  double bucket_mib = 25;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&](const char* key) -> const char* {
      const size_t n = std::strlen(key);
      return s.compare(0, n, key) == 0 ? argv[i] + n : nullptr;
    };
    if (const char* v = value("--config=")) {
      a.config = v;
    } else if (const char* v = value("--steps=")) {
      a.steps = std::atoi(v);
    } else if (const char* v = value("--warmup=")) {
      a.warmup = std::atoi(v);
    } else if (const char* v = value("--bucket_mib=")) {
      a.bucket_mib = std::atof(v);
    } else {
      throw graft::InputError("bench_dp: unknown argument " + s);
    }
  }
  return a;
}

void run(const gb::StepConfig& c, graft::dist::DistContext& dist, const Args& a) {
  const int rank = dist.grid().dp_rank(), ranks = dist.grid().dp;
  std::unique_ptr<graft::Model> model = graft::make_model(c.model, /*seed=*/1);
  graft::TokenPredictionTask task(graft::TokenPredictionTask::Head::lm);
  graft::AdamWOptions adamw;
  graft::AdamW optimizer(model->parameters(), adamw);
  graft::Parameters& params = model->parameters();
  std::vector<Tensor> trainable;
  for (const graft::NamedParameter& e : params.entries())
    if (e.tensor.requires_grad()) trainable.push_back(e.tensor);
  // One rank: the plain step, so the baseline carries no reducer overhead.
  std::unique_ptr<graft::dist::GradientReducer> reducer;
  if (ranks > 1) {
    graft::dist::ReducerOptions ro;
    ro.bucket_bytes = static_cast<size_t>(a.bucket_mib * (1 << 20));
    reducer = std::make_unique<graft::dist::GradientReducer>(dist.dp(), trainable, ro);
  }
  const graft::Batch batch = gb::random_batch(c, 7 + 1000 * static_cast<uint64_t>(rank));

  std::vector<double> step_s, comm_s, hidden_s, exposed_s;
  double loss_value = 0;
  for (int i = 0; i < a.warmup + a.steps; ++i) {
    if (i == a.warmup) dist.world().barrier();  // start the timed steps together
    const auto t0 = Clock::now();
    params.zero_grad();
    graft::tape().clear();
    if (reducer) reducer->begin();
    graft::ForwardContext context(true, 99 + static_cast<uint64_t>(i));
    Tensor loss = task.loss(*model, context, batch);
    loss_value = loss.item();
    graft::tape().backward(loss);
    if (reducer) reducer->finish();
    graft::clip_grad_norm(trainable, 1.0);
    optimizer.step(1e-4);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (i < a.warmup) continue;
    step_s.push_back(dt);
    if (reducer) {
      const graft::dist::ReducerStats& s = reducer->last_stats();
      comm_s.push_back(s.comm_seconds);
      hidden_s.push_back(s.hidden_seconds());
      exposed_s.push_back(s.exposed_seconds);
    }
  }
  params.zero_grad();
  if (rank != 0) return;
  const double med = median(step_s);
  double comm = 0, hidden = 0;
  for (size_t i = 0; i < comm_s.size(); ++i) {
    comm += comm_s[i];
    hidden += hidden_s[i];
  }
  std::printf(
      "{\"config\": \"%s\", \"ranks\": %d, \"threads_per_rank\": %d, \"tokens_per_rank_step\": "
      "%lld, \"steps\": %d, \"median_step_s\": %.6f, \"tokens_per_s\": %.1f, \"buckets\": %zu, "
      "\"bucket_bytes\": %zu, \"median_comm_s\": %.6f, \"median_exposed_s\": %.6f, "
      "\"hidden_share\": %.4f, \"last_loss\": %.4f}\n",
      c.name.c_str(), ranks, omp_get_max_threads(), static_cast<long long>(c.tokens_per_step()),
      a.steps, med, ranks * static_cast<double>(c.tokens_per_step()) / med,
      reducer ? reducer->num_buckets() : size_t{0}, reducer ? reducer->last_stats().bytes : 0,
      median(comm_s), median(exposed_s), comm > 0 ? hidden / comm : 0.0, loss_value);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    graft::dist::DistOptions options;
    options.timeout_seconds = 600;
    graft::dist::DistContext dist(options);
    for (const gb::StepConfig& c : gb::step_configs()) {
      if (a.config == "all" || a.config == c.name) run(c, dist, a);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dp: error: %s\n", e.what());
    graft::dist::abort_job(2);
  }
  return 0;
}
