#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/dtype.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "core/tensor.h"

using namespace shog;

// Round-to-nearest-even at the bf16 boundary, checked on bit patterns:
// 1 + 2^-8 is exactly halfway between bf16 neighbours 1 and 1 + 2^-7 and
// must round to the even one (1); just above halfway rounds up.
TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f).bits, 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f).bits, 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f).bits, 0x3f81);
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f).bits, 0x3f82);  // halfway, odd below: rounds up to even
  EXPECT_EQ(f32_to_bf16(-2.0f).bits, 0xc000);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isinf(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::infinity()))));
}

TEST(Bf16, BulkConversionMatchesScalar) {
  Rng rng(3);
  std::vector<float> x(100000);
  for (auto& v : x) v = float(rng.normal() * 100);
  std::vector<bf16> y(x.size());
  std::vector<float> z(x.size());
  convert_f32_to_bf16(x.data(), y.data(), x.size());
  convert_bf16_to_f32(y.data(), z.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(y[i].bits, f32_to_bf16(x[i]).bits) << i;
    ASSERT_LE(std::fabs(z[i] - x[i]), std::fabs(x[i]) * 0x1p-8f) << i;  // half an ulp of 7 mantissa bits
  }
}

// The vector path against the scalar on the bit patterns that take other
// branches: NaNs (quieted, sign kept), infinities, the largest finite values
// (which round up to infinity), subnormals, exact ties either way, and a
// length that leaves a scalar tail.
TEST(Bf16, BulkConversionMatchesScalarOnSpecialValues) {
  const uint32_t patterns[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0xff800000u, 0x7f800000u, 0x7f7fffffu,
                               0xff7fffffu, 0x00000001u, 0x807fffffu, 0x00400000u, 0x3f808000u, 0x3f818000u,
                               0x3f80c000u, 0x00000000u, 0x80000000u, 0x3f7fffffu, 0x47ffffffu};
  std::vector<float> x;
  for (int rep = 0; rep < 3; ++rep)
    for (uint32_t b : patterns) x.push_back(std::bit_cast<float>(b + uint32_t(rep)));
  std::vector<bf16> y(x.size());
  convert_f32_to_bf16(x.data(), y.data(), x.size());
  ASSERT_NE(x.size() % 16, 0u);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(y[i].bits, f32_to_bf16(x[i]).bits) << "pattern " << std::hex << std::bit_cast<uint32_t>(x[i]);
}

TEST(Tensor, OwningBorrowedViewsAndSlices) {
  Tensor t = Tensor::empty(DType::f32, {4, 3});
  EXPECT_TRUE(t.owns_storage());
  EXPECT_EQ(t.nbytes(), 48u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (int i = 0; i < 12; ++i) t.data<float>()[i] = float(i);
  Tensor s = t.slice0(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  EXPECT_EQ(s.data<float>()[0], 3.0f);
  Tensor v = t.view({3, 4});
  EXPECT_EQ(v.data<float>()[5], 5.0f);
  EXPECT_THROW(t.view({5, 3}), Error);
  float buf[6] = {};
  Tensor b = Tensor::borrow(buf, DType::f32, {6});
  EXPECT_FALSE(b.owns_storage());
  EXPECT_EQ(b.data<float>(), buf);
}

// Small tensors are 64-byte aligned; from 4 MB on they start one 64-byte
// line into a 2 MB aligned region (the huge page offer, off the page
// boundary). Both come zeroed, to the last byte.
TEST(Tensor, AllocationsAreAlignedAndZeroed) {
  for (int64_t n : {int64_t(1), int64_t(1000), int64_t(1) << 20, (int64_t(1) << 20) + 7, int64_t(3) << 20}) {
    Tensor t = Tensor::empty(DType::f32, {n});
    const auto addr = reinterpret_cast<uintptr_t>(t.data<float>());
    if (t.nbytes() >= (size_t(4) << 20))
      EXPECT_EQ(addr % (uintptr_t(2) << 20), 64u) << n << " floats";
    else
      EXPECT_EQ(addr % 64, 0u) << n << " floats";
    const float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(p[i], 0.0f) << n << " floats, element " << i;
  }
}

TEST(Arena, CarvesAlignedNonOverlappingBuffers) {
  Arena a;
  size_t o1 = a.reserve(DType::f32, {3});
  size_t o2 = a.reserve(DType::bf16, {5});
  size_t o3 = a.reserve(DType::i32, {7});
  a.commit();
  Tensor t1 = a.at(o1, DType::f32, {3}), t2 = a.at(o2, DType::bf16, {5}), t3 = a.at(o3, DType::i32, {7});
  for (auto* p : {t1.raw(), t2.raw(), t3.raw()}) EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  EXPECT_LE(static_cast<char*>(t1.raw()) + 12, static_cast<char*>(t2.raw()));
  EXPECT_LE(static_cast<char*>(t2.raw()) + 10, static_cast<char*>(t3.raw()));
  EXPECT_THROW(a.at(o3, DType::i32, {1000}), Error);
}

TEST(AtomicFile, UncommittedWriteLeavesTheOldFile) {
  std::string path = ::testing::TempDir() + "/atomic_test.txt";
  write_file_atomic(path, "old");
  {
    AtomicFile f(path);
    f.write("new contents");
    // destroyed without commit(), as when an exception unwinds a save
  }
  EXPECT_EQ(read_file(path), "old");
  write_file_atomic(path, "new");
  EXPECT_EQ(read_file(path), "new");
}

TEST(FileIo, MissingFileErrorNamesThePath) {
  try {
    read_file("/nonexistent/shoggoth/file.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/shoggoth/file.bin"), std::string::npos);
  }
}
