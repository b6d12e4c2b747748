// graft suite run / report: the compute-savings harness (bench/savings).
// `run` trains every recipe and baseline a suite file names, for each seed,
// through the recipe runner (resumable: complete stages are skipped), then
// writes and prints the savings table; `report` builds the table from run
// folders already on disk.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <toml++/toml.h>

#include "bench/savings/suite.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/suite_workers.h"
#include "dist/context.h"
#include "dist/launch.h"
#include "recipes/runner/runner.h"
#include "train/preemption.h"

namespace graft::cli {

namespace {

namespace fs = std::filesystem;
using savings::Suite;

const char* const kDescription =
    "A suite file (suites/<name>.toml) pairs recipes with baselines:\n"
    "\n"
    "  [suite]         name, description, recipe_path (default\n"
    "                  \"recipes/{scale}/{name}.toml\"), seeds, first_seed\n"
    "  [scale.<s>]     set = [overrides for every run at scale s], seeds\n"
    "  [[comparison]]  name, recipe, baseline, metric (val_loss | val_ppl |\n"
    "                  val_bits_per_byte | val_accuracy), target (default: the\n"
    "                  baseline's final quality), recipe_stages / baseline_stages\n"
    "                  (stages whose evaluations form the curve; default: the last),\n"
    "                  reused_stages / baseline_reused (one-off costs), recipe_also /\n"
    "                  baseline_also (runs whose whole cost a side also pays), paper\n"
    "\n"
    "Run <name> with seed s trains in <run dir>/<name>/seed-<s> (a rerun skips\n"
    "complete stages and resumes interrupted ones). A stage that another run of\n"
    "the suite already finished with the same config, seed, init and data (e.g.\n"
    "the MLM encoder four recipes start from) is linked from there, not trained\n"
    "again: training is deterministic, so it would be the same bits; the recipe\n"
    "still counts its FLOPs and wall time. The run dir gets table.md,\n"
    "table.csv and one PNG (with its gnuplot script) per comparison: FLOPs to\n"
    "first reach the target quality, executed (ledger) and 6*N*D, with and without\n"
    "the cost of reused checkpoints, steps, wall time, savings over seeds and the\n"
    "paper's figure. bench/README.md describes the harness.\n"
    "\n"
    "SIGTERM or SIGUSR1 (a cluster's time limit or preemption; with --jobs, sent on\n"
    "to the workers) saves a checkpoint at the next step boundary and exits with\n"
    "status 75, no table; the same command then continues bit for bit.";

// "main" means suites/main.toml; anything with a slash or .toml is a path.
std::string suite_path(const std::string& arg) {
  if (arg.find('/') != std::string::npos || arg.ends_with(".toml")) return arg;
  return "suites/" + arg + ".toml";
}

// "0,2,5" -> {0, 2, 5}; InputError on anything else.
std::vector<int64_t> parse_seed_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int64_t seed = -1;
    try {
      seed = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    GRAFT_INPUT_CHECK(used == item.size() && !item.empty() && seed >= 0,
                      "--worker-seeds: '" << text << "' is not a comma-separated list of seeds");
    out.push_back(seed);
  }
  GRAFT_INPUT_CHECK(!out.empty(), "--worker-seeds: no seeds in '" << text << "'");
  return out;
}

std::vector<int64_t> seed_list(const Suite& suite, const std::string& scale, int64_t seeds) {
  if (seeds <= 0) {
    auto it = suite.scales.find(scale);
    seeds = it != suite.scales.end() && it->second.seeds > 0 ? it->second.seeds : suite.seeds;
  }
  std::vector<int64_t> out;
  for (int64_t i = 0; i < seeds; ++i)
    out.push_back(suite.first_seed + i);
  return out;
}

// The suite file and the choices of this run, kept in the run folder so
// `graft suite report DIR` needs nothing else.
void write_run_info(const std::string& dir, const std::string& suite_file, const std::string& scale,
                    const std::vector<int64_t>& seeds) {
  fs::create_directories(dir);
  fs::copy_file(suite_file, fs::path(dir) / "suite.toml", fs::copy_options::overwrite_existing);
  toml::array seed_array;
  for (int64_t s : seeds)
    seed_array.push_back(s);
  toml::table info{{"scale", scale}, {"seeds", seed_array}, {"suite_file", suite_file}};
  std::ofstream(fs::path(dir) / "suite-run.toml") << info << "\n";
}

// The stages each run's recipe file lists, so build_report can tell a
// finished run from one still short of its last stages.
savings::StageNames recipe_stages(const Suite& suite, const std::string& scale) {
  return [&suite, scale](const std::string& name) {
    std::vector<std::string> names;
    const std::string file = suite.recipe_file(name, scale);
    if (!fs::exists(file)) return names;
    for (const runner::RecipeStage& s : runner::load_recipe(file).stages)
      names.push_back(s.name);
    return names;
  };
}

void print_notes(const std::vector<std::string>& notes) {
  for (const auto& n : notes)
    std::cout << "note: " << n << "\n";
}

int report_command(const Args& args) {
  std::string dir, suite_file, scale;
  int64_t seeds_arg = 0;
  po::options_description options("options");
  auto add = options.add_options();
  add("run-dir", po::value(&dir)->required(), "the suite's run folder");
  add("suite", po::value(&suite_file), "suite file (default: <run dir>/suite.toml)");
  add("scale", po::value(&scale), "scale label for the title (default: from the run folder)");
  add("seeds", po::value(&seeds_arg), "seeds to read (default: those the run used)");
  add("out", po::value<std::string>(), "where to write the table (default: the run folder)");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  options.add_options()("help,h", "show this help and exit");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: graft suite report RUN_DIR [options]\n\nThe savings table from the run "
                 "folders of an earlier `graft suite run`.\n\n"
              << options << "\n";
    return 0;
  }
  po::notify(vm);
  if (suite_file.empty()) suite_file = (fs::path(dir) / "suite.toml").string();
  const Suite suite = savings::load_suite(suite_file);
  std::vector<int64_t> seeds;
  const fs::path info_path = fs::path(dir) / "suite-run.toml";
  if (fs::exists(info_path)) {
    const toml::table info = toml::parse_file(info_path.string());
    if (scale.empty()) scale = info["scale"].value_or(std::string());
    if (const toml::array* a = info["seeds"].as_array())
      for (const auto& s : *a)
        seeds.push_back(s.value_or(int64_t{0}));
  }
  if (seeds_arg > 0 || seeds.empty()) seeds = seed_list(suite, scale, seeds_arg);
  const std::string out = vm.count("out") ? vm["out"].as<std::string>() : dir;
  const savings::Report report =
      savings::build_report(suite, dir, seeds, recipe_stages(suite, scale));
  std::vector<std::string> notes;
  const std::string md = savings::write_report(report, suite, scale, out, &notes);
  std::cout << md;
  print_notes(notes);
  std::cout << "wrote " << (fs::path(out) / "table.md").string() << " and table.csv\n";
  return report.results.empty() ? 1 : 0;
}

// What `graft suite run` was asked to do, after its options are read.
struct SuiteRun {
  std::string file, scale, dir;
  Suite suite;
  std::vector<int64_t> seeds;          // the suite's, for the table
  std::vector<std::string> overrides;  // --set, as given
  std::vector<std::string> base;       // every run's: the scale's, --set, --tp / --dp
  int tp = 0, dp = 0;
  bool no_sharing = false;
  struct Job {
    std::string name, file, dir;
    int64_t seed;
  };
  std::vector<Job> jobs;  // this process's (a worker's: its seeds only)
  std::vector<std::string> missing;
};

struct Failures {
  std::vector<std::string> lines;
  bool only_input_errors = true;
  // Set when a signal stopped the suite (train/preemption.h): not a failure,
  // the same command resumes; exit kPreemptedExitStatus, no table.
  std::string stopped;
  bool root = true;  // false on the other ranks of an mpirun / srun job
  // Bad input (a missing store, a bad key) is exit 2, as everywhere in graft.
  int status() const {
    if (!stopped.empty()) return kPreemptedExitStatus;
    return lines.empty() ? 0 : only_input_errors ? 2 : 1;
  }
};

void announce(const SuiteRun& r, const std::string& how) {
  std::cout << "suite " << r.suite.name << " at scale " << r.scale << ": " << r.jobs.size()
            << " runs (" << r.seeds.size() << " seed" << (r.seeds.size() == 1 ? "" : "s") << ") in "
            << r.dir << how << "\n";
  for (const auto& m : r.missing)
    std::cout << "warning: no recipe file for " << m << "\n";
}

// --jobs: one worker process per group of seeds, this one waits and echoes.
Failures run_in_workers(const SuiteRun& r, const std::vector<std::vector<int64_t>>& groups) {
  GRAFT_INPUT_CHECK(r.tp == 0 && r.dp == 0 && dist::detect_launch().size == 1,
                    "--jobs starts worker processes on this machine: it does not combine "
                    "with --tp / --dp or with mpirun / srun (each of those is one job)");
  write_run_info(r.dir, r.file, r.scale, r.seeds);
  announce(r, ", " + std::to_string(groups.size()) + " worker processes");
  std::vector<SuiteWorker> workers;
  for (const std::vector<int64_t>& group : groups) {
    SuiteWorker w;
    w.seeds = group;
    const std::string label = seed_label(group);
    w.args = {"suite",     "run", r.file,           "--scale", r.scale,
              "--run-dir", r.dir, "--worker-seeds", label};
    for (const std::string& o : r.overrides)
      w.args.insert(w.args.end(), {"--set", o});
    if (r.no_sharing) w.args.push_back("--no-sharing");
    w.log = (fs::path(r.dir) / "logs" / ("seed-" + label + ".log")).string();
    workers.push_back(std::move(w));
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  run_suite_workers(workers, std::max(1, static_cast<int>(cores / workers.size())));
  Failures failed;
  for (const SuiteWorker& w : workers) {
    if (w.exit_status == 0) continue;
    if (w.exit_status == kPreemptedExitStatus) {
      failed.stopped += (failed.stopped.empty() ? "" : "; ") + std::string("worker for seed(s) ") +
                        seed_label(w.seeds) + " stopped by a signal (log: " + w.log + ")";
      continue;
    }
    failed.lines.push_back("worker for seed(s) " + seed_label(w.seeds) + ": exit status " +
                           std::to_string(w.exit_status) + " (log: " + w.log + ")");
    failed.only_input_errors = failed.only_input_errors && w.exit_status == 2;
  }
  return failed;
}

// The runs one after the other in this process (all ranks of an mpirun /
// srun job take part); on ranks other than 0, root is false.
Failures run_here(const SuiteRun& r, bool worker) {
  dist::DistOptions dist_options;
  if (r.tp > 0) dist_options.tp = r.tp;
  if (r.dp > 0) dist_options.dp = r.dp;
  dist::DistContext dist(dist_options);
  install_preemption_handlers();  // after MPI is up, so that they stay
  runner::RecipeRunOptions run;
  run.grid = training_grid(dist);
  if (!r.no_sharing) run.stage_index = (fs::path(r.dir) / "stage-index").string();
  const bool root = run.grid.is_root();
  if (root && !worker) {
    write_run_info(r.dir, r.file, r.scale, r.seeds);
    announce(r, "");
  }
  Failures failed;
  for (size_t i = 0; i < r.jobs.size(); ++i) {
    const SuiteRun::Job& job = r.jobs[i];
    const std::string tag = "[suite " + std::to_string(i + 1) + "/" +
                            std::to_string(r.jobs.size()) + "] " + job.name + " seed " +
                            std::to_string(job.seed);
    if (root) std::cout << "\n" << tag << " (" << job.file << ") -> " << job.dir << std::endl;
    std::vector<std::string> o = r.base;
    o.push_back("training.seed=" + std::to_string(job.seed));
    const auto start = std::chrono::steady_clock::now();
    try {
      const runner::RecipeResult result =
          runner::run_recipe(runner::load_recipe(job.file, o, job.dir), run);
      if (root) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cout << tag << " done in " << savings::format_seconds(s) << ", executed model FLOPs "
                  << savings::format_flops(result.total.model_total()) << std::endl;
      }
    } catch (const Preempted& e) {
      // Every rank stopped at the same step, its checkpoint written: end the
      // suite here (returning, so that MPI finalizes normally).
      failed.stopped = job.name + " seed " + std::to_string(job.seed) + ": " + e.what();
      break;
    } catch (const std::exception& e) {
      // Peers may be blocked in a collective: a multi-rank job cannot go on.
      if (dist.uses_mpi()) {
        std::fprintf(stderr, "graft suite: error: %s\n", e.what());
        std::fflush(stderr);
        dist::abort_job(dynamic_cast<const InputError*>(&e) ? 2 : 1);
      }
      // One broken run should not cost the others: the table shows what ran.
      failed.lines.push_back(job.name + " seed " + std::to_string(job.seed) + ": " + e.what());
      failed.only_input_errors = failed.only_input_errors && dynamic_cast<const InputError*>(&e);
      std::cerr << "graft suite: " << failed.lines.back() << "\n";
    }
  }
  failed.root = root;
  return failed;
}

int run_command(const Args& args) {
  SuiteRun r;
  std::string suite_arg, worker_seeds;
  int64_t seeds_arg = 0;
  int parallel_jobs = 1;
  po::options_description options("options");
  auto add = options.add_options();
  add("suite", po::value(&suite_arg)->required(), "suite name (suites/<name>.toml) or file");
  add("scale", po::value(&r.scale)->required(), "tiny | small | base | large ({scale} in paths)");
  add("seeds", po::value(&seeds_arg), "seeds per run (default: the suite's for this scale)");
  add("run-dir", po::value(&r.dir), "where runs train (default: runs/suite-<name>-<scale>)");
  add("set", po::value(&r.overrides)->composing(),
      "override a key in every recipe (as `graft recipe run --set`; repeatable)");
  add("tp", po::value(&r.tp), "tensor-parallel ranks per replica, every run");
  add("dp", po::value(&r.dp), "data-parallel replicas, every run (under mpirun -np tp x dp)");
  add("no-sharing", po::bool_switch(&r.no_sharing),
      "train every stage, even one another run of the suite already finished with the same "
      "config, seed, init and data (default: link it from there)");
  add("jobs", po::value(&parallel_jobs),
      "worker processes training side by side, the seeds split between them, the cores "
      "between their threads (default 1: one process, every core)");
  add("worker-seeds", po::value(&worker_seeds),
      "what --jobs hands each worker: run only these seeds (comma-separated) and write no "
      "table");
  po::positional_options_description positional;
  positional.add("suite", 1);
  options.add_options()("help,h", "show this help and exit");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: graft suite run SUITE --scale tiny|small|base|large [--seeds N] "
                 "[--jobs N] [--run-dir DIR]\n\n"
              << kDescription << "\n\n"
              << options << "\n";
    return 0;
  }
  po::notify(vm);
  GRAFT_INPUT_CHECK(parallel_jobs >= 1, "--jobs must be at least 1, got " << parallel_jobs);
  r.file = suite_path(suite_arg);
  r.suite = savings::load_suite(r.file);
  if (r.dir.empty()) r.dir = "runs/suite-" + r.suite.name + "-" + r.scale;
  r.seeds = seed_list(r.suite, r.scale, seeds_arg);
  const bool worker = !worker_seeds.empty();
  const std::vector<int64_t> own_seeds = worker ? parse_seed_list(worker_seeds) : r.seeds;
  r.base = r.overrides;
  if (auto it = r.suite.scales.find(r.scale); it != r.suite.scales.end())
    r.base.insert(r.base.begin(), it->second.overrides.begin(), it->second.overrides.end());
  if (r.tp > 0) r.base.push_back("distributed.tp=" + std::to_string(r.tp));
  if (r.dp > 0) r.base.push_back("distributed.dp=" + std::to_string(r.dp));

  // Every recipe file is read before anything trains, so a typo costs
  // seconds, not the hours of the runs before it.
  for (const std::string& name : r.suite.run_names()) {
    const std::string recipe_file = r.suite.recipe_file(name, r.scale);
    if (!fs::exists(recipe_file)) {
      r.missing.push_back(name + " (" + recipe_file + ")");
      continue;
    }
    for (int64_t seed : own_seeds) {
      const std::string run_dir = savings::seed_run_dir(r.dir, name, seed);
      std::vector<std::string> o = r.base;
      o.push_back("training.seed=" + std::to_string(seed));
      runner::load_recipe(recipe_file, o, run_dir);
      r.jobs.push_back({name, recipe_file, run_dir, seed});
    }
  }

  const auto suite_start = std::chrono::steady_clock::now();
  const std::vector<std::vector<int64_t>> groups =
      worker ? std::vector<std::vector<int64_t>>{} : split_seeds(r.seeds, parallel_jobs);
  Failures failed;
  if (groups.size() > 1) {
    install_preemption_handlers();  // forwarded to the workers (suite_workers.h)
    failed = run_in_workers(r, groups);
  } else {
    failed = run_here(r, worker);
    if (!failed.root) return failed.status() == kPreemptedExitStatus ? kPreemptedExitStatus : 0;
  }
  if (!failed.stopped.empty()) {
    // No table: the runs are not finished. The same command resumes them.
    std::cout.flush();
    std::cerr << "graft suite: " << failed.stopped << "; rerun the same command to continue"
              << std::endl;
    return kPreemptedExitStatus;
  }
  if (worker) {
    for (const auto& f : failed.lines)
      std::cout << "failed: " << f << "\n";
    return failed.status();  // the process that started the workers writes the table
  }
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - suite_start).count();
  std::cout << "\nall runs finished in " << savings::format_seconds(total) << "; the table:\n\n";
  const savings::Report report =
      savings::build_report(r.suite, r.dir, r.seeds, recipe_stages(r.suite, r.scale));
  std::vector<std::string> notes;
  const std::string md = savings::write_report(report, r.suite, r.scale, r.dir, &notes);
  std::cout << md << "\n";
  print_notes(notes);
  for (const auto& m : r.missing)
    std::cout << "missing recipe file: " << m << "\n";
  for (const auto& f : failed.lines)
    std::cout << "failed: " << f << "\n";
  std::cout << "wrote " << r.dir << "/table.md, table.csv and plots\n";
  return failed.status();
}

}  // namespace

int run_suite(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: graft suite run SUITE --scale S [--seeds N] [--run-dir DIR]\n"
                 "       graft suite report RUN_DIR\n\n"
              << kDescription << "\n\n'graft suite run --help' lists the options.\n";
    return args.empty() ? 2 : 0;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "run") return run_command(rest);
  if (args[0] == "report") return report_command(rest);
  throw InputError("unknown suite subcommand '" + args[0] + "' (available: run, report)");
}

}  // namespace graft::cli
