#include "store/error_text.hpp"

#include <gtest/gtest.h>

using namespace dive::store;

TEST(ErrorText, OneLine) {
  EXPECT_EQ(one_line("connection to server failed: refused\n\tIs the server running?\n"),
            "connection to server failed: refused Is the server running?");
  EXPECT_EQ(one_line("  \n"), "");
}

TEST(ErrorText, Redact) {
  EXPECT_EQ(redact("bad 'pw' near pw=pw", "pw"), "bad '***' near ***=***");
  EXPECT_EQ(redact("nothing", ""), "nothing");
  EXPECT_EQ(redact("aaaa", "aa"), "******");
}
