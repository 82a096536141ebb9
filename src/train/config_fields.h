// Typed configuration fields shared by a TOML file and command-line flags:
// each field is declared once (dotted TOML path, flag, help, a pointer to
// where the value goes), so every key in the file is also a flag and both go
// through the same validation. An unknown TOML key, a wrong type or a bad
// value is an error naming the file and the key.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace CLI {
class App;
}

namespace shog {

class ConfigFields {
 public:
  void add(std::string path, std::string help, int64_t* dst);
  void add(std::string path, std::string help, double* dst);
  void add(std::string path, std::string help, float* dst);
  void add(std::string path, std::string help, bool* dst);
  void add(std::string path, std::string help, std::string* dst);
  void add(std::string path, std::string help, std::vector<std::string>* dst);

  // Reads a TOML file, assigning every known key; throws on unknown keys.
  void load_toml(const std::string& file);
  // Registers one flag per field: "train.lr" -> --train.lr (and --lr when
  // the last component is unique). Values given on the command line are
  // applied after the TOML file, by apply_flags().
  void add_flags(CLI::App& app);
  void apply_flags();

  // The effective configuration, as TOML text (saved next to checkpoints).
  std::string to_toml() const;

 private:
  using Ptr = std::variant<int64_t*, double*, float*, bool*, std::string*, std::vector<std::string>*>;
  struct Field {
    std::string path, help;
    Ptr dst;
    std::vector<std::string> flag_values;  // raw values from the command line
  };
  void set_from_string(Field& f, const std::string& value, const std::string& where);
  std::vector<Field> fields_;
};

}  // namespace shog
