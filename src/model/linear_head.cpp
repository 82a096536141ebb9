#include "model/linear_head.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/random.h"
#include "core/safetensors.h"

namespace shog {

static ParamTable head_table(int64_t C, int64_t n_out, bool bias) {
  SHOG_CHECK(C >= 1 && n_out >= 1, ErrorKind::invalid_argument, "linear head", "d_model {} and n_out {} must be >= 1",
             C, n_out);
  std::vector<ParamEntry> e = {{"score.weight", {n_out, C}, 0, 0, true, false}};
  if (bias) e.push_back({"score.bias", {n_out}, 0, 0, false, false});
  return ParamTable(std::move(e));
}

LinearHead::LinearHead(int64_t d_model, int64_t n_out, bool bias)
    : C_(d_model), n_out_(n_out), bias_(bias), table_(head_table(d_model, n_out, bias)) {
  params_ = Tensor::empty(DType::f32, {table_.total()});
  grads_ = Tensor::empty(DType::f32, {table_.total()});
}

LinearHead::LinearHead(const LinearHead& o) : LinearHead(o.C_, o.n_out_, o.bias_) {
  std::memcpy(params(), o.params(), size_t(table_.total()) * sizeof(float));
  std::memcpy(grads(), o.grads(), size_t(table_.total()) * sizeof(float));
}

LinearHead& LinearHead::operator=(const LinearHead& o) {
  if (this != &o) *this = LinearHead(o);
  return *this;
}

void LinearHead::init(uint64_t seed, float std) {
  Rng rng(seed);
  float* w = params();
  for (int64_t i = 0; i < n_out_ * C_; ++i) w[i] = float(rng.normal()) * std;
  if (bias_) std::fill(w + n_out_ * C_, w + n_out_ * C_ + n_out_, 0.0f);
}

void LinearHead::zero_grad() { std::memset(grads(), 0, size_t(table_.total()) * sizeof(float)); }

void LinearHead::forward(const float* hidden, std::span<const int64_t> rows, float* out) const {
  const int64_t R = int64_t(rows.size()), C = C_, O = n_out_;
  const float* W = params();
  const float* b = bias_ ? W + O * C : nullptr;
  // n_out is small (1 for reward and value heads, a few categories for a
  // classifier): a dot product per output beats a GEMM's setup and gather.
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i = 0; i < R; ++i)
    for (int64_t o = 0; o < O; ++o) {
      const float* h = hidden + rows[size_t(i)] * C;
      const float* w = W + o * C;
      float acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t c = 0; c < C; ++c) acc += w[c] * h[c];
      out[i * O + o] = acc + (b ? b[o] : 0.0f);
    }
}

void LinearHead::backward(const float* hidden, std::span<const int64_t> rows, const float* dout, float* hidden_grad) {
  const int64_t R = int64_t(rows.size()), C = C_, O = n_out_;
  const float* W = params();
  float* dW = grads();
  if (bias_) {
    float* db = dW + O * C;
    for (int64_t i = 0; i < R; ++i)
      for (int64_t o = 0; o < O; ++o) db[o] += dout[i * O + o];
  }
  // Each thread owns a range of columns, so rows listed twice (or any order)
  // accumulate without races and in a fixed order.
  constexpr int64_t kCols = 64;
#pragma omp parallel for schedule(static)
  for (int64_t c0 = 0; c0 < C; c0 += kCols) {
    const int64_t c1 = std::min(C, c0 + kCols);
    for (int64_t i = 0; i < R; ++i) {
      const float* h = hidden + rows[size_t(i)] * C;
      float* dh = hidden_grad + rows[size_t(i)] * C;
      for (int64_t o = 0; o < O; ++o) {
        const float g = dout[i * O + o];
        const float* w = W + o * C;
        float* dw = dW + o * C;
        for (int64_t c = c0; c < c1; ++c) {
          dw[c] += g * h[c];
          dh[c] += g * w[c];
        }
      }
    }
  }
}

void LinearHead::save(const std::string& path) const {
  std::vector<SafetensorsTensor> t = {{"score.weight", StDType::f32, {n_out_, C_}, params()}};
  if (bias_) t.push_back({"score.bias", StDType::f32, {n_out_}, params() + n_out_ * C_});
  write_safetensors(path, t, {{"format", "pt"}, {"producer", "shoggoth"}});
}

LinearHead LinearHead::load(const std::string& path) {
  SafetensorsFile f(path);
  const auto& w = f.at("score.weight");
  SHOG_CHECK(w.shape.size() == 2 && w.shape[0] >= 1 && w.shape[1] >= 1, ErrorKind::bad_input, path,
             "tensor 'score.weight' has shape {}, expected [n_out, d_model]", shape_str(w.shape));
  const bool bias = f.contains("score.bias");
  LinearHead h(w.shape[1], w.shape[0], bias);
  f.copy_f32("score.weight", h.params(), w.numel());
  if (bias) {
    const auto& b = f.at("score.bias");
    SHOG_CHECK(b.shape == Shape({w.shape[0]}), ErrorKind::bad_input, path,
               "tensor 'score.bias' has shape {}, expected [{}] (the rows of score.weight)", shape_str(b.shape),
               w.shape[0]);
    f.copy_f32("score.bias", h.params() + w.numel(), b.numel());
  }
  for (auto& e : h.table().entries())
    for (int64_t i = 0; i < e.numel; ++i)
      SHOG_CHECK(std::isfinite(h.params()[e.offset + i]), ErrorKind::bad_input, path,
                 "tensor '{}' holds a non-finite value at element {}", e.name, i);
  return h;
}

}  // namespace shog
