// Scatter-plot layout and the SVG and PNG (cairo) writers; see plot_render.hpp.
#include "plot_render.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <numbers>

#include "embedkit/core/error.hpp"

namespace embedkit::cli {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";
constexpr const char* kSvgFontFamily = "DejaVu Sans, Verdana, Arial, sans-serif";
constexpr double kTitleSize = 16.0;
constexpr double kAxisLabelSize = 13.0;
constexpr double kTickSize = 11.0;
constexpr double kPointRadius = 3.5;

constexpr std::uint32_t kWhite = 0xffffff;
constexpr std::uint32_t kFrame = 0x888888;
constexpr std::uint32_t kGrid = 0xe8e8e8;
constexpr std::uint32_t kInk = 0x222222;
constexpr std::uint32_t kTickInk = 0x555555;
constexpr std::uint32_t kPointFill = 0x1f77b4;
constexpr std::uint32_t kLeader = 0xa0a0a0;

struct TextSize {
  double width = 0;
  double ascent = 0;
  double descent = 0;
};

// Font metrics from cairo on a scratch surface (the PNG writer draws with the same font).
class Measurer {
 public:
  Measurer()
      : surface_(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)),
        cr_(cairo_create(surface_)) {}
  ~Measurer() {
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  Measurer(const Measurer&) = delete;
  Measurer& operator=(const Measurer&) = delete;

  TextSize measure(const std::string& s, double size, bool bold) {
    cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
    cairo_font_extents_t fe;
    cairo_font_extents(cr_, &fe);
    cairo_text_extents_t te;
    cairo_text_extents(cr_, s.c_str(), &te);
    return TextSize{te.x_advance, fe.ascent, fe.descent};
  }

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

double overlap(const Box& a, const Box& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0.0;
}

bool inside(const Box& inner, const Box& outer) {
  return inner.x0 >= outer.x0 && inner.y0 >= outer.y0 && inner.x1 <= outer.x1 &&
         inner.y1 <= outer.y1;
}

// A range padded by 6% each side (a zero-width range becomes +-1 around its value).
std::pair<double, double> padded_range(const std::vector<vectors::Point2>& points, int axis) {
  double lo = points.front()[static_cast<std::size_t>(axis)];
  double hi = lo;
  for (const auto& p : points) {
    lo = std::min(lo, p[static_cast<std::size_t>(axis)]);
    hi = std::max(hi, p[static_cast<std::size_t>(axis)]);
  }
  double span = hi - lo;
  if (!(span > 1e-12 * std::max(1.0, std::abs(lo)))) {
    return {lo - 1.0, hi + 1.0};
  }
  return {lo - 0.06 * span, hi + 0.06 * span};
}

// Ticks at multiples of 1, 2 or 5 x 10^k, about `target` of them, inside [lo, hi].
std::vector<Tick> nice_ticks(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  std::vector<Tick> ticks;
  for (double k = std::ceil(lo / step); k * step <= hi + 1e-9 * step; k += 1.0) {
    Tick t;
    t.value = k * step;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, t.value + 0.0);
    t.text.append(buf);
    if (t.text.find_first_not_of("-0.") == std::string::npos) {  // no "-0.0"
      t.text.clear();
      t.text.push_back('0');
    }
    ticks.push_back(t);
  }
  return ticks;
}

}  // namespace

PlotLayout layout_plot(const PlotInput& input) {
  if (input.width < 200 || input.height < 200 || input.width > 10000 || input.height > 10000) {
    throw ValueError("plot size must be from 200 to 10000 pixels each way, got " +
                     std::to_string(input.width) + "x" + std::to_string(input.height));
  }
  if (input.points.empty()) throw ValueError("nothing to plot: no points");
  if (input.labels.size() != input.points.size()) {
    throw ValueError("plot: " + std::to_string(input.labels.size()) + " labels for " +
                     std::to_string(input.points.size()) + " points");
  }
  for (std::size_t i = 0; i < input.points.size(); ++i) {
    if (!std::isfinite(input.points[i][0]) || !std::isfinite(input.points[i][1])) {
      throw ValueError("plot: the point of '" + input.labels[i] + "' is not finite");
    }
  }
  if (!(input.font_size >= 4.0 && input.font_size <= 100.0)) {
    throw ValueError("plot: font size must be from 4 to 100 pixels");
  }
  Measurer measurer;
  PlotLayout out;
  out.width = input.width;
  out.height = input.height;
  out.font_size = input.font_size;
  out.title = input.title;
  out.x_label = input.x_label;
  out.y_label = input.y_label;

  const auto [xlo, xhi] = padded_range(input.points, 0);
  const auto [ylo, yhi] = padded_range(input.points, 1);
  out.y_ticks = nice_ticks(ylo, yhi, std::max(3, input.height / 120));
  out.x_ticks = nice_ticks(xlo, xhi, std::max(3, input.width / 140));
  double tick_width = 0;
  for (const Tick& t : out.y_ticks) {
    tick_width = std::max(tick_width, measurer.measure(t.text, kTickSize, false).width);
  }
  const double left = 20.0 + kAxisLabelSize + 8.0 + tick_width + 8.0;
  const double top = input.title.empty() ? 20.0 : 24.0 + kTitleSize + 10.0;
  const double bottom = 8.0 + kTickSize + 12.0 + kAxisLabelSize + 16.0;
  out.area = Box{left, top, input.width - 20.0, input.height - bottom};
  const Box& a = out.area;
  auto to_px = [&](double x) { return a.x0 + (x - xlo) / (xhi - xlo) * (a.x1 - a.x0); };
  auto to_py = [&](double y) { return a.y1 - (y - ylo) / (yhi - ylo) * (a.y1 - a.y0); };
  for (Tick& t : out.x_ticks) t.pixel = to_px(t.value);
  for (Tick& t : out.y_ticks) t.pixel = to_py(t.value);

  const std::size_t n = input.points.size();
  std::vector<Box> markers(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double px = to_px(input.points[i][0]);
    const double py = to_py(input.points[i][1]);
    markers[i] = Box{px - kPointRadius, py - kPointRadius, px + kPointRadius, py + kPointRadius};
  }
  // Candidate offsets: unit directions (right, left, up, down, diagonals) times rings.
  constexpr double kDiag = 0.7071067811865476;
  const double dirs[8][2] = {{1, 0},          {-1, 0},          {0, -1},        {0, 1},
                             {kDiag, -kDiag}, {-kDiag, -kDiag}, {kDiag, kDiag}, {-kDiag, kDiag}};
  const double rings[] = {1.0, 2.5, 4.5, 7.0, 10.0};
  const double gap = kPointRadius + 3.0;
  std::vector<Box> placed;
  placed.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const TextSize ts = measurer.measure(input.labels[i], input.font_size, false);
    const double w = ts.width;
    const double h = ts.ascent + ts.descent;
    const double px = (markers[i].x0 + markers[i].x1) / 2;
    const double py = (markers[i].y0 + markers[i].y1) / 2;
    double best_score = std::numeric_limits<double>::infinity();
    Box best{};
    double best_ring = 1.0;
    for (const double ring : rings) {
      for (const auto& d : dirs) {
        // The box's edge nearest the point sits `gap * ring` away along the direction.
        const double ox = px + d[0] * gap * ring;
        const double oy = py + d[1] * gap * ring;
        const double x0 = d[0] > 0.1 ? ox : d[0] < -0.1 ? ox - w : ox - w / 2;
        const double y0 = d[1] > 0.1 ? oy : d[1] < -0.1 ? oy - h : oy - h / 2;
        const Box box{x0, y0, x0 + w, y0 + h};
        double score = 0;
        if (!inside(box, a)) score += 10.0 * box.area() + 1.0;
        for (const Box& other : placed) score += overlap(box, other);
        for (std::size_t j = 0; j < n; ++j) {
          if (j != i) score += 4.0 * overlap(box, markers[j]);
        }
        if (score < best_score) {
          best_score = score;
          best = box;
          best_ring = ring;
        }
        if (score == 0) break;
      }
      if (best_score == 0) break;
    }
    PlacedLabel label;
    label.text = input.labels[i];
    label.px = px;
    label.py = py;
    label.box = best;
    label.baseline = best.y0 + ts.ascent;
    label.leader = best_ring > 1.0;
    label.overlap = best_score;
    // A margin keeps later labels from touching this one (wider sideways, so two words on
    // one line never read as one).
    placed.push_back(Box{best.x0 - 4, best.y0 - 1, best.x1 + 4, best.y1 + 1});
    out.labels.push_back(std::move(label));
  }
  return out;
}

void paint(const PlotLayout& layout, Painter& p) {
  using Anchor = Painter::Anchor;
  const Box& a = layout.area;
  p.rect(Box{0, 0, static_cast<double>(layout.width), static_cast<double>(layout.height)}, kWhite,
         kWhite, 0);
  for (const Tick& t : layout.x_ticks) {
    p.line(t.pixel, a.y0, t.pixel, a.y1, kGrid, 1.0);
    p.line(t.pixel, a.y1, t.pixel, a.y1 + 5, kFrame, 1.0);
    p.text(t.pixel, a.y1 + 8 + kTickSize, t.text, kTickSize, kTickInk, Anchor::Middle, false);
  }
  for (const Tick& t : layout.y_ticks) {
    p.line(a.x0, t.pixel, a.x1, t.pixel, kGrid, 1.0);
    p.line(a.x0 - 5, t.pixel, a.x0, t.pixel, kFrame, 1.0);
    p.text(a.x0 - 8, t.pixel + kTickSize * 0.35, t.text, kTickSize, kTickInk, Anchor::End, false);
  }
  p.rect(a, Painter::kNoFill, kFrame, 1.0);
  if (!layout.title.empty()) {
    p.text(layout.width / 2.0, 24 + kTitleSize * 0.8, layout.title, kTitleSize, kInk,
           Anchor::Middle, true);
  }
  if (!layout.x_label.empty()) {
    p.text((a.x0 + a.x1) / 2, layout.height - 14.0, layout.x_label, kAxisLabelSize, kInk,
           Anchor::Middle, false);
  }
  if (!layout.y_label.empty()) {
    p.text(20 + kAxisLabelSize * 0.8, (a.y0 + a.y1) / 2, layout.y_label, kAxisLabelSize, kInk,
           Anchor::Middle, false, -90.0);
  }
  for (const PlacedLabel& l : layout.labels) {
    if (!l.leader) continue;
    // To the nearest point of the label's box.
    const double tx = std::clamp(l.px, l.box.x0, l.box.x1);
    const double ty = std::clamp(l.py, l.box.y0, l.box.y1);
    p.line(l.px, l.py, tx, ty, kLeader, 0.8);
  }
  for (const PlacedLabel& l : layout.labels) p.circle(l.px, l.py, kPointRadius, kPointFill);
  for (const PlacedLabel& l : layout.labels) {
    p.text(l.box.x0, l.baseline, l.text, layout.font_size, kInk, Anchor::Start, false);
  }
}

namespace {

std::string hex_colour(std::uint32_t c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06x", c & 0xffffffu);
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v + 0.0);
  return buf;
}

// XML text: the five special characters escaped; control characters XML 1.0 cannot hold
// become U+FFFD.
std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

constexpr std::uint32_t kNone = Painter::kNoFill;

class SvgPainter : public Painter {
 public:
  explicit SvgPainter(std::string& out) : out_(out) {}
  void rect(const Box& b, std::uint32_t fill, std::uint32_t stroke, double width) override {
    add("<rect x=\"", num(b.x0), "\" y=\"", num(b.y0), "\" width=\"", num(b.x1 - b.x0),
        "\" height=\"", num(b.y1 - b.y0), "\" fill=\"",
        fill == kNone ? std::string("none") : hex_colour(fill), "\"");
    if (width > 0) add(" stroke=\"", hex_colour(stroke), "\" stroke-width=\"", num(width), "\"");
    add("/>\n");
  }
  void line(double x0, double y0, double x1, double y1, std::uint32_t colour,
            double width) override {
    add("<line x1=\"", num(x0), "\" y1=\"", num(y0), "\" x2=\"", num(x1), "\" y2=\"", num(y1),
        "\" stroke=\"", hex_colour(colour), "\" stroke-width=\"", num(width), "\"/>\n");
  }
  void circle(double x, double y, double r, std::uint32_t fill) override {
    add("<circle cx=\"", num(x), "\" cy=\"", num(y), "\" r=\"", num(r), "\" fill=\"",
        hex_colour(fill), "\"/>\n");
  }
  void text(double x, double y, const std::string& s, double size, std::uint32_t colour,
            Anchor anchor, bool bold, double rotate_degrees) override {
    add("<text x=\"", num(x), "\" y=\"", num(y), "\" font-size=\"", num(size), "\" fill=\"",
        hex_colour(colour), "\"");
    if (anchor == Anchor::Middle) add(" text-anchor=\"middle\"");
    if (anchor == Anchor::End) add(" text-anchor=\"end\"");
    if (bold) add(" font-weight=\"bold\"");
    if (rotate_degrees != 0.0) {
      add(" transform=\"rotate(", num(rotate_degrees), " ", num(x), " ", num(y), ")\"");
    }
    add(">", xml_escape(s), "</text>\n");
  }

 private:
  // Piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  template <class... Parts>
  void add(const Parts&... parts) {
    (out_.append(parts), ...);
  }
  std::string& out_;
};

void set_colour(cairo_t* cr, std::uint32_t c) {
  cairo_set_source_rgb(cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                       (c & 0xff) / 255.0);
}

class CairoPainter : public Painter {
 public:
  explicit CairoPainter(cairo_t* cr) : cr_(cr) {}
  void rect(const Box& b, std::uint32_t fill, std::uint32_t stroke, double width) override {
    cairo_rectangle(cr_, b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
    if (fill != kNone) {
      set_colour(cr_, fill);
      cairo_fill_preserve(cr_);
    }
    if (width > 0) {
      set_colour(cr_, stroke);
      cairo_set_line_width(cr_, width);
      cairo_stroke(cr_);
    } else {
      cairo_new_path(cr_);
    }
  }
  void line(double x0, double y0, double x1, double y1, std::uint32_t colour,
            double width) override {
    cairo_move_to(cr_, x0, y0);
    cairo_line_to(cr_, x1, y1);
    set_colour(cr_, colour);
    cairo_set_line_width(cr_, width);
    cairo_stroke(cr_);
  }
  void circle(double x, double y, double r, std::uint32_t fill) override {
    cairo_new_sub_path(cr_);
    cairo_arc(cr_, x, y, r, 0, 2 * std::numbers::pi);
    set_colour(cr_, fill);
    cairo_fill(cr_);
  }
  void text(double x, double y, const std::string& s, double size, std::uint32_t colour,
            Anchor anchor, bool bold, double rotate_degrees) override {
    cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
    cairo_text_extents_t te;
    cairo_text_extents(cr_, s.c_str(), &te);
    const double shift = anchor == Anchor::Middle ? te.x_advance / 2
                         : anchor == Anchor::End  ? te.x_advance
                                                  : 0.0;
    cairo_save(cr_);
    cairo_translate(cr_, x, y);
    cairo_rotate(cr_, rotate_degrees * std::numbers::pi / 180.0);
    cairo_move_to(cr_, -shift, 0);
    set_colour(cr_, colour);
    cairo_show_text(cr_, s.c_str());
    cairo_restore(cr_);
  }

 private:
  cairo_t* cr_;
};

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string render_svg(const PlotLayout& layout) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const std::string w = std::to_string(layout.width);
  const std::string h = std::to_string(layout.height);
  for (const std::string& piece :
       {std::string("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""), w,
        std::string("\" height=\""), h, std::string("\" viewBox=\"0 0 "), w, std::string(" "), h,
        std::string("\" font-family=\""), std::string(kSvgFontFamily), std::string("\">\n")}) {
    out.append(piece);
  }
  if (!layout.title.empty()) {
    out.append("<title>");
    out.append(xml_escape(layout.title));
    out.append("</title>\n");
  }
  SvgPainter painter(out);
  paint(layout, painter);
  out += "</svg>\n";
  return out;
}

std::string render_png(const PlotLayout& layout) {
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, layout.width, layout.height),
      &cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw IoError("PNG", std::string("cairo: ") +
                             cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  {
    std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()),
                                                          &cairo_destroy);
    CairoPainter painter(cr.get());
    paint(layout, painter);
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
      throw IoError("PNG", std::string("cairo: ") + cairo_status_to_string(cairo_status(cr.get())));
    }
  }
  std::string bytes;
  const cairo_status_t status =
      cairo_surface_write_to_png_stream(surface.get(), &append_bytes, &bytes);
  if (status != CAIRO_STATUS_SUCCESS) {
    throw IoError("PNG", std::string("cairo: ") + cairo_status_to_string(status));
  }
  return bytes;
}

}  // namespace embedkit::cli
