#include "train/checkpoint_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "ops/check.h"

namespace graft {

namespace fs = std::filesystem;

namespace {

// The step of "ckpt-<digits>.h5", or -1 for any other name.
int64_t step_of(const std::string& filename) {
  const std::string prefix = "ckpt-", suffix = ".h5";
  if (filename.size() <= prefix.size() + suffix.size() || filename.rfind(prefix, 0) != 0 ||
      filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return -1;
  }
  const std::string digits =
      filename.substr(prefix.size(), filename.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(),
                                         [](unsigned char ch) { return std::isdigit(ch) != 0; }))
    return -1;
  return std::stoll(digits);
}

}  // namespace

CheckpointManager::CheckpointManager(std::string dir, int64_t keep_last, Warn warn)
    : dir_(std::move(dir)), keep_last_(keep_last), warn_(std::move(warn)) {
  GRAFT_INPUT_CHECK(keep_last_ >= 0,
                    "checkpoint keep_last must be >= 0 (0 keeps all), got " << keep_last_);
  if (!warn_) {
    warn_ = [](const std::string& message) { std::cerr << "warning: " << message << "\n"; };
  }
}

std::string CheckpointManager::path_for(int64_t step) const {
  GRAFT_CHECK(step >= 0, "checkpoint step must be >= 0, got " << step);
  char name[40];
  std::snprintf(name, sizeof(name), "ckpt-%06lld.h5", static_cast<long long>(step));
  return (fs::path(dir_) / name).string();
}

std::vector<std::string> CheckpointManager::list() const {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return {};
  for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
    const int64_t step = step_of(e.path().filename().string());
    if (step >= 0 && e.is_regular_file(ec)) found.emplace_back(step, e.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [step, path] : found)
    paths.push_back(std::move(path));
  return paths;
}

std::string CheckpointManager::save(const CheckpointContents& contents) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  GRAFT_INPUT_CHECK(!ec, "cannot create checkpoint folder " << dir_ << ": " << ec.message());
  const std::string path = path_for(contents.step);
  save_checkpoint(path, contents);
  prune();
  return path;
}

void CheckpointManager::prune() const {
  if (keep_last_ == 0) return;
  const std::vector<std::string> paths = list();
  const size_t keep = static_cast<size_t>(keep_last_);
  for (size_t i = 0; i + keep < paths.size(); ++i) {
    std::error_code ec;
    fs::remove(paths[i], ec);
    // A checkpoint that cannot be deleted costs disk space, not correctness.
    if (ec) warn_("cannot delete old checkpoint " + paths[i] + ": " + ec.message());
  }
}

std::optional<CheckpointContents> CheckpointManager::load_latest() const {
  const std::vector<std::string> paths = list();
  if (paths.empty()) return std::nullopt;
  std::string problems;
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    std::optional<CheckpointContents> loaded;
    try {
      loaded = load_checkpoint(*it);
    } catch (const InputError& e) {
      problems += std::string("\n  ") + e.what();
      const bool last = std::next(it) == paths.rend();
      warn_("checkpoint " + *it + " is not usable (" + e.what() + "); " +
            (last ? std::string("no older checkpoint to fall back to")
                  : "falling back to " + *std::next(it)));
      continue;
    }
    // The newest checkpoint is found by name: one whose name lies about its
    // step (renamed or copied by hand) would be resumed from forever, ahead
    // of everything saved after it. Refused, not skipped: which one the user
    // meant is theirs to say.
    const int64_t named = step_of(fs::path(*it).filename().string());
    GRAFT_INPUT_CHECK(loaded->step == named,
                      *it << " holds step " << loaded->step << " but its name says step " << named
                          << ": refusing to resume from it (the newest checkpoint is found by "
                             "name); rename it to "
                          << fs::path(path_for(loaded->step)).filename().string()
                          << " or move it out of " << dir_);
    return loaded;
  }
  throw InputError("no valid checkpoint in " + dir_ + ":" + problems);
}

void CheckpointManager::check_writable() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  GRAFT_INPUT_CHECK(fs::is_directory(dir_),
                    "checkpoint folder "
                        << dir_ << " cannot be created: "
                        << (fs::exists(dir_) ? "a file of that name is in the way" : ec.message()));
  // Permission bits do not stop root, and a read-only mount is not in them:
  // only writing tells.
  const std::string probe =
      (fs::path(dir_) / (".graft-write-probe-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const bool wrote = fd >= 0 && ::write(fd, "graft\n", 6) == 6;
  const int error = errno;
  if (fd >= 0) ::close(fd);
  ::unlink(probe.c_str());
  GRAFT_INPUT_CHECK(wrote, "checkpoint folder " << dir_ << " is not writable ("
                                                << std::strerror(error)
                                                << "): every checkpoint would fail to save");
}

}  // namespace graft
