#include <functional>
#include <stdexcept>

#include "internal.hpp"

namespace sbx::service::detail {
namespace {

size_t hash_of(std::string_view path) {
  return std::hash<std::string_view>{}(path);
}

}  // namespace

void PriorState::add(std::string_view path, std::string_view link_target, const Record& record) {
  // At most half full, so probes stay short.
  if ((records_.size() + 1) * 2 > slots_.size()) rehash(std::max<size_t>(1024, slots_.size() * 2));
  Record stored = record;
  stored.path_at = arena_.size();
  stored.path_length = static_cast<uint32_t>(path.size());
  arena_.append(path);
  stored.link_at = arena_.size();
  stored.link_length = static_cast<uint32_t>(link_target.size());
  arena_.append(link_target);
  records_.push_back(stored);
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash_of(path) & mask;; slot = (slot + 1) & mask)
    if (slots_[slot] == 0) {
      slots_[slot] = static_cast<uint32_t>(records_.size());
      return;
    }
}

PriorState::Record* PriorState::find(std::string_view path) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash_of(path) & mask;; slot = (slot + 1) & mask) {
    const uint32_t index = slots_[slot];
    if (index == 0) return nullptr;
    Record& record = records_[index - 1];
    if (this->path(record) == path) return &record;
  }
}

void PriorState::rehash(size_t slots) {
  slots_.assign(slots, 0);
  const size_t mask = slots - 1;
  for (size_t i = 0; i < records_.size(); ++i)
    for (size_t slot = hash_of(path(records_[i])) & mask;; slot = (slot + 1) & mask)
      if (slots_[slot] == 0) {
        slots_[slot] = static_cast<uint32_t>(i + 1);
        break;
      }
}

void PriorGate::open(PriorState* prior) {
  {
    std::lock_guard lock(mutex_);
    if (settled_) return;
    settled_ = true;
    prior_ = prior;
  }
  ready_.notify_all();
}

void PriorGate::fail(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (settled_) return;
    settled_ = true;
    failure_ = why;
  }
  ready_.notify_all();
}

PriorState* PriorGate::wait() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return settled_; });
  if (!failure_.empty()) throw std::runtime_error(failure_);
  return prior_;
}

}  // namespace sbx::service::detail
