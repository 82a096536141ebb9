#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace shog {

double LrSchedule::at(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) return lr * double(step + 1) / double(warmup_steps);
  const double min_lr = lr * min_lr_ratio;
  const int64_t span = std::max<int64_t>(1, total_steps - warmup_steps);
  const double progress = std::clamp(double(step - warmup_steps) / double(span), 0.0, 1.0);
  switch (kind) {
    case LrScheduleKind::constant: return lr;
    case LrScheduleKind::cosine: return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
    case LrScheduleKind::wsd: {
      const double decay_start = 1.0 - decay_fraction;
      if (progress <= decay_start) return lr;
      return lr + (min_lr - lr) * (progress - decay_start) / std::max(1e-12, decay_fraction);
    }
  }
  return lr;
}

LrScheduleKind parse_lr_schedule(const std::string& s, const std::string& where) {
  if (s == "cosine") return LrScheduleKind::cosine;
  if (s == "wsd") return LrScheduleKind::wsd;
  if (s == "constant") return LrScheduleKind::constant;
  throw Error(ErrorKind::invalid_argument, where, fmt::format("unknown schedule '{}' (expected cosine, wsd or constant)", s));
}

}  // namespace shog
