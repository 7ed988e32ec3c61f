/* strongbox plugin ABI: common types.
 * Only C types cross the boundary. Every struct starts with struct_size; fields are only ever appended,
 * so a reader checks struct_size before touching a field added in a later minor version. */
#ifndef STRONGBOX_SDK_SBX_COMMON_H
#define STRONGBOX_SDK_SBX_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SBX_ABI_MAJOR 1
#define SBX_ABI_MINOR 2

/* Name of the one symbol a plugin exports. */
#define SBX_PLUGIN_ENTRY_SYMBOL "sbx_plugin_entry"

typedef enum sbx_status {
  SBX_OK = 0,
  SBX_SKIP = 1, /* backup sink: entry unchanged since the base set, do not send its data */
  SBX_END = 2,  /* no more items (end of stream, peer closed) */
  SBX_TIMEOUT = 3,
  SBX_ERR_INVALID_ARGUMENT = -1,
  SBX_ERR_IO = -2,
  SBX_ERR_NOT_FOUND = -3,
  SBX_ERR_CORRUPT = -4,
  SBX_ERR_UNSUPPORTED = -5,
  SBX_ERR_NO_SPACE = -6,
  SBX_ERR_PERMISSION = -7,
  SBX_ERR_CANCELLED = -8,
  SBX_ERR_CRYPTO = -9,
  SBX_ERR_CLOSED = -10,
  SBX_ERR_OFFLINE = -11,
  SBX_ERR_INTERNAL = -12
} sbx_status;

/* A borrowed run of bytes; valid only for the duration of the call that passes it. */
typedef struct sbx_bytes {
  const uint8_t* data;
  size_t len;
} sbx_bytes;

/* A borrowed UTF-8 string, not necessarily NUL-terminated. */
typedef struct sbx_str {
  const char* data;
  size_t len;
} sbx_str;

typedef enum sbx_plugin_kind {
  SBX_KIND_STORAGE = 1,
  SBX_KIND_AGENT = 2,
  SBX_KIND_TRANSPORT = 3,
  SBX_KIND_TAPE = 4
} sbx_plugin_kind;

/* Capabilities are data: the loader checks them against the callbacks a plugin fills in. */
#define SBX_CAP_DEDUP (UINT64_C(1) << 0)         /* storage: deduplicates across sets */
#define SBX_CAP_RANDOM_ACCESS (UINT64_C(1) << 1) /* storage: read_entries seeks to a locator */
#define SBX_CAP_REMOVABLE (UINT64_C(1) << 2)     /* storage: media can be taken away */
#define SBX_CAP_APPEND_ONLY (UINT64_C(1) << 3)   /* storage: cannot delete single sets */
#define SBX_CAP_SHAREABLE (UINT64_C(1) << 4)     /* storage: several servers may use it */
#define SBX_CAP_OFFHOST (UINT64_C(1) << 5)       /* agent: can back up from a proxy host */
#define SBX_CAP_INCREMENTAL (UINT64_C(1) << 6)   /* agent: supports incremental/differential */
#define SBX_CAP_ENCRYPTION (UINT64_C(1) << 7)    /* storage: encrypts at rest; transport: in flight */
#define SBX_CAP_FILE_BASED (UINT64_C(1) << 8)    /* agent: sets are trees of files (synthetic full ok) */
#define SBX_CAP_RESTORE (UINT64_C(1) << 9)       /* agent: restore callbacks are present */
#define SBX_CAP_DELETE (UINT64_C(1) << 10)       /* storage: delete_set is present */
#define SBX_CAP_LISTEN (UINT64_C(1) << 11)       /* transport: listen/accept are present */

/* Levels a host may log at through sbx_host_api.log. */
typedef enum sbx_log_level {
  SBX_LOG_DEBUG = 0,
  SBX_LOG_INFO = 1,
  SBX_LOG_WARN = 2,
  SBX_LOG_ERROR = 3
} sbx_log_level;

/* What the host gives every plugin. A failing call returns a negative sbx_status and, before returning,
 * may call set_error once from the calling thread with a one-line message for the admin. */
typedef struct sbx_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  void (*log)(sbx_log_level level, sbx_str plugin, sbx_str message);
  void (*set_error)(sbx_str message);
} sbx_host_api;

/* The one thing a plugin exports: sbx_plugin_entry returns a descriptor with static lifetime. */
typedef struct sbx_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major;      /* must equal the host's SBX_ABI_MAJOR */
  uint16_t min_host_minor; /* the lowest host SBX_ABI_MINOR this plugin works with */
  uint32_t kind;           /* sbx_plugin_kind */
  const char* name;        /* e.g. "disk"; the `--type` admins give */
  const char* version;     /* the plugin's own version, e.g. "1.2.0" */
  const char* description; /* one line */
  uint64_t capabilities;   /* SBX_CAP_* */
  const void* vtable;      /* sbx_storage_vtable, sbx_agent_vtable or sbx_transport_vtable by kind */
} sbx_plugin_descriptor;

typedef const sbx_plugin_descriptor* (*sbx_plugin_entry_fn)(const sbx_host_api* host);

#ifdef __cplusplus
}
#endif
#endif
