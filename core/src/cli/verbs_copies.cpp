// strongbox synthesize | duplicate: new sets made from sets the site already holds.
#include <cstdio>

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
  std::string set;
  std::string device;
};

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
  duplicate->add_option("SET", dup->set, "set to copy")->required();
  duplicate->add_option("--to", dup->device, "device to copy it to")->required();
  duplicate->fallthrough();
  duplicate->callback([&g, dup] {
    auto site = open_site(g);
    service::DuplicateRequest request;
    request.set_id = parse_id(dup->set, "set id");
    request.device = dup->device;
    auto r = site->duplicate(request, terminal_progress(g.out));
    end_progress(g.out);
    if (g.out.json)
      print_json(r.to_json());
    else if (!g.out.quiet)
      std::printf("set %lld (copy of set %lld on %s): %llu entries, %s stored in %.1f s\n",
                  (long long)r.set_id, (long long)r.source_set_id, r.device.c_str(),
                  (unsigned long long)r.entries, human_bytes(r.stored_bytes).c_str(), r.seconds);
  });
}

}  // namespace sbx::cli
