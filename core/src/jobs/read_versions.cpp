#include "internal.hpp"

namespace sbx::service::detail {
namespace {

struct ReadState {
  const std::vector<const catalog::FileVersion*>& versions;
  VersionConsumer& consumer;
  size_t next = 0;  // index of the version the next on_entry belongs to
  const catalog::FileVersion* current = nullptr;
  bool current_bad = false;
  uint64_t data_bytes = 0;
  uint64_t expected_bytes = 0;
  Sha256 sha;
  std::string failure;
};

sbx_status guarded(ReadState& s, const std::function<void()>& body) noexcept {
  try {
    body();
    return SBX_OK;
  } catch (const std::exception& e) {
    s.failure = e.what();
    return SBX_ERR_CANCELLED;
  }
}

}  // namespace

void read_versions(plugins::StorageDevice& device, const catalog::BackupSet& set,
                   const std::vector<const catalog::FileVersion*>& versions, VersionConsumer& consumer) {
  if (versions.empty()) return;
  std::unique_ptr<plugins::StorageReader> reader;
  try {
    reader = device.open_set(set.store_name);
  } catch (const std::exception& e) {
    for (const auto* v : versions) consumer.damaged(*v, std::string("set cannot be opened: ") + e.what());
    return;
  }
  std::vector<sbx_bytes> locators;
  locators.reserve(versions.size());
  for (const auto* v : versions) locators.push_back(sdk::make_bytes(v->locator));

  ReadState state{versions, consumer, 0, nullptr, false, 0, 0, {}, {}};
  sbx_entry_sink sink{};
  sink.struct_size = sizeof sink;
  sink.ctx = &state;
  sink.on_entry = [](void* ctx, const sbx_entry* e) noexcept -> sbx_status {
    auto& s = *static_cast<ReadState*>(ctx);
    return guarded(s, [&] {
      if (s.next >= s.versions.size())
        throw std::runtime_error("device delivered more entries than asked for");
      s.current = s.versions[s.next++];
      s.current_bad = false;
      s.data_bytes = 0;
      s.sha.reset();
      sdk::Entry entry = sdk::Entry::from(*e);
      s.expected_bytes = entry.data_length();
      if (entry.path != s.current->path) {
        s.current_bad = true;
        s.consumer.damaged(
            *s.current, "the set holds '" + printable(entry.path) + "' where the catalog expects this path");
        return;
      }
      if (int(entry.type) != s.current->type) {
        s.current_bad = true;
        s.consumer.damaged(*s.current, "the set holds an entry of another type than the catalog records");
        return;
      }
      s.consumer.entry(*s.current, entry);
    });
  };
  sink.on_data = [](void* ctx, sbx_bytes data) noexcept -> sbx_status {
    auto& s = *static_cast<ReadState*>(ctx);
    return guarded(s, [&] {
      if (s.current_bad) return;
      s.sha.update(sdk::view(data));
      s.data_bytes += data.len;
      s.consumer.data(sdk::view(data));
    });
  };
  sink.on_entry_end = [](void* ctx) noexcept -> sbx_status {
    auto& s = *static_cast<ReadState*>(ctx);
    return guarded(s, [&] {
      if (s.current_bad) return;
      std::string digest = s.sha.finish();
      if (s.data_bytes != s.expected_bytes) {
        s.consumer.damaged(*s.current, "data is " + std::to_string(s.data_bytes) + " bytes, expected " +
                                           std::to_string(s.expected_bytes));
      } else if (s.current->type == SBX_ENTRY_FILE && !s.current->content_hash.empty() &&
                 digest != s.current->content_hash) {
        s.consumer.damaged(*s.current, "content hash mismatch: data is damaged");
      } else {
        s.consumer.end(*s.current);
      }
    });
  };
  sink.on_entry_error = [](void* ctx, size_t index, sbx_status status,
                           sbx_str message) noexcept -> sbx_status {
    auto& s = *static_cast<ReadState*>(ctx);
    return guarded(s, [&] {
      if (index >= s.versions.size())
        throw std::runtime_error("device reported an error for an unknown locator");
      // An error can arrive for an entry whose header was already delivered (damage inside its data).
      if (s.current == s.versions[index] && s.next == index + 1) s.current_bad = true;
      s.next = std::max(s.next, index + 1);
      s.consumer.damaged(*s.versions[index], std::string(sdk::view(message)));
    });
  };
  try {
    reader->read_entries(locators, sink);
  } catch (const std::exception& e) {
    // The device gave up part way: everything it did not get to is unverified, hence damaged.
    std::string why = state.failure.empty() ? e.what() : state.failure;
    for (size_t i = state.next; i < versions.size(); ++i)
      consumer.damaged(*versions[i], "not readable: " + why);
    return;
  }
  for (size_t i = state.next; i < versions.size(); ++i)
    consumer.damaged(*versions[i], "the device did not deliver this entry");
}

}  // namespace sbx::service::detail
