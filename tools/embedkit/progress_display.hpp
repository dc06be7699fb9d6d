// The progress of every long command (train, classify train, recommend train), on stderr: on a
// terminal one bar redrawn in place (fraction, rate, loss, lr, ETA), elsewhere a plain line every
// few seconds so that logs stay readable. The last line shows the loss the summary prints (the
// last epoch's mean), so the two never disagree.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace embedkit::cli {

struct ProgressFigures {
  double fraction = 0;         // of the whole run, in [0, 1]
  double rate = 0;             // units per second
  std::string unit = "words";  // what `rate` counts
  double loss = 0;
  std::string loss_name = "loss";  // what `loss` is ("best f1" for autotune's best score)
  // Present: shown as "<count> <unit>" in place of the rate (autotune's trials so far).
  std::optional<std::int64_t> count = std::nullopt;
  std::optional<double> lr;  // absent: the command has no learning rate to show
  double eta_seconds = 0;
};

class ProgressDisplay {
 public:
  // `command` names the lines written when stderr is not a terminal ("train: 42.0% ...").
  explicit ProgressDisplay(std::string command);
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // How often the library should report: four times a second on a terminal, every 5 s in a log.
  double interval() const { return tty_ ? 0.25 : 5.0; }

  // Shows a report, at most once per interval(); a report of the finished run (fraction 1) is
  // kept for finish().
  void update(const ProgressFigures& figures);

  // The last line: the last report's figures with `final_loss`, the loss the summary prints.
  // Writes nothing when no report came (a run too short to report).
  void finish(double final_loss);

  // "h:mm:ss"
  static std::string duration_text(double seconds);
  // The figures as one line: "42.0%  123456 words/s  loss 1.2345  lr 0.012345  ETA 0:01:02".
  static std::string figures_text(const ProgressFigures& figures);

 private:
  void show(const ProgressFigures& figures);

  std::string command_;
  bool tty_;
  std::optional<ProgressFigures> last_;
  std::optional<std::chrono::steady_clock::time_point> last_shown_;
};

}  // namespace embedkit::cli
