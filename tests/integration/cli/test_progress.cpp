// Progress is drawn on a terminal, and never with --quiet or --json (cron and scripts stay clean).
#include "harness.hpp"

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

// Runs strongbox on a pseudo-terminal through script(1) and returns everything the terminal received.
std::string run_on_terminal(const std::vector<std::string>& args, const TempDir& dir) {
  std::string command = "'" + strongbox_binary().string() + "'";
  for (const auto& a : args) command += " '" + a + "'";
  fs::path typescript = dir / "typescript";
  std::string shell = "script -qec \"" + command + "\" '" + typescript.string() + "' >/dev/null 2>&1 </dev/null";
  EXPECT_EQ(std::system(shell.c_str()), 0) << shell;
  return read_file(typescript);
}

}  // namespace

TEST(CliProgress, DrawnOnATerminalOnly) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(dir / "data" / "big", std::string(8 << 20, 'x'));
  std::string shown = run_on_terminal({"--site", site.string(), "backup", (dir / "data").string()}, dir);
  EXPECT_NE(shown.find("backup: "), std::string::npos) << shown;
  EXPECT_NE(shown.find("\033[K"), std::string::npos) << "progress redraws one line";

  std::string quiet = run_on_terminal({"--site", site.string(), "-q", "backup", (dir / "data").string()}, dir);
  EXPECT_EQ(quiet.find("backup: "), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find("set "), std::string::npos) << "--quiet prints nothing on success: " << quiet;

  std::string json = run_on_terminal({"--site", site.string(), "--json", "backup", (dir / "data").string()}, dir);
  EXPECT_EQ(json.find("\033[K"), std::string::npos) << json;

  auto piped = run_strongbox({"--site", site.string(), "backup", (dir / "data").string()});
  EXPECT_EQ(piped.err.find("\033[K"), std::string::npos) << "no progress when stderr is not a terminal";
}
