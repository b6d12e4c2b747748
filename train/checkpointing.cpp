#include "train/checkpointing.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "ops/check.h"
#include "train/distributed_checkpoint.h"

namespace graft {

namespace fs = std::filesystem;

namespace {

// "section.key" -> the value as TOML text, for every leaf of a config.
void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (const auto& [key, node] : table) {
    const std::string path =
        prefix.empty() ? std::string(key.str()) : prefix + "." + key.str().data();
    if (const toml::table* sub = node.as_table()) {
      flatten(*sub, path, out);
    } else {
      std::ostringstream text;
      node.visit([&](const auto& value) { text << value; });
      out[path] = text.str();
    }
  }
}

std::map<std::string, std::string> flatten(const StageConfig& config) {
  std::map<std::string, std::string> out;
  flatten(stage_config_to_toml(config), "", out);
  return out;
}

}  // namespace

std::string checkpoint_dir(const std::string& run_dir) {
  return (fs::path(run_dir) / "checkpoints").string();
}

const std::vector<std::string>& resume_mutable_keys() {
  static const std::vector<std::string> keys = {
      "training.steps", "training.eval_interval", "training.log_interval", "checkpoint.interval",
      "checkpoint.keep_last", "run.dir",
      // checkpoints hold logical tensors: any layout
      "distributed.tp", "distributed.dp", "distributed.timeout"};
  return keys;
}

void check_resume_config(const std::string& checkpoint_config_toml, const StageConfig& config,
                         const std::string& checkpoint_path) {
  StageConfig stored;
  try {
    // Parsed into a StageConfig (not compared as text) so defaults added
    // since the checkpoint was written compare equal to their values.
    stored = stage_config_from_toml_text(checkpoint_config_toml, checkpoint_path + " /run/config");
  } catch (const InputError& e) {
    throw InputError(checkpoint_path +
                     ": cannot resume: its config does not read back: " + e.what());
  }
  const std::map<std::string, std::string> before = flatten(stored), now = flatten(config);
  const std::vector<std::string>& mutable_keys = resume_mutable_keys();
  std::vector<std::string> keys;
  for (const auto& [key, value] : before)
    keys.push_back(key);
  for (const auto& [key, value] : now)
    if (!before.count(key)) keys.push_back(key);
  for (const std::string& key : keys) {
    if (std::find(mutable_keys.begin(), mutable_keys.end(), key) != mutable_keys.end()) continue;
    const auto a = before.find(key), b = now.find(key);
    const std::string was = a == before.end() ? "(absent)" : a->second;
    const std::string is = b == now.end() ? "(absent)" : b->second;
    if (was == is) continue;
    throw InputError(checkpoint_path + ": cannot resume with a different config: " + key +
                     ": the checkpoint has " + was + ", the config has " + is +
                     " (only the run length and the log / eval / checkpoint intervals may change)");
  }
}

std::vector<int64_t> make_loader_state(uint64_t seed, const Trainer::ResumeState& state) {
  return {static_cast<int64_t>(seed), state.step, state.skipped_steps, state.nonfinite_run,
          state.first_nonfinite};
}

Trainer::ResumeState resume_state_from(const CheckpointContents& contents, uint64_t seed) {
  const std::vector<int64_t>& l = contents.loader_state;
  GRAFT_INPUT_CHECK(l.size() == kLoaderStateSize,
                    contents.source << ": /state/loader holds " << l.size() << " values, expected "
                                    << kLoaderStateSize << " (not a graft train checkpoint)");
  GRAFT_INPUT_CHECK(static_cast<uint64_t>(l[0]) == seed && l[1] == contents.step,
                    contents.source << ": /state/loader is for seed " << l[0] << " at step " << l[1]
                                    << ", but the run has seed " << seed
                                    << " and the checkpoint is at step " << contents.step);
  Trainer::ResumeState s;
  s.step = contents.step;
  s.tokens = contents.tokens;
  s.train_flops = contents.flops;
  s.skipped_steps = l[2];
  s.nonfinite_run = l[3];
  s.first_nonfinite = l[4];
  return s;
}

void truncate_metrics_after(const std::string& metrics_path, int64_t step) {
  std::ifstream in(metrics_path, std::ios::binary);
  if (!in) return;
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  in.close();
  std::string kept;
  size_t begin = 0;
  const std::string key = "{\"step\": ";
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // torn by the crash: never a whole record
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    // Every record the loop writes starts with its step; keep anything else.
    if (line.rfind(key, 0) == 0) {
      int64_t record_step = 0;
      const char* first = line.data() + key.size();
      const auto r = std::from_chars(first, line.data() + line.size(), record_step);
      if (r.ec == std::errc() && record_step > step) continue;
    }
    kept += line;
    kept += '\n';
  }
  if (kept.size() == text.size()) return;
  const std::string temp = metrics_path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << kept;
    GRAFT_INPUT_CHECK(out.good(), "cannot write " << temp);
  }
  std::error_code ec;
  fs::rename(temp, metrics_path, ec);
  GRAFT_INPUT_CHECK(!ec,
                    "cannot rename " << temp << " to " << metrics_path << ": " << ec.message());
}

StageCheckpointer::StageCheckpointer(CheckpointManager& manager, const StageConfig& config,
                                     std::string config_toml, FlopsLedger carried, Log log)
    : manager_(manager),
      interval_(config.checkpoint.interval),
      steps_(config.training.steps),
      seed_(static_cast<uint64_t>(config.training.seed)),
      config_toml_(std::move(config_toml)),
      carried_(carried),
      log_(std::move(log)) {}

bool StageCheckpointer::due(int64_t step) const {
  return step == steps_ || (interval_ > 0 && step % interval_ == 0);
}

std::optional<std::string> StageCheckpointer::save(Trainer& trainer) {
  // Collective over tp (the shards are gathered into logical tensors); dp
  // replicas hold the same state, so rank 0 alone writes.
  const TrainingGrid& grid = trainer.options().grid;
  CheckpointContents c = capture_logical(trainer.model(), &trainer.optimizer(), grid);
  if (!grid.is_root()) return std::nullopt;
  const Trainer::ResumeState state = trainer.resume_state();
  c.step = state.step;
  c.tokens = state.tokens;
  c.flops = state.train_flops;
  c.carried_flops = carried_;
  c.loader_state = make_loader_state(seed_, state);
  c.seed = seed_;
  c.config = config_toml_;
  c.tokenizer = tokenizer;
  try {
    check_finite(c);
  } catch (const Error& e) {
    const std::string message = "checkpoint at step " + std::to_string(c.step) +
                                " not written: the state is not finite (" + e.what() + ")";
    if (c.step == steps_) throw Error(message);
    log_("warning: " + message + "; the previous checkpoints are kept");
    return std::nullopt;
  }
  try {
    last_saved_ = manager_.save(c);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    // A failed save (a full disk) removes its temp file and prunes nothing.
    throw Error("checkpoint at step " + std::to_string(c.step) + " not saved: " + e.what() +
                "; the checkpoints already in " + manager_.dir() + " are kept");
  }
  log_("checkpoint: " + last_saved_);
  return last_saved_;
}

}  // namespace graft
