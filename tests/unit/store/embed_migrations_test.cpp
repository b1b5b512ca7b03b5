// The build-time generator (cmake/GenerateMigrations.cmake), run on scratch folders.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/fs.hpp"
#include "common/process.hpp"

using namespace dive;

namespace {

struct Generated {
  RunResult run;
  std::string cpp;
};

// Runs the generator on one set ("instance") whose files are `files` (name -> SQL) and one empty set.
Generated generate(const std::vector<std::pair<std::string, std::string>>& files) {
  TempDir dir("dive-embed-test");
  std::string list;
  for (const auto& [name, sql] : files) {
    write_file_atomic(dir.path() / name, sql);
    list += (list.empty() ? "" : "|") + (dir.path() / name).string();
  }
  const auto out = dir.path() / "out.cpp";
  Generated g;
  g.run = run_capture({DIVE_CMAKE_COMMAND, "-DSETS=instance|orchestration", "-DSET_instance=" + list,
                       "-DSET_orchestration=", "-DOUTPUT=" + out.string(), "-P",
                       std::string(DIVE_SOURCE_DIR) + "/cmake/GenerateMigrations.cmake"},
                      std::chrono::seconds(30));
  g.cpp = try_read_file(out).value_or("");
  return g;
}

// The SQL inside the n-th raw string literal of the generated code.
std::string literal(const std::string& cpp, int n) {
  size_t pos = 0;
  for (int i = 0; i <= n; ++i) {
    pos = cpp.find("R\"dive_sql_(", pos);
    if (pos == std::string::npos) return "<missing>";
    pos += 12;
  }
  return cpp.substr(pos, cpp.find(")dive_sql_\"", pos) - pos);
}

}  // namespace

TEST(EmbedMigrations, EmbedsSqlVerbatimInVersionOrder) {
  const std::string tricky = "INSERT INTO t VALUES ('a;b', E'\\\\n', '\")', $$x$$); -- ${NOT_A_VAR} [[x]]\n";
  auto g = generate({{"010_later.sql", "SELECT 10;\n"}, {"002_tricky.sql", tricky}});
  ASSERT_EQ(g.run.exit_code, 0) << g.run.output;
  EXPECT_NE(g.cpp.find("Migration{2, \"tricky\","), std::string::npos) << g.cpp;
  EXPECT_LT(g.cpp.find("Migration{2,"), g.cpp.find("Migration{10,"));
  EXPECT_EQ(literal(g.cpp, 0), tricky);
  EXPECT_EQ(literal(g.cpp, 1), "SELECT 10;\n");
  // The empty set still defines its function.
  EXPECT_NE(g.cpp.find("const std::vector<Migration>& orchestration_migrations() {\n"
                       "  static const std::vector<Migration> all{\n  };"),
            std::string::npos)
      << g.cpp;
}

TEST(EmbedMigrations, BadNamesDuplicatesAndDelimiterClashesFail) {
  for (const std::string bad : {"1_short.sql", "001-dash.sql", "001_Upper.sql", "abc_x.sql"}) {
    auto g = generate({{bad, "SELECT 1;"}});
    EXPECT_NE(g.run.exit_code, 0) << bad;
    EXPECT_NE(g.run.output.find("NNN_name.sql"), std::string::npos) << g.run.output;
  }
  auto dup = generate({{"001_a.sql", "SELECT 1;"}, {"0001_b.sql", "SELECT 2;"}});
  EXPECT_NE(dup.run.exit_code, 0);
  EXPECT_NE(dup.run.output.find("version 1"), std::string::npos) << dup.run.output;
  auto zero = generate({{"000_zero.sql", "SELECT 1;"}});
  EXPECT_NE(zero.run.exit_code, 0);
  auto clash = generate({{"001_clash.sql", "SELECT ')dive_sql_\"';"}});
  EXPECT_NE(clash.run.exit_code, 0);
  EXPECT_NE(clash.run.output.find("delimiter"), std::string::npos) << clash.run.output;
}
