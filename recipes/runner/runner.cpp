#include "recipes/runner/runner.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "dist/communicator.h"
#include "recipes/runner/init.h"
#include "recipes/runner/stage_sharing.h"
#include "recipes/runner/tasks.h"
#include "train/checkpoint_manager.h"
#include "train/checkpointing.h"
#include "train/run_dir.h"
#include "train/stage.h"

namespace graft::runner {

namespace {

void say(std::FILE* out, const std::string& line) {
  if (!out) return;
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
}

std::string stage_file(const RecipeStage& stage) {
  return stage.config.run.dir + "/stage.toml";
}

// What a finished stage leaves beside its checkpoints for a later rerun that
// skips it (the FLOPs, steps and tokens come from the checkpoint itself).
void write_stage_file(const RecipeStage& stage, const StageSummary& s) {
  toml::table t{{"name", s.name},
                {"transform", s.transform},
                {"resumed_from", s.resumed_from},
                {"evaluated", s.evaluated},
                {"val_loss", s.val_loss},
                {"val_ppl", s.val_ppl},
                {"val_accuracy", s.val_accuracy},
                {"wall_seconds", s.wall_seconds},
                {"retrieval_seconds", s.retrieval_seconds}};
  const std::string path = stage_file(stage);
  {
    std::ofstream out(path + ".tmp");
    out << t << "\n";
  }
  std::filesystem::rename(path + ".tmp", path);
}

void read_stage_file(const RecipeStage& stage, StageSummary& s) {
  if (!std::filesystem::exists(stage_file(stage))) return;  // killed after the last save
  try {
    const toml::table t = toml::parse_file(stage_file(stage));
    s.transform = t["transform"].value_or(std::string());
    s.resumed_from = t["resumed_from"].value_or(int64_t{-1});
    s.evaluated = t["evaluated"].value_or(false);
    s.val_loss = t["val_loss"].value_or(0.0);
    s.val_ppl = t["val_ppl"].value_or(0.0);
    s.val_accuracy = t["val_accuracy"].value_or(0.0);
    s.wall_seconds = t["wall_seconds"].value_or(0.0);
    s.retrieval_seconds = t["retrieval_seconds"].value_or(0.0);
  } catch (const toml::parse_error&) {
    // A summary is a report, not state: the checkpoint is what counts.
  }
}

// The stage's checkpoint at its budget, if it has one.
std::optional<CheckpointContents> completed(const RecipeStage& stage) {
  const std::string dir = checkpoint_dir(stage.config.run.dir);
  if (!std::filesystem::is_directory(dir)) return std::nullopt;
  CheckpointManager manager(dir, 0);
  std::optional<CheckpointContents> latest = manager.load_latest();
  if (latest && latest->step == stage.config.training.steps) return latest;
  return std::nullopt;
}

// Any checkpoint at all: a stage that started here resumes here.
bool has_checkpoints(const RecipeStage& stage) {
  const std::string dir = checkpoint_dir(stage.config.run.dir);
  std::error_code ec;
  return std::filesystem::is_directory(dir) && !std::filesystem::is_empty(dir, ec);
}

std::string ledger_json(const FlopsLedger& l) {
  JsonObject o;
  o.add("forward", l.forward().model());
  o.add("backward", l.backward().model());
  o.add("model", l.model_total());
  o.add("other", l.forward().other + l.backward().other);
  o.add("forward_matmul", l.forward().matmul);
  o.add("forward_attention", l.forward().attention);
  o.add("backward_matmul", l.backward().matmul);
  o.add("backward_attention", l.backward().attention);
  return o.str();
}

// JsonObject holds scalars; nested values are spliced in as text.
std::string with(const std::string& object, const std::string& key, const std::string& json) {
  const std::string body = object.substr(1, object.size() - 2);
  return "{" + body + (body.empty() ? "" : ",") + "\"" + json_escape(key) + "\":" + json + "}";
}

}  // namespace

std::string summary_json(const Recipe& recipe, const RecipeResult& result) {
  std::string stages = "[";
  for (size_t i = 0; i < result.stages.size(); ++i) {
    const StageSummary& s = result.stages[i];
    JsonObject o;
    o.add("name", s.name).add("init", s.init).add("transform", s.transform);
    o.add("skipped", s.skipped).add("resumed_from", s.resumed_from);
    o.add("steps", s.steps).add("tokens", s.tokens);
    o.add("wall_seconds", s.wall_seconds).add("final_checkpoint", s.final_checkpoint);
    o.add("retrieval_seconds", s.retrieval_seconds).add("shared_from", s.shared_from);
    std::string from = "[";
    for (size_t k = 0; k < s.from.size(); ++k)
      from += (k ? ",\"" : "\"") + json_escape(s.from[k]) + "\"";
    std::string text = with(o.str(), "from", from + "]");
    text = with(text, "flops", ledger_json(s.flops));
    text = with(text, "carried_total", ledger_json(s.total));
    JsonObject eval;
    if (s.evaluated) {
      eval.add("loss", s.val_loss).add("perplexity", s.val_ppl).add("accuracy", s.val_accuracy);
    }
    text = with(text, "final_eval", s.evaluated ? eval.str() : "null");
    stages += (i ? ",\n  " : "\n  ") + text;
  }
  stages += "\n]";
  JsonObject top;
  top.add("recipe", recipe.name).add("file", recipe.path).add("run_dir", recipe.run_dir);
  std::string text = with(top.str(), "stages", stages);
  text = with(text, "total_flops", ledger_json(result.total));
  return text + "\n";
}

RecipeResult run_recipe(const Recipe& recipe, const RecipeRunOptions& options) {
  RecipeResult result;
  const bool root = options.grid.is_root();
  std::filesystem::create_directories(recipe.run_dir);
  result.summary_path = recipe.run_dir + "/summary.json";
  FlopsLedger carried;
  // Measured once, on the first stage that trains, and shared by the rest.
  PeakMeasurement peak;
  const StageIndex index(options.stage_index);
  std::vector<std::string> identities;
  for (size_t i = 0; i < recipe.stages.size(); ++i) {
    const RecipeStage& stage = recipe.stages[i];
    StageSummary s;
    s.name = stage.name;
    s.init = init_name(stage.init);
    s.from = stage.from;
    const std::string label = recipe.name + "/" + stage.name;
    std::string identity;
    if (!options.stage_index.empty()) {
      std::vector<std::string> sources;
      for (const std::string& f : stage.from)
        sources.push_back(identities[recipe.index_of(f)]);
      identity = stage_identity(stage, sources, carried);
      if (root && !has_checkpoints(stage)) {
        if (std::optional<std::string> folder = index.find(identity, stage.config.training.steps)) {
          link_finished_stage(*folder, stage.config.run.dir, stage_config_to_string(stage.config));
          say(options.info, "stage " + std::to_string(i + 1) + "/" +
                                std::to_string(recipe.stages.size()) + " " + stage.name +
                                ": the same stage (config, seed, init, data) finished in " +
                                *folder + ": linked, not trained again");
        }
      }
      if (options.grid.world) options.grid.world->barrier();
    }
    identities.push_back(identity);
    if (std::optional<CheckpointContents> done = completed(stage)) {
      s.skipped = true;
      s.steps = done->step;
      s.tokens = done->tokens;
      s.flops = done->flops;
      s.final_checkpoint = done->source;
      read_stage_file(stage, s);
      if (root) {
        say(options.info, "stage " + std::to_string(i + 1) + "/" +
                              std::to_string(recipe.stages.size()) + " " + stage.name +
                              ": complete (" + done->source + "), skipped");
      }
    } else {
      if (root) {
        say(options.info, "stage " + std::to_string(i + 1) + "/" +
                              std::to_string(recipe.stages.size()) + " " + stage.name + ": init " +
                              s.init + (stage.from.empty() ? "" : " from ") +
                              (stage.from.empty() ? "" : stage.from[0]) +
                              (stage.from.size() > 1 ? ", " + stage.from[1] : ""));
      }
      std::vector<std::string> sources;
      for (const std::string& f : stage.from)
        sources.push_back(result.stages[recipe.index_of(f)].final_checkpoint);
      StageRunOptions run;
      run.label = label;
      run.progress = root ? options.progress : nullptr;
      run.info = root ? options.info : nullptr;
      run.measure_peak = options.measure_peak;
      if (options.measure_peak && root && peak.flops_per_second <= 0) {
        peak = measure_sgemm_peak();
      }
      run.known_peak = peak;
      run.grid = options.grid;
      run.resume = true;
      run.carried_flops = carried;
      run.initial_model = [&](const ModelConfig& config, uint64_t seed) {
        InitResult init = build_initial_model(recipe, stage, sources, config, seed);
        s.transform = init.report;
        if (root && stage.init != InitKind::random) say(options.info, "init: " + init.report);
        return std::move(init.model);
      };
      TaskHooks hooks = recipe_task_hooks(stage);
      run.make_task = hooks.make_task;
      run.make_data = hooks.make_data;
      run.analytic_flops = hooks.analytic_flops;
      const auto start = std::chrono::steady_clock::now();
      StageRun r = run_stage(stage.config, recipe.path + " (stage '" + stage.name + "')", run);
      s.wall_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      // Only rank 0 writes checkpoints: the others wait for its final one
      // (the next stage's init and this summary read it).
      if (options.grid.world) options.grid.world->barrier();
      if (r.final_checkpoint.empty()) {
        r.final_checkpoint = CheckpointManager(checkpoint_dir(stage.config.run.dir), 0)
                                 .path_for(stage.config.training.steps);
      }
      const CheckpointContents last = load_checkpoint(r.final_checkpoint);
      GRAFT_CHECK(last.step == stage.config.training.steps,
                  "stage " << stage.name << " ended at step " << last.step);
      s.resumed_from = r.resumed_from;
      s.retrieval_seconds = *hooks.retrieval_seconds;
      s.steps = last.step;
      s.tokens = last.tokens;
      s.flops = last.flops;
      s.final_checkpoint = r.final_checkpoint;
      s.evaluated = r.loop.final.count > 0;
      s.val_loss = r.loop.final.loss;
      s.val_ppl = r.loop.final.perplexity;
      s.val_accuracy = r.loop.final.accuracy;
      if (root) write_stage_file(stage, s);
    }
    s.shared_from = shared_from(stage.config.run.dir);
    if (root && !identity.empty() && s.shared_from.empty())
      index.record(identity, stage.config.run.dir);
    carried.merge(s.flops);
    s.total = carried;
    result.total = carried;
    result.stages.push_back(s);
    if (root) {
      const std::string text = summary_json(recipe, result);
      std::ofstream(result.summary_path + ".tmp") << text;
      std::filesystem::rename(result.summary_path + ".tmp", result.summary_path);
    }
  }
  if (root) {
    char line[256];
    std::snprintf(line, sizeof(line), "recipe %s: %zu stages, executed model FLOPs %.6e (%s)",
                  recipe.name.c_str(), recipe.stages.size(), carried.model_total(),
                  result.summary_path.c_str());
    say(options.info, line);
  }
  return result;
}

}  // namespace graft::runner
