// OPA/Go rendering (%v of arrays and sets, strconv.Quote, %v of floats), Go's Unicode case mapping,
// and RFC 3339 parsing as time.parse_rfc3339_ns does it.
#include <gtest/gtest.h>

#include "policy/opa_format.hpp"
#include "policy/rfc3339.hpp"
#include "policy/unicode.hpp"

using namespace dive::policy;

TEST(OpaFormat, ArraysAndSets) {
  EXPECT_EQ(opa::array({}), "[]");
  EXPECT_EQ(opa::array({"USA", "GBR"}), R"(["USA", "GBR"])");
  EXPECT_EQ(opa::set({}), "set()");
  EXPECT_EQ(opa::set({"NATO", "FVEY", "NATO"}), R"({"FVEY", "NATO"})");
  EXPECT_EQ(opa::set({"b", "B", "a"}), R"({"B", "a", "b"})") << "byte order, as Go compares strings";
}

TEST(OpaFormat, GoQuoting) {
  EXPECT_EQ(opa::quoted("plain"), R"("plain")");
  EXPECT_EQ(opa::quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(opa::quoted("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(opa::quoted(std::string("\x01\x7f", 2)), R"("\x01\x7f")");
  EXPECT_EQ(opa::quoted(std::string("\0", 1)), R"("\x00")");
  EXPECT_EQ(opa::quoted("DÉFENSE ΑΠΟΡΡΗΤΟ ŚCIŚLE"), "\"DÉFENSE ΑΠΟΡΡΗΤΟ ŚCIŚLE\"")
      << "printable Unicode kept";
  EXPECT_EQ(opa::quoted("\xC2\xA0"), R"("\u00a0")") << "no-break space is not printable in Go";
  EXPECT_EQ(opa::quoted("\xC2\xAD"), R"("\u00ad")") << "soft hyphen (Cf)";
  EXPECT_EQ(opa::quoted("\xE2\x80\xA8"), R"("\u2028")");
  EXPECT_EQ(opa::quoted("\xEF\xBB\xBF"), R"("\ufeff")");
  EXPECT_EQ(opa::quoted("\xF3\xA0\x80\x81"), R"("\U000e0001")") << "tag character (Cf) beyond the BMP";
  EXPECT_EQ(opa::quoted("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"") << "emoji is a symbol: kept";
  EXPECT_EQ(opa::quoted("\xFF"
                        "a\xC3"),
            R"("\xffa\xc3")")
      << "invalid UTF-8 bytes";
}

TEST(OpaFormat, GoFloatVerbV) {
  EXPECT_EQ(opa::go_float(1.5), "1.5");
  EXPECT_EQ(opa::go_float(2.0), "2");
  EXPECT_EQ(opa::go_float(0.0), "0");
  EXPECT_EQ(opa::go_float(-0.0), "-0");
  EXPECT_EQ(opa::go_float(123456.0), "123456");
  EXPECT_EQ(opa::go_float(1e6), "1e+06");
  EXPECT_EQ(opa::go_float(1234567.0), "1.234567e+06");
  EXPECT_EQ(opa::go_float(0.0001), "0.0001");
  EXPECT_EQ(opa::go_float(0.00001), "1e-05");
  EXPECT_EQ(opa::go_float(1e21), "1e+21");
  EXPECT_EQ(opa::go_float(1e300), "1e+300");
  EXPECT_EQ(opa::go_float(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(opa::go_float(0.1), "0.1");
  EXPECT_EQ(opa::go_float(100.25), "100.25");
}

TEST(Unicode, GoCaseMapping) {
  EXPECT_EQ(unicode::upper("secret défense"), "SECRET DÉFENSE");
  EXPECT_EQ(unicode::upper("ściśle tajne"), "ŚCIŚLE TAJNE");
  EXPECT_EQ(unicode::upper("απορρητο"), "ΑΠΟΡΡΗΤΟ");
  EXPECT_EQ(unicode::upper("строго секретно"), "СТРОГО СЕКРЕТНО");
  EXPECT_EQ(unicode::upper("straße"), "STRAßE")
      << "Go's ToUpper maps rune by rune: ß has no single upper case";
  EXPECT_EQ(unicode::upper("ı"), "I") << "dotless i";
  EXPECT_EQ(unicode::upper("µ"), "Μ") << "micro sign maps to Greek capital mu";
  EXPECT_EQ(unicode::upper("ǆ"), "Ǆ");
  EXPECT_EQ(unicode::lower("İ"), "i") << "Go's simple mapping of capital dotted I";
  EXPECT_EQ(unicode::lower("GOLD Silver AAL2"), "gold silver aal2");
  EXPECT_EQ(unicode::upper("\xFF"
                           "a"),
            "\xEF\xBF\xBD"
            "A")
      << "invalid UTF-8 becomes U+FFFD";
  EXPECT_EQ(unicode::upper("VS-NfD"), "VS-NFD");
}

TEST(Unicode, PrintableClasses) {
  EXPECT_TRUE(unicode::is_print(U'A'));
  EXPECT_TRUE(unicode::is_print(U' '));
  EXPECT_FALSE(unicode::is_print(U'\t'));
  EXPECT_FALSE(unicode::is_print(0x7F));
  EXPECT_FALSE(unicode::is_print(0x85));
  EXPECT_TRUE(unicode::is_print(U'É'));
  EXPECT_FALSE(unicode::is_print(0x2028));
  EXPECT_FALSE(unicode::is_print(0xE000)) << "private use";
  EXPECT_FALSE(unicode::is_print(0x0378)) << "unassigned";
}

TEST(Rfc3339, AcceptsGoRfc3339) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ns("2026-01-01T00:00:00Z"), 1767225600LL * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2026-01-01T00:00:00.5Z"), 1767225600LL * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2026-01-01T00:00:00.123456789123Z"),
            1767225600LL * 1'000'000'000 + 123'456'789);
  EXPECT_EQ(parse_rfc3339_ns("2026-01-01T01:00:00+01:00"), 1767225600LL * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2025-12-31T23:00:00-01:00"), 1767225600LL * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2026-01-01T00:00:00,5Z"), 1767225600LL * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2026-01-01T0:00:00Z"), 1767225600LL * 1'000'000'000) << "one-digit hour";
  EXPECT_EQ(parse_rfc3339_ns("1969-12-31T23:59:59Z"), -1'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2024-02-29T00:00:00Z"), 1709164800LL * 1'000'000'000);
}

TEST(Rfc3339, RejectsWhatGoRejects) {
  for (const char* bad :
       {"", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "2026-01-01t00:00:00Z",
        "2026-01-01T00:00:00z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z", "26-01-01T00:00:00Z", "2026-1-01T00:00:00Z",
        "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00Z ", "2026-01-01T00:00:00.Z", "yesterday",
        "3000-01-01T00:00:00Z" /* beyond int64 nanoseconds */})
    EXPECT_FALSE(parse_rfc3339_ns(bad)) << bad;
}
