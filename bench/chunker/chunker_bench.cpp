// sbx_bench_chunker DIR_A [DIR_B]: measures the dedup chunker with several size parameter sets, to pick
// default_chunker_params(). Per set it prints the scan speed, the chunk count and mean size of the trees,
// the dedup ratio (unique chunk bytes / total bytes) and what a "1% of the files changed" backup would add.
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chunker.hpp"

namespace {

using sbx::dedup::Chunker;
using sbx::dedup::ChunkerParams;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr uint32_t kKiB = 1024;
constexpr uint32_t kMiB = 1024 * kKiB;
// What one chunk costs besides its bytes: index entry, pack file header, catalog reference (DESIGN.md).
constexpr double kPerChunkOverheadBytes = 60;
// Every kChangedFileStride-th file gets kChangedBytes bytes flipped in its middle for the "1% changed" run.
constexpr size_t kChangedFileStride = 100;
constexpr size_t kChangedBytes = 4;
constexpr size_t kRandomScanBytes = size_t{256} * kMiB;

using Digest = std::array<uint8_t, 32>;
struct DigestHash {
  // SHA-256 output is already uniform; its first 8 bytes make a perfectly good table hash.
  size_t operator()(const Digest& digest) const {
    size_t value;
    std::memcpy(&value, digest.data(), sizeof value);
    return value;
  }
};
using ChunkSet = std::unordered_map<Digest, uint32_t, DigestHash>;  // digest -> chunk length

Digest sha256(const uint8_t* data, size_t len) {
  Digest digest;
  unsigned int digest_len = 0;
  if (EVP_Digest(data, len, digest.data(), &digest_len, EVP_sha256(), nullptr) != 1 || digest_len != 32) {
    std::fprintf(stderr, "SHA-256 failed\n");
    std::exit(1);
  }
  return digest;
}

std::vector<fs::path> regular_files_under(const fs::path& root) {
  std::vector<fs::path> files;
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error), end;
  for (; !error && it != end; it.increment(error)) {
    // symlink_status: a link is not followed, so a tree with links to big files outside is not inflated.
    if (fs::is_regular_file(it->symlink_status())) files.push_back(it->path());
  }
  if (error) std::fprintf(stderr, "warning: walking %s: %s\n", root.c_str(), error.message().c_str());
  // A fixed order makes "every 100th file" the same files for every parameter set.
  std::sort(files.begin(), files.end());
  return files;
}

struct ChunkingTotals {
  uint64_t files = 0;
  uint64_t unreadable_files = 0;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  uint64_t new_unique_bytes = 0;  // bytes of chunks that were not in the set yet
  uint64_t new_unique_chunks = 0;
  double chunking_seconds = 0;  // time inside next_cut only: reading and hashing are not the chunker's cost
};

// Streams one file through the chunker the way the dedup device will: a buffer of at least max_size, refilled
// whenever next_cut asks for more. `flip_middle` XORs kChangedBytes bytes at the middle of the file as they
// are read. Each chunk's digest goes into `seen`; new ones are counted in `totals`.
bool chunk_file(const fs::path& path, const Chunker& chunker, bool flip_middle, std::vector<uint8_t>& buffer,
                ChunkSet& seen, ChunkingTotals& totals) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  std::optional<uint64_t> flip_at;
  if (flip_middle) {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    ::lseek(fd, 0, SEEK_SET);
    if (size > 0) flip_at = static_cast<uint64_t>(size) / 2;
  }
  size_t filled = 0;
  uint64_t file_offset_of_buffer = 0;  // file offset of buffer[0]
  bool at_end = false;
  bool ok = true;
  while (true) {
    while (!at_end && filled < buffer.size()) {
      const ssize_t got = ::read(fd, buffer.data() + filled, buffer.size() - filled);
      if (got < 0) {
        ok = false;
        at_end = true;
        break;
      }
      if (got == 0) at_end = true;
      filled += static_cast<size_t>(got);
    }
    if (flip_at) {
      for (size_t i = 0; i < kChangedBytes; ++i) {
        const uint64_t at = *flip_at + i;
        if (at >= file_offset_of_buffer && at < file_offset_of_buffer + filled) {
          buffer[at - file_offset_of_buffer] ^= 0xff;
        }
      }
      if (*flip_at + kChangedBytes <= file_offset_of_buffer + filled) flip_at.reset();
    }
    size_t start = 0;
    while (start < filled) {
      const auto before = Clock::now();
      const size_t cut = chunker.next_cut(buffer.data() + start, filled - start, at_end);
      totals.chunking_seconds += std::chrono::duration<double>(Clock::now() - before).count();
      if (cut == 0) break;
      const auto [entry, inserted] =
          seen.emplace(sha256(buffer.data() + start, cut), static_cast<uint32_t>(cut));
      ++totals.chunks;
      if (inserted) {
        totals.new_unique_bytes += cut;
        ++totals.new_unique_chunks;
      }
      totals.bytes += cut;
      start += cut;
    }
    if (at_end) break;
    std::memmove(buffer.data(), buffer.data() + start, filled - start);
    file_offset_of_buffer += start;
    filled -= start;
  }
  ::close(fd);
  ++totals.files;
  return ok;
}

ChunkingTotals chunk_files(const std::vector<fs::path>& files, const Chunker& chunker, ChunkSet& seen,
                           const std::function<bool(size_t)>& changed) {
  // Room for a whole max-size chunk plus a read's worth, so next_cut can always decide.
  std::vector<uint8_t> buffer(chunker.params().max_size + kMiB);
  ChunkingTotals totals;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!chunk_file(files[i], chunker, changed(i), buffer, seen, totals)) ++totals.unreadable_files;
  }
  return totals;
}

std::vector<uint8_t> random_bytes(size_t size) {
  std::vector<uint8_t> bytes(size);
  uint64_t state = 0x62656e6368;  // any fixed seed: only the speed is measured
  for (size_t i = 0; i + 8 <= size; i += 8) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    const uint64_t word = state ^ (state >> 29);
    std::memcpy(bytes.data() + i, &word, 8);
  }
  return bytes;
}

// Scan speed on incompressible bytes, where every byte of every chunk past min_size is hashed.
double random_scan_mb_per_s(const Chunker& chunker, const std::vector<uint8_t>& data) {
  double best = 0;
  for (int round = 0; round < 3; ++round) {  // best of 3: the machine is shared
    const auto start = Clock::now();
    size_t offset = 0;
    while (offset < data.size()) offset += chunker.next_cut(data.data() + offset, data.size() - offset, true);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    best = std::max(best, data.size() / seconds / 1e6);
  }
  return best;
}

std::string size_text(uint64_t bytes) {
  char text[32];
  if (bytes >= kMiB && bytes % kMiB == 0) {
    std::snprintf(text, sizeof text, "%lluM", static_cast<unsigned long long>(bytes / kMiB));
  } else if (bytes >= kKiB && bytes % kKiB == 0) {
    std::snprintf(text, sizeof text, "%lluK", static_cast<unsigned long long>(bytes / kKiB));
  } else {
    std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(bytes));
  }
  return text;
}

double mb(uint64_t bytes) {
  return bytes / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s DIR_A [DIR_B]\n", argv[0]);
    return 2;
  }
  const std::vector<ChunkerParams> parameter_sets{
      {16 * kKiB, 64 * kKiB, 256 * kKiB}, {32 * kKiB, 128 * kKiB, 512 * kKiB},
      {64 * kKiB, 256 * kKiB, 1 * kMiB},  {128 * kKiB, 512 * kKiB, 2 * kMiB},
      {256 * kKiB, 1 * kMiB, 4 * kMiB},   {512 * kKiB, 2 * kMiB, 8 * kMiB},
  };
  const auto files_a = regular_files_under(argv[1]);
  const auto files_b = argc == 3 ? regular_files_under(argv[2]) : std::vector<fs::path>{};
  std::printf("A: %s, %zu files", argv[1], files_a.size());
  if (argc == 3) std::printf("; B: %s, %zu files", argv[2], files_b.size());
  std::printf("\n1%% changed: every %zuth file of A gets %zu bytes flipped in its middle\n",
              kChangedFileStride, kChangedBytes);
  const auto random = random_bytes(kRandomScanBytes);
  const auto never = [](size_t) { return false; };
  const auto every_100th = [](size_t index) { return index % kChangedFileStride == kChangedFileStride - 1; };

  std::printf("\n%-14s %9s %9s %9s %8s %9s %7s %9s %8s", "min/avg/max", "scan MB/s", "tree MB/s", "chunks A",
              "mean KiB", "unique A", "index", "1% new", "1% new");
  if (argc == 3) std::printf(" %9s %8s", "new in B", "A+B");
  std::printf("\n%-14s %9s %9s %9s %8s %9s %7s %9s %8s", "", "(random)", "(A)", "", "", "/ total", "MB", "MB",
              "chunks");
  if (argc == 3) std::printf(" %9s %8s", "MB", "ratio");
  std::printf("\n");

  for (const ChunkerParams& params : parameter_sets) {
    const Chunker chunker(params);
    const std::string name =
        size_text(params.min_size) + "/" + size_text(params.avg_size) + "/" + size_text(params.max_size);
    const double scan_speed = random_scan_mb_per_s(chunker, random);

    ChunkSet seen;
    const ChunkingTotals a = chunk_files(files_a, chunker, seen, never);
    // The changed variant is hashed against A's chunks in a copy, so B is still compared with A alone.
    ChunkSet after_change = seen;
    const ChunkingTotals changed = chunk_files(files_a, chunker, after_change, every_100th);
    const ChunkingTotals b = chunk_files(files_b, chunker, seen, never);

    std::printf("%-14s %9.0f %9.0f %9llu %8.1f %9.3f %7.2f %9.2f %8llu", name.c_str(), scan_speed,
                mb(a.bytes) / std::max(a.chunking_seconds, 1e-9), static_cast<unsigned long long>(a.chunks),
                a.chunks ? a.bytes / 1024.0 / a.chunks : 0.0,
                a.bytes ? static_cast<double>(a.new_unique_bytes) / a.bytes : 0.0,
                mb(a.new_unique_chunks * kPerChunkOverheadBytes), mb(changed.new_unique_bytes),
                static_cast<unsigned long long>(changed.new_unique_chunks));
    if (argc == 3) {
      const uint64_t total = a.bytes + b.bytes;
      std::printf(" %9.1f %8.3f", mb(b.new_unique_bytes),
                  total ? static_cast<double>(a.new_unique_bytes + b.new_unique_bytes) / total : 0.0);
    }
    std::printf("\n");
    std::fflush(stdout);
    if (a.unreadable_files + b.unreadable_files > 0) {
      std::printf("  (%llu files could not be read and were skipped)\n",
                  static_cast<unsigned long long>(a.unreadable_files + b.unreadable_files));
    }
  }

  // What the 1% columns compare against: storing every changed file again in full.
  uint64_t changed_file_bytes = 0;
  for (size_t i = kChangedFileStride - 1; i < files_a.size(); i += kChangedFileStride) {
    std::error_code error;
    const auto size = fs::file_size(files_a[i], error);
    if (!error) changed_file_bytes += size;
  }
  uint64_t tree_bytes = 0;
  std::vector<uint64_t> bytes_in_files_below(parameter_sets.size());
  for (const auto& file : files_a) {
    std::error_code error;
    const auto size = fs::file_size(file, error);
    if (error) continue;
    tree_bytes += size;
    for (size_t i = 0; i < parameter_sets.size(); ++i) {
      if (size < parameter_sets[i].min_size) bytes_in_files_below[i] += size;
    }
  }
  std::printf("\nA: %.1f MB; the changed 1%% of files hold %.2f MB\n", mb(tree_bytes),
              mb(changed_file_bytes));
  std::printf("share of A's bytes in files below min_size (each one chunk):");
  for (size_t i = 0; i < parameter_sets.size(); ++i) {
    std::printf(" %s %.0f%%", size_text(parameter_sets[i].min_size).c_str(),
                tree_bytes ? 100.0 * bytes_in_files_below[i] / tree_bytes : 0.0);
  }
  std::printf("\n");
  return 0;
}
