// safetensors: a round trip through our writer and reader, then one test per
// corruption, each written byte by byte here, checking that the error is
// bad_input and names the file and the offending tensor or field.
#include "core/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace shog {
namespace {

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("shog_st_") + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // A file from a header string and data bytes; hlen overrides the length field.
  std::string raw(const std::string& header, const std::string& data, int64_t hlen = -1) {
    const uint64_t n = hlen < 0 ? header.size() : uint64_t(hlen);
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; i++) bytes[i] = char((n >> (8 * i)) & 0xff);
    bytes += header + data;
    const std::string p = file("t.safetensors");
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }

  // Opening must fail with bad_input; the message must name the file, the
  // place (a tensor or a field) and the problem.
  void expect_bad(const std::string& path, const std::string& where_part, const std::string& what_part) {
    try {
      SafetensorsFile f(path);
      FAIL() << "accepted a corrupt file; expected: " << what_part;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
      EXPECT_NE(e.where().find(path), std::string::npos) << e.what();
      EXPECT_NE(e.where().find(where_part), std::string::npos) << e.what();
      EXPECT_NE(e.what_only().find(what_part), std::string::npos) << e.what();
    }
  }

 private:
  std::filesystem::path dir_;
};

std::string f32_bytes(std::vector<float> v) { return std::string(reinterpret_cast<char*>(v.data()), v.size() * 4); }

TEST_F(Safetensors, RoundTripKeepsOrderDtypesShapesBytesAndMetadata) {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<bf16> b = {f32_to_bf16(1.5f), f32_to_bf16(-2.0f), f32_to_bf16(3.25f), f32_to_bf16(0.0f)};
  std::vector<int32_t> c = {7, -8, 9};
  const std::string p = file("rt.safetensors");
  write_safetensors(p,
                    {{"z.first", StDType::f32, {2, 3}, a.data()},
                     {"a.second", StDType::bf16, {4}, b.data()},
                     {"empty", StDType::f32, {0, 5}, nullptr},
                     {"ints", StDType::i32, {1, 3}, c.data()}},
                    {{"format", "pt"}, {"step", "12"}});
  SafetensorsFile f(p);
  ASSERT_EQ(f.entries().size(), 4u);
  EXPECT_EQ(f.entries()[0].name, "z.first");  // given order, not sorted
  EXPECT_EQ(f.entries()[1].name, "a.second");
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("step"), "12");

  Tensor ta = f.view("z.first");
  EXPECT_EQ(ta.dtype(), DType::f32);
  EXPECT_EQ(ta.shape(), (Shape{2, 3}));
  EXPECT_EQ(std::memcmp(ta.raw(), a.data(), 24), 0);
  Tensor tb = f.view("a.second");
  EXPECT_EQ(tb.dtype(), DType::bf16);
  EXPECT_EQ(std::memcmp(tb.raw(), b.data(), 8), 0);
  EXPECT_EQ(f.to_f32("a.second"), (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f}));
  EXPECT_EQ(f.view("empty").numel(), 0);
  EXPECT_EQ(f.view("empty").shape(), (Shape{0, 5}));
  Tensor tc = f.view("ints");
  EXPECT_EQ(tc.dtype(), DType::i32);
  EXPECT_EQ(tc.data<int32_t>()[1], -8);

  // The data section starts 8-byte aligned, the padding being spaces.
  MappedFile m(p);
  uint64_t hlen;
  std::memcpy(&hlen, m.data(), 8);
  EXPECT_EQ((8 + hlen) % 8, 0u);
  EXPECT_EQ(m.data()[8 + hlen - 1] == ' ' || m.data()[8 + hlen - 1] == '}', true);
  EXPECT_EQ(m.size(), 8 + hlen + 24 + 8 + 0 + 12);
}

TEST_F(Safetensors, NoMetadataAndNoTensorsIsValid) {
  const std::string p = file("empty.safetensors");
  write_safetensors(p, {});
  SafetensorsFile f(p);
  EXPECT_TRUE(f.entries().empty());
  EXPECT_TRUE(f.metadata().empty());
}

TEST_F(Safetensors, F16IsConvertedToF32OnRequestButNotViewed) {
  // 1, -2, 65504 (max), 2^-24 (smallest subnormal), 0.5, -0, +inf
  const uint16_t h[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x3800, 0x8000, 0x7c00};
  std::string data(reinterpret_cast<const char*>(h), sizeof(h));
  auto p = raw(R"({"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]}})", data);
  SafetensorsFile f(p);
  auto v = f.to_f32("h");
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], 65504.0f);
  EXPECT_EQ(v[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(v[4], 0.5f);
  EXPECT_TRUE(v[5] == 0.0f && std::signbit(v[5]));
  EXPECT_TRUE(std::isinf(v[6]) && v[6] > 0);
  try {
    f.view("h");
    FAIL() << "F16 has no shog dtype; view must refuse";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
  }
}

TEST_F(Safetensors, MisalignedTensorIsRefusedAsViewButCopies) {
  // 3 bf16 (6 bytes) put the f32 that follows at data offset 6.
  std::vector<bf16> b = {f32_to_bf16(1), f32_to_bf16(2), f32_to_bf16(3)};
  std::vector<float> a = {4.5f, -1.0f};
  const std::string p = file("mis.safetensors");
  write_safetensors(p, {{"b", StDType::bf16, {3}, b.data()}, {"a", StDType::f32, {2}, a.data()}});
  SafetensorsFile f(p);
  EXPECT_THROW(f.view("a"), Error);
  EXPECT_EQ(f.to_f32("a"), a);
}

TEST_F(Safetensors, MissingTensorIsNamed) {
  const std::string p = file("one.safetensors");
  float x = 1;
  write_safetensors(p, {{"x", StDType::f32, {1}, &x}});
  SafetensorsFile f(p);
  EXPECT_FALSE(f.contains("y"));
  try {
    f.at("y");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(e.where().find("'y'"), std::string::npos) << e.what();
  }
}

TEST_F(Safetensors, WriterRefusesDuplicateAndReservedNames) {
  float x = 1;
  EXPECT_THROW(write_safetensors(file("d"), {{"x", StDType::f32, {1}, &x}, {"x", StDType::f32, {1}, &x}}), Error);
  EXPECT_THROW(write_safetensors(file("r"), {{"__metadata__", StDType::f32, {1}, &x}}), Error);
  EXPECT_FALSE(file_exists(file("d")));
}

const std::string kT = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
const std::string kData8 = f32_bytes({1, 2});

TEST_F(Safetensors, ValidHandMadeFileIsAccepted) {
  // The baseline the corruptions below start from: it must open.
  SafetensorsFile f(raw("{" + kT + "}", kData8));
  EXPECT_EQ(f.to_f32("t"), (std::vector<float>{1, 2}));
}

TEST_F(Safetensors, FileShorterThanLengthField) {
  const std::string p = file("short.safetensors");
  std::ofstream(p, std::ios::binary).write("\x02\0\0\0\0", 5);
  expect_bad(p, "header", "too short");
}

TEST_F(Safetensors, HeaderLengthBeyondFile) {
  expect_bad(raw("{" + kT + "}", kData8, 4096), "header", "runs past the end");
}

TEST_F(Safetensors, HeaderLengthAbsurd) { expect_bad(raw("{}", "", int64_t(1) << 40), "header", "limit"); }

TEST_F(Safetensors, HeaderNotJson) { expect_bad(raw("{\"t\": [", ""), "header", "invalid JSON"); }

TEST_F(Safetensors, HeaderNotAnObject) { expect_bad(raw("[1, 2]", ""), "header", "not an object"); }

TEST_F(Safetensors, EntryNotAnObject) { expect_bad(raw(R"({"t": 3})", ""), "'t'", "must be an object"); }

TEST_F(Safetensors, MissingDtype) {
  expect_bad(raw(R"({"t":{"shape":[2],"data_offsets":[0,8]}})", kData8), "'t': dtype", "missing");
}

TEST_F(Safetensors, UnknownDtype) {
  expect_bad(raw(R"({"t":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", kData8), "'t': dtype",
             "unknown dtype \"F33\"");
}

TEST_F(Safetensors, NegativeShape) {
  expect_bad(raw(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", kData8), "'t': shape",
             "not a non-negative integer");
}

TEST_F(Safetensors, ShapeOverflow) {
  expect_bad(raw(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", kData8),
             "'t': shape", "overflows");
}

TEST_F(Safetensors, OffsetsNotTwoIntegers) {
  expect_bad(raw(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", kData8), "'t': data_offsets",
             "two offsets");
  expect_bad(raw(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}})", kData8), "'t': data_offsets",
             "non-negative");
}

TEST_F(Safetensors, OffsetsReversed) {
  expect_bad(raw(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", kData8), "'t': data_offsets",
             "after end");
}

TEST_F(Safetensors, OffsetsBeyondData) {
  expect_bad(raw(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", kData8), "'t': data_offsets",
             "beyond the 8-byte data section");
}

TEST_F(Safetensors, SizeDoesNotMatchShape) {
  expect_bad(raw(R"({"t":{"dtype":"BF16","shape":[2],"data_offsets":[0,8]}})", kData8), "'t': data_offsets",
             "needs 4");
}

TEST_F(Safetensors, OverlappingTensors) {
  expect_bad(raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                 kData8),
             "'b'", "overlaps tensor 'a'");
}

TEST_F(Safetensors, GapBetweenTensors) {
  expect_bad(raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                 kData8 + kData8.substr(0, 4)),
             "'b'", "gap of 4 bytes");
}

TEST_F(Safetensors, TrailingBytes) {
  expect_bad(raw("{" + kT + "}", kData8 + "xyz"), "data section", "3 trailing bytes");
}

TEST_F(Safetensors, DuplicateNames) {
  expect_bad(raw("{" + kT + "," + kT + "}", kData8), "'t'", "twice");
}

TEST_F(Safetensors, MetadataValueNotString) {
  expect_bad(raw(R"({"__metadata__":{"step":12},)" + kT + "}", kData8), "__metadata__.step", "must be a string");
}

// Optional interop: the pure-numpy reader/writer the PyTorch oracle uses reads
// our file and writes it back; we read its copy. Skipped without python3+numpy.
TEST_F(Safetensors, PythonOracleReadsAndRewritesOurFile) {
  const std::string py = "/usr/bin/python3";
  if (!file_exists(py) || std::system((py + " -c 'import numpy' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "no python3 with numpy";
  std::vector<float> a = {1.25f, -3.5f, 7.0f, 0.1f};
  std::vector<bf16> b = {f32_to_bf16(0.3f), f32_to_bf16(-9.0f)};
  std::vector<int32_t> c = {1, -1, 2147483647};
  const std::string p = file("ours.safetensors"), q = file("theirs.safetensors");
  write_safetensors(p, {{"a", StDType::f32, {2, 2}, a.data()}, {"b", StDType::bf16, {2}, b.data()},
                        {"c", StDType::i32, {3}, c.data()}},
                    {{"who", "shoggoth"}});
  const std::string cmd =
      py + " " + SHOG_SOURCE_DIR + "/tests/oracle/safetensors_np.py '" + p + "' '" + q + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  SafetensorsFile f(q);
  EXPECT_EQ(f.metadata().at("who"), "shoggoth");
  EXPECT_EQ(f.to_f32("a"), a);
  EXPECT_EQ(f.at("b").dtype, StDType::bf16);
  EXPECT_EQ(std::memcmp(f.view("b").raw(), b.data(), 4), 0);
  EXPECT_EQ(f.at("c").shape, (Shape{3}));
  EXPECT_EQ(std::memcmp(f.view("c").raw(), c.data(), 12), 0);
}

}  // namespace
}  // namespace shog
