// Corpus input must be UTF-8 (data/utf8.h): the validator on crafted byte
// strings, and `graft data prepare` / `graft tokenizer train` (their library
// entry points) refusing a file with one bad byte, naming file, line and
// byte offset, before writing anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "data/text_documents.h"
#include "data/token_store.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "tests/data/tiny_corpus.h"

#include "tests/support/files_and_errors.h"
namespace graft {
namespace {

using testing::input_error_of;

namespace fs = std::filesystem;

// The offset find_invalid_utf8 reports, or -1 for valid text.
long long first_bad(const std::string& bytes) {
  const auto problem = find_invalid_utf8(bytes);
  return problem ? static_cast<long long>(problem->offset) : -1;
}

std::string reason(const std::string& bytes) {
  const auto problem = find_invalid_utf8(bytes);
  return problem ? problem->reason : "";
}

TEST(Utf8, AcceptsWellFormedTextAtEveryBoundary) {
  for (const std::string& ok : {
           std::string(""),
           std::string("plain ASCII\t~\x7F"),
           std::string("\0nul", 4),
           std::string("\xC2\x80"),      // U+0080, smallest 2-byte
           std::string("\xDF\xBF"),      // U+07FF
           std::string("\xE0\xA0\x80"),  // U+0800, smallest 3-byte
           std::string("\xED\x9F\xBF"),  // U+D7FF, just below the surrogates
           std::string("\xEE\x80\x80"),  // U+E000, just above them
           std::string("\xEF\xBF\xBD"),  // U+FFFD itself
           std::string("\xEF\xBB\xBF"
                       "BOM"),               // a byte-order mark is a character
           std::string("\xF0\x90\x80\x80"),  // U+10000, smallest 4-byte
           std::string("\xF4\x8F\xBF\xBF"),  // U+10FFFF, the last code point
           std::string("Gr\xC3\xBC\xC3\x9F"
                       "e \xE6\x9D\xB1 \xF0\x9F\x99\x82"),
       }) {
    EXPECT_EQ(first_bad(ok), -1) << ::testing::PrintToString(ok) << ": " << reason(ok);
  }
}

TEST(Utf8, FindsTheFirstByteOfEachKindOfIllFormedSequence) {
  struct Case {
    std::string bytes;
    long long offset;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"caf\xE9!", 3, "cut short: byte 0x21"},              // Latin-1 é
           {"ab\x80", 2, "continuation byte with no lead"},      // stray continuation
           {"x\xBF\xBF", 1, "continuation byte"},                //
           {"\xC0\x80", 0, "0xC0 starts an overlong"},           // overlong NUL
           {"\xC1\xBF", 0, "overlong"},                          // overlong U+007F
           {"a\xE0\x80\x80", 1, "overlong"},                     // overlong 3-byte
           {"a\xE0\x9F\xBF", 1, "overlong"},                     // U+07FF in 3 bytes
           {"\xF0\x8F\xBF\xBF", 0, "overlong"},                  // U+FFFF in 4 bytes
           {"ok \xED\xA0\x80", 3, "surrogate"},                  // U+D800
           {"\xED\xBF\xBF", 0, "surrogate"},                     // U+DFFF
           {"\xF4\x90\x80\x80", 0, "above U+10FFFF"},            // U+110000
           {"\xF5\x80\x80\x80", 0, "above U+10FFFF"},            //
           {"\xF8\x88\x80\x80\x80", 0, "never appears"},         // old 5-byte form
           {"\xFF", 0, "never appears"},                         //
           {"\xFE\xFF", 0, "never appears"},                     // a UTF-16 BOM
           {"abc\xE2\x82", 3, "the text ends after 1"},          // € cut at the end
           {"\xF0\x9F\x99", 0, "needs 3 continuation byte(s)"},  // 🙂 cut at the end
           {"\xC3", 0, "ends after 0"},                          // lone lead byte
           {"\xE2\x82"
            "A",
            0, "cut short: byte 0x41"},                  // cut by ASCII
           {"\xE2\xC3\xA9", 0, "cut short: byte 0xC3"},  // cut by another lead
           {"\xC3\xA9\xC3\xA9\xC3"
            "x\xC3\xA9",
            4, "cut short"},  // after valid ones
       }) {
    EXPECT_EQ(first_bad(c.bytes), c.offset) << ::testing::PrintToString(c.bytes);
    EXPECT_NE(reason(c.bytes).find(c.says), std::string::npos)
        << ::testing::PrintToString(c.bytes) << ": " << reason(c.bytes);
  }
}

std::string write_bytes(const std::string& name, const std::string& bytes) {
  const std::string path = (testing::scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

void expect_mentions(const std::string& message, const std::vector<std::string>& parts) {
  for (const std::string& p : parts)
    EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' not in: " << message;
}

// Line 4 holds a Latin-1 'é' (0xE9) at column 4; lines 1-3 take 6, 1 and 4
// bytes (the third ends in "\r\n"), so it is at offset 6 + 1 + 4 + 3 = 14.
const std::string kLatin1Text = "first\n\nab\r\nnai\xE9ve text\nlast line\n";

TEST(Utf8Inputs, CorpusReadersNameFileLineAndOffset) {
  const std::string txt = write_bytes("latin1.txt", kLatin1Text);
  expect_mentions(input_error_of([&] { read_text_documents(txt); }),
                  {txt + ":4: invalid UTF-8", "byte offset 14 of the file", "column 4", "0xE9",
                   "must be UTF-8"});
  const std::string tsv = write_bytes("latin1.tsv", "pos\tfine\nneg\tpas tr\xE8s bien\n");
  expect_mentions(input_error_of([&] { read_tsv_pairs(tsv); }),
                  {tsv + ":2: invalid UTF-8", "byte offset 19 of the file", "column 11"});
  const std::string clean = write_bytes("clean.txt", "na\xC3\xAFve\n\nsecond\n");
  EXPECT_EQ(read_text_documents(clean), (std::vector<std::string>{"na\xC3\xAFve", "second"}));
}

TEST(Utf8Inputs, DataPrepareRefusesABadByteAndWritesNothing) {
  PrepareOptions o;
  o.inputs = {write_bytes("prepare.txt", "A fine first line.\n\nthen \xC0\xAF here\n")};
  o.tokenizer = testing::tiny_tokenizer_path();
  o.output = (testing::scratch_dir() / "prepare.h5").string();
  expect_mentions(input_error_of([&] { prepare_token_store(o); }),
                  {o.inputs[0] + ":3:", "byte offset 25 of the file", "overlong"});
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
}

TEST(Utf8Inputs, TokenizerTrainRefusesABadByteAndWritesNothing) {
  TokenizerTrainOptions o;
  // A good corpus first: the bad byte is in the second input.
  o.inputs = {testing::write_corpus("good.txt", testing::tiny_documents(50)),
              write_bytes("bad.tsv", "pos\tok\nneg\tsurrogate \xED\xA0\x80 here\n")};
  o.model_prefix = (testing::scratch_dir() / "refused").string();
  o.vocab_size = 600;
  expect_mentions(input_error_of([&] { train_tokenizer(o); }),
                  {o.inputs[1] + ":2:", "byte offset 21 of the file", "surrogate"});
  EXPECT_FALSE(fs::exists(o.model_prefix + ".model"));
  EXPECT_FALSE(fs::exists(o.model_prefix + ".vocab"));
}

}  // namespace
}  // namespace graft
