// A self-contained SVG grouped bar chart, for reports that compare models
// side by side: one group per metric, one bar per model in each group
// (the same colour for a model everywhere), the value printed above each
// bar. No external tools: the file is plain SVG that a browser or a
// Markdown viewer shows as it is.
#pragma once
#include <string>
#include <vector>

namespace shog {

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> groups;  // e.g. "harmful compliance", "over-refusal"
  std::vector<std::string> series;  // e.g. model names, in the order given
  // values[g][s]: the bar of series s in group g; NaN draws no bar ("n/a").
  std::vector<std::vector<double>> values;
  double y_max = 0;          // 0: from the data (1 when every value is <= 1, e.g. rates)
  bool percent = false;      // label values as percentages (a value of 0.25 reads "25%")
};

// The SVG text of the chart. Throws shog::Error (invalid_argument) when
// `values` does not hold one row of series.size() values per group.
std::string bar_chart_svg(const BarChart& chart);
// Writes it atomically to `path`.
void write_bar_chart(const std::string& path, const BarChart& chart);

// The colour of series i: a fixed palette, cycled.
const char* series_color(size_t i);

// Text escaped for XML character data and attribute values (& < > " ').
std::string xml_escape(const std::string& s);

}  // namespace shog
