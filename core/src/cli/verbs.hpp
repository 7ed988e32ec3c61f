// The verbs of the command line, one file per area (verbs_<area>.cpp), and what they share.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <strongbox/service.hpp>

#include "output.hpp"

namespace sbx::cli {

struct Globals {
  std::string site;
  OutputOptions out;
  int verbosity = 0;
  int exit_code = service::kExitOk;  // a verb's callback sets it when it is not 0
};

std::unique_ptr<service::Site> open_site(const Globals& g);
// A positive decimal id (set, job, alert); ServiceError(kExitUsage) naming `what` otherwise.
int64_t parse_id(const std::string& text, const std::string& what);
nlohmann::json set_json(const catalog::BackupSet& set);

// Each registers its subcommands on app; option storage lives as long as app (callbacks run from app.parse).
void add_server_verbs(CLI::App& app, Globals& g);      // server, job run (internal), jobs ...
void add_definition_verbs(CLI::App& app, Globals& g);  // definitions, apply, export, pools
void add_copy_verbs(CLI::App& app, Globals& g);        // synthesize, duplicate
void add_transfer_verbs(CLI::App& app, Globals& g);    // transfer export|import
void add_alert_verbs(CLI::App& app, Globals& g);       // alerts, report

}  // namespace sbx::cli
