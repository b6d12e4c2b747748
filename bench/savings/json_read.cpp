#include "bench/savings/json_read.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "ops/check.h"

namespace graft::savings {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GRAFT_INPUT_CHECK(in, "cannot open " << path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

Json parse_json(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based; name the line it falls on when the text has several.
    const size_t at = std::min(e.byte, text.size());
    const auto line =
        1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    const bool several_lines = text.find('\n') != std::string_view::npos;
    GRAFT_INPUT_CHECK(false, source << (several_lines ? ":" + std::to_string(line) : "")
                                    << ": invalid JSON: " << e.what());
  }
  return Json();  // not reached
}

Json read_json_file(const std::string& path) {
  return parse_json(read_text(path), path);
}

std::vector<Json> read_jsonl(const std::string& path) {
  const std::string text = read_text(path);
  std::vector<Json> out;
  size_t start = 0;
  int line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos;
    if (!complete) end = text.size();
    ++line;
    const std::string_view row(text.data() + start, end - start);
    start = end + 1;
    if (row.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      out.push_back(parse_json(row, path + ":" + std::to_string(line)));
    } catch (const InputError&) {
      // A run killed mid-write leaves a partial last line without its
      // newline; what came before it is still a valid record of the run.
      if (complete) throw;
    }
  }
  return out;
}

const Json* member(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<double> number_at(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<std::string> string_at(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<bool> bool_at(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

}  // namespace graft::savings
