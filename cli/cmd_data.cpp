// graft data prepare: corpus files -> HDF5 token store (data/README.md);
// graft data inspect: a store's attributes and sizes.
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "data/token_store.h"

namespace graft::cli {

namespace {

int run_prepare(const Args& args) {
  PrepareOptions o;
  std::string kind = "text", labels;
  po::options_description options("options");
  options.add_options()  //
      ("input", po::value(&o.inputs)->multitoken()->required(),
       "corpus files (data/corpora formats: .txt documents, .tsv pairs)")  //
      ("tokenizer", po::value(&o.tokenizer)->required(),
       "SentencePiece model from 'graft tokenizer train' (embedded in the store)")   //
      ("output", po::value(&o.output)->required(), "the store to write (STORE.h5)")  //
      ("split", po::value(&o.split),
       "split name recorded in the store (default: the first input's file stem)")  //
      ("kind", po::value(&kind)->default_value(kind),
       "text, classification (label<TAB>text) or seq2seq (source<TAB>target)")  //
      ("labels", po::value(&labels),
       "classification: comma-separated label order (default: sorted distinct labels)")  //
      ("max-document-tokens", po::value(&o.max_document_tokens)->default_value(0),
       "truncate longer documents (0: keep whole)");
  po::variables_map vm;
  if (!parse_options("data prepare",
                     "Tokenizes corpus files into an HDF5 token store: token array, document\n"
                     "offsets, the tokenizer model, vocab size and source manifest.",
                     options, args, vm)) {
    return 0;
  }
  o.kind = parse_document_kind(kind);
  for (size_t start = 0; !labels.empty() && start <= labels.size();) {
    const size_t comma = std::min(labels.find(',', start), labels.size());
    o.labels.push_back(labels.substr(start, comma - start));
    start = comma + 1;
  }
  const TokenStore store = prepare_token_store(o);
  std::cout << "wrote " << o.output << ": " << document_kind_name(store.kind) << " split '"
            << store.split << "', " << store.num_documents() << " documents, " << store.num_tokens()
            << " tokens"
            << (store.kind == DocumentKind::seq2seq
                    ? " (+" + std::to_string(store.target_tokens.size()) + " target tokens)"
                    : "")
            << ", vocabulary " << store.vocab_size << "\n";
  return 0;
}

int run_inspect(const Args& args) {
  std::string path;
  po::options_description options("options");
  options.add_options()("store", po::value(&path)->required(), "the token store to describe");
  po::variables_map vm;
  if (!parse_options("data inspect", "Describes an HDF5 token store.", options, args, vm)) {
    return 0;
  }
  const TokenStore s = TokenStore::load(path);
  std::cout << path << "\n  kind: " << document_kind_name(s.kind) << "\n  split: " << s.split
            << "\n  documents: " << s.num_documents() << "\n  tokens: " << s.num_tokens()
            << "\n  vocab_size: " << s.vocab_size
            << "\n  tokenizer bytes: " << s.tokenizer_model.size() << "\n";
  if (s.kind == DocumentKind::classification) {
    std::cout << "  labels:";
    for (const auto& l : s.label_names)
      std::cout << " " << l;
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int run_data(const Args& args) {
  const std::string sub = args.empty() ? "" : args[0];
  const Args rest = args.empty() ? Args{} : Args(args.begin() + 1, args.end());
  if (sub == "prepare") return run_prepare(rest);
  if (sub == "inspect") return run_inspect(rest);
  const bool help = sub == "--help" || sub == "-h";
  (help ? std::cout : std::cerr)
      << "usage: graft data <prepare|inspect> [options]\n\n"
         "  prepare   tokenize corpus files into an HDF5 token store\n"
         "  inspect   describe a token store\n\n"
         "'graft data <command> --help' lists its options. The corpora themselves are\n"
         "built by data/corpora/build-all (data/README.md).\n";
  return help ? 0 : 2;
}

}  // namespace graft::cli
