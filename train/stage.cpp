#include "train/stage.h"

#include <cstdarg>

namespace graft {

namespace {

void say(std::FILE* out, RunDirectory& run, const std::string& line) {
  run.log(line);
  if (out) {
    std::fprintf(out, "%s\n", line.c_str());
    std::fflush(out);
  }
}

std::string format(const char* fmt, ...) {
  char buffer[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buffer, sizeof(buffer), fmt, args);
  va_end(args);
  return buffer;
}

TrainerOptions trainer_options(const StageConfig& c) {
  TrainerOptions t;
  t.schedule.peak_lr = c.optimizer.lr;
  t.schedule.min_lr = c.optimizer.min_lr;
  t.schedule.warmup_steps = c.optimizer.warmup_steps;
  t.schedule.total_steps = c.training.steps;
  t.schedule.decay = c.optimizer.schedule;
  t.adamw.lr = c.optimizer.lr;
  t.adamw.beta1 = c.optimizer.beta1;
  t.adamw.beta2 = c.optimizer.beta2;
  t.adamw.eps = c.optimizer.eps;
  t.adamw.weight_decay = c.optimizer.weight_decay;
  t.clip_norm = c.optimizer.clip_norm;
  t.seed = static_cast<uint64_t>(c.training.seed);
  t.freeze = c.training.freeze;
  t.unfreeze_step = c.training.unfreeze_step;
  t.max_nonfinite_steps = c.training.max_nonfinite_steps;
  return t;
}

}  // namespace

StageRun run_stage(const StageConfig& config, const std::string& source,
                   const StageRunOptions& options) {
  StageRun s;
  s.config = config;
  // Everything that can fail on bad input runs before the run folder is
  // touched, so a typo never truncates an earlier run's metrics.
  validate_stage_config(config, source);
  s.model = make_model(config.model, static_cast<uint64_t>(config.training.seed));
  s.task = make_task(config.data, config.model);
  std::unique_ptr<Trainer> trainer;
  try {
    trainer = std::make_unique<Trainer>(*s.model, *s.task, trainer_options(config));
  } catch (const InputError& e) {
    throw InputError(source + ": training.freeze: " + e.what());
  }
  try {
    s.data = make_training_data(config.data, config.training);
  } catch (const InputError& e) {
    throw InputError(source + ": [data]: " + e.what());
  }

  RunDirectory run(config.run.dir);
  run.write_config(stage_config_to_string(config));
  say(options.info, run,
      "run folder: " + config.run.dir + " (config.toml, metrics.jsonl, train.log)");
  say(options.info, run, "data: " + s.data.description);
  const Parameters& params = s.model->parameters();
  say(options.info, run,
      format("model: %s, %.2fM parameters (%.2fM outside embeddings)",
             describe(config.model).c_str(), params.numel() / 1e6,
             (params.numel() - params.numel_with_prefix("embed.")) / 1e6));
  if (options.measure_peak) {
    s.peak = measure_sgemm_peak();
    say(options.info, run,
        format("measured peak: %s (f32 GEMM %lld^3 through graft's matmul, best of %lld)",
               format_flops_rate(s.peak.flops_per_second).c_str(),
               static_cast<long long>(s.peak.size), static_cast<long long>(s.peak.repeats)));
  }
  const TrainingConfig& t = config.training;
  say(options.info, run,
      format("training: %lld steps x %lld micro-batch(es) of %lld x %lld tokens, lr %g (%s), "
             "seed %lld%s",
             static_cast<long long>(t.steps), static_cast<long long>(t.grad_accum),
             static_cast<long long>(t.batch_size), static_cast<long long>(t.seq_len),
             config.optimizer.lr, decay_kind_name(config.optimizer.schedule),
             static_cast<long long>(t.seed),
             params.trainable_numel() < params.numel()
                 ? format(", %.2fM parameters frozen",
                          (params.numel() - params.trainable_numel()) / 1e6)
                       .c_str()
                 : ""));

  LoopOptions loop;
  loop.steps = t.steps;
  loop.grad_accum = t.grad_accum;
  loop.eval_interval = t.eval_interval;
  loop.log_interval = t.log_interval;
  loop.peak_flops_per_s = s.peak.flops_per_second;
  std::unique_ptr<ProgressReporter> progress;
  if (options.progress) {
    progress = std::make_unique<ProgressReporter>(options.label, options.progress,
                                                  options.progress_interval_s);
  }
  s.loop = run_training(*trainer, s.data.train, s.data.valid, loop, &run, progress.get());

  const ModelFlops per_micro =
      training_step_flops(config.model, s.task->shape(*s.model, s.data.train(1, 0)));
  const double micro_batches = static_cast<double>(s.loop.steps.size() * t.grad_accum);
  s.analytic.forward.matmul = per_micro.forward.matmul * micro_batches;
  s.analytic.forward.attention = per_micro.forward.attention * micro_batches;
  s.analytic.backward.matmul = per_micro.backward.matmul * micro_batches;
  s.analytic.backward.attention = per_micro.backward.attention * micro_batches;

  run.log(
      format("done: %lld steps (%lld skipped), %lld tokens, %.1f s training, %.1f s wall, "
             "%.0f tokens/s, executed model FLOPs %.6e",
             static_cast<long long>(s.loop.steps.size()), static_cast<long long>(s.loop.skipped),
             static_cast<long long>(s.loop.tokens), s.loop.train_seconds, s.loop.wall_seconds,
             s.loop.tokens_per_second(), s.loop.train_flops.model_total()));
  return s;
}

}  // namespace graft
