// The SVG bar chart: one bar per finite value, "n/a" for a missing one,
// names escaped, percentages labelled, malformed input refused.
#include "eval/bar_chart.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace shog {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(BarChart, DrawsOneBarPerFiniteValueWithItsLabel) {
  BarChart c;
  c.title = "Safety";
  c.series = {"base", "s<f>t & co"};
  c.groups = {"harmful compliance", "over-refusal"};
  c.values = {{0.25, 0.5}, {std::nan(""), 0.125}};
  c.percent = true;
  std::string svg = bar_chart_svg(c);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(svg, "<title>"), 3u);  // three bars (the NaN draws none)
  EXPECT_NE(svg.find(">25.0%<"), std::string::npos);
  EXPECT_NE(svg.find(">12.5%<"), std::string::npos);
  EXPECT_NE(svg.find(">n/a<"), std::string::npos);
  EXPECT_NE(svg.find("s&lt;f&gt;t &amp; co"), std::string::npos);
  EXPECT_EQ(svg.find("s<f>t"), std::string::npos);
  // The same colour for a series in every group.
  EXPECT_EQ(count(svg, std::string("fill=\"") + series_color(1) + "\""), 3u);  // two bars + legend
}

TEST(BarChart, BarHeightsAreProportionalToValues) {
  BarChart c;
  c.series = {"a", "b"};
  c.groups = {"g"};
  c.values = {{1.0, 2.0}};
  c.y_max = 4;
  std::string svg = bar_chart_svg(c);
  auto height_of = [&](size_t nth) {
    size_t at = 0;
    for (size_t i = 0; i <= nth; ++i) at = svg.find("<rect x=", at + 1);
    size_t h = svg.find("height=\"", at) + 8;
    return std::stod(svg.substr(h, svg.find('"', h) - h));
  };
  // The first <rect x= after the background is the first bar.
  EXPECT_NEAR(height_of(1), 2 * height_of(0), 0.2);
  EXPECT_NE(svg.find(">1.00<"), std::string::npos);  // plain values keep two decimals
  EXPECT_NE(svg.find(">2.00<"), std::string::npos);
}

TEST(BarChart, RefusesRowsThatDoNotMatchTheSeries) {
  BarChart c;
  c.series = {"a", "b"};
  c.groups = {"g"};
  c.values = {{1.0}};
  EXPECT_THROW(bar_chart_svg(c), Error);
  c.values = {};
  EXPECT_THROW(bar_chart_svg(c), Error);
}

}  // namespace
}  // namespace shog
