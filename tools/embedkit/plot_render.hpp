// Scatter plots of labelled 2-D points as SVG and PNG (for `embedkit plot`).
//
// layout_plot() does the geometry once: the axes' ranges and "nice" ticks, where each point
// lands in pixels, and where its label goes. Labels are placed greedily, in input order (so
// put the most important words first): each tries positions around its point, nearest first
// (right, left, above, below, the diagonals, then the same further out), and takes the first
// whose box overlaps no label placed before, no other point and stays inside the plot; when
// none is free it takes the least-overlapping one. A label set away from its point gets a thin
// leader line. Text is measured with cairo's font metrics (DejaVu Sans), so both outputs agree.
//
// paint() draws a layout through a Painter; the SVG and PNG writers are two Painters, so both
// files come from the same drawing code. SVG text stays text (<text> elements a reader can
// search and select); PNG is rendered by cairo. Both are returned as bytes, for the caller to
// write atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/vectors/projection.hpp"

namespace embedkit::cli {

struct PlotInput {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<std::string> labels;      // one per point
  std::vector<vectors::Point2> points;  // data coordinates
  int width = 1000;                     // pixels, >= 200
  int height = 750;                     // pixels, >= 200
  double font_size = 12.0;              // label font size in pixels
};

struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // pixels, y down
  double area() const { return (x1 - x0) * (y1 - y0); }
};

struct PlacedLabel {
  std::string text;
  double px = 0, py = 0;  // the point, in pixels
  Box box;                // the label's box; the text's baseline starts at (box.x0, baseline)
  double baseline = 0;
  bool leader = false;  // a line joins the point to the label
  double overlap = 0;   // overlap area left (0: placed clear of everything)
};

struct Tick {
  double value = 0;
  double pixel = 0;
  std::string text;
};

struct PlotLayout {
  int width = 0;
  int height = 0;
  double font_size = 12.0;
  std::string title, x_label, y_label;
  Box area;  // the plot area inside the axes
  std::vector<Tick> x_ticks, y_ticks;
  std::vector<PlacedLabel> labels;
};

// ValueError for sizes out of range, label/point counts that differ, no points, or a
// non-finite coordinate.
PlotLayout layout_plot(const PlotInput& input);

// What a writer draws with (pixels, y down; colours as 0xRRGGBB).
class Painter {
 public:
  enum class Anchor { Start, Middle, End };
  static constexpr std::uint32_t kNoFill = 0xffffffffu;  // rect(): outline only
  virtual ~Painter() = default;
  virtual void rect(const Box& box, std::uint32_t fill, std::uint32_t stroke, double width) = 0;
  virtual void line(double x0, double y0, double x1, double y1, std::uint32_t colour,
                    double width) = 0;
  virtual void circle(double x, double y, double r, std::uint32_t fill) = 0;
  // `rotate_degrees` turns the text about (x, y) (-90: reads bottom to top).
  virtual void text(double x, double y, const std::string& s, double size, std::uint32_t colour,
                    Anchor anchor, bool bold, double rotate_degrees = 0.0) = 0;
};

void paint(const PlotLayout& layout, Painter& painter);

std::string render_svg(const PlotLayout& layout);
// IoError if cairo fails (out of memory).
std::string render_png(const PlotLayout& layout);

}  // namespace embedkit::cli
