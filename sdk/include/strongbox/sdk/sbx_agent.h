/* strongbox plugin ABI: backup agents (kind SBX_KIND_AGENT).
 * An agent walks what it protects and pushes entries to the host's backup sink; on restore it receives
 * entries and writes them where the admin asked. */
#ifndef STRONGBOX_SDK_SBX_AGENT_H
#define STRONGBOX_SDK_SBX_AGENT_H

#include "sbx_entry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sbx_agent sbx_agent;
typedef struct sbx_agent_restore sbx_agent_restore;

/* What the host gives an agent during a backup. For every entry the agent first calls check with the
 * metadata from lstat (no data read yet): SBX_SKIP means unchanged since the base set, so the agent sends
 * nothing more for it; SBX_OK means send it: on_entry, on_data..., on_entry_end. The host learns which
 * paths still exist from check, so deletions need no extra call. */
typedef struct sbx_backup_sink {
  uint32_t struct_size;
  void* ctx;
  sbx_status (*check)(void* ctx, const sbx_entry* entry);
  sbx_status (*on_entry)(void* ctx, const sbx_entry* entry);
  sbx_status (*on_data)(void* ctx, sbx_bytes data);
  sbx_status (*on_entry_end)(void* ctx);
  /* Something could not be backed up (unreadable file, vanished file, changed while read). */
  void (*on_warning)(void* ctx, sbx_bytes path, sbx_str message);
} sbx_backup_sink;

typedef struct sbx_agent_vtable {
  uint32_t struct_size;
  sbx_status (*open)(sbx_str config_json, sbx_agent** out);
  void (*close)(sbx_agent* agent);
  /* job_json: {"sources":["/abs/dir",...],"excludes":["glob",...],"level":"full|incremental|differential"}.
   * Entry paths are the absolute path without its leading '/'. Returns SBX_OK even with warnings. */
  sbx_status (*backup)(sbx_agent* agent, sbx_str job_json, const sbx_backup_sink* sink);

  /* options_json: {"target":"/abs/dir"} ("/" restores in place). Entries arrive in catalog path order;
   * hard links after their targets. */
  sbx_status (*begin_restore)(sbx_agent* agent, sbx_str options_json, sbx_agent_restore** out);
  sbx_status (*restore_entry)(sbx_agent_restore* restore, const sbx_entry* entry);
  sbx_status (*restore_data)(sbx_agent_restore* restore, sbx_bytes data);
  sbx_status (*restore_entry_end)(sbx_agent_restore* restore);
  /* Applies what must come last (directory times and modes) and frees the handle. */
  sbx_status (*finish_restore)(sbx_agent_restore* restore);
  void (*abort_restore)(sbx_agent_restore* restore); /* frees the handle */
} sbx_agent_vtable;

#ifdef __cplusplus
}
#endif
#endif
