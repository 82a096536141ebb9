// Where a tensor's bytes live. Only the CPU backend exists today; CUDA joins
// behind the same tag (docs/architecture.md, "Backends").
#pragma once
#include <string>

namespace shog {

enum class DeviceKind : uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  bool operator==(const Device&) const = default;
  std::string str() const;
};

// Parses "cpu", "cuda", "cuda:1"; throws shog::Error on anything else.
Device parse_device(const std::string& s);

}  // namespace shog
