#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/fs.hpp"
#include "common/strings.hpp"

using namespace dive;

TEST(Strings, Basics) {
  EXPECT_EQ(to_upper("fRa"), "FRA");
  EXPECT_EQ(to_lower("FrA"), "fra");
  EXPECT_EQ(trim("  a b \n"), "a b");
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split("a,,b", ',', true), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_duration_ms(250), "250 ms");
  EXPECT_EQ(format_duration_ms(2500), "2.5 s");
}

TEST(Strings, EndsWithAndReplaceAll) {
  EXPECT_TRUE(ends_with("usa.dive.json", ".dive.json"));
  EXPECT_FALSE(ends_with("json", ".dive.json"));
  EXPECT_EQ(replace_all("${H}/a/${H}", "${H}", "/home"), "/home/a//home");
  EXPECT_EQ(replace_all("aaa", "a", "aa"), "aaaaaa");  // no rescanning of what was put in
  EXPECT_EQ(replace_all("abc", "x", "y"), "abc");
  EXPECT_EQ(replace_all("abc", "", "y"), "abc");
}

TEST(Strings, ParseIntTakesTheWholeStringOrNothing) {
  EXPECT_EQ(parse_int("10"), 10);
  EXPECT_EQ(parse_int("-7"), -7);
  EXPECT_EQ(parse_int("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "10abc", " 10", "10 ", "+1", "1.5", "0x10", "abc", "9223372036854775808", "-"})
    EXPECT_FALSE(parse_int(bad).has_value()) << bad;
}

TEST(Fs, AtomicWriteKeepsTheRequestedMode) {
  TempDir d;
  auto p = d.path() / "secrets.json";
  write_file_atomic(p, "{}", 0600);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  write_file_atomic(p, "{\"a\":1}", 0600);
  EXPECT_EQ(read_file(p), "{\"a\":1}");
  EXPECT_FALSE(try_read_file(d.path() / "missing").has_value());
  EXPECT_THROW(read_file(d.path() / "missing"), std::runtime_error);
}

TEST(Fs, TempDirIsRemoved) {
  std::filesystem::path kept;
  {
    TempDir d;
    kept = d.path();
    ensure_dir(kept / "a" / "b");
    write_file_atomic(kept / "a" / "b" / "f", "x");
    EXPECT_TRUE(std::filesystem::exists(kept / "a" / "b" / "f"));
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}
