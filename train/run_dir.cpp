#include "train/run_dir.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "ops/check.h"

namespace graft {

namespace fs = std::filesystem;

void JsonObject::key(const std::string& k) {
  if (!body_.empty()) body_ += ", ";
  // Appended piecewise: GCC 12 warns (-Wrestrict, falsely) on "x" + string + "y".
  body_ += '"';
  body_ += json_escape(k);
  body_ += "\": ";
}

JsonObject& JsonObject::add(const std::string& k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    body_ += "null";
  } else {
    char buffer[64];
    const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
    body_.append(buffer, r.ptr);
  }
  return *this;
}

JsonObject& JsonObject::add(const std::string& k, int64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::add(const std::string& k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::add(const std::string& k, const std::string& value) {
  key(k);
  body_ += '"';
  body_ += json_escape(value);
  body_ += '"';
  return *this;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out;
}

RunDirectory::RunDirectory(const std::string& dir, bool append, bool writes)
    : dir_(dir), writes_(writes) {
  if (!writes_) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  GRAFT_INPUT_CHECK(
      !ec && fs::is_directory(dir),
      "cannot create run folder '" << dir << "': " << (ec ? ec.message() : "not a directory"));
  const std::ios::openmode mode = append ? std::ios::app : std::ios::trunc;
  metrics_.open(fs::path(dir) / "metrics.jsonl", std::ios::out | mode);
  log_.open(fs::path(dir) / "train.log", std::ios::out | mode);
  GRAFT_INPUT_CHECK(metrics_ && log_, "cannot write in run folder '" << dir << "'");
}

void RunDirectory::write_config(const std::string& toml_text) {
  if (!writes_) return;
  const fs::path final_path = fs::path(dir_) / "config.toml";
  const fs::path temp_path = fs::path(dir_) / "config.toml.tmp";
  {
    std::ofstream out(temp_path, std::ios::trunc);
    out << toml_text;
    if (!toml_text.empty() && toml_text.back() != '\n') out << "\n";
    GRAFT_INPUT_CHECK(out.good(), "cannot write " << temp_path.string());
  }
  std::error_code ec;
  fs::rename(temp_path, final_path, ec);
  GRAFT_INPUT_CHECK(!ec, "cannot rename " << temp_path.string() << " to " << final_path.string()
                                          << ": " << ec.message());
}

void RunDirectory::append_metrics(const JsonObject& record) {
  if (!writes_) return;
  metrics_ << record.str() << "\n";
  metrics_.flush();
}

void RunDirectory::log(const std::string& line) {
  if (!writes_) return;
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  log_ << stamp << "  " << line << "\n";
  log_.flush();
}

}  // namespace graft
