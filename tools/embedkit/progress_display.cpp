#include "progress_display.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <utility>

namespace embedkit::cli {

ProgressDisplay::ProgressDisplay(std::string command)
    : command_(std::move(command)), tty_(::isatty(STDERR_FILENO) == 1) {}

std::string ProgressDisplay::duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

std::string ProgressDisplay::figures_text(const ProgressFigures& f) {
  char buf[200];
  int n = f.count
              ? std::snprintf(buf, sizeof buf, "%5.1f%%  %lld %s  %s %.4f", 100.0 * f.fraction,
                              static_cast<long long>(*f.count), f.unit.c_str(), f.loss_name.c_str(),
                              f.loss)
              : std::snprintf(buf, sizeof buf, "%5.1f%%  %8.0f %s/s  %s %.4f", 100.0 * f.fraction,
                              f.rate, f.unit.c_str(), f.loss_name.c_str(), f.loss);
  if (f.lr && n > 0 && static_cast<std::size_t>(n) < sizeof buf) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "  lr %.6f", *f.lr);
  }
  std::string text(buf);
  return text + "  ETA " + duration_text(f.eta_seconds);
}

void ProgressDisplay::update(const ProgressFigures& figures) {
  last_ = figures;
  if (figures.fraction >= 1.0) return;  // finish() shows it, with the summary's loss
  const auto now = std::chrono::steady_clock::now();
  // A little slack: the library reports every interval() by its own clock, and a report that
  // comes a hair early must not be dropped.
  if (last_shown_ && std::chrono::duration<double>(now - *last_shown_).count() < 0.9 * interval()) {
    return;
  }
  last_shown_ = now;
  show(figures);
}

void ProgressDisplay::finish(double final_loss) {
  if (!last_) return;
  ProgressFigures f = *last_;
  f.loss = final_loss;
  f.eta_seconds = 0;
  show(f);
  if (tty_) std::cerr << '\n';
}

void ProgressDisplay::show(const ProgressFigures& f) {
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(std::clamp(f.fraction, 0.0, 1.0) * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    // \33[K clears what a longer earlier line left at the end.
    std::cerr << "\r[" << bar << "] " << figures_text(f) << "\33[K" << std::flush;
  } else {
    std::cerr << command_ << ": " << figures_text(f) << '\n';
  }
}

}  // namespace embedkit::cli
