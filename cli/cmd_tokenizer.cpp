// graft tokenizer train: SentencePiece (unigram or BPE) with graft's special
// ids pinned (data/vocab.h).
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "data/tokenizer.h"

namespace graft::cli {

namespace {

int run_train(const Args& args) {
  TokenizerTrainOptions o;
  po::options_description options("options");
  options.add_options()  //
      ("input", po::value(&o.inputs)->multitoken()->required(),
       "corpus files: .txt (documents separated by empty lines) or .tsv (both columns)")  //
      ("model-prefix", po::value(&o.model_prefix)->required(),
       "writes PREFIX.model and PREFIX.vocab")  //
      ("vocab-size", po::value(&o.vocab_size)->default_value(o.vocab_size),
       "total vocabulary, including the 7 specials and 100 sentinels")       //
      ("type", po::value(&o.type)->default_value(o.type), "unigram or bpe")  //
      ("max-sentences", po::value(&o.max_sentences)->default_value(o.max_sentences),
       "lines sampled from the inputs for training")  //
      ("character-coverage",
       po::value(&o.character_coverage)->default_value(o.character_coverage, "0.9995"),
       "share of characters covered by pieces (the rest fall back to bytes)")  //
      ("seed", po::value(&o.seed)->default_value(o.seed), "random seed")       //
      ("threads", po::value(&o.threads)->default_value(o.threads), "training threads");
  po::variables_map vm;
  if (!parse_options("tokenizer train",
                     "Trains a SentencePiece tokenizer with graft's special tokens at fixed ids:\n"
                     "pad=0 bos=1 eos=2 unk=3 [MASK]=4 [CLS]=5 [SEP]=6, and the T5 sentinels\n"
                     "<extra_id_k> at vocab_size-1-k. Byte fallback makes it lossless.",
                     options, args, vm)) {
    return 0;
  }
  const Tokenizer t = train_tokenizer(o);
  std::cout << "wrote " << o.model_prefix << ".model and " << o.model_prefix << ".vocab (" << o.type
            << ", vocabulary " << t.vocab_size() << " = " << t.vocab_size() - kNumSentinels
            << " pieces + " << kNumSentinels << " sentinels)\n";
  return 0;
}

}  // namespace

int run_tokenizer(const Args& args) {
  if (!args.empty() && args[0] == "train") return run_train(Args(args.begin() + 1, args.end()));
  const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
  (help ? std::cout : std::cerr) << "usage: graft tokenizer train [options]\n\n"
                                    "'graft tokenizer train --help' lists the options.\n";
  return help ? 0 : 2;
}

}  // namespace graft::cli
