// A self-contained SVG line plot of training curves (train and validation
// loss against step), written next to the checkpoints.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace shog {

struct PlotSeries {
  std::string label;
  std::string color;  // CSS colour
  std::vector<std::pair<double, double>> points;
};

void write_svg_plot(const std::string& path, const std::string& title, const std::string& x_label,
                    const std::string& y_label, const std::vector<PlotSeries>& series);

}  // namespace shog
