// strongbox SDK test kit: a recording sbx_entry_sink for storage readers, shared by the storage conformance
// suite and plugins' own tests. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../entry.hpp"

namespace sbx::testkit {

// What a read delivered for one locator: an entry with its data, or an error.
struct ReadOutcome {
  bool error = false;
  size_t error_index = 0;
  sbx_status error_status = SBX_OK;
  std::string error_message;
  sdk::Entry entry;
  std::string data;
  bool ended = false;
};

// An sbx_entry_sink that records what a storage reader delivers and notes every breach of the sink protocol.
class ReadRecorder {
 public:
  ReadRecorder() {
    sink_.struct_size = sizeof(sbx_entry_sink);
    sink_.ctx = this;
    sink_.on_entry = [](void* ctx, const sbx_entry* e) {
      return static_cast<ReadRecorder*>(ctx)->on_entry(*e);
    };
    sink_.on_data = [](void* ctx, sbx_bytes d) { return static_cast<ReadRecorder*>(ctx)->on_data(d); };
    sink_.on_entry_end = [](void* ctx) { return static_cast<ReadRecorder*>(ctx)->on_entry_end(); };
    sink_.on_entry_error = [](void* ctx, size_t index, sbx_status status, sbx_str message) {
      return static_cast<ReadRecorder*>(ctx)->on_entry_error(index, status, message);
    };
  }
  ReadRecorder(const ReadRecorder&) = delete;
  ReadRecorder& operator=(const ReadRecorder&) = delete;

  const sbx_entry_sink* sink() const { return &sink_; }
  // on_entry returns `status` for the n-th entry (0-based), to test that a refusal stops the reader.
  void refuse_entry(size_t n, sbx_status status) {
    refuse_at_ = n;
    refusal_ = status;
  }

  // on_entry answers SBX_SKIP (metadata only): a reader must then deliver no data for the entry.
  bool skip_data = false;
  std::vector<ReadOutcome> outcomes;
  std::vector<std::string> protocol_problems;
  size_t calls_after_refusal = 0;

 private:
  bool refused() const { return refused_; }
  sbx_status on_entry(const sbx_entry& e) {
    if (refused()) ++calls_after_refusal;
    if (in_entry_) protocol_problems.push_back("on_entry before the previous entry's on_entry_end");
    ReadOutcome o;
    o.entry = sdk::Entry::from(e);
    outcomes.push_back(std::move(o));
    in_entry_ = true;
    if (entries_seen_++ == refuse_at_) {
      refused_ = true;
      return refusal_;
    }
    return skip_data ? SBX_SKIP : SBX_OK;
  }
  sbx_status on_data(sbx_bytes d) {
    if (refused()) ++calls_after_refusal;
    if (skip_data) protocol_problems.push_back("on_data after on_entry answered SBX_SKIP");
    if (!in_entry_) {
      protocol_problems.push_back("on_data outside an entry");
      return SBX_OK;
    }
    outcomes.back().data.append(sdk::view(d));
    return SBX_OK;
  }
  sbx_status on_entry_end() {
    if (refused()) ++calls_after_refusal;
    if (!in_entry_) {
      protocol_problems.push_back("on_entry_end without on_entry");
      return SBX_OK;
    }
    outcomes.back().ended = true;
    in_entry_ = false;
    return SBX_OK;
  }
  sbx_status on_entry_error(size_t index, sbx_status status, sbx_str message) {
    if (refused()) ++calls_after_refusal;
    if (status >= 0)
      protocol_problems.push_back("on_entry_error with non-negative status " + std::to_string(status));
    if (!message.data || message.len == 0) protocol_problems.push_back("on_entry_error without a message");
    // An error in the middle of an entry replaces that entry's outcome: it was not delivered whole.
    if (!in_entry_) outcomes.emplace_back();
    in_entry_ = false;
    ReadOutcome& o = outcomes.back();
    o.error = true;
    o.error_index = index;
    o.error_status = status;
    o.error_message.assign(sdk::view(message));
    return SBX_OK;
  }

  sbx_entry_sink sink_{};
  bool in_entry_ = false;
  size_t entries_seen_ = 0;
  size_t refuse_at_ = SIZE_MAX;
  sbx_status refusal_ = SBX_OK;
  bool refused_ = false;
};

}  // namespace sbx::testkit
