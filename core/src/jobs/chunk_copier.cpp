// Optimized duplication: a set moves between dedup devices of one domain as the chunks the target lacks,
// then the set's manifest. The two ends speak frames over a transport connection (in-process here; the same
// frames ride on tls when the target is another server), so the bytes sent are what a WAN link would carry.
// The receiver makes chunks durable at every flush and acknowledges them; a duplication interrupted after an
// acknowledgement resumes by asking again which chunks are missing, so nothing acknowledged is sent twice.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <unordered_set>

#include "internal.hpp"

namespace sbx::service::detail {
namespace {

// Ids per chunk_missing frame: 8 MiB, half the frame limit.
constexpr size_t kIdsPerFrame = 256 * 1024;
// A flush (fsync on the receiver) at most this often keeps a resumed transfer from resending much.
constexpr uint64_t kAckEveryBytes = 64u << 20;
constexpr size_t kFrameHeaderBytes = 5;

std::string u32_bytes(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = char(v >> (8 * i));
  return out;
}

// Reads the reply to a request; an error frame from the receiver becomes its message.
net::Frame expect_reply(net::FrameReader& in, net::FrameType wanted, const char* waiting_for) {
  net::Frame frame;
  if (!in.read(frame))
    throw ServiceError(std::string("the receiver hung up while we waited for ") + waiting_for);
  if (frame.type == net::FrameType::error) {
    auto body = net::parse_json(frame);
    throw ServiceError("the receiving device refused: " + body.value("message", std::string("(no message)")));
  }
  if (frame.type != wanted)
    throw ServiceError(std::string("the receiver answered out of turn while we waited for ") + waiting_for);
  return frame;
}

// Offers the set, sends the chunks the receiver lacks and has it commit the set.
void send_set(plugins::StorageDevice& source, const std::string& store_name, net::FrameWriter& writer,
              net::FrameReader& reader, ChunkTransfer& out, const ProgressFn& progress);

// Throws the error the receiver sent before it closed the connection, if it sent one.
void rethrow_receiver_failure(net::FrameReader& in) {
  net::Frame frame;
  try {
    while (in.read(frame))
      if (frame.type == net::FrameType::error) break;
  } catch (const std::exception&) {
    return;  // nothing readable: the caller's own error stands
  }
  if (frame.type == net::FrameType::error)
    throw ServiceError("the receiving device refused: " +
                       net::parse_json(frame).value("message", std::string("(no message)")));
}

struct Sender {
  net::FrameWriter& out;
  net::FrameReader& in;
  ChunkTransfer& stats;
  uint64_t since_ack = 0;

  void send(net::FrameType type, std::string_view payload) {
    out.write(type, payload);
    stats.bytes_sent += kFrameHeaderBytes + payload.size();
  }
  void flush_and_wait_ack() {
    send(net::FrameType::chunk_flush, {});
    out.flush();
    expect_reply(in, net::FrameType::chunk_ack, "an acknowledgement");
    since_ack = 0;
  }
};

}  // namespace

bool same_dedup_domain(plugins::StorageDevice& a, plugins::StorageDevice& b) {
  if (!a.deduplicates() || !b.deduplicates()) return false;
  sbx_dedup_info ia = a.dedup_info(), ib = b.dedup_info();
  return std::memcmp(ia.domain, ib.domain, sizeof ia.domain) == 0;
}

void serve_chunk_receiver(plugins::Connection& connection, plugins::StorageDevice& target) {
  net::FrameReader in(connection);
  net::FrameWriter out(connection);
  try {
    auto receiver = target.begin_receive();
    std::string set_name, manifest;
    std::vector<std::string> missing;
    size_t next = 0;  // the missing chunk the next chunk frame carries
    uint64_t received = 0;
    net::Frame frame;
    while (in.read(frame)) {
      switch (frame.type) {
        case net::FrameType::set_offer: {
          if (next != missing.size())
            throw net::ProtocolError("a set was offered again before the chunks it lacked were sent");
          std::string_view payload = frame.payload;
          if (payload.size() < 4) throw net::ProtocolError("a set offer is too short");
          uint32_t name_len = uint32_t(uint8_t(payload[0])) | uint32_t(uint8_t(payload[1])) << 8 |
                              uint32_t(uint8_t(payload[2])) << 16 | uint32_t(uint8_t(payload[3])) << 24;
          if (name_len > payload.size() - 4) throw net::ProtocolError("a set offer's name runs past its end");
          set_name = std::string(payload.substr(4, name_len));
          manifest = std::string(payload.substr(4 + name_len));
          missing = receiver->offer_set(set_name, manifest);
          next = 0;
          for (size_t first = 0; first < missing.size(); first += kIdsPerFrame) {
            std::string ids;
            for (size_t i = first; i < std::min(missing.size(), first + kIdsPerFrame); ++i) ids += missing[i];
            out.write(net::FrameType::chunk_missing, ids);
          }
          out.write(net::FrameType::chunk_missing, {});
          out.flush();
          break;
        }
        case net::FrameType::chunk:
          if (next >= missing.size()) throw net::ProtocolError("a chunk arrived that was not asked for");
          receiver->receive_chunk(missing[next++], frame.payload);
          ++received;
          break;
        case net::FrameType::chunk_flush:
          receiver->flush_received();
          net::send_json(out, net::FrameType::chunk_ack, {{"received", received}});
          out.flush();
          received = 0;
          break;
        case net::FrameType::set_commit:
          if (set_name.empty()) throw net::ProtocolError("a commit arrived before any set was offered");
          if (next != missing.size())
            throw net::ProtocolError("commit after " + std::to_string(next) + " of " +
                                     std::to_string(missing.size()) + " missing chunks");
          receiver->receive_set(set_name, manifest);
          net::send_json(out, net::FrameType::done, nlohmann::json::object());
          out.flush();
          break;
        default:
          throw net::ProtocolError("unexpected frame type " + std::to_string(int(frame.type)) +
                                   " in a chunk copy");
      }
    }
  } catch (const std::exception& e) {
    try {
      net::send_json(out, net::FrameType::error, {{"message", e.what()}});
      out.finish();
    } catch (const std::exception& inner) {
      spdlog::warn("chunk receiver could not report '{}': {}", e.what(), inner.what());
    }
    return;
  }
  out.finish();
}

ChunkTransfer transfer_set_chunks(plugins::Registry& registry, plugins::StorageDevice& source,
                                  plugins::StorageDevice& target, const std::string& store_name,
                                  const ProgressFn& progress) {
  ChunkTransfer out;
  static std::atomic<uint64_t> links{0};
  LocalLink link =
      open_local_link(registry, "chunk-copy-" + std::to_string(::getpid()) + "-" + std::to_string(links++));
  std::thread receiver([&] {
    try {
      serve_chunk_receiver(*link.server_end, target);
    } catch (const std::exception& e) {
      spdlog::warn("chunk receiver stopped: {}", e.what());
    }
    // Closed here, not when the job ends: a receiver that gave up (its device full, say) reads no more, and
    // a sender still sending would otherwise wait for room in the connection for ever.
    link.server_end.reset();
  });
  struct Joiner {
    std::thread& thread;
    plugins::Connection& connection;
    ~Joiner() {
      connection.shutdown();
      if (thread.joinable()) thread.join();
    }
  } joiner{receiver, *link.agent_end};

  net::FrameWriter writer(*link.agent_end);
  net::FrameReader reader(*link.agent_end);
  try {
    send_set(source, store_name, writer, reader, out, progress);
  } catch (const plugins::PluginError& e) {
    if (e.status() != SBX_ERR_CLOSED) throw;
    // The receiver stopped and closed the connection; the reason it sent first says more than that.
    rethrow_receiver_failure(reader);
    throw;
  }
  return out;
}

namespace {

void send_set(plugins::StorageDevice& source, const std::string& store_name, net::FrameWriter& writer,
              net::FrameReader& reader, ChunkTransfer& out, const ProgressFn& progress) {
  Sender sender{writer, reader, out};
  ProgressTicker ticker(progress);
  ProgressInfo info{"duplicate", 0, 0, store_name};
  // What the set needs, and its stored size: the figure bytes sent is measured against.
  for (const auto& c : source.set_chunks(store_name)) {
    ++out.chunks_total;
    out.stored_bytes += c.stored_bytes;
  }
  const std::string manifest = source.read_manifest(store_name);
  out.stored_bytes += manifest.size();
  // The set is offered until the receiver lacks nothing: a receiver may learn what it lacks only from
  // chunks it has just received (a dedup device, from the entry groups that name the data chunks).
  std::unordered_set<std::string> asked;
  for (;;) {
    sender.send(net::FrameType::set_offer, u32_bytes(uint32_t(store_name.size())) + store_name + manifest);
    writer.flush();
    std::vector<std::string> missing;
    for (;;) {
      net::Frame answer = expect_reply(reader, net::FrameType::chunk_missing, "the list of missing chunks");
      if (answer.payload.empty()) break;
      if (answer.payload.size() % SBX_CHUNK_ID_BYTES != 0)
        throw ServiceError("the receiver's list of missing chunks is malformed");
      for (size_t at = 0; at < answer.payload.size(); at += SBX_CHUNK_ID_BYTES) {
        missing.push_back(answer.payload.substr(at, SBX_CHUNK_ID_BYTES));
        // Each id at most once, and only as many as the set has: a receiver cannot keep a sender going.
        if (!asked.insert(missing.back()).second)
          throw ServiceError("the receiver asked again for a chunk it was sent");
      }
      if (asked.size() > out.chunks_total)
        throw ServiceError("the receiver asked for more chunks than the set has");
    }
    if (missing.empty()) break;
    for (const auto& id : missing) {
      std::string stored = source.read_chunk(id);
      sender.send(net::FrameType::chunk, stored);
      sender.since_ack += stored.size();
      ++out.chunks_sent;
      info.bytes = out.bytes_sent;
      info.files = out.chunks_sent;
      ticker.tick(info);
      if (sender.since_ack >= kAckEveryBytes) sender.flush_and_wait_ack();
    }
    sender.flush_and_wait_ack();
  }
  sender.send(net::FrameType::set_commit, {});
  writer.flush();
  expect_reply(reader, net::FrameType::done, "the set to be committed");
  writer.finish();
}

}  // namespace

CopiedSet copy_set_by_chunks(Site& site, const catalog::BackupSet& source, const catalog::Device& device_row,
                             catalog::BackupSet target,
                             const std::vector<const catalog::FileVersion*>& versions,
                             std::optional<int64_t> fulfils, const ProgressFn& progress) {
  catalog::Catalog& catalog = site.catalog();
  CopiedSet out;
  target.device_id = device_row.id;
  target.state = "writing";
  // A dedup manifest is bound to its set's name, so the copy keeps the name (unique per device).
  target.store_name = source.store_name;
  out.set_id = catalog.begin_set(target);
  if (target.job_id) catalog.set_job_set(*target.job_id, out.set_id);
  bool committed = false;
  std::unique_ptr<plugins::StorageDevice> target_device;
  try {
    auto source_device = site.open_device(catalog.device(source.device_id));
    target_device = site.open_device(device_row);
    refuse_set_unknown_to_catalog(*target_device, device_row.name, source.store_name);
    ChunkTransfer sent =
        transfer_set_chunks(site.registry(), *source_device, *target_device, source.store_name, progress);
    committed = true;
    out.chunks_total = sent.chunks_total;
    out.chunks_sent = sent.chunks_sent;
    out.bytes_sent = sent.bytes_sent;
    out.stored_bytes = sent.stored_bytes;
    record_copied_versions(catalog, out, versions);
    out.bytes = source.bytes;  // the same entries with the same data (sparse files count their data only)
    catalog.transaction([&] {
      catalog.complete_set(out.set_id, out.entries, out.bytes, out.stored_bytes, source.warnings);
      if (fulfils) catalog.update_copy(*fulfils, "done", target.job_id, out.set_id, "");
    });
  } catch (const std::exception& e) {
    discard_new_set(catalog, committed ? target_device.get() : nullptr, out.set_id, target.store_name);
    throw ServiceError(e.what());
  }
  return out;
}

void refuse_set_unknown_to_catalog(plugins::StorageDevice& target, const std::string& device_name,
                                   const std::string& store_name) {
  try {
    target.read_manifest(store_name);
  } catch (const plugins::PluginError& e) {
    if (e.status() == SBX_ERR_NOT_FOUND) return;
    throw;
  }
  throw ServiceError("device '" + device_name + "' already holds a set stored as " + store_name +
                     " that this site's catalog does not list there (written by another site, or before the "
                     "catalog was rebuilt); it was left as it is");
}

void record_copied_versions(catalog::Catalog& catalog, CopiedSet& out,
                            const std::vector<const catalog::FileVersion*>& versions) {
  std::vector<catalog::FileVersion> batch;
  for (const auto* version : versions) {
    catalog::FileVersion copied = *version;
    copied.set_id = out.set_id;
    if (!copied.deleted) ++out.entries;
    batch.push_back(std::move(copied));
    if (batch.size() >= 5000) {
      catalog.add_file_versions(out.set_id, batch);
      batch.clear();
    }
  }
  if (!batch.empty()) catalog.add_file_versions(out.set_id, batch);
}

}  // namespace sbx::service::detail
