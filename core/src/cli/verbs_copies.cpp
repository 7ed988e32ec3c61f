// strongbox synthesize | duplicate | transfer: new sets made from sets the site already holds.
#include <cstdio>
#include <filesystem>

#include "verbs.hpp"

namespace sbx::cli {
namespace {

using service::ServiceError;

// "1-2-3" for a chain of sets.
std::string chain_text(const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t id : ids) text += (text.empty() ? "" : "-") + std::to_string(id);
  return text;
}

struct SynthesizeOptions {
  std::string set;
  std::string definition;
  std::string device;
};

struct DuplicateOptions {
  std::vector<std::string> sets;
  std::string device;
};

void print_transfer(const Globals& g, const service::TransferResult& r) {
  if (g.out.json) {
    print_json(r.to_json());
    return;
  }
  if (g.out.quiet) return;
  std::string ids;
  for (int64_t id : r.sets) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  std::printf("%s %zu sets (%s) %s %s: sent %llu of %llu chunks, %s in %.1f s\n",
              r.direction == "export" ? "exported" : "imported", r.sets.size(),
              ids.empty() ? "none new" : ids.c_str(), r.direction == "export" ? "to" : "into",
              r.direction == "export" ? r.dir.c_str() : r.device.c_str(), (unsigned long long)r.chunks_sent,
              (unsigned long long)r.chunks_total, human_bytes(r.bytes_sent).c_str(), r.seconds);
}

std::string absolute_path(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

}  // namespace

void add_copy_verbs(CLI::App& app, Globals& g) {
  auto* synthesize = app.add_subcommand(
      "synthesize",
      "assemble a new full from the last full and the incrementals after it, without the source");
  auto synth = std::make_shared<SynthesizeOptions>();
  auto* set_option = synthesize->add_option("SET", synth->set, "newest set of the chain to assemble");
  synthesize->add_option("--definition", synth->definition, "assemble the newest chain of this definition")
      ->excludes(set_option);
  synthesize->add_option("--device", synth->device,
                         "device for the new full (default: the device of the newest set)");
  synthesize->fallthrough();
  synthesize->callback([&g, synth] {
    if (synth->set.empty() && synth->definition.empty())
      throw ServiceError("give a set id or --definition NAME to synthesize", service::kExitUsage);
    auto site = open_site(g);
    service::SynthesizeRequest request;
    if (!synth->set.empty()) request.set_id = parse_id(synth->set, "set id");
    request.definition = synth->definition;
    request.device = synth->device;
    auto r = site->synthesize(request, terminal_progress(g.out));
    end_progress(g.out);
    if (g.out.json)
      print_json(r.to_json());
    else if (!g.out.quiet)
      std::printf("set %lld (synthetic full of sets %s): %llu entries, %s stored in %.1f s\n",
                  (long long)r.set_id, chain_text(r.from_sets).c_str(), (unsigned long long)r.entries,
                  human_bytes(r.stored_bytes).c_str(), r.seconds);
  });

  auto* duplicate =
      app.add_subcommand("duplicate", "copy a set to another device; the copy is a set of its own");
  auto dup = std::make_shared<DuplicateOptions>();
  duplicate->add_option("SET", dup->sets, "sets to copy")->required();
  duplicate->add_option("--to", dup->device, "device to copy it to")->required();
  duplicate->fallthrough();
  duplicate->callback([&g, dup] {
    std::vector<int64_t> ids;
    for (const auto& set : dup->sets) ids.push_back(parse_id(set, "set id"));
    auto site = open_site(g);
    for (int64_t id : ids) {
      service::DuplicateRequest request;
      request.set_id = id;
      request.device = dup->device;
      auto r = site->duplicate(request, terminal_progress(g.out));
      end_progress(g.out);
      if (g.out.json) {
        print_json(r.to_json());
      } else if (!g.out.quiet) {
        std::printf("set %lld (copy of set %lld on %s): %llu entries, %s stored in %.1f s\n",
                    (long long)r.set_id, (long long)r.source_set_id, r.device.c_str(),
                    (unsigned long long)r.entries, human_bytes(r.stored_bytes).c_str(), r.seconds);
        if (r.optimized)
          std::printf("  optimized: sent %llu of %llu chunks, %s\n", (unsigned long long)r.chunks_sent,
                      (unsigned long long)r.chunks_total, human_bytes(r.bytes_sent).c_str());
      }
    }
  });
}

void add_transfer_verbs(CLI::App& app, Globals& g) {
  auto* transfer = app.add_subcommand("transfer", "move sets of a dedup device through a removable drive");
  transfer->require_subcommand(1);

  struct ExportOptions {
    std::vector<std::string> sets;
    std::string dir;
  };
  auto ex = std::make_shared<ExportOptions>();
  auto* export_cmd =
      transfer->add_subcommand("export", "write sets with their chunks to a directory (a drive)");
  export_cmd->add_option("SET", ex->sets, "sets to export")->required();
  export_cmd->add_option("--to", ex->dir, "directory on the drive (absolute; created when missing)")
      ->required();
  export_cmd->fallthrough();
  export_cmd->callback([&g, ex] {
    std::vector<int64_t> ids;
    for (const auto& set : ex->sets) ids.push_back(parse_id(set, "set id"));
    auto site = open_site(g);
    auto r = site->transfer_export(ids, absolute_path(ex->dir), terminal_progress(g.out));
    end_progress(g.out);
    print_transfer(g, r);
  });

  struct ImportOptions {
    std::string dir, device, key_file;
  };
  auto im = std::make_shared<ImportOptions>();
  auto* import_cmd =
      transfer->add_subcommand("import", "take the sets of a transfer directory into a dedup device");
  import_cmd->add_option("DIR", im->dir, "the transfer directory")->required();
  import_cmd->add_option("--device", im->device, "dedup device of the same domain to import into")
      ->required();
  import_cmd->add_option("--key-file", im->key_file,
                         "admin key that opens the drive (default: the device's own)");
  import_cmd->fallthrough();
  import_cmd->callback([&g, im] {
    auto site = open_site(g);
    auto r = site->transfer_import(absolute_path(im->dir), im->device,
                                   im->key_file.empty() ? "" : absolute_path(im->key_file),
                                   terminal_progress(g.out));
    end_progress(g.out);
    print_transfer(g, r);
  });
}

}  // namespace sbx::cli
