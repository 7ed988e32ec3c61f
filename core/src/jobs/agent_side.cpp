// The agent's end of a job: frames what the agent plugin produces (backup) or feeds it what arrives
// (restore). In embedded mode this runs on a thread beside the server; later the same code runs in `strongbox
// agent`.
#include <spdlog/spdlog.h>

#include <cstring>

#include "internal.hpp"

namespace sbx::service::detail {
namespace {

constexpr size_t kMaxDataFrame = 4u << 20;

struct BackupSinkState {
  net::FrameWriter writer;
  PriorGate& gate;
  PriorState* prior = nullptr;
  bool prior_known = false;  // passed the gate
  Sha256 sha;
  std::string failure;  // why the stream broke, if it did

  // The prior state, once the server side has read it; throws when it could not.
  PriorState* base() {
    if (!prior_known) {
      prior = gate.wait();
      prior_known = true;
    }
    return prior;
  }

  sbx_status guarded(const std::function<void()>& body) noexcept {
    try {
      body();
      return SBX_OK;
    } catch (const std::exception& e) {
      if (failure.empty()) failure = e.what();
      return SBX_ERR_CLOSED;
    }
  }
};

bool unchanged(const PriorState::Record& before, std::string_view link_target, const sbx_entry& now) {
  if (before.type != now.type || before.mode != (now.mode & 07777) || before.uid != now.uid ||
      before.gid != now.gid)
    return false;
  // A hard link entry is a name for an earlier path of this run: it changes when that path does.
  if (now.type == SBX_ENTRY_HARDLINK) return link_target == sdk::view(now.link_target);
  // Symlinks are immutable on Linux: a new target means a new inode and ctime, which the rule below sees.
  if (now.type == SBX_ENTRY_SYMLINK)
    return before.mtime_ns == now.mtime_ns && before.ctime_ns == now.ctime_ns && before.inode == now.inode;
  return before.size == now.size && before.mtime_ns == now.mtime_ns && before.ctime_ns == now.ctime_ns &&
         before.inode == now.inode;
}

const sbx_backup_sink* make_backup_sink(BackupSinkState& state, sbx_backup_sink& sink) {
  sink.struct_size = sizeof(sbx_backup_sink);
  sink.ctx = &state;
  sink.check = [](void* ctx, const sbx_entry* e) noexcept -> sbx_status {
    auto& s = *static_cast<BackupSinkState*>(ctx);
    PriorState* prior = nullptr;
    if (sbx_status status = s.guarded([&] { prior = s.base(); }); status != SBX_OK) return status;
    if (!prior) return SBX_OK;
    PriorState::Record* before = prior->find(sdk::view(e->path));
    if (!before) return SBX_OK;
    before->seen = true;
    before->skipped = unchanged(*before, prior->link_target(*before), *e);
    return before->skipped ? SBX_SKIP : SBX_OK;
  };
  sink.on_entry = [](void* ctx, const sbx_entry* e) noexcept -> sbx_status {
    auto& s = *static_cast<BackupSinkState*>(ctx);
    return s.guarded([&] {
      s.sha.reset();
      s.writer.write(net::FrameType::entry, net::encode_entry(*e));
    });
  };
  sink.on_data = [](void* ctx, sbx_bytes data) noexcept -> sbx_status {
    auto& s = *static_cast<BackupSinkState*>(ctx);
    return s.guarded([&] {
      std::string_view all = sdk::view(data);
      s.sha.update(all);
      for (size_t off = 0; off < all.size(); off += kMaxDataFrame)
        s.writer.write(net::FrameType::data, all.substr(off, kMaxDataFrame));
    });
  };
  sink.on_entry_end = [](void* ctx) noexcept -> sbx_status {
    auto& s = *static_cast<BackupSinkState*>(ctx);
    return s.guarded([&] { s.writer.write(net::FrameType::entry_end, s.sha.finish()); });
  };
  sink.on_warning = [](void* ctx, sbx_bytes path, sbx_str message) noexcept {
    auto& s = *static_cast<BackupSinkState*>(ctx);
    // What could not be read is not gone: a directory the agent could not open keeps everything the base
    // chain has below it, or the next point-in-time restore would leave those files out.
    s.guarded([&] {
      PriorState* prior = s.base();
      if (!prior) return;
      std::string prefix = std::string(sdk::view(path)) + "/";
      for (auto& record : prior->records())
        if (prior->path(record).starts_with(prefix)) record.seen = true;
    });
    s.guarded([&] {
      s.writer.write(net::FrameType::warning, warning_payload(sdk::view(path), sdk::view(message)));
    });
  };
  return &sink;
}

}  // namespace

std::string warning_payload(std::string_view path, std::string_view message) {
  std::string out;
  uint32_t n = uint32_t(path.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out.append(path);
  out.append(message);
  return out;
}

std::pair<std::string, std::string> decode_warning(std::string_view payload) {
  uint32_t n = 0;
  if (payload.size() < 4) throw net::ProtocolError("malformed warning frame");
  std::memcpy(&n, payload.data(), 4);
  if (n > payload.size() - 4) throw net::ProtocolError("malformed warning frame");
  return {std::string(payload.substr(4, n)), std::string(payload.substr(4 + n))};
}

void run_agent_backup(plugins::Agent& agent, plugins::Connection& connection, const nlohmann::json& job,
                      PriorGate& gate) {
  BackupSinkState state{net::FrameWriter(connection), gate, nullptr, false, {}, {}};
  sbx_backup_sink sink{};
  try {
    agent.backup(job.dump(), *make_backup_sink(state, sink));
    if (PriorState* prior = state.base()) {
      for (const auto& record : prior->records())
        if (!record.seen) state.writer.write(net::FrameType::deleted, prior->path(record));
    }
    net::send_json(state.writer, net::FrameType::done, {{"ok", true}});
    state.writer.finish();
  } catch (const std::exception& e) {
    std::string why = state.failure.empty() ? e.what() : state.failure;
    try {
      net::send_json(state.writer, net::FrameType::error, {{"message", why}});
      state.writer.finish();
    } catch (const std::exception&) {
      // The server side is gone; it already knows the job failed.
    }
  }
}

void run_agent_restore(plugins::Agent& agent, plugins::Connection& connection,
                       const nlohmann::json& options) {
  net::FrameReader reader(connection);
  net::FrameWriter writer(connection);
  std::vector<std::string> problems;
  try {
    auto restore = agent.begin_restore(options.dump());
    net::FrameView frame;
    sdk::Entry entry;
    bool skipping = false;  // the agent refused the current entry: drop its data
    bool finished = false;
    while (!finished && reader.read(frame)) {
      switch (frame.type) {
        case net::FrameType::entry:
          net::decode_entry(frame.payload, entry);
          try {
            restore->restore_entry(entry.as_c());
            skipping = false;
          } catch (const plugins::PluginError& e) {
            problems.push_back(printable(entry.path) + ": " + e.what());
            skipping = true;
          }
          break;
        case net::FrameType::data:
          if (skipping) break;
          try {
            restore->restore_data(frame.payload);
          } catch (const plugins::PluginError& e) {
            problems.push_back(printable(entry.path) + ": " + e.what());
            skipping = true;
          }
          break;
        case net::FrameType::entry_end:
          if (!skipping) {
            try {
              restore->restore_entry_end();
            } catch (const plugins::PluginError& e) {
              problems.push_back(printable(entry.path) + ": " + e.what());
            }
          }
          skipping = false;
          break;
        case net::FrameType::done:
          restore->finish();
          finished = true;
          break;
        case net::FrameType::error:
          throw net::ProtocolError("server aborted the restore: " +
                                   net::parse_json(frame).value("message", "?"));
        default:
          throw net::ProtocolError("unexpected frame type " + std::to_string(int(frame.type)) +
                                   " in a restore stream");
      }
    }
    if (!finished) throw net::ProtocolError("restore stream ended before it was complete");
    for (const auto& p : problems) writer.write(net::FrameType::warning, warning_payload("", p));
    net::send_json(writer, net::FrameType::done, {{"ok", true}});
    writer.finish();
  } catch (const std::exception& e) {
    try {
      for (const auto& p : problems) writer.write(net::FrameType::warning, warning_payload("", p));
      net::send_json(writer, net::FrameType::error, {{"message", e.what()}});
      writer.finish();
    } catch (const std::exception&) {
    }
  }
}

}  // namespace sbx::service::detail
