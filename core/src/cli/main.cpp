// strongbox VERB [flags]: the command line of the embedded (standalone) site.
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <strongbox/policy.hpp>
#include <strongbox/service.hpp>

#include "verbs.hpp"

namespace fs = std::filesystem;
using sbx::service::ServiceError;

namespace sbx::cli {

std::unique_ptr<service::Site> open_site(const Globals& g) {
  return service::Site::open(service::Site::locate(g.site));
}

int64_t parse_id(const std::string& text, const std::string& what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 18 ||
      std::stoll(text) == 0)
    throw ServiceError("'" + text + "' is not a valid " + what, service::kExitUsage);
  return std::stoll(text);
}

nlohmann::json set_json(const catalog::BackupSet& s) {
  nlohmann::json j = {
      {"type", "set"},
      {"id", s.id},
      {"level", s.level},
      {"base_set_id", s.base_set_id ? nlohmann::json(*s.base_set_id) : nlohmann::json(nullptr)},
      {"state", s.state},
      {"series", s.series},
      {"sources", s.sources},
      {"device_id", s.device_id},
      {"started", service::format_time(s.started_ns)},
      {"completed", s.completed_ns ? service::format_time(s.completed_ns) : ""},
      {"files", s.file_count},
      {"bytes", s.bytes},
      {"stored_bytes", s.stored_bytes},
      {"warnings", s.warnings},
      {"legal_hold", s.legal_hold},
      {"agent", s.agent},
      {"definition", s.definition},
      {"synthetic", s.synthetic}};
  j["copy_of"] = s.copy_of ? nlohmann::json(*s.copy_of) : nlohmann::json(nullptr);
  return j;
}

namespace {

int64_t parse_set_id(const std::string& text) {
  return parse_id(text, "set id");
}

std::string type_name(int type) {
  switch (type) {
    case SBX_ENTRY_FILE:
      return "file";
    case SBX_ENTRY_DIRECTORY:
      return "dir";
    case SBX_ENTRY_SYMLINK:
      return "symlink";
    case SBX_ENTRY_HARDLINK:
      return "hardlink";
    case SBX_ENTRY_FIFO:
      return "fifo";
    case SBX_ENTRY_CHAR_DEVICE:
      return "chardev";
    case SBX_ENTRY_BLOCK_DEVICE:
      return "blockdev";
    default:
      return "unknown";
  }
}

nlohmann::json device_json(const service::DeviceStatus& d) {
  nlohmann::json j = {{"type", "device"},           {"name", d.device.name},
                      {"plugin", d.device.type},    {"settings", d.device.settings},
                      {"online", d.online},         {"total_bytes", d.total_bytes},
                      {"free_bytes", d.free_bytes}, {"used_bytes", d.used_bytes}};
  if (!d.problem.empty()) j["problem"] = d.problem;
  return j;
}

void print_device(const service::DeviceStatus& d) {
  std::printf("%-16s %-8s %-8s %10s free  %s%s\n", d.device.name.c_str(), d.device.type.c_str(),
              d.online ? "online" : "OFFLINE", human_bytes(d.free_bytes).c_str(),
              d.device.settings.value("path", "").c_str(),
              d.problem.empty() ? "" : ("  (" + d.problem + ")").c_str());
}

int finish_backup(const Globals& g, const service::BackupResult& r) {
  end_progress(g.out);
  if (g.out.json) {
    print_json(r.to_json());
  } else if (!g.out.quiet) {
    if (!r.note.empty()) std::printf("note: %s\n", r.note.c_str());
    std::printf(
        "set %lld (%s%s): %llu entries stored, %llu unchanged, %llu deleted; %s read, %s stored in %.1f s\n",
        (long long)r.set_id, r.level.c_str(),
        r.base_set_id ? (" on set " + std::to_string(*r.base_set_id)).c_str() : "",
        (unsigned long long)r.entries_stored, (unsigned long long)r.entries_unchanged,
        (unsigned long long)r.entries_deleted, human_bytes(r.bytes_read).c_str(),
        human_bytes(r.stored_bytes).c_str(), r.seconds);
  }
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return r.warnings.empty() ? service::kExitOk : service::kExitPartial;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"strongbox: backup and restore with plugins and Lua policies"};
  app.require_subcommand(1);
  Globals g;
  int& exit_code = g.exit_code;
  app.add_option("--site", g.site, "site directory (default: $STRONGBOX_SITE, else the current directory)");
  app.add_flag("--json", g.out.json, "print one JSON object per line");
  app.add_flag("-q,--quiet", g.out.quiet, "print nothing but errors");
  app.add_flag("-v,--verbose", g.verbosity, "log more (repeat for debug)");

  // init
  auto* init = app.add_subcommand("init", "make a new standalone site with one disk device named disk1");
  std::string init_dir;
  init->add_option("DIR", init_dir, "directory of the new site")->required();
  init->callback([&] {
    service::Site::init(init_dir);
    if (g.out.json)
      print_json({{"type", "init"},
                  {"site", fs::absolute(init_dir).lexically_normal().string()},
                  {"device", "disk1"}});
    else if (!g.out.quiet)
      std::printf("site created in %s with device disk1\n",
                  fs::absolute(init_dir).lexically_normal().c_str());
  });

  // devices
  auto* devices = app.add_subcommand("devices", "list, add and remove storage devices");
  devices->require_subcommand(1);
  devices->add_subcommand("list", "list devices with their state")->callback([&] {
    auto site = open_site(g);
    for (const auto& d : site->list_devices()) g.out.json ? print_json(device_json(d)) : print_device(d);
  });
  auto* dev_add = devices->add_subcommand("add", "add a device: a named instance of a storage plugin");
  std::string dev_name, dev_type, dev_path, dev_key;
  std::vector<std::string> dev_settings;
  dev_add->add_option("NAME", dev_name, "device name")->required();
  dev_add->add_option("--type", dev_type, "storage plugin (see `strongbox plugins list`)")->required();
  dev_add->add_option("--path", dev_path, "directory the device keeps its data in");
  dev_add->add_option("--key-file", dev_key,
                      "file holding the 32-byte encryption key (enables encryption at rest)");
  dev_add->add_option("--set", dev_settings, "further plugin setting KEY=VALUE (repeatable)");
  dev_add->callback([&] {
    auto site = open_site(g);
    nlohmann::json settings = nlohmann::json::object();
    if (!dev_path.empty()) settings["path"] = fs::absolute(dev_path).lexically_normal().string();
    if (!dev_key.empty()) settings["key_file"] = fs::absolute(dev_key).lexically_normal().string();
    for (const auto& kv : dev_settings) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw ServiceError("--set wants KEY=VALUE, got '" + kv + "'", service::kExitUsage);
      std::string value = kv.substr(eq + 1);
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos && value.size() < 18)
        settings[kv.substr(0, eq)] = std::stoll(value);
      else
        settings[kv.substr(0, eq)] = value;
    }
    auto status = site->add_device(dev_name, dev_type, settings);
    g.out.json ? print_json(device_json(status)) : (g.out.quiet ? void() : print_device(status));
  });
  auto* dev_remove = devices->add_subcommand("remove", "remove a device that holds no live sets");
  std::string dev_remove_name;
  dev_remove->add_option("NAME", dev_remove_name, "device name")->required();
  dev_remove->callback([&] {
    auto site = open_site(g);
    site->remove_device(dev_remove_name);
    if (g.out.json)
      print_json({{"type", "device_removed"}, {"name", dev_remove_name}});
    else if (!g.out.quiet)
      std::printf("device %s removed\n", dev_remove_name.c_str());
  });

  // backup
  auto* backup = app.add_subcommand("backup", "back up files and directories");
  service::BackupRequest backup_request;
  backup->add_option("SRC", backup_request.sources, "files or directories to back up")->required();
  backup->add_option("--device", backup_request.device,
                     "device to write to (default: disk1, or the only device)");
  backup->add_option("--level", backup_request.level, "full, incremental (default) or differential")
      ->check(CLI::IsMember({"full", "incremental", "differential"}));
  backup->add_option("--exclude", backup_request.excludes,
                     "glob to leave out; with '/' it matches the whole path (repeatable)");
  backup->add_option("--include", backup_request.includes,
                     "back up only files matching this glob (repeatable; directories are always searched)");
  backup->callback([&] {
    auto site = open_site(g);
    exit_code = finish_backup(g, site->backup(backup_request, terminal_progress(g.out)));
  });

  // sets
  auto* sets = app.add_subcommand("sets", "backup sets");
  sets->require_subcommand(1);
  sets->add_subcommand("list", "list backup sets")->callback([&] {
    auto site = open_site(g);
    auto all = site->catalog().list_sets();
    if (!g.out.json && !g.out.quiet)
      std::printf("%-6s %-12s %-6s %-9s %-20s %8s %10s  %s\n", "ID", "LEVEL", "BASE", "STATE", "STARTED",
                  "FILES", "STORED", "SOURCES");
    for (const auto& s : all) {
      if (g.out.json) {
        print_json(set_json(s));
        continue;
      }
      std::string sources;
      for (const auto& src : s.sources) sources += (sources.empty() ? "" : " ") + src;
      std::printf("%-6lld %-12s %-6s %-9s %-20s %8llu %10s  %s\n", (long long)s.id, s.level.c_str(),
                  s.base_set_id ? std::to_string(*s.base_set_id).c_str() : "-", s.state.c_str(),
                  service::format_time(s.started_ns).c_str(), (unsigned long long)s.file_count,
                  human_bytes(s.stored_bytes).c_str(), sources.c_str());
    }
  });

  // files
  auto* files = app.add_subcommand("files", "file versions in a set");
  files->require_subcommand(1);
  auto* files_list = files->add_subcommand("list", "list the entries a set recorded (deletions marked)");
  std::string files_set;
  files_list->add_option("SET", files_set, "set id")->required();
  files_list->callback([&] {
    auto site = open_site(g);
    int64_t id = parse_set_id(files_set);
    if (!site->catalog().find_set(id))
      throw ServiceError("no backup set with id " + files_set, service::kExitUsage);
    site->catalog().for_each_file(id, [&](const catalog::FileVersion& v) {
      std::string path = "/" + service::printable(v.path);
      if (g.out.json) {
        nlohmann::json j = {{"type", "file"},
                            {"path", path},
                            {"kind", v.deleted ? "deleted" : type_name(v.type)},
                            {"size", v.size},
                            {"mode", v.mode},
                            {"uid", v.uid},
                            {"gid", v.gid},
                            {"mtime", service::format_time(v.mtime_ns)}};
        if (!v.content_hash.empty()) j["sha256"] = service::hex(v.content_hash);
        if (!v.link_target.empty()) j["link_target"] = service::printable(v.link_target);
        print_json(j);
      } else if (v.deleted) {
        std::printf("%-8s %12s %s  %s\n", "deleted", "-", "-", path.c_str());
      } else {
        std::printf("%-8s %12llu %04o  %s%s\n", type_name(v.type).c_str(), (unsigned long long)v.size, v.mode,
                    path.c_str(),
                    v.link_target.empty() ? "" : (" -> " + service::printable(v.link_target)).c_str());
      }
    });
  });

  // restore
  auto* restore = app.add_subcommand("restore", "restore files: the tree as it was at a set or a time");
  std::string restore_set, restore_as_of, restore_to;
  std::vector<std::string> restore_paths;
  auto* set_opt = restore->add_option("--set", restore_set, "restore the tree as set ID recorded it");
  restore
      ->add_option("--as-of", restore_as_of, "restore the tree as it was at TIME (ISO 8601) or at a set id")
      ->excludes(set_opt);
  restore->add_option("--to", restore_to, "directory to restore into (default: the original locations)");
  restore->add_option("PATH", restore_paths, "absolute paths to restore, with everything below them");
  restore->callback([&] {
    auto site = open_site(g);
    service::RestoreRequest request;
    if (!restore_set.empty()) request.set_id = parse_set_id(restore_set);
    if (!restore_as_of.empty()) {
      if (restore_as_of.find_first_not_of("0123456789") == std::string::npos) {
        auto set = site->catalog().find_set(parse_set_id(restore_as_of));
        if (!set) throw ServiceError("no backup set with id " + restore_as_of, service::kExitUsage);
        request.as_of_ns = set->started_ns;
      } else {
        request.as_of_ns = service::parse_time(restore_as_of);
        if (!request.as_of_ns)
          throw ServiceError("--as-of '" + restore_as_of + "' is neither an ISO 8601 time nor a set id",
                             service::kExitUsage);
      }
    }
    if (!restore_to.empty()) {
      fs::create_directories(restore_to);
      request.target = fs::absolute(restore_to).lexically_normal().string();
    }
    request.paths = restore_paths;
    auto r = site->restore(request, terminal_progress(g.out));
    end_progress(g.out);
    if (g.out.json)
      print_json(r.to_json());
    else if (!g.out.quiet)
      std::printf("restored %llu entries (%s) from %zu sets to %s in %.1f s\n", (unsigned long long)r.entries,
                  human_bytes(r.bytes).c_str(), r.sets_read.size(), request.target.c_str(), r.seconds);
    for (const auto& e : r.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    exit_code = r.errors.empty() ? service::kExitOk : service::kExitPartial;
  });

  // verify
  auto* verify = app.add_subcommand("verify", "read sets back and check every file against the catalog");
  std::string verify_set, verify_device, verify_subset;
  bool verify_read_data = false;
  verify->add_option("SET", verify_set, "set id (default: every complete set)");
  verify->add_option("--device", verify_device,
                     "verify one device (a dedup device checks its own structure)");
  verify->add_flag("--read-data", verify_read_data, "dedup device: also decrypt and rehash every chunk");
  verify->add_option("--read-data-subset", verify_subset,
                     "dedup device: decrypt and rehash N% of the chunks, e.g. 10%");
  verify->callback([&] {
    std::optional<uint32_t> percent;
    if (verify_read_data) percent = 100;
    if (!verify_subset.empty()) {
      std::string digits = verify_subset;
      if (!digits.empty() && digits.back() == '%') digits.pop_back();
      char* end = nullptr;
      long value = digits.empty() ? -1 : std::strtol(digits.c_str(), &end, 10);
      if (value < 1 || value > 100 || *end != '\0')
        throw service::ServiceError(
            "--read-data-subset wants a share from 1% to 100%, got '" + verify_subset + "'",
            service::kExitUsage);
      if (verify_read_data)
        throw service::ServiceError("give --read-data or --read-data-subset, not both", service::kExitUsage);
      percent = uint32_t(value);
    }
    if (percent && verify_device.empty())
      throw service::ServiceError("--read-data and --read-data-subset need --device", service::kExitUsage);
    if (!verify_set.empty() && !verify_device.empty())
      throw service::ServiceError("give a set or --device, not both", service::kExitUsage);
    auto site = open_site(g);
    service::VerifyResult r;
    if (!verify_device.empty()) {
      r = site->verify_device(verify_device, terminal_progress(g.out), {}, percent);
    } else {
      std::optional<int64_t> id;
      if (!verify_set.empty()) id = parse_set_id(verify_set);
      r = site->verify(id, terminal_progress(g.out));
    }
    end_progress(g.out);
    if (g.out.json) {
      print_json(r.to_json());
    } else {
      for (const auto& d : r.damage) {
        if (d.set_id)
          std::fprintf(stderr, "damaged: set %lld%s%s: %s\n", (long long)d.set_id, d.path.empty() ? "" : " ",
                       d.path.c_str(), d.problem.c_str());
        else
          std::fprintf(stderr, "damaged: %s\n", d.problem.c_str());
      }
      if (!g.out.quiet) {
        if (r.chunks_checked || r.chunks_read)
          std::printf(
              "verified %llu sets, %llu chunks (%llu read, %s): %s\n", (unsigned long long)r.sets,
              (unsigned long long)r.chunks_checked, (unsigned long long)r.chunks_read,
              human_bytes(r.bytes).c_str(),
              r.damage.empty() ? "no damage" : (std::to_string(r.damage.size()) + " problems").c_str());
        else
          std::printf("verified %llu sets, %llu entries, %s: %s\n", (unsigned long long)r.sets,
                      (unsigned long long)r.entries, human_bytes(r.bytes).c_str(),
                      r.damage.empty() ? "no damage"
                                       : (std::to_string(r.damage.size()) + " damaged entries").c_str());
      }
    }
    exit_code = r.damage.empty() ? service::kExitOk : service::kExitDamaged;
  });

  // gc
  auto* gc = app.add_subcommand("gc", "reclaim the space of expired sets on dedup devices");
  std::string gc_device;
  bool gc_dry_run = false;
  gc->add_option("--device", gc_device, "only this dedup device (default: every dedup device)");
  gc->add_flag("--dry-run", gc_dry_run, "report what would be freed, delete nothing");
  gc->callback([&] {
    auto site = open_site(g);
    auto r = site->collect_garbage(gc_device, gc_dry_run);
    bool failed = false;
    for (const auto& d : r.devices) failed = failed || !d.error.empty();
    if (g.out.json) {
      print_json(r.to_json());
    } else {
      for (const auto& d : r.devices) {
        if (!d.error.empty()) {
          std::fprintf(stderr, "error: gc on %s: %s\n", d.device.c_str(), d.error.c_str());
          continue;
        }
        if (!d.offline.empty()) {
          std::fprintf(stderr, "warning: %s is offline, skipped: %s\n", d.device.c_str(), d.offline.c_str());
          continue;
        }
        if (g.out.quiet) continue;
        std::printf("%s: %s %s (%llu chunks, %llu packs deleted, %llu rewritten); %s in %llu chunks remain\n",
                    d.device.c_str(), r.dry_run ? "would free" : "freed", human_bytes(d.bytes_freed).c_str(),
                    (unsigned long long)d.chunks_freed, (unsigned long long)d.packs_deleted,
                    (unsigned long long)d.packs_rewritten, human_bytes(d.bytes_after).c_str(),
                    (unsigned long long)d.chunks_live);
        if (d.sets_unknown)
          std::printf("%s: %llu sets the catalog does not know were kept\n", d.device.c_str(),
                      (unsigned long long)d.sets_unknown);
      }
      if (r.devices.empty() && !g.out.quiet) std::printf("no dedup devices: nothing to collect\n");
    }
    exit_code = failed ? service::kExitFailed : service::kExitOk;
  });

  // expire
  auto* expire = app.add_subcommand("expire", "apply the retention policy: expire sets it no longer keeps");
  bool expire_dry_run = false;
  expire->add_flag("--dry-run", expire_dry_run, "show the decisions, change nothing");
  expire->callback([&] {
    auto site = open_site(g);
    auto r = site->expire(expire_dry_run, service::now_ns());
    if (g.out.json) {
      print_json(r.to_json());
    } else if (!g.out.quiet) {
      for (const auto& d : r.decisions) {
        std::string reasons;
        for (const auto& x : d.reasons) reasons += (reasons.empty() ? "" : "; ") + x;
        std::printf("set %-6lld %-7s %s\n", (long long)d.set_id,
                    d.keep ? "keep" : (r.dry_run ? "would expire" : "expired"), reasons.c_str());
      }
      std::printf("policy revision %s: %llu sets %s\n", r.revision.c_str(), (unsigned long long)r.expired,
                  r.dry_run ? "would expire" : "expired");
    }
    for (const auto& e : r.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    exit_code = r.errors.empty() ? service::kExitOk : service::kExitFailed;
  });

  // policy
  auto* policy = app.add_subcommand("policy", "check and test Lua policies offline");
  policy->require_subcommand(1);
  std::string policy_dir;
  auto* policy_check = policy->add_subcommand("check", "syntax and required hooks of a policy directory");
  policy_check->add_option("DIR", policy_dir, "policy directory")->required();
  policy_check->callback([&] {
    auto result = policy::check_policy_dir(policy_dir);
    for (const auto& e : result.errors) {
      if (g.out.json)
        print_json({{"type", "policy_error"}, {"error", e}});
      else
        std::fprintf(stderr, "%s\n", e.c_str());
    }
    if (g.out.json)
      print_json({{"type", "policy_check"}, {"ok", result.errors.empty()}, {"revision", result.revision}});
    else if (!g.out.quiet && result.errors.empty())
      std::printf("policy %s is valid (revision %s)\n", policy_dir.c_str(), result.revision.c_str());
    exit_code = result.errors.empty() ? service::kExitOk : service::kExitFailed;
  });
  auto* policy_test = policy->add_subcommand("test", "run the *_test.lua files of a policy directory");
  policy_test->add_option("DIR", policy_dir, "policy directory")->required();
  bool update_golden = false;
  policy_test->add_flag("--update-golden", update_golden,
                        "write fixtures/*.golden from the current results instead of comparing");
  policy_test->callback([&] {
    policy::TestOptions test_options;
    test_options.update_golden = update_golden;
    auto report = policy::run_policy_tests(policy_dir, test_options);
    for (const auto& t : report.cases) {
      if (g.out.json)
        print_json({{"type", "policy_test"},
                    {"name", t.name},
                    {"file", t.file},
                    {"passed", t.passed},
                    {"location", t.location},
                    {"message", t.message}});
      else if (!t.passed)
        std::fprintf(stderr, "FAIL %s (%s): %s\n", t.name.c_str(),
                     t.location.empty() ? t.file.c_str() : t.location.c_str(), t.message.c_str());
      else if (!g.out.quiet)
        std::printf("ok   %s (%s)\n", t.name.c_str(), t.file.c_str());
    }
    for (const auto& e : report.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    if (g.out.json)
      print_json({{"type", "policy_test_summary"}, {"passed", report.passed}, {"failed", report.failed}});
    else if (!g.out.quiet)
      std::printf("%zu passed, %zu failed\n", report.passed, report.failed);
    exit_code = report.ok() && !report.cases.empty() ? service::kExitOk : service::kExitFailed;
  });

  // plugins
  auto* plugins_cmd = app.add_subcommand("plugins", "plugins this strongbox can load");
  plugins_cmd->require_subcommand(1);
  plugins_cmd->add_subcommand("list", "list loaded plugins and the ones refused")->callback([&] {
    plugins::Registry registry;
    std::vector<fs::path> dirs = plugins::Registry::default_dirs();
    for (const auto& d : dirs) registry.load_dir(d);
    for (const auto& p : registry.list()) {
      if (g.out.json) {
        auto j = plugins::to_json(p);
        j["type"] = "plugin";
        print_json(j);
        continue;
      }
      std::string caps;
      for (const auto& c : plugins::capability_names(p.capabilities)) caps += (caps.empty() ? "" : ",") + c;
      std::printf("%-10s %-12s %-8s ABI %u.%u  %-40s %s\n", p.kind.c_str(), p.name.c_str(), p.version.c_str(),
                  p.abi_major, p.min_host_minor, caps.c_str(), p.file.c_str());
    }
    for (const auto& problem : registry.problems()) {
      if (g.out.json)
        print_json(
            {{"type", "plugin_problem"}, {"file", problem.file.string()}, {"message", problem.message}});
    }
    if (!registry.problems().empty()) exit_code = service::kExitFailed;
  });

  // Global flags may also follow the verb (`strongbox backup /x --json`), as admins type them.
  std::function<void(CLI::App*)> allow_trailing_globals = [&](CLI::App* command) {
    for (auto* sub : command->get_subcommands([](CLI::App*) { return true; })) {
      sub->fallthrough();
      allow_trailing_globals(sub);
    }
  };
  add_server_verbs(app, g);
  add_definition_verbs(app, g);
  add_copy_verbs(app, g);
  add_transfer_verbs(app, g);
  add_alert_verbs(app, g);
  allow_trailing_globals(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "strongbox: %s (see strongbox --help)\n", e.what());
    return service::kExitUsage;
  } catch (const ServiceError& e) {
    end_progress(g.out);
    std::fprintf(stderr, "strongbox: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    end_progress(g.out);
    std::fprintf(stderr, "strongbox: %s\n", e.what());
    return service::kExitFailed;
  }
  return exit_code;
}

}  // namespace sbx::cli

int main(int argc, char** argv) {
  // glibc gives memory back to the kernel as soon as 128 KiB lie free at the top of a heap, and maps every
  // block of 128 KiB or more on its own. Jobs allocate and free chunk-sized buffers hundreds of thousands
  // of times, so each came back as fresh pages to fault in: 45k page faults in a first backup of the linux
  // source tree and 65k in its restore, where these limits leave 20k and 28k (bench/dedup-linux-source.sh
  // prints them per step). 16 MiB kept free per heap did as well as 64 MiB; 4 MiB left 10-15% more faults,
  // and a long-running server should hold on to no more than it needs.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  auto logger = spdlog::stderr_color_mt("strongbox");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-v" || a == "--verbose") spdlog::set_level(spdlog::level::info);
    if (a == "-vv") spdlog::set_level(spdlog::level::debug);
    if (a == "-q" || a == "--quiet") spdlog::set_level(spdlog::level::err);
  }
  return sbx::cli::run(argc, argv);
}
