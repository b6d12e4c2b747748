#include "train/loop.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "dist/communicator.h"
#include "train/preemption.h"

namespace graft {

namespace {

void add_eval(JsonObject& record, const EvalResult& e) {
  record.add("val_loss", e.loss).add("val_ppl", e.perplexity).add("val_accuracy", e.accuracy);
  if (e.bits_per_byte >= 0) record.add("val_bits_per_byte", e.bits_per_byte);
}

// Accumulated since the last metrics record, so tokens/s and MFU are the
// recent rate rather than a run average that hides slowdowns.
struct Window {
  int64_t tokens = 0;
  double seconds = 0;
  double model_flops = 0;
  void add(const StepResult& r) {
    tokens += r.tokens;
    seconds += r.seconds;
    model_flops += r.forward.model() + r.backward.model();
  }
};

// The stop signal every rank agrees on at this step boundary: the first
// rank's (in rank order) that has one, 0 when none has. A signal reaches the
// ranks at different times, so each rank's own flag is not enough.
int agreed_stop_signal(const TrainingGrid& grid) {
  const int local = preemption_signal();
  if (!grid.distributed()) return local;
  Tensor all = Tensor::zeros({grid.world_size}, DType::i32);
  grid.world->all_gather(Tensor::from_vector(std::vector<int32_t>{local}, {1}), all);
  for (int32_t sig : all.to_vector<int32_t>())
    if (sig != 0) return sig;
  return 0;
}

}  // namespace

std::string describe_eval(const EvalResult& e) {
  char buffer[160];
  int n = std::snprintf(buffer, sizeof(buffer), "loss %.4f | ppl %.2f | acc %.1f%%", e.loss,
                        e.perplexity, 100 * e.accuracy);
  if (e.bits_per_byte >= 0 && n > 0 && n < static_cast<int>(sizeof(buffer))) {
    std::snprintf(buffer + n, sizeof(buffer) - n, " | %.3f bits/byte", e.bits_per_byte);
  }
  return buffer;
}

LoopResult run_training(Trainer& trainer, const MicroBatchSource& source,
                        const std::vector<Batch>& valid, const LoopOptions& options,
                        RunDirectory* run, ProgressReporter* progress) {
  GRAFT_INPUT_CHECK(options.grad_accum >= 1, "grad_accum must be >= 1, got " << options.grad_accum);
  GRAFT_INPUT_CHECK(options.log_interval >= 1,
                    "log_interval must be >= 1, got " << options.log_interval);
  const auto start = std::chrono::steady_clock::now();
  LoopResult result;
  const auto note = [&](const std::string& line) {
    if (run) run->log(line);
    if (progress) progress->message(line);
  };
  const bool can_eval = !valid.empty();
  if (can_eval && options.eval_at_start) {
    result.initial = trainer.evaluate(valid);
    note("step " + std::to_string(trainer.step()) +
         " validation: " + describe_eval(result.initial));
    if (run) {
      JsonObject record;
      // The cumulative cost at the eval point (non-zero on a resume), so the
      // savings harness can place every evaluation on a FLOPs axis.
      record.add("step", trainer.step())
          .add("tokens", trainer.tokens())
          .add("flops_model", trainer.train_flops().model_total())
          .add("flops_total", trainer.train_flops().total());
      add_eval(record, result.initial);
      run->append_metrics(record);
    }
  }

  Window window;
  ProgressSnapshot snapshot;
  snapshot.total_steps = options.steps;
  snapshot.first_step = trainer.step();
  while (trainer.step() < options.steps) {
    const int64_t step = trainer.step() + 1;
    std::vector<Batch> micro;
    for (int64_t i = 0; i < options.grad_accum; ++i)
      micro.push_back(source(step, i));
    StepResult r;
    try {
      r = trainer.train_step(micro);
    } catch (const Error& e) {
      if (run) run->log(std::string("stopped: ") + e.what());
      throw;
    }
    result.steps.push_back(r);
    result.tokens += r.tokens;
    result.train_seconds += r.seconds;
    result.skipped += r.skipped;
    result.train_flops.add(Phase::forward, FlopsKind::matmul, r.forward.matmul);
    result.train_flops.add(Phase::forward, FlopsKind::attention, r.forward.attention);
    result.train_flops.add(Phase::forward, FlopsKind::other, r.forward.other);
    result.train_flops.add(Phase::backward, FlopsKind::matmul, r.backward.matmul);
    result.train_flops.add(Phase::backward, FlopsKind::attention, r.backward.attention);
    result.train_flops.add(Phase::backward, FlopsKind::other, r.backward.other);
    window.add(r);
    if (r.skipped) {
      char line[160];
      std::snprintf(line, sizeof(line),
                    "step %lld skipped: loss %g, gradient norm %g not finite (update dropped)",
                    static_cast<long long>(r.step), r.loss, r.grad_norm);
      note(line);
    }

    const bool last = step == options.steps;
    const bool evaluate =
        can_eval && (last || (options.eval_interval > 0 && step % options.eval_interval == 0));
    EvalResult eval;
    if (evaluate) {
      eval = trainer.evaluate(valid);
      result.final = eval;
      note("step " + std::to_string(step) + " validation: " + describe_eval(eval));
    }
    const double mfu = options.peak_flops_per_s > 0 && window.seconds > 0
                           ? window.model_flops / window.seconds / options.peak_flops_per_s
                           : -1;
    if (run && (last || evaluate || r.skipped || step % options.log_interval == 0)) {
      const FlopsLedger& total = trainer.train_flops();
      JsonObject record;
      record.add("step", step).add("loss", r.loss).add("lr", r.lr).add("grad_norm", r.grad_norm);
      record.add("tokens", trainer.tokens())
          .add("flops_forward", total.forward().model())
          .add("flops_backward", total.backward().model())
          .add("flops_model", total.model_total())
          .add("flops_other", total.forward().other + total.backward().other)
          .add("flops_total", total.total())
          .add("tokens_per_s", window.seconds > 0 ? window.tokens / window.seconds : 0.0);
      if (mfu >= 0) {
        record.add("mfu", mfu);
      } else {
        record.add("mfu", std::nan(""));
      }
      record.add("skipped", r.skipped);
      if (r.ranks > 1) {  // this step's per-rank spread and dp communication
        record.add("ranks", r.ranks)
            .add("step_s_min", r.seconds_min)
            .add("step_s_max", r.seconds_max)
            .add("dp_comm_s", r.dp_comm_seconds)
            .add("dp_exposed_s", r.dp_exposed_seconds);
      }
      if (evaluate) add_eval(record, eval);
      run->append_metrics(record);
      window = Window();
    }
    // Every rank takes part, every step: whether to stop is collective.
    const int stop_signal = last ? 0 : agreed_stop_signal(trainer.options().grid);
    if (options.after_step) options.after_step(trainer, r);
    if (stop_signal != 0) {
      const std::string checkpoint = options.save_for_stop ? options.save_for_stop(trainer) : "";
      // Rank 0 writes the checkpoint: nobody exits (and has a launcher end
      // the job) before it is complete.
      if (const TrainingGrid& grid = trainer.options().grid; grid.distributed())
        grid.world->barrier();
      Preempted stop(stop_signal, step, options.steps, checkpoint);
      note(stop.what());
      throw stop;
    }
    snapshot.step = step;
    snapshot.loss = r.loss;
    snapshot.lr = r.lr;
    snapshot.tokens_per_second = result.tokens_per_second();
    snapshot.mfu = options.peak_flops_per_s > 0
                       ? result.model_flops_per_second() / options.peak_flops_per_s
                       : -1;
    if (progress && !last) progress->update(snapshot);  // the last step is finish()'s line
  }
  if (progress) progress->finish(snapshot);
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace graft
