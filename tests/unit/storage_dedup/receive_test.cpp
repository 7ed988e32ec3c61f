// Chunk-level duplication between stores of one domain: only missing chunks travel, received chunks are
// checked, an interrupted transfer resumes without resending, and another domain's chunks are refused.
#include <set>

#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupReceive : public DedupTest {
 protected:
  void SetUp() override {
    DedupTest::SetUp();
    key_ = key_file();
    source_ = open_device(small_config(dir("source"), {{"key_file", key_}}));
    target_ = open_device(small_config(dir("target"), {{"key_file", key_}, {"domain_from", dir("source")}}));
  }
  std::string key_;
  Device source_, target_;
};

TEST_F(DedupReceive, OnlyMissingChunksTravelAndTheCopyReadsBack) {
  auto first = tree(61, 1 << 20);
  auto l1 = write_set(source_, "first", first);
  size_t sent = send_set(source_, target_, "first");
  EXPECT_EQ(sent, set_chunks(source_, "first").size());
  expect_reads_back(target_, "first", l1, first);

  // A second set sharing most data: only its new chunks travel.
  auto second = first;
  second[2] = file_item("d/b", random_bytes(100000, 62));
  auto l2 = write_set(source_, "second", second);
  size_t sent_again = send_set(source_, target_, "second");
  EXPECT_LT(sent_again * 5, sent);
  EXPECT_GT(sent_again, 0u);
  expect_reads_back(target_, "second", l2, second);
  EXPECT_TRUE(verify(target_).empty());
  // Sending a set the target already has sends nothing and is idempotent.
  EXPECT_EQ(send_set(source_, target_, "second"), 0u);
}

TEST_F(DedupReceive, AnInterruptedTransferResumesWithoutResending) {
  auto items = tree(63, 1 << 20);
  auto locators = write_set(source_, "s", items);
  size_t total = set_chunks(source_, "s").size();
  size_t first_part = send_set(source_, target_, "s", total / 2);  // flushed, no manifest
  EXPECT_EQ(first_part, total / 2);
  EXPECT_TRUE(list_sets(target_).empty());
  size_t rest = send_set(source_, target_, "s");
  EXPECT_EQ(rest, total - total / 2);
  expect_reads_back(target_, "s", locators, items);
}

// Offers the set's manifest; returns the ids the receiver says it lacks.
std::vector<std::string> offer(const sbx_storage_vtable* vt, sbx_storage_receiver* r, const std::string& set,
                               const std::string& manifest) {
  std::vector<std::string> ids;
  EXPECT_EQ(vt->offer_set(
                r, str(set), sdk::make_bytes(manifest),
                [](void* ctx, sbx_bytes id, uint64_t) {
                  static_cast<std::vector<std::string>*>(ctx)->emplace_back(sdk::view(id));
                },
                &ids),
            SBX_OK)
      << FakeHost::last_error();
  return ids;
}

TEST_F(DedupReceive, AnOfferNamesTheGroupsFirstThenTheChunksTheyName) {
  auto items = tree(65, 1 << 20);
  auto locators = write_set(source_, "s", items);
  const auto all = set_chunks(source_, "s");
  const std::string manifest = read_manifest(source_, "s");
  sbx_storage_receiver* r = nullptr;
  ASSERT_EQ(vt_->begin_receive(target_.get(), &r), SBX_OK);
  // The manifest names only the entry groups, so an empty target can ask for nothing else yet.
  auto first = offer(vt_, r, "s", manifest);
  ASSERT_FALSE(first.empty());
  EXPECT_LT(first.size() * 20, all.size());
  auto receive = [&](const std::vector<std::string>& ids) {
    for (const auto& id : ids)
      EXPECT_EQ(vt_->receive_chunk(r, sdk::make_bytes(id), sdk::make_bytes(read_chunk(source_, id))), SBX_OK)
          << FakeHost::last_error();
  };
  receive(first);
  EXPECT_EQ(vt_->receive_set(r, str("s"), sdk::make_bytes(manifest)), SBX_ERR_NOT_FOUND);
  // With the groups there, the offer names every data chunk, none twice.
  auto second = offer(vt_, r, "s", manifest);
  EXPECT_EQ(first.size() + second.size(), all.size());
  std::set<std::string> asked(first.begin(), first.end());
  asked.insert(second.begin(), second.end());
  EXPECT_EQ(asked, std::set<std::string>(all.begin(), all.end()));
  receive(second);
  EXPECT_TRUE(offer(vt_, r, "s", manifest).empty());
  EXPECT_EQ(vt_->receive_set(r, str("s"), sdk::make_bytes(manifest)), SBX_OK) << FakeHost::last_error();
  vt_->close_receiver(r);
  expect_reads_back(target_, "s", locators, items);
  EXPECT_TRUE(verify(target_).empty());
}

TEST_F(DedupReceive, ASetWhoseChunksWereNotSentIsRefused) {
  write_set(source_, "s", tree(64));
  sbx_storage_receiver* r = nullptr;
  ASSERT_EQ(vt_->begin_receive(target_.get(), &r), SBX_OK);
  std::string manifest = read_manifest(source_, "s");
  EXPECT_EQ(vt_->receive_set(r, str("s"), sdk::make_bytes(manifest)), SBX_ERR_NOT_FOUND);
  // Under another name the manifest does not open: it is bound to its set.
  EXPECT_EQ(vt_->receive_set(r, str("renamed"), sdk::make_bytes(manifest)), SBX_ERR_CORRUPT);
  vt_->close_receiver(r);
  EXPECT_TRUE(list_sets(target_).empty());
}

TEST_F(DedupReceive, ChunksOfAnotherDomainOrDamagedInTransitAreRefused) {
  write_set(source_, "s", tree(65));
  Device stranger = open_device(small_config(dir("stranger"), {{"key_file", key_}}));
  auto ids = set_chunks(source_, "s");
  std::string stored = read_chunk(source_, ids.back());
  sbx_storage_receiver* r = nullptr;
  ASSERT_EQ(vt_->begin_receive(stranger.get(), &r), SBX_OK);
  EXPECT_EQ(vt_->receive_chunk(r, sdk::make_bytes(ids.back()), sdk::make_bytes(stored)), SBX_ERR_CORRUPT);
  vt_->close_receiver(r);
  ASSERT_EQ(vt_->begin_receive(target_.get(), &r), SBX_OK);
  std::string damaged = stored;
  damaged[damaged.size() / 2] ^= 1;
  EXPECT_EQ(vt_->receive_chunk(r, sdk::make_bytes(ids.back()), sdk::make_bytes(damaged)), SBX_ERR_CORRUPT);
  vt_->close_receiver(r);
}

}  // namespace
}  // namespace sbx::dedup_test
