// A run folder: what a run leaves behind for people and for the suite's
// tables.
//
//   config.toml     the resolved config (every key, defaults filled in)
//   metrics.jsonl   one JSON object per logged step (train/README.md lists
//                   the fields)
//   train.log       timestamped events: start, evaluations, skipped steps,
//                   the end or the error that stopped the run
// Starting a run in a folder replaces the metrics and log of a previous run
// there; resuming one (append) continues them. Checkpoints live in its
// checkpoints/ subfolder (train/checkpointing.h).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace graft {

// Builds one JSON object by hand (no JSON dependency); non-finite numbers are
// written as null, since JSON has no NaN. Doubles are written in the shortest
// form that reads back to the same bits, so a resumed run can be compared
// with an uninterrupted one bit for bit.
class JsonObject {
 public:
  JsonObject& add(const std::string& key, double value);
  JsonObject& add(const std::string& key, int64_t value);
  JsonObject& add(const std::string& key, int value) { return add(key, int64_t{value}); }
  JsonObject& add(const std::string& key, bool value);
  JsonObject& add(const std::string& key, const std::string& value);
  JsonObject& add(const std::string& key, const char* value) {
    return add(key, std::string(value));
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& k);
  std::string body_;
};

std::string json_escape(const std::string& text);

class RunDirectory {
 public:
  // Creates dir (and parents); InputError naming it when that fails.
  // append: keep metrics.jsonl and train.log and add to them (a resume).
  // writes false: a rank other than 0 of a distributed run, which touches
  // nothing on disk (every write is dropped).
  explicit RunDirectory(const std::string& dir, bool append = false, bool writes = true);
  const std::string& path() const { return dir_; }

  // Writes config.toml through a temporary file and a rename, so a reader
  // never sees half a config.
  void write_config(const std::string& toml_text);
  void append_metrics(const JsonObject& record);  // flushed per line
  void log(const std::string& line);              // timestamped, flushed

 private:
  std::string dir_;
  bool writes_ = true;
  std::ofstream metrics_;
  std::ofstream log_;
};

}  // namespace graft
