#include "data/token_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "data/hdf5_file.h"
#include "ops/check.h"

namespace graft {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Where the text came from: each input's path and size, and the corpus
// manifest (package versions, checksums) found beside it when there is one.
std::string source_manifest(const PrepareOptions& options) {
  namespace fs = std::filesystem;
  std::ostringstream json;
  json << "{\"tokenizer\": " << json_string(options.tokenizer) << ", \"inputs\": [";
  for (size_t i = 0; i < options.inputs.size(); ++i) {
    const std::string& path = options.inputs[i];
    const fs::path corpus_manifest = fs::path(path).parent_path() / "manifest.json";
    json << (i ? ", " : "") << "{\"path\": " << json_string(fs::absolute(path).string())
         << ", \"bytes\": " << fs::file_size(path) << ", \"corpus_manifest\": ";
    if (fs::is_regular_file(corpus_manifest)) {
      json << read_file(corpus_manifest.string());
    } else {
      json << "null";
    }
    json << "}";
  }
  json << "]}";
  return json.str();
}

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? "\n" : "") + items[i];
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    items.push_back(line);
  return items;
}

// Offsets must start at 0, never decrease and end at the token count.
bool valid_offsets(const std::vector<int64_t>& offsets, size_t tokens) {
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != static_cast<int64_t>(tokens)) {
    return false;
  }
  return std::is_sorted(offsets.begin(), offsets.end());
}

// Tokenizes each text (in parallel: encoding dominates `data prepare`) and
// appends it, plus EOS, to tokens/offsets.
void encode_all(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                int64_t max_tokens, std::vector<int32_t>& tokens, std::vector<int64_t>& offsets) {
  std::vector<std::vector<int32_t>> encoded(texts.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < static_cast<int64_t>(texts.size()); ++i) {
    encoded[i] = tokenizer.encode(texts[i]);
    if (max_tokens > 0 && static_cast<int64_t>(encoded[i].size()) >= max_tokens) {
      encoded[i].resize(static_cast<size_t>(max_tokens - 1));
    }
    encoded[i].push_back(kEosId);
  }
  if (offsets.empty()) offsets.push_back(0);
  for (auto& doc : encoded) {
    tokens.insert(tokens.end(), doc.begin(), doc.end());
    offsets.push_back(static_cast<int64_t>(tokens.size()));
  }
}

}  // namespace

std::span<const int32_t> TokenStore::document(int64_t i) const {
  GRAFT_CHECK(i >= 0 && i < num_documents(), "document " << i << " of " << num_documents());
  return std::span<const int32_t>(tokens).subspan(
      static_cast<size_t>(doc_offsets[i]),
      static_cast<size_t>(doc_offsets[i + 1] - doc_offsets[i]));
}

std::span<const int32_t> TokenStore::target(int64_t i) const {
  GRAFT_CHECK(kind == DocumentKind::seq2seq, "only seq2seq stores have targets");
  GRAFT_CHECK(i >= 0 && i < num_documents(), "target " << i << " of " << num_documents());
  return std::span<const int32_t>(target_tokens)
      .subspan(static_cast<size_t>(target_offsets[i]),
               static_cast<size_t>(target_offsets[i + 1] - target_offsets[i]));
}

Tokenizer TokenStore::tokenizer() const {
  return Tokenizer::from_serialized(tokenizer_model, "the token store's embedded tokenizer");
}

void TokenStore::save(const std::string& path) const {
  GRAFT_CHECK(valid_offsets(doc_offsets, tokens.size()), "inconsistent document offsets");
  hdf5::File file = hdf5::File::create(path);
  file.write("tokens", tokens);
  file.write("doc_offsets", doc_offsets);
  if (kind == DocumentKind::seq2seq) {
    GRAFT_CHECK(valid_offsets(target_offsets, target_tokens.size()) &&
                    target_offsets.size() == doc_offsets.size(),
                "inconsistent target offsets");
    file.write("targets/tokens", target_tokens);
    file.write("targets/doc_offsets", target_offsets);
  }
  if (kind == DocumentKind::classification) {
    GRAFT_CHECK(static_cast<int64_t>(labels.size()) == num_documents(), "one label per document");
    file.write("labels", labels);
    file.set_attribute("labels", "label_names", join_lines(label_names));
  }
  const std::vector<uint8_t> model(tokenizer_model.begin(), tokenizer_model.end());
  file.write("tokenizer/model", model);
  file.set_attribute("/", "format", std::string(kTokenStoreFormat));
  file.set_attribute("/", "format_version", kTokenStoreVersion);
  file.set_attribute("/", "kind", std::string(document_kind_name(kind)));
  file.set_attribute("/", "split", split);
  file.set_attribute("/", "vocab_size", vocab_size);
  file.set_attribute("/", "num_documents", num_documents());
  file.set_attribute("/", "num_tokens", num_tokens());
  file.set_attribute("/", "source_manifest", source_manifest);
  file.commit();
}

TokenStore TokenStore::load(const std::string& path) {
  hdf5::File file = hdf5::File::open(path);
  GRAFT_INPUT_CHECK(file.has_attribute("/", "format") &&
                        file.string_attribute("/", "format") == kTokenStoreFormat,
                    path << " is an HDF5 file but not a graft token store (no format attribute '"
                         << kTokenStoreFormat << "'; make one with 'graft data prepare')");
  const int64_t version = file.int_attribute("/", "format_version");
  GRAFT_INPUT_CHECK(version == kTokenStoreVersion, path << " is a token store of format version "
                                                        << version << ", this graft reads "
                                                        << kTokenStoreVersion);
  TokenStore store;
  store.kind = parse_document_kind(file.string_attribute("/", "kind"));
  store.split = file.string_attribute("/", "split");
  store.vocab_size = file.int_attribute("/", "vocab_size");
  store.source_manifest = file.string_attribute("/", "source_manifest");
  store.tokens = file.read<int32_t>("tokens");
  store.doc_offsets = file.read<int64_t>("doc_offsets");
  GRAFT_INPUT_CHECK(valid_offsets(store.doc_offsets, store.tokens.size()),
                    path << ": document offsets do not match the token array (corrupt store)");
  GRAFT_INPUT_CHECK(store.num_documents() == file.int_attribute("/", "num_documents"),
                    path << ": document count does not match its attribute (corrupt store)");
  if (store.kind == DocumentKind::seq2seq) {
    store.target_tokens = file.read<int32_t>("targets/tokens");
    store.target_offsets = file.read<int64_t>("targets/doc_offsets");
    GRAFT_INPUT_CHECK(valid_offsets(store.target_offsets, store.target_tokens.size()) &&
                          store.target_offsets.size() == store.doc_offsets.size(),
                      path << ": target offsets are inconsistent (corrupt store)");
  }
  if (store.kind == DocumentKind::classification) {
    store.labels = file.read<int32_t>("labels");
    store.label_names = split_lines(file.string_attribute("labels", "label_names"));
    GRAFT_INPUT_CHECK(static_cast<int64_t>(store.labels.size()) == store.num_documents(),
                      path << ": label count differs from document count (corrupt store)");
    for (int32_t label : store.labels) {
      GRAFT_INPUT_CHECK(label >= 0 && label < static_cast<int32_t>(store.label_names.size()),
                        path << ": label " << label << " has no name (corrupt store)");
    }
  }
  const std::vector<uint8_t> model = file.read<uint8_t>("tokenizer/model");
  store.tokenizer_model.assign(model.begin(), model.end());
  auto check_ids = [&](const std::vector<int32_t>& ids) {
    for (int32_t id : ids) {
      GRAFT_INPUT_CHECK(id >= 0 && id < store.vocab_size,
                        path << ": token id " << id << " outside the vocabulary of "
                             << store.vocab_size << " (corrupt store)");
    }
  };
  check_ids(store.tokens);
  check_ids(store.target_tokens);
  return store;
}

TokenStore prepare_token_store(const PrepareOptions& options) {
  GRAFT_INPUT_CHECK(!options.inputs.empty(), "no input files given");
  GRAFT_INPUT_CHECK(!options.output.empty(), "no output store given");
  const Tokenizer tokenizer = Tokenizer::load(options.tokenizer);
  TokenStore store;
  store.kind = options.kind;
  store.split = options.split.empty()
                    ? std::filesystem::path(options.inputs.front()).stem().string()
                    : options.split;
  store.vocab_size = tokenizer.vocab_size();
  store.tokenizer_model = tokenizer.serialized();

  std::vector<std::string> sources, targets, label_texts;
  for (const std::string& path : options.inputs) {
    if (options.kind == DocumentKind::text) {
      for (std::string& doc : read_text_documents(path))
        sources.push_back(std::move(doc));
    } else {
      for (auto& [first, second] : read_tsv_pairs(path)) {
        if (options.kind == DocumentKind::classification) {
          label_texts.push_back(std::move(first));
          sources.push_back(std::move(second));
        } else {
          sources.push_back(std::move(first));
          targets.push_back(std::move(second));
        }
      }
    }
  }
  GRAFT_INPUT_CHECK(!sources.empty(), "the inputs hold no documents");
  store.source_manifest = source_manifest(options);  // the inputs exist: they were read
  encode_all(tokenizer, sources, options.max_document_tokens, store.tokens, store.doc_offsets);
  if (options.kind == DocumentKind::seq2seq) {
    encode_all(tokenizer, targets, options.max_document_tokens, store.target_tokens,
               store.target_offsets);
  }
  if (options.kind == DocumentKind::classification) {
    store.label_names = options.labels;
    if (store.label_names.empty()) {
      std::set<std::string> distinct(label_texts.begin(), label_texts.end());
      store.label_names.assign(distinct.begin(), distinct.end());
    }
    for (const std::string& text : label_texts) {
      const auto it = std::find(store.label_names.begin(), store.label_names.end(), text);
      GRAFT_INPUT_CHECK(it != store.label_names.end(),
                        "label '" << text << "' is not among the given labels");
      store.labels.push_back(static_cast<int32_t>(it - store.label_names.begin()));
    }
  }
  store.save(options.output);
  return store;
}

}  // namespace graft
