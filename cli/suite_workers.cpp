#include "cli/suite_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "ops/check.h"
#include "train/preemption.h"

extern char** environ;

namespace graft::cli {

namespace {

// The parent's environment with the thread counts replaced.
std::vector<std::string> worker_environment(int threads) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    if (entry.starts_with("OMP_NUM_THREADS=") || entry.starts_with("OPENBLAS_NUM_THREADS="))
      continue;
    env.push_back(entry);
  }
  env.push_back("OMP_NUM_THREADS=" + std::to_string(threads));
  env.push_back("OPENBLAS_NUM_THREADS=" + std::to_string(threads));
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

pid_t spawn_worker(SuiteWorker& w, int threads) {
  std::filesystem::create_directories(std::filesystem::path(w.log).parent_path());
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, w.log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> argv{"/proc/self/exe"};
  argv.insert(argv.end(), w.args.begin(), w.args.end());
  std::vector<std::string> env = worker_environment(threads);
  std::vector<char*> argv_p = pointers(argv), env_p = pointers(env);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &files, nullptr, argv_p.data(), env_p.data());
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) {
    throw Error("graft suite: cannot start the worker for seed(s) " + seed_label(w.seeds) + ": " +
                std::strerror(rc));
  }
  return pid;
}

// Prints the complete lines a log has gained since `offset`.
void echo_new_lines(const SuiteWorker& w, std::streamoff& offset) {
  std::ifstream in(w.log, std::ios::binary);
  if (!in) return;
  in.seekg(offset);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written: read it next time
    offset = in.tellg();
    std::cout << "[seed " << seed_label(w.seeds) << "] " << line << "\n";
  }
  std::cout.flush();
}

}  // namespace

std::string seed_label(const std::vector<int64_t>& seeds) {
  std::string label;
  for (int64_t s : seeds) {
    if (!label.empty()) label += ',';
    label += std::to_string(s);
  }
  return label;
}

std::vector<std::vector<int64_t>> split_seeds(const std::vector<int64_t>& seeds, int jobs) {
  const size_t groups = std::min<size_t>(seeds.size(), static_cast<size_t>(std::max(jobs, 1)));
  std::vector<std::vector<int64_t>> out(groups);
  for (size_t i = 0; i < seeds.size(); ++i)
    out[i % groups].push_back(seeds[i]);
  return out;
}

void run_suite_workers(std::vector<SuiteWorker>& workers, int threads) {
  std::vector<pid_t> pids;
  for (SuiteWorker& w : workers) {
    pids.push_back(spawn_worker(w, threads));
    std::cout << "worker for seed(s) " << seed_label(w.seeds) << ": pid " << pids.back() << ", "
              << threads << " thread" << (threads == 1 ? "" : "s") << ", log " << w.log << "\n";
  }
  std::vector<std::streamoff> offsets(workers.size(), 0);
  size_t running = workers.size();
  bool forwarded = false;
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    // A stop asked of this process (train/preemption.h) is the workers' to
    // carry out: each saves a checkpoint at its next step and exits 75.
    if (const int sig = preemption_signal(); sig != 0 && !forwarded) {
      for (const pid_t pid : pids)
        if (pid > 0) kill(pid, sig);
      forwarded = true;
    }
    for (size_t i = 0; i < workers.size(); ++i) {
      echo_new_lines(workers[i], offsets[i]);
      if (pids[i] <= 0) continue;
      int status = 0;
      const pid_t done = waitpid(pids[i], &status, WNOHANG);
      if (done == 0) continue;
      if (done < 0 && errno == EINTR) continue;
      echo_new_lines(workers[i], offsets[i]);
      workers[i].exit_status = done < 0              ? 1
                               : WIFEXITED(status)   ? WEXITSTATUS(status)
                               : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                                     : 1;
      pids[i] = 0;
      --running;
    }
  }
}

}  // namespace graft::cli
