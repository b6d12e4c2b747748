// graft recipe run: every stage of a recipe file (recipes/README.md), in
// order, resumable; writes <run dir>/summary.json.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/stopped.h"
#include "dist/context.h"
#include "recipes/runner/runner.h"

namespace graft::cli {

namespace {

const char* const kDescription =
    "Runs the stages of a recipe file in order. A recipe is TOML:\n"
    "\n"
    "  [recipe]      name, description, stores (what \"{stores}\" expands to)\n"
    "  [defaults]    model / optimizer / training / data / checkpoint / distributed /\n"
    "                task tables merged into every stage (a stage's own keys win)\n"
    "  [[stage]]     name, init, from, and the same tables as `graft train` configs\n"
    "    init = random | checkpoint | extract_encoder | bert2bert | bert_share |\n"
    "           bert2gpt | gpt_only | rnd2bert | bert2rnd | clp | cross_lingual\n"
    "    from = \"stage\" (or [\"encoder\", \"decoder\"] for bert2gpt, [\"source\",\n"
    "           \"helper\"] for clp): earlier stages whose final checkpoint the init reads\n"
    "\n"
    "Stage <name> trains in <run dir>/<name>. A stage whose final checkpoint is at\n"
    "training.steps is skipped; an interrupted one resumes from its newest\n"
    "checkpoint. FLOPs are carried from stage to stage; <run dir>/summary.json\n"
    "lists per stage its steps, tokens, executed FLOPs, the running total, final\n"
    "evaluation, wall time and final checkpoint. recipes/README.md has the format,\n"
    "every recipe and its baseline, and how to write a new one.\n"
    "\n"
    "SIGTERM or SIGUSR1 (a cluster's time limit or preemption) saves a checkpoint\n"
    "at the next step boundary and exits with status 75; the same command then\n"
    "continues bit for bit.";

int run_recipe_command(const std::vector<std::string>& args) {
  std::string file, run_dir;
  std::vector<std::string> overrides;
  int tp = 0, dp = 0;
  po::options_description options("options");
  auto add = options.add_options();
  add("file", po::value(&file)->required(), "the recipe file (TOML)");
  add("run-dir", po::value(&run_dir), "where stages train (default: runs/<recipe name>)");
  add("set", po::value(&overrides)->composing(),
      "override a key: section.key=value in every stage, <stage>.section.key=value in one, "
      "recipe.stores=DIR (repeatable)");
  add("tp", po::value(&tp), "tensor-parallel ranks per replica, every stage");
  add("dp", po::value(&dp), "data-parallel replicas, every stage (under mpirun -np tp x dp)");
  add("print", "print each stage's resolved config and exit");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  options.add_options()("help,h", "show this help and exit");
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: graft recipe run FILE [options]\n\n"
              << kDescription << "\n\n"
              << options << "\n";
    return 0;
  }
  po::notify(vm);
  if (tp > 0) overrides.push_back("distributed.tp=" + std::to_string(tp));
  if (dp > 0) overrides.push_back("distributed.dp=" + std::to_string(dp));
  const runner::Recipe recipe = runner::load_recipe(file, overrides, run_dir);
  if (vm.count("print")) {
    for (const runner::RecipeStage& s : recipe.stages) {
      std::cout << "# stage " << s.name << ": init " << runner::init_name(s.init) << "\n"
                << stage_config_to_string(s.config) << "\n";
    }
    return 0;
  }
  const DistributedConfig& d = recipe.stages.front().config.distributed;
  for (const runner::RecipeStage& s : recipe.stages) {
    GRAFT_INPUT_CHECK(s.config.distributed.tp == d.tp && s.config.distributed.dp == d.dp,
                      file << ": stage '" << s.name
                           << "': every stage must use the same distributed.tp and .dp (one "
                              "process grid runs them all)");
  }
  dist::DistOptions dist_options;
  dist_options.tp = static_cast<int>(d.tp);
  dist_options.dp = static_cast<int>(d.dp);
  dist_options.timeout_seconds = d.timeout;
  dist::DistContext dist(dist_options);
  install_preemption_handlers();  // after MPI is up, so that they stay
  runner::RecipeRunOptions run;
  run.grid = training_grid(dist);
  try {
    runner::run_recipe(recipe, run);
  } catch (const Preempted& e) {
    // Every rank stopped at the same step after the checkpoint: return, so
    // that MPI finalizes normally. The same command resumes.
    return stopped_by_signal("recipe run", e, run.grid.is_root());
  } catch (const std::exception& e) {
    if (!dist.uses_mpi()) throw;
    // Peers may be blocked in a collective: end the whole job now.
    std::fprintf(stderr, "graft recipe: error: %s\n", e.what());
    std::fflush(stderr);
    dist::abort_job(dynamic_cast<const InputError*>(&e) ? 2 : 1);
  }
  return 0;
}

}  // namespace

int run_recipe(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: graft recipe run FILE [--run-dir DIR] [--set key=value ...]\n\n"
              << kDescription << "\n\n'graft recipe run --help' lists the options.\n";
    return args.empty() ? 2 : 0;
  }
  GRAFT_INPUT_CHECK(args[0] == "run",
                    "unknown recipe subcommand '" << args[0] << "' (available: run)");
  return run_recipe_command(Args(args.begin() + 1, args.end()));
}

}  // namespace graft::cli
