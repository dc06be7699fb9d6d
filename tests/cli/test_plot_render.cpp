// The plot layout and writers (tools/embedkit/plot_render.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/plot_test_support.hpp"
#include "embedkit/core/error.hpp"
#include "plot_render.hpp"

namespace {

using embedkit::cli::Box;
using embedkit::cli::layout_plot;
using embedkit::cli::PlotInput;
using namespace embedkit_plot_test;

double overlap(const Box& a, const Box& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0.0;
}

PlotInput grid_input() {
  PlotInput in;
  in.title = "A <grid> & more";
  in.x_label = std::string(1, 'x');  // not = "x": GCC 12 warns falsely (-Wrestrict)
  in.y_label = std::string(1, 'y');
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) {
      in.points.push_back({static_cast<double>(i), static_cast<double>(j)});
      char label[32];
      std::snprintf(label, sizeof label, "word%d_%d", i, j);
      in.labels.push_back(label);
    }
  }
  return in;
}

TEST(PlotLayout, LabelsSitBesideTheirPointsWithoutOverlapping) {
  const auto layout = layout_plot(grid_input());
  ASSERT_EQ(layout.labels.size(), 20u);
  for (std::size_t i = 0; i < layout.labels.size(); ++i) {
    const auto& l = layout.labels[i];
    EXPECT_EQ(l.overlap, 0.0) << l.text;
    // Inside the plot area, and offset from (not on top of) the point.
    EXPECT_GE(l.box.x0, layout.area.x0);
    EXPECT_LE(l.box.x1, layout.area.x1);
    EXPECT_GE(l.box.y0, layout.area.y0);
    EXPECT_LE(l.box.y1, layout.area.y1);
    EXPECT_FALSE(l.px > l.box.x0 && l.px < l.box.x1 && l.py > l.box.y0 && l.py < l.box.y1);
    for (std::size_t j = 0; j < i; ++j) {
      EXPECT_EQ(overlap(l.box, layout.labels[j].box), 0.0)
          << l.text << " / " << layout.labels[j].text;
    }
  }
  EXPECT_GE(layout.x_ticks.size(), 3u);
  EXPECT_GE(layout.y_ticks.size(), 3u);
}

TEST(PlotLayout, CrowdedPointsStillGetEveryLabel) {
  PlotInput in;
  for (int i = 0; i < 30; ++i) {
    in.points.push_back({1.0 + 1e-3 * i, 2.0});
    char label[16];
    std::snprintf(label, sizeof label, "w%d", i);
    in.labels.push_back(label);
  }
  const auto layout = layout_plot(in);
  ASSERT_EQ(layout.labels.size(), 30u);
  for (const auto& l : layout.labels) EXPECT_TRUE(std::isfinite(l.box.x0)) << l.text;
}

TEST(PlotLayout, Errors) {
  PlotInput in;
  EXPECT_THROW(layout_plot(in), embedkit::ValueError);  // no points
  in.points = {{0, 0}};
  in.labels = {"a", "b"};
  EXPECT_THROW(layout_plot(in), embedkit::ValueError);
  in.labels = {"a"};
  in.width = 10;
  EXPECT_THROW(layout_plot(in), embedkit::ValueError);
  in.width = 400;
  in.points = {{NAN, 0}};
  EXPECT_THROW(layout_plot(in), embedkit::ValueError);
}

TEST(PlotWriters, SvgHoldsEveryLabelAsEscapedText) {
  const auto layout = layout_plot(grid_input());
  const std::string svg = embedkit::cli::render_svg(layout);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"750\""),
            std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
  const auto texts = svg_texts(svg);
  for (const auto& l : layout.labels) {
    EXPECT_NE(std::find(texts.begin(), texts.end(), l.text), texts.end()) << l.text;
  }
  EXPECT_NE(std::find(texts.begin(), texts.end(), "A &lt;grid&gt; &amp; more"), texts.end());
  EXPECT_EQ(svg.find("<grid>"), std::string::npos);
}

TEST(PlotWriters, PngHasTheSignatureAndSize) {
  PlotInput in = grid_input();
  in.width = 640;
  in.height = 480;
  const std::string png = embedkit::cli::render_png(layout_plot(in));
  const PngSize size = png_size(png);
  ASSERT_TRUE(size.valid);
  EXPECT_EQ(size.width, 640u);
  EXPECT_EQ(size.height, 480u);
  EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
}

}  // namespace
