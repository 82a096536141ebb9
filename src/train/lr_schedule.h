// Learning-rate schedules: linear warmup, then either cosine decay to
// min_lr_ratio * lr, or warmup-stable-decay (WSD: hold lr, then decay
// linearly to min over the last decay_fraction of the steps).
#pragma once
#include <cstdint>
#include <string>

namespace shog {

enum class LrScheduleKind { cosine, wsd, constant };

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::cosine;
  double lr = 3e-4;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double min_lr_ratio = 0.1;
  double decay_fraction = 0.2;  // wsd only

  // lr for 0-based step.
  double at(int64_t step) const;
};

LrScheduleKind parse_lr_schedule(const std::string& s, const std::string& where);

}  // namespace shog
