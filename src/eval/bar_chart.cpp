#include "eval/bar_chart.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"

namespace shog {

namespace {

// "Nice" tick step: 1, 2 or 5 times a power of ten, about n ticks over span.
double tick_step(double span, int n) {
  const double raw = span / n, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string value_label(double v, bool percent) {
  if (!std::isfinite(v)) return "n/a";
  if (percent) return fmt::format("{:.1f}%", 100 * v);
  return std::fabs(v) < 100 ? fmt::format("{:.2f}", v) : fmt::format("{:.0f}", v);
}

}  // namespace

const char* series_color(size_t i) {
  static const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string bar_chart_svg(const BarChart& c) {
  SHOG_CHECK(c.values.size() == c.groups.size(), ErrorKind::invalid_argument, "bar chart: " + c.title,
             "{} groups but {} rows of values", c.groups.size(), c.values.size());
  for (const auto& row : c.values)
    SHOG_CHECK(row.size() == c.series.size(), ErrorKind::invalid_argument, "bar chart: " + c.title,
               "a row has {} values for {} series", row.size(), c.series.size());
  double top = c.y_max;
  if (top <= 0) {
    double m = 0;
    for (const auto& row : c.values)
      for (double v : row)
        if (std::isfinite(v)) m = std::max(m, v);
    top = m <= 1 ? 1 : m * 1.1;
  }
  const double ys = tick_step(top, 5);
  top = std::ceil(top / ys - 1e-9) * ys;

  // Geometry: bars of fixed width, groups separated by a gap, the legend at the right.
  const size_t G = std::max<size_t>(c.groups.size(), 1), S = std::max<size_t>(c.series.size(), 1);
  const double bar = S > 6 ? 16 : 26, gap = 36, L = 64, R = 170, T = 44, B = 48;
  const double group_w = double(S) * bar;
  const double plot_w = std::max(260.0, double(G) * (group_w + gap) + gap);
  const double W = L + plot_w + R, H = 380;
  const double plot_h = H - T - B;
  auto py = [&](double v) { return H - B - std::clamp(v / top, 0.0, 1.0) * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
      W, H, L + plot_w / 2, xml_escape(c.title));
  for (double y = 0; y <= top + 1e-9 * top; y += ys)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        L, py(y), L + plot_w, L - 6, py(y) + 4, c.percent ? fmt::format("{:g}%", 100 * y) : fmt::format("{:g}", y));
  svg += fmt::format("<text transform=\"translate(16,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     T + plot_h / 2, xml_escape(c.y_label));
  for (size_t g = 0; g < c.groups.size(); ++g) {
    const double gx = L + gap + double(g) * (group_w + gap);
    for (size_t s = 0; s < c.series.size(); ++s) {
      const double v = c.values[g][s], x = gx + double(s) * bar;
      if (std::isfinite(v))
        svg += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title>"
            "</rect>\n",
            x + 1, py(v), bar - 2, H - B - py(v), series_color(s), xml_escape(c.series[s]), value_label(v, c.percent));
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
                         x + bar / 2, (std::isfinite(v) ? py(v) : H - B) - 3, value_label(v, c.percent));
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", gx + group_w / 2,
                       H - B + 18, xml_escape(c.groups[g]));
  }
  svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#333\"/>\n", L, H - B,
                     L + plot_w);
  svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>\n", L, T,
                     H - B);
  double ly = T + 8;
  for (size_t s = 0; s < c.series.size(); ++s) {
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        L + plot_w + 16, ly, series_color(s), L + plot_w + 34, ly + 10, xml_escape(c.series[s]));
    ly += 18;
  }
  svg += "</svg>\n";
  return svg;
}

void write_bar_chart(const std::string& path, const BarChart& chart) { write_file_atomic(path, bar_chart_svg(chart)); }

}  // namespace shog
