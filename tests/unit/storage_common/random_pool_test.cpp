// The random pool blob nonces come from: draws never repeat, across refills too, and a forked child never
// hands out the bytes its parent still holds (a repeated nonce under one AES-GCM key gives the key away).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <string>

#include "common/crypto.hpp"

namespace sbx::storage {
namespace {

std::string draw(RandomPool& pool) {
  std::array<uint8_t, kNonceBytes> nonce{};
  pool.draw(nonce.data(), nonce.size());
  return std::string(nonce.begin(), nonce.end());
}

TEST(StorageRandomPool, DrawsNeverRepeatAcrossRefills) {
  RandomPool pool;
  std::set<std::string> seen;
  // 4 KiB a refill: 3000 nonces take several.
  for (int i = 0; i < 3000; ++i) EXPECT_TRUE(seen.insert(draw(pool)).second) << "draw " << i;
}

TEST(StorageRandomPool, AForkedChildDoesNotReuseItsParentsBytes) {
  RandomPool pool;
  draw(pool);  // the pool is filled and mostly unused when the process forks
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string mine = draw(pool);
    const bool written = ::write(pipe_fds[1], mine.data(), mine.size()) == ssize_t(mine.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  const std::string parents = draw(pool);
  std::string childs(kNonceBytes, '\0');
  EXPECT_EQ(::read(pipe_fds[0], childs.data(), childs.size()), ssize_t(childs.size()));
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(parents, childs) << "parent and child drew the same nonce";
}

}  // namespace
}  // namespace sbx::storage
