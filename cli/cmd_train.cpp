// graft train: one training stage from a TOML stage config
// (train/stage_config.h lists the sections and keys), with --set overrides.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/stopped.h"
#include "dist/context.h"
#include "train/progress.h"
#include "train/stage.h"

namespace graft::cli {

namespace {
int train_and_report(const StageConfig& config, const std::string& config_path,
                     const po::variables_map& vm, dist::DistContext& dist);
}

int run_train_stage(const Args& args) {
  std::string config_path;
  std::vector<std::string> overrides;
  po::options_description options("options");
  auto add = options.add_options();
  add("config,c", po::value(&config_path)->required(), "stage config (TOML)");
  add("set", po::value(&overrides)->composing(),
      "override a config key, e.g. --set training.steps=100 (repeatable; the value is TOML, or "
      "a bare string)");
  add("print-config", "print the resolved config and exit without training");
  int tp = 0, dp = -1;
  double timeout = 0;
  add("tp", po::value(&tp),
      "tensor-parallel ranks per replica (default: distributed.tp of the config, else 1); run "
      "under mpirun -np N or srun -n N --mpi=pmix with N = tp x dp");
  add("dp", po::value(&dp),
      "data-parallel replicas (default: distributed.dp, else world size / tp); each takes "
      "training.batch_size / dp rows of every global micro-batch");
  add("timeout", po::value(&timeout),
      "seconds a collective may block before the job is aborted (default: "
      "distributed.timeout, else 300); 0 or inf: no timeout (a hung rank then hangs the job). "
      "Negative or NaN is refused");
  add("resume",
      "continue from the newest valid checkpoint in run.dir/checkpoints (a corrupt newest one "
      "is skipped with a warning; none there: start afresh); metrics.jsonl is continued. The "
      "config must match the checkpoint's except training.steps, the eval / log / checkpoint "
      "intervals and run.dir");
  po::variables_map vm;
  if (!parse_options("train",
                     "Trains one stage: [model], [optimizer], [training], [data], [run] and\n"
                     "[checkpoint] sections of a TOML file (see train/README.md). Writes\n"
                     "config.toml, metrics.jsonl, train.log and checkpoints/ckpt-<step>.h5\n"
                     "(every checkpoint.interval steps and at the end, the newest\n"
                     "checkpoint.keep_last kept) to run.dir. A killed run continues with\n"
                     "--resume and gives the same losses, bit for bit, as one never stopped.\n"
                     "SIGTERM or SIGUSR1 (a cluster's time limit or preemption) saves a\n"
                     "checkpoint at the next step boundary and exits with status 75; --resume\n"
                     "continues from it (with no checkpoint yet, --resume starts afresh).",
                     options, args, vm)) {
    return 0;
  }
  StageConfig config = load_stage_config(config_path, overrides);
  if (vm.count("tp")) {
    GRAFT_INPUT_CHECK(tp >= 1, "--tp must be >= 1, got " << tp);
    config.distributed.tp = tp;
  }
  if (vm.count("dp")) {
    GRAFT_INPUT_CHECK(dp >= 1, "--dp must be >= 1, got " << dp);
    config.distributed.dp = dp;
  }
  if (vm.count("timeout")) {
    // The same rule as distributed.timeout (train/stage_config.cpp): a
    // negative or NaN timeout used to switch the watchdog off silently.
    GRAFT_INPUT_CHECK(timeout >= 0,
                      "--timeout must be >= 0 seconds (0 or inf: no collective "
                      "timeout), got "
                          << timeout);
    config.distributed.timeout = timeout;
  }
  if (vm.count("print-config")) {
    std::cout << stage_config_to_string(config);
    return 0;
  }
  // Before any work: a world that does not factor as tp x dp is an
  // InputError here, on every rank, before MPI starts.
  dist::DistOptions dist_options;
  dist_options.tp = static_cast<int>(config.distributed.tp);
  dist_options.dp = static_cast<int>(config.distributed.dp);
  dist_options.timeout_seconds = config.distributed.timeout;
  dist::DistContext dist(dist_options);
  // After MPI is up, so that these handlers are the ones that stay.
  install_preemption_handlers();
  if (!dist.uses_mpi()) return train_and_report(config, config_path, vm, dist);
  try {
    return train_and_report(config, config_path, vm, dist);
  } catch (const Preempted& e) {
    // Every rank stopped at the same step after the checkpoint: return, so
    // that MPI finalizes normally, rather than abort the job.
    return stopped_by_signal("train", e, dist.grid().rank == 0);
  } catch (const std::exception& e) {
    // Peers may be blocked in a collective: end the whole job now.
    std::fprintf(stderr, "graft train: error: %s: %s\n", dist.grid().describe().c_str(), e.what());
    std::fflush(stderr);
    dist::abort_job(dynamic_cast<const InputError*>(&e) ? 2 : 1);
  }
}

namespace {
int train_and_report(const StageConfig& config, const std::string& config_path,
                     const po::variables_map& vm, dist::DistContext& dist) {
  StageRunOptions run_options;
  run_options.label = "train";
  run_options.resume = vm.count("resume") > 0;
  run_options.grid = training_grid(dist);
  StageRun run = run_stage(config, config_path, run_options);
  if (!run_options.grid.is_root()) return 0;
  const LoopResult& r = run.loop;
  std::printf("\ntrain summary\n");
  if (r.final.count > 0 && r.initial.count > 0) {
    std::printf("  validation          %s -> %s\n", describe_eval(r.initial).c_str(),
                describe_eval(r.final).c_str());
  }
  std::printf("  steps               %lld (%lld skipped), %lld tokens\n",
              static_cast<long long>(r.steps.size()), static_cast<long long>(r.skipped),
              static_cast<long long>(r.tokens));
  std::printf("  time                %s wall, %s training, %.0f tokens/s\n",
              ProgressReporter::format_duration(r.wall_seconds).c_str(),
              ProgressReporter::format_duration(r.train_seconds).c_str(), r.tokens_per_second());
  std::printf("  MFU                 %s of %s\n",
              format_mfu(r.model_flops_per_second(),
                         run.peak.flops_per_second * run_options.grid.world_size)
                  .c_str(),
              format_flops_rate(run.peak.flops_per_second).c_str());
  std::printf("  model FLOPs         %.6e executed, %.6e analytic (all trainable)\n",
              r.train_flops.model_total(), run.analytic.total());
  std::printf("  run folder          %s\n", config.run.dir.c_str());
  if (run.resumed_from >= 0) {
    std::printf("  resumed from step   %lld\n", static_cast<long long>(run.resumed_from));
  }
  std::printf("  final checkpoint    %s\n", run.final_checkpoint.c_str());
  return 0;
}

}  // namespace

}  // namespace graft::cli
