#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <sstream>

#include <omp.h>

#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "dist/ledger.h"
#include "ops/autograd.h"
#include "ops/grad_norm.h"
#include "train/distributed.h"

namespace graft {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void add_counts(FlopsLedger& ledger, Phase phase, const FlopsCounts& c) {
  ledger.add(phase, FlopsKind::matmul, c.matmul);
  ledger.add(phase, FlopsKind::attention, c.attention);
  ledger.add(phase, FlopsKind::other, c.other);
}

}  // namespace

FlopsCounts flops_difference(const FlopsCounts& after, const FlopsCounts& before) {
  FlopsCounts d;
  d.matmul = after.matmul - before.matmul;
  d.attention = after.attention - before.attention;
  d.other = after.other - before.other;
  return d;
}

Trainer::Trainer(Model& model, const Task& task, TrainerOptions options)
    : model_(model),
      task_(task),
      options_(std::move(options)),
      optimizer_(model.parameters(), options_.adamw) {
  options_.schedule.validate();
  GRAFT_INPUT_CHECK(options_.max_nonfinite_steps >= 1,
                    "max_nonfinite_steps must be >= 1, got " << options_.max_nonfinite_steps);
  GRAFT_INPUT_CHECK(options_.unfreeze_step >= 0,
                    "unfreeze_step must be >= 0, got " << options_.unfreeze_step);
  const TrainingGrid& g = options_.grid;
  GRAFT_CHECK(model.tensor_parallel().size == g.tp_size,
              "Trainer: the model is split " << model.tensor_parallel().size
                                             << " ways but the grid has tp = " << g.tp_size);
  GRAFT_CHECK(!g.distributed() || (g.world && g.tp && g.dp),
              "Trainer: a distributed grid needs its communicators");
  GRAFT_INPUT_CHECK(options_.row_shards >= 1,
                    "row_shards must be >= 1, got " << options_.row_shards);
  if (options_.row_shards > 1) {
    GRAFT_INPUT_CHECK(!g.distributed(),
                      "row_shards = " << options_.row_shards
                                      << " trains in one process; with tp or dp (world "
                                      << g.world_size << ") use row_shards = 1");
    for (int64_t k = 1; k < options_.row_shards; ++k)
      replicas_.push_back(make_weight_sharing_replica(model_));
  }
  apply_freezing(1);
}

Trainer::~Trainer() = default;

void Trainer::apply_freezing(int64_t next_step) {
  const bool want_frozen = !options_.freeze.empty() &&
                           (options_.unfreeze_step == 0 || next_step < options_.unfreeze_step);
  if (want_frozen == frozen_) return;
  for (const std::string& pattern : options_.freeze) {
    model_.parameters().set_trainable(pattern, !want_frozen);
  }
  frozen_ = want_frozen;
}

uint64_t Trainer::dropout_seed(int64_t step, int64_t micro) const {
  return mix64(mix64(mix64(options_.seed) ^ static_cast<uint64_t>(step)) ^
               static_cast<uint64_t>(micro));
}

StepResult Trainer::train_step(const std::vector<Batch>& micro_batches) {
  GRAFT_CHECK(!micro_batches.empty(), "a training step needs at least one micro-batch");
  const auto start = std::chrono::steady_clock::now();
  const FlopsLedger before = flops_ledger();
  StepResult r;
  r.step = step_ + 1;
  apply_freezing(r.step);
  Parameters& params = model_.parameters();
  params.zero_grad();
  tape().clear();
  const TrainingGrid& grid = options_.grid;
  if (grid.dp_size > 1 && (!reducer_ || reducer_frozen_ != frozen_)) {
    // The reducer keeps the parameters trainable when it is built.
    std::vector<Tensor> all;
    for (const NamedParameter& p : params.entries())
      all.push_back(p.tensor);
    reducer_ = std::make_unique<dist::GradientReducer>(*grid.dp, all);
    reducer_frozen_ = frozen_;
  }

  std::vector<int64_t> counts;
  int64_t total_count = 0;
  for (const Batch& b : micro_batches) {
    counts.push_back(task_.target_count(b));
    total_count += counts.back();
  }
  // Each rank's loss is weighted by its share of the GLOBAL count times dp,
  // so that the dp average of the gradients is the gradient of the mean over
  // every counted target of the global batch, however they fall on ranks.
  const double dp = static_cast<double>(grid.dp_size);
  if (grid.dp_size > 1) total_count = dist::sum_over_ranks(total_count, *grid.dp);
  for (size_t i = 0; i < micro_batches.size(); ++i) {
    const Batch& batch = micro_batches[i];
    if (!replicas_.empty()) {
      r.loss += train_row_shards(batch, static_cast<int64_t>(i), static_cast<double>(total_count),
                                 micro_batches.size(), r);
      continue;
    }
    // Weighting by counted targets makes the step's loss the mean over all of
    // them, whatever the padding; equal micro-batches get exactly 1/accum.
    const double weight = total_count > 0 ? dp * static_cast<double>(counts[i]) / total_count
                                          : 1.0 / static_cast<double>(micro_batches.size());
    const bool last_micro = i + 1 == micro_batches.size();
    // Earlier micro-batches accumulate locally; the reducer watches the last
    // one's forward to know when each gradient is final in its backward.
    if (reducer_ && last_micro) reducer_->begin();
    // This rank holds rows [dp_rank·b, (dp_rank+1)·b) of the global
    // micro-batch (dp_shard): its dropout masks are those rows' masks in a
    // one-rank run of the whole batch.
    const int64_t first_row = static_cast<int64_t>(grid.dp_rank) * batch.batch_size();
    ForwardContext context(true, dropout_seed(r.step, static_cast<int64_t>(i)), first_row);
    Tensor loss = task_.loss(model_, context, batch_on(batch, model_.device()));
    r.loss += weight * loss.item();
    r.tokens += batch.tokens();
    if (loss.requires_grad()) {
      tape().backward(loss, Tensor::full({}, weight, loss.dtype(), loss.device()));
    } else {
      tape().clear();  // nothing trainable on this path
    }
  }
  if (reducer_) {
    reducer_->finish();
    r.dp_comm_seconds = reducer_->last_stats().comm_seconds;
    r.dp_exposed_seconds = reducer_->last_stats().exposed_seconds;
  }
  if (grid.dp_size > 1) {
    Tensor loss = Tensor::from_vector(std::vector<double>{r.loss}, {1});
    grid.dp->all_reduce(loss, dist::ReduceOp::average);
    r.loss = loss.data<double>()[0];
  }

  if (!grid.distributed()) {
    std::vector<Tensor> trainable;
    for (const NamedParameter& p : params.entries()) {
      if (p.tensor.requires_grad()) trainable.push_back(p.tensor);
    }
    if (options_.clip_norm > 0) {
      r.grad_norm = clip_grad_norm(trainable, options_.clip_norm);
    } else {
      std::vector<Tensor> grads;
      for (const Tensor& t : trainable)
        grads.push_back(t.grad());
      r.grad_norm = global_grad_norm(grads);
    }
  } else {
    r.grad_norm = distributed_clip_grad_norm(params, grid, options_.clip_norm);
  }
  r.lr = options_.schedule.at(r.step);
  if (std::isfinite(r.loss) && std::isfinite(r.grad_norm)) {
    optimizer_.step(r.lr);
    nonfinite_run_ = 0;
  } else {
    r.skipped = true;
    ++skipped_total_;
    if (nonfinite_run_++ == 0) first_nonfinite_ = r.step;
  }
  params.zero_grad();

  const FlopsLedger& after = flops_ledger();
  r.forward = flops_difference(after.forward(), before.forward());
  r.backward = flops_difference(after.backward(), before.backward());
  if (grid.distributed()) {
    // FLOPs over the world (each tp rank ran its shard), tokens over dp (the
    // tp ranks of a replica read the same ones).
    FlopsLedger mine;
    add_counts(mine, Phase::forward, r.forward);
    add_counts(mine, Phase::backward, r.backward);
    const FlopsLedger all = dist::sum_over_ranks(mine, *grid.world);
    r.forward = all.forward();
    r.backward = all.backward();
    if (grid.dp_size > 1) r.tokens = dist::sum_over_ranks(r.tokens, *grid.dp);
  }
  add_counts(train_flops_, Phase::forward, r.forward);
  add_counts(train_flops_, Phase::backward, r.backward);
  step_ = r.step;
  tokens_ += r.tokens;
  r.seconds = seconds_since(start);
  if (grid.distributed()) {
    Tensor times = Tensor::zeros({grid.world_size}, DType::f64);
    grid.world->all_gather(Tensor::from_vector(std::vector<double>{r.seconds}, {1}), times);
    const std::vector<double> t = times.to_vector<double>();
    r.ranks = grid.world_size;
    r.seconds_min = *std::min_element(t.begin(), t.end());
    r.seconds_max = *std::max_element(t.begin(), t.end());
    r.seconds = r.seconds_max;  // the job moves at its slowest rank's pace
  }
  train_seconds_ += r.seconds;

  if (r.skipped && nonfinite_run_ >= options_.max_nonfinite_steps) {
    std::ostringstream out;
    out << "training stopped at step " << r.step
        << ": the loss or gradient norm was not finite for " << nonfinite_run_
        << " steps in a row (steps " << first_nonfinite_ << " to " << r.step
        << ", limit max_nonfinite_steps = " << options_.max_nonfinite_steps << "); last loss "
        << r.loss << ", gradient norm " << r.grad_norm
        << " (try a lower lr or a tighter clip_norm)";
    throw Error(out.str());
  }
  return r;
}

double Trainer::train_row_shards(const Batch& batch, int64_t micro, double total_count,
                                 size_t micro_batches, StepResult& r) {
  const int64_t rows = batch.batch_size();
  const int64_t shards = std::min<int64_t>(options_.row_shards, rows);
  std::vector<Batch> parts;
  std::vector<double> weights;
  for (int64_t k = 0; k < shards; ++k) {
    const int64_t begin = k * rows / shards, end = (k + 1) * rows / shards;
    parts.push_back(batch_rows(batch, begin, end - begin));
    const int64_t count = task_.target_count(parts.back());
    weights.push_back(
        total_count > 0 ? static_cast<double>(count) / total_count
                        : 1.0 / (static_cast<double>(shards) * static_cast<double>(micro_batches)));
    r.tokens += parts.back().tokens();
  }
  const Parameters& params = model_.parameters();
  // Freezing may have changed since the last step, and a parameter's data may
  // have been replaced in place (a checkpoint load, Tensor::convert_to).
  for (const std::unique_ptr<Model>& replica : replicas_)
    share_weights(*replica, model_);

  std::vector<double> losses(static_cast<size_t>(shards), 0.0);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(shards));
  const int threads = static_cast<int>(std::min<int64_t>(shards, omp_get_max_threads()));
  // One shard per thread: inside this region OpenBLAS and graft's kernels run
  // single-threaded, so a shard's bits do not depend on the thread count.
#pragma omp parallel for schedule(static, 1) num_threads(threads)
  for (int64_t k = 0; k < shards; ++k) {
    try {
      const Model& m = k == 0 ? model_ : *replicas_[static_cast<size_t>(k - 1)];
      ForwardContext context(true, dropout_seed(r.step, micro * options_.row_shards + k));
      Tensor loss = task_.loss(m, context, batch_on(parts[static_cast<size_t>(k)], m.device()));
      losses[static_cast<size_t>(k)] = loss.item();
      if (loss.requires_grad()) {
        tape().backward(loss, Tensor::full({}, weights[static_cast<size_t>(k)], loss.dtype()));
      } else {
        tape().clear();
      }
    } catch (...) {
      tape().clear();
      errors[static_cast<size_t>(k)] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);

  // Shard order, whatever thread ran which shard.
  double loss = 0;
  for (int64_t k = 0; k < shards; ++k)
    loss += weights[static_cast<size_t>(k)] * losses[static_cast<size_t>(k)];
  for (int64_t k = 1; k < shards; ++k) {
    const std::vector<NamedParameter>& theirs =
        replicas_[static_cast<size_t>(k - 1)]->parameters().entries();
    for (size_t j = 0; j < theirs.size(); ++j) {
      const Tensor g = theirs[j].tensor.grad();
      if (!g.defined()) continue;
      theirs[j].tensor.zero_grad();  // so the model may take g itself
      accumulate_grad(params.entries()[j].tensor, g);
    }
  }
  return loss;
}

Trainer::ResumeState Trainer::resume_state() const {
  ResumeState s;
  s.step = step_;
  s.tokens = tokens_;
  s.train_flops = train_flops_;
  s.skipped_steps = skipped_total_;
  s.nonfinite_run = nonfinite_run_;
  s.first_nonfinite = first_nonfinite_;
  return s;
}

void Trainer::restore_state(const ResumeState& s) {
  GRAFT_CHECK(s.step >= 0 && s.tokens >= 0, "invalid resume state: step " << s.step);
  step_ = s.step;
  tokens_ = s.tokens;
  train_flops_ = s.train_flops;
  skipped_total_ = s.skipped_steps;
  nonfinite_run_ = s.nonfinite_run;
  first_nonfinite_ = s.first_nonfinite;
  apply_freezing(step_ + 1);
}

EvalResult Trainer::evaluate(const std::vector<Batch>& batches) const {
  const auto start = std::chrono::steady_clock::now();
  const FlopsCounts before = flops_ledger().forward();
  NoGradGuard no_grad;
  EvalResult e;
  double loss_sum = 0;
  const TrainingGrid& grid = options_.grid;
  // Whole batches round-robin over dp, the sums added over dp: the same
  // statistics as one rank over every batch.
  for (size_t i = 0; i < batches.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(grid.dp_size)) != grid.dp_rank) continue;
    const Batch& batch = batches[i];
    const CrossEntropyStats s = task_.stats(model_, batch_on(batch, model_.device()));
    loss_sum += s.loss_sum;
    e.count += s.count;
    e.correct += s.correct;
    e.text_bytes += batch.text_bytes;
  }
  if (grid.dp_size > 1) {
    Tensor sums = Tensor::from_vector(
        std::vector<double>{loss_sum, static_cast<double>(e.count), static_cast<double>(e.correct),
                            static_cast<double>(e.text_bytes)},
        {4});
    grid.dp->all_reduce(sums);
    const double* v = sums.data<double>();
    loss_sum = v[0];
    e.count = static_cast<int64_t>(v[1]);
    e.correct = static_cast<int64_t>(v[2]);
    e.text_bytes = static_cast<int64_t>(v[3]);
  }
  if (e.count > 0) {
    e.loss = loss_sum / static_cast<double>(e.count);
    e.accuracy = static_cast<double>(e.correct) / static_cast<double>(e.count);
  }
  e.perplexity = std::exp(e.loss);
  if (e.text_bytes > 0)
    e.bits_per_byte = loss_sum / std::log(2.0) / static_cast<double>(e.text_bytes);
  e.forward = flops_difference(flops_ledger().forward(), before);
  e.seconds = seconds_since(start);
  return e;
}

}  // namespace graft
