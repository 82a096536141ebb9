// LinearHead (model/linear_head.h) against a plain double-precision
// reference, its file round trip and its errors. Its gradients through a
// whole model are checked against PyTorch in lora_test.cpp
// (LoraOracle.AdapterAndHeadMatchPyTorch).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "model/linear_head.h"

namespace fs = std::filesystem;
using namespace shog;

namespace {

std::vector<float> randn(int64_t n, uint64_t seed, float std = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = float(rng.normal()) * std;
  return v;
}

std::string scratch_dir(const std::string& name) {
  std::string d = fmt::format("{}/linear_head_test_{}_{}", SHOG_BINARY_DIR, name, ::getpid());
  fs::remove_all(d);
  make_dirs(d);
  return d;
}

}  // namespace

// Forward on selected rows (in any order, one of them twice) and backward:
// dW, db and the gradient added into the hidden states, against sums in
// double. Rows listed twice receive both contributions.
TEST(LinearHead, ForwardAndBackwardMatchAReference) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    const int64_t C = 100, O = 3, rows_total = 9;  // C not a multiple of the 64-column blocks
    LinearHead h(C, O, bias);
    h.init(1, 0.2f);
    if (bias)
      for (int64_t o = 0; o < O; ++o) h.params()[O * C + o] = 0.5f - float(o);
    auto hidden = randn(rows_total * C, 2);
    const std::vector<int64_t> rows = {8, 0, 3, 3, 5};
    const int64_t R = int64_t(rows.size());
    std::vector<float> out(size_t(R * O));
    h.forward(hidden.data(), rows, out.data());
    const float* W = h.params();
    for (int64_t i = 0; i < R; ++i)
      for (int64_t o = 0; o < O; ++o) {
        double ref = bias ? W[O * C + o] : 0.0;
        for (int64_t c = 0; c < C; ++c) ref += double(W[o * C + c]) * hidden[size_t(rows[size_t(i)] * C + c)];
        EXPECT_NEAR(out[size_t(i * O + o)], ref, 1e-5 * (1 + std::fabs(ref)));
      }

    auto dout = randn(R * O, 3);
    std::vector<float> hg(size_t(rows_total * C), 0.25f);  // backward adds to what is there
    h.zero_grad();
    h.backward(hidden.data(), rows, dout.data(), hg.data());
    h.backward(hidden.data(), rows, dout.data(), hg.data());  // and accumulates its own grads
    std::vector<double> ref_hg(hg.size(), 0.25), ref_dw(size_t(O * C), 0.0), ref_db(size_t(O), 0.0);
    for (int64_t i = 0; i < R; ++i)
      for (int64_t o = 0; o < O; ++o) {
        const double g = dout[size_t(i * O + o)];
        ref_db[size_t(o)] += 2 * g;
        for (int64_t c = 0; c < C; ++c) {
          ref_dw[size_t(o * C + c)] += 2 * g * hidden[size_t(rows[size_t(i)] * C + c)];
          ref_hg[size_t(rows[size_t(i)] * C + c)] += 2 * g * W[o * C + c];
        }
      }
    for (size_t i = 0; i < hg.size(); ++i) ASSERT_NEAR(hg[i], ref_hg[i], 1e-5) << i;
    for (size_t i = 0; i < ref_dw.size(); ++i) ASSERT_NEAR(h.grads()[i], ref_dw[i], 1e-4) << i;
    if (bias) {
      for (int64_t o = 0; o < O; ++o) EXPECT_NEAR(h.grads()[O * C + o], ref_db[size_t(o)], 1e-5);
    }
    EXPECT_EQ(h.table().total(), O * C + (bias ? O : 0));
  }
}

TEST(LinearHead, SaveLoadRoundTripIsExact) {
  const std::string dir = scratch_dir("roundtrip");
  for (bool bias : {true, false}) {
    LinearHead h(64, 1, bias);
    h.init(4, 0.1f);
    if (bias) h.params()[64] = 0.75f;
    h.save(dir + "/head.safetensors");
    SafetensorsFile f(dir + "/head.safetensors");
    EXPECT_EQ(f.at("score.weight").shape, Shape({1, 64}));
    EXPECT_EQ(f.contains("score.bias"), bias);
    LinearHead back = LinearHead::load(dir + "/head.safetensors");
    EXPECT_EQ(back.d_model(), 64);
    EXPECT_EQ(back.n_out(), 1);
    EXPECT_EQ(back.has_bias(), bias);
    for (int64_t i = 0; i < h.table().total(); ++i) ASSERT_EQ(back.params()[i], h.params()[i]);
    LinearHead copy = back;  // deep
    copy.params()[0] += 1;
    EXPECT_NE(copy.params()[0], back.params()[0]);
  }
  fs::remove_all(dir);
}

TEST(LinearHead, BadFileNamesFileAndTensor) {
  const std::string dir = scratch_dir("bad"), path = dir + "/head.safetensors";
  std::vector<float> w(2 * 8, 0.1f), b(3, 0.0f);
  auto expect_error = [&](const std::string& tensor) {
    try {
      LinearHead::load(path);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input);
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(tensor), std::string::npos) << e.what();
    }
  };
  write_safetensors(path, {{"score.weight", StDType::f32, {2, 8}, w.data()}, {"score.bias", StDType::f32, {3}, b.data()}});
  expect_error("score.bias");
  write_safetensors(path, {{"weight", StDType::f32, {2, 8}, w.data()}});
  expect_error("score.weight");
  write_safetensors(path, {{"score.weight", StDType::f32, {16}, w.data()}});
  expect_error("score.weight");
  w[3] = INFINITY;
  write_safetensors(path, {{"score.weight", StDType::f32, {2, 8}, w.data()}});
  expect_error("score.weight");
  fs::remove_all(dir);
}
