// hdf5::File when the disk refuses a write: the error names the file, the
// dataset and the system's reason, the temp file goes, and the process still
// exits cleanly. A file size limit (RLIMIT_FSIZE) stands in for a full disk:
// it fails writes (EFBIG) the way a full disk does (ENOSPC), deterministically
// and without mounting anything.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "data/hdf5_file.h"
#include "ops/check.h"

namespace graft::hdf5 {
namespace {

namespace fs = std::filesystem;

// A fixed name: the death test's child runs this test again in a new process.
std::string scratch_path() {
  return (fs::temp_directory_path() / "graft-test-hdf5-write-failure.h5").string();
}

// The death test's child: writes 800 KB under a 64 KiB file size limit, then
// exits through exit() so that every atexit handler runs, as at the end of
// `graft train`. Status 3: the write failed with an Error and left no temp
// file; 4: a temp file was left; 5: nothing failed.
[[noreturn]] void write_past_a_file_size_limit(const std::string& path) {
  std::signal(SIGXFSZ, SIG_IGN);  // else the kernel kills the process at the limit
  rlimit limit{};
  getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = 64 * 1024;
  setrlimit(RLIMIT_FSIZE, &limit);
  int status = 5;
  try {
    File file = File::create(path);
    file.write("values", std::vector<double>(100000, 1.0));
    file.commit();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    status = fs::exists(path + ".tmp") ? 4 : 3;
  }
  std::exit(status);
}

// HDF5 1.10 frees a file whose close failed but keeps its id, and its atexit
// cleanup then closed that id again: the error was printed, then the process
// died of SIGSEGV (`graft train` exited 139 on a full disk).
TEST(Hdf5File, FailedWriteIsAnErrorWithTheReasonAndTheProcessExitsCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = scratch_path();
  fs::remove(path);
  EXPECT_EXIT(write_past_a_file_size_limit(path), ::testing::ExitedWithCode(3),
              "graft-test-hdf5-write-failure\\.h5: cannot write dataset 'values' \\(File too "
              "large\\)");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

}  // namespace
}  // namespace graft::hdf5
