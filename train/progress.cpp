#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace graft {

ProgressReporter::ProgressReporter(std::string label, std::FILE* stream, double interval_seconds)
    : label_(std::move(label)),
      stream_(stream),
      terminal_(isatty(fileno(stream)) != 0),
      interval_(interval_seconds),
      start_(std::chrono::steady_clock::now()) {}

std::string ProgressReporter::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = std::lround(seconds);
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(buffer, sizeof(buffer), "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%lds", total);
  }
  return buffer;
}

double ProgressReporter::eta_seconds(const ProgressSnapshot& s, double elapsed) {
  // Not the fraction of all steps: after a resume, elapsed covers only the
  // steps since first_step, and dividing it by step / total would make the
  // remaining steps look nearly free.
  const int64_t done = s.step - s.first_step;
  if (done <= 0) return -1;
  const int64_t left = std::max<int64_t>(0, s.total_steps - s.step);
  return elapsed * static_cast<double>(left) / static_cast<double>(done);
}

std::string ProgressReporter::format(const ProgressSnapshot& s, double elapsed) const {
  const double eta = eta_seconds(s, elapsed);
  char mfu[16];
  if (s.mfu >= 0) {
    std::snprintf(mfu, sizeof(mfu), "%.1f%%", 100 * s.mfu);
  } else {
    std::snprintf(mfu, sizeof(mfu), "n/a");
  }
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                "%s step %lld/%lld | loss %.4f | lr %.2e | %.0f tok/s | MFU %s | ETA %s",
                label_.c_str(), static_cast<long long>(s.step),
                static_cast<long long>(s.total_steps), s.loss, s.lr, s.tokens_per_second, mfu,
                format_duration(eta).c_str());
  return buffer;
}

void ProgressReporter::update(const ProgressSnapshot& snapshot) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (terminal_) {
    std::fprintf(stream_, "\r\033[K%s", format(snapshot, elapsed).c_str());
    std::fflush(stream_);
  } else if (elapsed - last_print_ >= interval_) {
    last_print_ = elapsed;
    std::fprintf(stream_, "%s\n", format(snapshot, elapsed).c_str());
    std::fflush(stream_);
  }
}

void ProgressReporter::message(const std::string& line) {
  if (terminal_) std::fprintf(stream_, "\r\033[K");
  std::fprintf(stream_, "%s %s\n", label_.c_str(), line.c_str());
  std::fflush(stream_);
}

void ProgressReporter::finish(const ProgressSnapshot& snapshot) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (terminal_) std::fprintf(stream_, "\r\033[K");
  std::fprintf(stream_, "%s (done in %s)\n", format(snapshot, elapsed).c_str(),
               format_duration(elapsed).c_str());
  std::fflush(stream_);
}

}  // namespace graft
