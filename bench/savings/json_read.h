// Reading what graft itself writes as JSON (metrics.jsonl lines, the recipe
// runner's summary.json) with nlohmann/json. graft writes JSON by hand
// (train/run_dir.h's JsonObject), with null standing for the non-finite
// numbers; the accessors below treat null as absent.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace graft::savings {

using Json = nlohmann::json;

// Parses one JSON document; InputError naming source (file:line) on bad
// syntax or trailing text.
Json parse_json(std::string_view text, const std::string& source);

// Every non-empty line of a .jsonl file; InputError naming file and line. A
// last line without its newline that does not parse (a run killed mid-write)
// is dropped.
std::vector<Json> read_jsonl(const std::string& path);
Json read_json_file(const std::string& path);

// Member lookup on an object; nullptr for a missing key or a non-object.
const Json* member(const Json& object, const std::string& key);
// A member of that type, if present (null counts as absent).
std::optional<double> number_at(const Json& object, const std::string& key);
std::optional<std::string> string_at(const Json& object, const std::string& key);
std::optional<bool> bool_at(const Json& object, const std::string& key);

}  // namespace graft::savings
