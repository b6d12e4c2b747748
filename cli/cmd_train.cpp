// graft train: one training stage from a TOML stage config
// (train/stage_config.h lists the sections and keys), with --set overrides.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "train/progress.h"
#include "train/stage.h"

namespace graft::cli {

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
  po::variables_map vm;
  if (!parse_options("train",
                     "Trains one stage: [model], [optimizer], [training], [data] and [run]\n"
                     "sections of a TOML file (see train/README.md). Writes config.toml,\n"
                     "metrics.jsonl and train.log to run.dir.",
                     options, args, vm)) {
    return 0;
  }
  const StageConfig config = load_stage_config(config_path, overrides);
  if (vm.count("print-config")) {
    std::cout << stage_config_to_string(config);
    return 0;
  }
  StageRunOptions run_options;
  run_options.label = "train";
  StageRun run = run_stage(config, config_path, run_options);
  const LoopResult& r = run.loop;
  std::printf("\ntrain summary\n");
  if (r.final.count > 0) {
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
              format_mfu(r.model_flops_per_second(), run.peak.flops_per_second).c_str(),
              format_flops_rate(run.peak.flops_per_second).c_str());
  std::printf("  model FLOPs         %.6e executed, %.6e analytic (all trainable)\n",
              r.train_flops.model_total(), run.analytic.total());
  std::printf("  run folder          %s\n", config.run.dir.c_str());
  return 0;
}

}  // namespace graft::cli
