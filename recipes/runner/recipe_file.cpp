#include "recipes/runner/recipe_file.h"

#include <filesystem>
#include <optional>
#include <sstream>

#include "model/toml_reader.h"
#include "ops/check.h"

namespace graft::runner {

namespace {

const char* const kInits[] = {"random",     "checkpoint", "extract_encoder", "bert2bert",
                              "bert_share", "bert2gpt",   "gpt_only",        "rnd2bert",
                              "bert2rnd",   "clp",        "cross_lingual"};
// The tables a stage (and [defaults]) may hold; all but task are StageConfig's.
const char* const kTables[] = {"model",      "optimizer",   "training", "data",
                               "checkpoint", "distributed", "task"};

std::string where(const std::string& path, const toml::node* node) {
  std::ostringstream out;
  out << path;
  if (node && node->source().begin.line > 0) out << ":" << node->source().begin.line;
  return out.str();
}

bool is_table_name(std::string_view key) {
  for (const char* t : kTables)
    if (key == t) return true;
  return false;
}

toml::table parse_file(const std::string& path) {
  GRAFT_INPUT_CHECK(std::filesystem::is_regular_file(path), path << ": no such recipe file");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << path;
    if (e.source().begin.line > 0) out << ":" << e.source().begin.line;
    out << ": " << e.description();
    throw InputError(out.str());
  }
}

// "{stores}" in every string value, in place (sources are kept).
void expand(toml::node& node, const std::string& stores) {
  if (auto* s = node.as_string()) {
    std::string v = s->get();
    for (size_t at; (at = v.find("{stores}")) != std::string::npos;)
      v.replace(at, 8, stores);
    *s = v;
  } else if (auto* t = node.as_table()) {
    for (auto&& [k, v] : *t)
      expand(v, stores);
  } else if (auto* a = node.as_array()) {
    for (auto& v : *a)
      expand(v, stores);
  }
}

// One stage's [task] table into TaskOptions; its counts are never negative.
class TaskReader : public TomlSection {
 public:
  TaskReader(const toml::table& t, const std::string& path, const std::string& stage)
      : TomlSection(&t, "task", path) {
    within("stage '" + stage + "'");
  }
  void integer(std::string_view key, int64_t& out) const { TomlSection::integer(key, out, 0); }
};

TaskOptions read_task(const toml::table& t, const std::string& path, const std::string& stage) {
  static const std::initializer_list<const char*> kKeys = {
      "mask_prob",   "generator_width", "mlm_weight",     "rtd_weight",
      "tau",         "tau_fraction",    "baseline_steps", "rho1",
      "rho2",        "task_train",      "task_valid",     "retrieval",
      "retrieval_k", "long_text_words", "max_phrases"};
  const TaskReader r(t, path, stage);
  r.check_keys(kKeys);
  TaskOptions o;
  r.number("mask_prob", o.mask_prob);
  if (!(o.mask_prob > 0 && o.mask_prob < 1)) r.fail("mask_prob", "must be in (0, 1)");
  r.number("generator_width", o.generator_width);
  if (!(o.generator_width > 0 && o.generator_width <= 1))
    r.fail("generator_width", "must be in (0, 1]");
  r.number("mlm_weight", o.mlm_weight);
  r.number("rtd_weight", o.rtd_weight);
  r.integer("tau", o.tau);
  r.number("tau_fraction", o.tau_fraction);
  if (!(o.tau_fraction >= 0 && o.tau_fraction <= 1)) r.fail("tau_fraction", "must be in [0, 1]");
  r.integer("baseline_steps", o.baseline_steps);
  r.integer("rho1", o.rho1);
  r.number("rho2", o.rho2);
  r.string("task_train", o.task_train);
  r.string("task_valid", o.task_valid);
  r.string("retrieval", o.retrieval);
  if (o.retrieval != "bm25" && o.retrieval != "random")
    r.fail("retrieval", "expected \"bm25\" or \"random\", got \"" + o.retrieval + "\"");
  r.integer("retrieval_k", o.retrieval_k);
  if (o.retrieval_k < 1) r.fail("retrieval_k", "must be at least 1");
  r.integer("long_text_words", o.long_text_words);
  r.integer("max_phrases", o.max_phrases);
  if (o.max_phrases < 1) r.fail("max_phrases", "must be at least 1");
  return o;
}

// Sets "section.key=value" (value TOML, else a bare string) in a table.
void set_value(toml::table& table, const std::string& key, const std::string& value) {
  std::optional<toml::table> parsed;
  try {
    parsed = toml::parse("value = " + value);
  } catch (const toml::parse_error&) {
  }
  if (parsed && parsed->contains("value")) {
    table.insert_or_assign(key, *parsed->get("value"));
  } else {
    table.insert_or_assign(key, value);
  }
}

struct Override {
  std::string stage;       // empty: every stage
  std::string assignment;  // "section.key=value"
  std::string table;       // section
};

}  // namespace

const char* init_name(InitKind init) {
  return kInits[static_cast<int>(init)];
}

int init_sources(InitKind init) {
  switch (init) {
    case InitKind::random:
      return 0;
    case InitKind::bert2gpt:
    case InitKind::clp:
      return 2;
    default:
      return 1;
  }
}

int Recipe::index_of(const std::string& stage) const {
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i].name == stage) return static_cast<int>(i);
  return -1;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides,
                   const std::string& run_dir) {
  const toml::table root = parse_file(path);
  for (auto&& [key, node] : root) {
    GRAFT_INPUT_CHECK(key == "recipe" || key == "defaults" || key == "stage",
                      where(path, &node) << ": unknown key '" << key.str()
                                         << "' (top level: [recipe], [defaults], [[stage]])");
  }
  Recipe recipe;
  recipe.path = path;
  recipe.name = std::filesystem::path(path).stem().string();
  std::string stores = "data-cache/stores";
  if (const toml::node* node = root.get("recipe")) {
    const toml::table* t = node->as_table();
    GRAFT_INPUT_CHECK(t, where(path, node) << ": recipe: expected a table ([recipe])");
    for (auto&& [key, value] : *t) {
      GRAFT_INPUT_CHECK(key == "name" || key == "description" || key == "stores",
                        where(path, &value) << ": unknown key recipe." << key.str()
                                            << " (recipe keys: name, description, stores)");
      GRAFT_INPUT_CHECK(value.is_string(),
                        where(path, &value) << ": recipe." << key.str() << ": expected a string");
    }
    recipe.name =
        t->get_as<std::string>("name") ? t->get_as<std::string>("name")->get() : recipe.name;
    if (auto* d = t->get_as<std::string>("description")) recipe.description = d->get();
    if (auto* s = t->get_as<std::string>("stores")) stores = s->get();
  }
  if (const toml::node* node = root.get("defaults")) {
    const toml::table* t = node->as_table();
    GRAFT_INPUT_CHECK(t, where(path, node) << ": defaults: expected a table ([defaults])");
    for (auto&& [key, value] : *t) {
      GRAFT_INPUT_CHECK(is_table_name(key.str()) && value.is_table(),
                        where(path, &value)
                            << ": defaults." << key.str()
                            << ": expected one of the tables [defaults.model], .optimizer, "
                               ".training, .data, .checkpoint, .distributed, .task");
    }
  }
  const toml::array* stages = root.get_as<toml::array>("stage");
  GRAFT_INPUT_CHECK(stages && !stages->empty() && stages->is_array_of_tables(),
                    path << ": a recipe needs at least one [[stage]] table");

  // Names first, so overrides and `from` can refer to any stage.
  std::vector<std::string> names;
  for (const toml::node& s : *stages) {
    const toml::node* name = s.as_table()->get("name");
    GRAFT_INPUT_CHECK(name && name->is_string() && !name->as_string()->get().empty(),
                      where(path, &s)
                          << ": stage " << names.size() + 1 << ": needs name = \"...\" (a string)");
    const std::string n = name->as_string()->get();
    for (char c : n) {
      GRAFT_INPUT_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_',
                        where(path, name) << ": stage name '" << n
                                          << "' may use letters, digits, '-' and '_' only");
    }
    for (const std::string& other : names)
      GRAFT_INPUT_CHECK(other != n, where(path, name) << ": two stages are named '" << n << "'");
    names.push_back(n);
  }

  for (const std::string& assignment : overrides) {
    const size_t eq = assignment.find('=');
    GRAFT_INPUT_CHECK(eq != std::string::npos && eq > 0,
                      path << " (--set " << assignment << "): expected key=value");
    const std::string key = assignment.substr(0, eq);
    if (key == "recipe.stores") {
      stores = assignment.substr(eq + 1);
      continue;
    }
    GRAFT_INPUT_CHECK(key.rfind("recipe.", 0) != 0,
                      path << " (--set " << assignment << "): only recipe.stores can be set");
  }
  recipe.run_dir = run_dir.empty() ? "runs/" + recipe.name : run_dir;

  for (size_t i = 0; i < stages->size(); ++i) {
    // A fresh parse per stage: nodes are moved (copies would lose their lines).
    toml::table fresh = parse_file(path);
    toml::table& stage = *(*fresh.get_as<toml::array>("stage"))[i].as_table();
    toml::table* defaults = fresh.get_as<toml::table>("defaults");
    RecipeStage out;
    out.name = names[i];
    const std::string in_stage = " (stage '" + out.name + "')";
    for (auto&& [key, node] : stage) {
      const std::string k(key.str());
      if (k == "name" || k == "init" || k == "from") continue;
      GRAFT_INPUT_CHECK(k != "run", where(path, &node)
                                        << ": stage '" << out.name
                                        << "': [run] is set by the runner (<run dir>/<stage>)");
      GRAFT_INPUT_CHECK(is_table_name(k),
                        where(path, &node)
                            << ": stage '" << out.name << "': unknown key '" << k
                            << "' (stage keys: name, init, from, model, optimizer, training, data, "
                               "checkpoint, distributed, task)");
      GRAFT_INPUT_CHECK(node.is_table(), where(path, &node) << ": stage '" << out.name << "': " << k
                                                            << ": expected a table");
    }
    if (const toml::node* init = stage.get("init")) {
      GRAFT_INPUT_CHECK(init->is_string(), where(path, init) << ": stage '" << out.name
                                                             << "': init: expected a string");
      const std::string v = init->as_string()->get();
      bool found = false;
      for (size_t k = 0; k < std::size(kInits); ++k) {
        if (v == kInits[k]) {
          out.init = static_cast<InitKind>(k);
          found = true;
        }
      }
      GRAFT_INPUT_CHECK(found, where(path, init)
                                   << ": stage '" << out.name << "': unknown init '" << v
                                   << "' (random, checkpoint, extract_encoder, bert2bert, "
                                      "bert_share, bert2gpt, gpt_only, rnd2bert, bert2rnd, clp, "
                                      "cross_lingual)");
    }
    const toml::node* from = stage.get("from");
    if (from) {
      if (from->is_string()) {
        out.from.push_back(from->as_string()->get());
      } else if (from->is_array() && from->as_array()->is_homogeneous(toml::node_type::string)) {
        for (const toml::node& f : *from->as_array())
          out.from.push_back(f.as_string()->get());
      } else {
        throw InputError(where(path, from) + ": stage '" + out.name +
                         "': from: expected a stage name or an array of stage names");
      }
    }
    const int needed = init_sources(out.init);
    GRAFT_INPUT_CHECK(static_cast<int>(out.from.size()) == needed,
                      where(path, from ? from : &stage)
                          << ": stage '" << out.name << "': init = \"" << init_name(out.init)
                          << "\" reads " << needed << " earlier stage(s) in `from`, got "
                          << out.from.size()
                          << (out.init == InitKind::bert2gpt ? " (from = [encoder, decoder])"
                              : out.init == InitKind::clp    ? " (from = [source, helper])"
                                                             : ""));
    for (const std::string& f : out.from) {
      int at = -1;
      for (size_t j = 0; j < names.size(); ++j)
        if (names[j] == f) at = static_cast<int>(j);
      GRAFT_INPUT_CHECK(at >= 0, where(path, from)
                                     << ": stage '" << out.name << "': from: no stage '" << f
                                     << "' in this recipe");
      GRAFT_INPUT_CHECK(at < static_cast<int>(i), where(path, from) << ": stage '" << out.name
                                                                    << "': from: stage '" << f
                                                                    << "' does not run before it");
    }

    toml::table merged;
    for (const char* name : kTables) {
      toml::table section;
      for (toml::table* src : {defaults, &stage}) {
        if (!src) continue;
        if (toml::table* t = src->get_as<toml::table>(name)) {
          for (auto&& [k, v] : *t)
            section.insert_or_assign(k, std::move(v));
        }
      }
      if (!section.empty()) merged.insert(name, std::move(section));
    }
    expand(merged, stores);

    std::vector<std::string> stage_overrides;
    toml::table task;
    if (toml::table* t = merged.get_as<toml::table>("task")) task = std::move(*t);
    merged.erase("task");
    for (const std::string& assignment : overrides) {
      std::string a = assignment;
      const std::string first = a.substr(0, a.find('.'));
      if (first == "recipe") continue;
      if (!is_table_name(first)) {
        bool any = false;
        for (const std::string& n : names)
          any = any || n == first;
        GRAFT_INPUT_CHECK(any, path << " (--set " << assignment << "): '" << first
                                    << "' is neither a section (model, optimizer, training, data, "
                                       "checkpoint, distributed, task) nor a stage of this "
                                       "recipe");
        if (first != out.name) continue;
        a = a.substr(first.size() + 1);
      }
      if (a.rfind("task.", 0) == 0) {
        const size_t eq = a.find('=');
        set_value(task, a.substr(5, eq - 5), a.substr(eq + 1));
      } else {
        stage_overrides.push_back(a);
      }
    }
    out.task = read_task(task, path, out.name);
    merged.insert("run", toml::table{{"dir", recipe.run_dir + "/" + out.name}});
    try {
      out.config = stage_config_from_table(std::move(merged), path, stage_overrides);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + in_stage);
    }
    recipe.stages.push_back(std::move(out));
  }
  return recipe;
}

}  // namespace graft::runner
