// Small helpers many tests share: whole files as text, and the message of the
// InputError a call throws.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ops/check.h"

namespace graft::testing {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The message of the InputError fn throws; a test failure (and "") when it
// throws none, and the other exception's message, marked, when it throws
// something else.
template <class Fn>
std::string input_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
    return std::string("(not an InputError) ") + e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return "";
}

}  // namespace graft::testing
