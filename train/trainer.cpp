#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "ops/autograd.h"
#include "ops/grad_norm.h"

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
  apply_freezing(1);
}

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

  std::vector<int64_t> counts;
  int64_t total_count = 0;
  for (const Batch& b : micro_batches) {
    counts.push_back(task_.target_count(b));
    total_count += counts.back();
  }
  for (size_t i = 0; i < micro_batches.size(); ++i) {
    const Batch& batch = micro_batches[i];
    // Weighting by counted targets makes the step's loss the mean over all of
    // them, whatever the padding; equal micro-batches get exactly 1/accum.
    const double weight = total_count > 0 ? static_cast<double>(counts[i]) / total_count
                                          : 1.0 / static_cast<double>(micro_batches.size());
    ForwardContext context(true, dropout_seed(r.step, static_cast<int64_t>(i)));
    Tensor loss = task_.loss(model_, context, batch);
    r.loss += weight * loss.item();
    r.tokens += batch.tokens();
    if (loss.requires_grad()) {
      tape().backward(loss, Tensor::full({}, weight, loss.dtype()));
    } else {
      tape().clear();  // nothing trainable on this path
    }
  }

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
  add_counts(train_flops_, Phase::forward, r.forward);
  add_counts(train_flops_, Phase::backward, r.backward);
  step_ = r.step;
  tokens_ += r.tokens;
  r.seconds = seconds_since(start);
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

EvalResult Trainer::evaluate(const std::vector<Batch>& batches) const {
  const auto start = std::chrono::steady_clock::now();
  const FlopsCounts before = flops_ledger().forward();
  NoGradGuard no_grad;
  EvalResult e;
  double loss_sum = 0;
  for (const Batch& batch : batches) {
    const CrossEntropyStats s = task_.stats(model_, batch);
    loss_sum += s.loss_sum;
    e.count += s.count;
    e.correct += s.correct;
    e.text_bytes += batch.text_bytes;
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
