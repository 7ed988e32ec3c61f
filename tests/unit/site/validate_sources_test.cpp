// sources: required, absolute, normalized like `strongbox backup` normalizes them; includes/excludes globs.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ValidateSources = SiteTest;

TEST_F(ValidateSources, Required) {
  EXPECT_DEFINITION_ERROR(validate({{"device", "disk1"}}),
                          "definition 'web': sources: is required: a list of absolute paths");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", Json::array())), "sources: is required");
}

TEST_F(ValidateSources, WrongTypes) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", "/home")),
                          "definition 'web': sources: must be a list of strings, not string");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", {"/home", 7})),
                          "sources[1]: must be a string, not number");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", {""})), "sources[0]: must not be empty");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", {std::string("/a\0b", 4)})),
                          "sources[0]: must not contain a NUL character");
}

TEST_F(ValidateSources, RelativePathRefused) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", {"/srv", "data/www"})),
                          "definition 'web': sources[1]: 'data/www' is not an absolute path");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", {"./x"})),
                          "sources[0]: './x' is not an absolute");
}

TEST_F(ValidateSources, NormalizedSortedUnique) {
  Json spec =
      validate(with(minimal(), "sources", {"/srv/www/", "/home//alice/../bob", "/etc", "/srv/www", "/"}));
  EXPECT_EQ(spec["sources"], (Json{"/", "/etc", "/home/bob", "/srv/www"}));
}

TEST_F(ValidateSources, HostileBytesShownEscapedOnOneLine) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sources", {"rel\n\x1b[2Jpath"})),
                          "'rel\\x0a\\x1b[2Jpath' is not an absolute path");
}

TEST_F(ValidateSources, IncludesAndExcludes) {
  Json spec = validate(with(with(minimal(), "excludes", {"*.tmp", "/home/*/cache"}), "includes", {"*.doc"}));
  EXPECT_EQ(spec["excludes"], (Json{"*.tmp", "/home/*/cache"}));
  EXPECT_EQ(spec["includes"], (Json{"*.doc"}));
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "excludes", {"*.tmp", ""})),
                          "excludes[1]: must not be empty");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "includes", Json::object())),
                          "includes: must be a list of strings, not object");
}

}  // namespace
}  // namespace sbx::site::testing
