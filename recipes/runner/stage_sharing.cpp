#include "recipes/runner/stage_sharing.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/check.h"
#include "ops/hash.h"
#include "ops/numerics.h"
#include "train/checkpoint_manager.h"
#include "train/checkpointing.h"
#include "train/stage_config.h"

namespace graft::runner {

namespace fs = std::filesystem;

namespace {

// Size and modification time: a store rebuilt between two runs must not be
// mistaken for the one the first run read.
std::string file_fingerprint(const std::string& path) {
  if (path.empty()) return "(none)";
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return path + " (unreadable)";
  const auto time = fs::last_write_time(path, ec).time_since_epoch().count();
  return path + " size " + std::to_string(size) + " mtime " + std::to_string(time);
}

std::string exact(double v) {
  char text[40];
  std::snprintf(text, sizeof(text), "%.17g", v);
  return text;
}

std::string ledger_text(const FlopsLedger& l) {
  const FlopsCounts f = l.forward(), b = l.backward();
  return exact(f.matmul) + " " + exact(f.attention) + " " + exact(f.other) + " " + exact(b.matmul) +
         " " + exact(b.attention) + " " + exact(b.other);
}

std::string task_text(const TaskOptions& t) {
  std::ostringstream o;
  o << "mask_prob " << exact(t.mask_prob) << "\ngenerator_width " << exact(t.generator_width)
    << "\nmlm_weight " << exact(t.mlm_weight) << "\nrtd_weight " << exact(t.rtd_weight) << "\ntau "
    << t.tau << "\ntau_fraction " << exact(t.tau_fraction) << "\nbaseline_steps "
    << t.baseline_steps << "\nrho1 " << t.rho1 << "\nrho2 " << exact(t.rho2) << "\ntask_train "
    << file_fingerprint(t.task_train) << "\ntask_valid " << file_fingerprint(t.task_valid)
    << "\nretrieval " << t.retrieval << "\nretrieval_k " << t.retrieval_k << "\nlong_text_words "
    << t.long_text_words << "\nmax_phrases " << t.max_phrases << "\n";
  return o.str();
}

uint64_t text_hash(const std::string& text) {
  uint64_t h = 0;
  for (unsigned char c : text)
    h = mix64(h ^ c);
  return h;
}

void replace_with_copy(const fs::path& from, const fs::path& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

}  // namespace

std::string stage_identity(const RecipeStage& stage,
                           const std::vector<std::string>& source_identities,
                           const FlopsLedger& carried) {
  StageConfig config = stage.config;
  config.run.dir.clear();
  std::ostringstream o;
  o << "[config]\n"
    << stage_config_to_string(config) << "\n[init] " << init_name(stage.init) << "\n";
  for (size_t i = 0; i < source_identities.size(); ++i)
    o << "[source " << i << " identity hash] " << std::hex << text_hash(source_identities[i])
      << std::dec << "\n";
  o << "[task]\n"
    << task_text(stage.task) << "[carried flops] " << ledger_text(carried) << "\n[data.train] "
    << file_fingerprint(config.data.train) << "\n[data.valid] "
    << file_fingerprint(config.data.valid) << "\n[numerics] "
    << numerics_identity(config.model_device) << "\n";
  return o.str();
}

StageIndex::StageIndex(std::string dir) : dir_(std::move(dir)) {}

std::string StageIndex::entry_path(const std::string& identity) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.txt",
                static_cast<unsigned long long>(text_hash(identity)));
  return (fs::path(dir_) / name).string();
}

std::optional<std::string> StageIndex::find(const std::string& identity, int64_t steps) const {
  std::ifstream in(entry_path(identity));
  if (!in) return std::nullopt;
  std::string folder;
  std::getline(in, folder);
  std::ostringstream rest;
  rest << in.rdbuf();
  if (rest.str() != identity) return std::nullopt;
  // The folder may have been deleted or cut short since it was recorded.
  const std::string last = CheckpointManager(checkpoint_dir(folder), 0).path_for(steps);
  if (!fs::exists(last) || !fs::exists(fs::path(folder) / "stage.toml")) return std::nullopt;
  return folder;
}

void StageIndex::record(const std::string& identity, const std::string& stage_dir) const {
  fs::create_directories(dir_);
  const std::string path = entry_path(identity);
  {
    std::ofstream out(path + ".tmp");
    out << fs::absolute(stage_dir).lexically_normal().string() << "\n" << identity;
    if (!out) throw InputError("cannot write the stage index entry " + path + ".tmp");
  }
  fs::rename(path + ".tmp", path);
}

void link_finished_stage(const std::string& source_dir, const std::string& target_dir,
                         const std::string& config_toml) {
  const fs::path source(source_dir), target(target_dir);
  const fs::path source_checkpoints = checkpoint_dir(source_dir);
  const fs::path target_checkpoints = checkpoint_dir(target_dir);
  fs::create_directories(target_checkpoints);
  for (const fs::directory_entry& e : fs::directory_iterator(source_checkpoints)) {
    if (!e.is_regular_file()) continue;
    const fs::path to = target_checkpoints / e.path().filename();
    std::error_code ec;
    fs::remove(to, ec);
    fs::create_hard_link(e.path(), to, ec);
    if (ec) replace_with_copy(e.path(), to);  // another file system
  }
  for (const char* name : {"metrics.jsonl", "train.log"}) {
    if (fs::exists(source / name)) replace_with_copy(source / name, target / name);
  }
  {
    std::ofstream out(target / "config.toml.tmp");
    out << config_toml;
  }
  fs::rename(target / "config.toml.tmp", target / "config.toml");
  {
    std::ofstream out(target / "shared-from");
    out << fs::absolute(source).lexically_normal().string() << "\n";
  }
  // Last: a stage.toml beside the final checkpoint is what marks the stage
  // finished for the index, so a copy cut short is never taken for one.
  replace_with_copy(source / "stage.toml", target / "stage.toml");
}

std::string shared_from(const std::string& stage_dir) {
  std::ifstream in(fs::path(stage_dir) / "shared-from");
  std::string folder;
  if (in) std::getline(in, folder);
  return folder;
}

}  // namespace graft::runner
