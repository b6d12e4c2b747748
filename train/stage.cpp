#include "train/stage.h"

#include <cstdarg>
#include <filesystem>
#include <iostream>
#include <optional>

#include "ops/cuda/backend.h"
#include "train/checkpointing.h"
#include "train/distributed_checkpoint.h"

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
  t.row_shards = c.training.row_shards;
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
  const TrainingGrid& grid = options.grid;
  // The layout actually run, whatever the file said (the command line wins).
  s.config.distributed.tp = grid.tp_size;
  s.config.distributed.dp = grid.dp_size;
  GRAFT_INPUT_CHECK(
      config.training.batch_size % grid.dp_size == 0,
      source << ": training.batch_size = " << config.training.batch_size
             << " (the global micro-batch) is not divisible by dp = " << grid.dp_size);
  if (options.initial_model) {
    s.model = options.initial_model(config.model, static_cast<uint64_t>(config.training.seed));
    GRAFT_CHECK(s.model, "the initial_model hook returned no model");
  } else {
    try {
      // bf16 models are built in f32 and converted when placed on the GPU.
      const DType build_dtype = config.model_dtype == DType::bf16 ? DType::f32 : config.model_dtype;
      s.model = make_model(config.model, static_cast<uint64_t>(config.training.seed), build_dtype,
                           grid.tensor_parallel());
    } catch (const InputError& e) {
      if (!grid.tensor_parallel().enabled()) throw;
      throw InputError(source + ": [model] with tp = " + std::to_string(grid.tp_size) + ": " +
                       e.what());
    }
  }
  if (config.model_device != Device::cpu || config.model_dtype != s.model->dtype()) {
    GRAFT_INPUT_CHECK(config.model_device == Device::cpu || cuda::available(),
                      source << ": model.device = \"cuda\" but " << cuda::unavailable_reason());
    GRAFT_INPUT_CHECK(config.model_device == Device::cpu || grid.tp_size == 1,
                      source << ": model.device = \"cuda\" with tp = " << grid.tp_size
                             << ": tensor parallelism on the GPU is not available yet (the "
                                "vocabulary-parallel embedding and loss have CPU kernels only); "
                                "use data parallelism (dp) across GPUs");
    s.model->place(config.model_device, config.model_dtype);
  }
  s.task = options.make_task ? options.make_task(*s.model, config)
                             : make_task(config.data, config.model);
  std::unique_ptr<Trainer> trainer;
  try {
    TrainerOptions trainer_opts = trainer_options(config);
    trainer_opts.grid = grid;
    trainer = std::make_unique<Trainer>(*s.model, *s.task, trainer_opts);
  } catch (const InputError& e) {
    throw InputError(source + ": training.freeze: " + e.what());
  }
  try {
    s.data = options.make_data ? options.make_data(config)
                               : make_training_data(config.data, config.training);
  } catch (const InputError& e) {
    throw InputError(source + ": [data]: " + e.what());
  }
  // Ids past the model's vocabulary would fail at the first batch, after the
  // run folder is written; the stores know their vocabulary up front.
  GRAFT_INPUT_CHECK(s.data.vocab_size <= 0 || config.model.vocab_size >= s.data.vocab_size,
                    source << ": model.vocab_size = " << config.model.vocab_size
                           << " is smaller than the vocabulary of the token stores (data.train = "
                           << config.data.train << ", data.valid = " << config.data.valid
                           << "): " << s.data.vocab_size
                           << " ids; set model.vocab_size >= " << s.data.vocab_size);
  // Every rank draws the same global micro-batch (a pure function of step
  // and micro-batch) and keeps its dp slice, so a dp run trains on exactly
  // the rows of a one-rank run with the same batch_size.
  const MicroBatchSource global_train = s.data.train;
  if (grid.dp_size > 1) {
    s.data.train = [global_train, grid](int64_t step, int64_t micro) {
      return dp_shard(global_train(step, micro), grid.dp_rank, grid.dp_size);
    };
  }

  // Checkpoints are looked at before the run folder is opened, so a refused
  // resume (corrupt checkpoints, another config) leaves metrics.jsonl alone.
  std::vector<std::string> warnings;
  CheckpointManager checkpoints(checkpoint_dir(config.run.dir), config.checkpoint.keep_last,
                                [&warnings](const std::string& message) {
                                  std::cerr << "warning: " << message << "\n";
                                  warnings.push_back("warning: " + message);
                                });
  std::optional<CheckpointContents> resumed;
  std::vector<std::string> overwritten;  // deleted once every check has passed
  if (options.resume) {
    resumed = checkpoints.load_latest();
  } else if (const std::vector<std::string> old = checkpoints.list(); !old.empty()) {
    GRAFT_INPUT_CHECK(options.overwrite,
                      source << ": run folder " << config.run.dir << " already holds " << old.size()
                             << " checkpoint(s) (newest " << old.back()
                             << "): resume it (graft train --resume), or choose another run.dir, "
                                "or delete "
                             << checkpoints.dir());
    overwritten = old;
  }
  FlopsLedger carried = options.carried_flops;
  if (resumed) {
    check_resume_config(resumed->config, config, resumed->source);
    GRAFT_INPUT_CHECK(resumed->step <= config.training.steps,
                      resumed->source << " is at step " << resumed->step
                                      << ", past training.steps = " << config.training.steps);
    const Trainer::ResumeState state =
        resume_state_from(*resumed, static_cast<uint64_t>(config.training.seed));
    restore_sharded(*resumed, *s.model, &trainer->optimizer(), grid);
    trainer->restore_state(state);
    carried = resumed->carried_flops;
    s.resumed_from = resumed->step;
  }
  if (grid.is_root()) {
    // The last check, since it creates checkpoints/: a folder that cannot
    // be written (a file in its place, a read-only mount) would otherwise
    // fail only at the first save, losing every step before it.
    checkpoints.check_writable();
    for (const std::string& path : overwritten)
      std::filesystem::remove(path);
    if (resumed) {
      truncate_metrics_after((std::filesystem::path(config.run.dir) / "metrics.jsonl").string(),
                             resumed->step);
    }
  }

  // Only rank 0 writes the run folder; the others' RunDirectory drops writes.
  RunDirectory run(config.run.dir, /*append=*/resumed.has_value(), grid.is_root());
  run.write_config(stage_config_to_string(s.config));
  std::FILE* const info = grid.is_root() ? options.info : nullptr;
  for (const std::string& w : warnings)
    run.log(w);
  if (resumed) {
    say(info, run,
        format("resuming from %s (step %lld of %lld)", resumed->source.c_str(),
               static_cast<long long>(resumed->step),
               static_cast<long long>(config.training.steps)));
    s.final_checkpoint = resumed->source;
  }
  say(info, run, "run folder: " + config.run.dir + " (config.toml, metrics.jsonl, train.log)");
  say(info, run, "data: " + s.data.description);
  const Parameters& params = s.model->parameters();
  say(info, run,
      format("model: %s, %.2fM parameters (%.2fM outside embeddings)",
             describe(config.model).c_str(), params.numel() / 1e6,
             (params.numel() - params.numel_with_prefix("embed.")) / 1e6));
  if (grid.distributed()) {
    say(info, run,
        format("grid: %d ranks = dp %d x tp %d", grid.world_size, grid.dp_size, grid.tp_size));
  }
  if (options.measure_peak && grid.is_root()) {
    // The peak of the device and dtype the model runs in (f64 models: f32).
    const DType peak_dtype = config.model_dtype == DType::bf16 ? DType::bf16 : DType::f32;
    const PeakMeasurement& known = options.known_peak;
    s.peak = known.flops_per_second > 0 && known.device == config.model_device &&
                     known.dtype == peak_dtype
                 ? known
                 : measure_gemm_peak(config.model_device, peak_dtype);
    say(info, run,
        format("measured peak: %s (%s through graft's matmul, best of %lld)",
               format_flops_rate(s.peak.flops_per_second).c_str(), describe_peak(s.peak).c_str(),
               static_cast<long long>(s.peak.repeats)));
  }
  const TrainingConfig& t = config.training;
  say(info, run,
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
  // The FLOPs in metrics are summed over ranks, each with this peak.
  loop.peak_flops_per_s = s.peak.flops_per_second * grid.world_size;
  // A resumed run's step-0 evaluation is already in metrics.jsonl.
  loop.eval_at_start = !resumed;
  StageCheckpointer checkpointer(checkpoints, config, stage_config_to_string(config), carried,
                                 [&run](const std::string& line) { run.log(line); });
  checkpointer.tokenizer = s.data.tokenizer;
  resumed.reset();  // its tensors are in the model now
  loop.after_step = [&](Trainer& trainer, const StepResult& r) {
    if (checkpointer.due(r.step) && checkpointer.save(trainer)) {
      s.final_checkpoint = checkpointer.last_saved();
    }
    if (options.after_step) options.after_step(r.step);
  };
  // A signal's stop (train/preemption.h): this step's checkpoint, unless
  // after_step has just written it.
  loop.save_for_stop = [&](Trainer& trainer) {
    if (!checkpointer.due(trainer.step()) && checkpointer.save(trainer)) {
      s.final_checkpoint = checkpointer.last_saved();
    }
    return checkpointer.last_saved();
  };
  std::unique_ptr<ProgressReporter> progress;
  if (options.progress && grid.is_root()) {
    progress = std::make_unique<ProgressReporter>(options.label, options.progress,
                                                  options.progress_interval_s);
  }
  s.loop = run_training(*trainer, s.data.train, s.data.valid, loop, &run, progress.get());

  s.total_flops = carried;
  s.total_flops.merge(trainer->train_flops());

  if (options.analytic_flops) {
    for (const StepResult& r : s.loop.steps) {
      for (int64_t micro = 0; micro < t.grad_accum; ++micro) {
        const ModelFlops f = options.analytic_flops(*s.task, *s.model, global_train(r.step, micro));
        s.analytic.forward.matmul += f.forward.matmul;
        s.analytic.forward.attention += f.forward.attention;
        s.analytic.backward.matmul += f.backward.matmul;
        s.analytic.backward.attention += f.backward.attention;
      }
    }
  } else {
    const ModelFlops per_micro =
        training_step_flops(config.model, s.task->shape(*s.model, global_train(1, 0)));
    const double micro_batches = static_cast<double>(s.loop.steps.size() * t.grad_accum);
    s.analytic.forward.matmul = per_micro.forward.matmul * micro_batches;
    s.analytic.forward.attention = per_micro.forward.attention * micro_batches;
    s.analytic.backward.matmul = per_micro.backward.matmul * micro_batches;
    s.analytic.backward.attention = per_micro.backward.attention * micro_batches;
  }

  run.log(
      format("done: %lld steps (%lld skipped), %lld tokens, %.1f s training, %.1f s wall, "
             "%.0f tokens/s, executed model FLOPs %.6e",
             static_cast<long long>(s.loop.steps.size()), static_cast<long long>(s.loop.skipped),
             static_cast<long long>(s.loop.tokens), s.loop.train_seconds, s.loop.wall_seconds,
             s.loop.tokens_per_second(), s.loop.train_flops.model_total()));
  return s;
}

}  // namespace graft
