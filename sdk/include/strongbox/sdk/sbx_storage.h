/* strongbox plugin ABI: storage devices (kind SBX_KIND_STORAGE).
 * A device keeps backup sets. The host writes a set as a stream of entries and receives, for each entry,
 * an opaque locator (at most SBX_LOCATOR_MAX bytes) that it stores in its catalog; later it reads entries
 * back by locator, so one file restores without reading the whole set. */
#ifndef STRONGBOX_SDK_SBX_STORAGE_H
#define STRONGBOX_SDK_SBX_STORAGE_H

#include "sbx_entry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBX_LOCATOR_MAX 256

typedef struct sbx_storage_device sbx_storage_device;
typedef struct sbx_storage_writer sbx_storage_writer;
typedef struct sbx_storage_reader sbx_storage_reader;

typedef struct sbx_storage_info {
  uint32_t struct_size;
  uint64_t total_bytes; /* capacity of the medium, 0 when unknown */
  uint64_t free_bytes;
  uint64_t used_bytes; /* bytes of sets this device holds */
  uint32_t online;     /* 0 when the medium is unreachable */
} sbx_storage_info;

typedef struct sbx_set_stats {
  uint32_t struct_size;
  uint64_t stored_bytes; /* bytes the set occupies on the medium */
  uint64_t entries;
} sbx_set_stats;

/* Called once per set name by list_sets. */
typedef void (*sbx_set_name_fn)(void* ctx, sbx_str set_name);

typedef struct sbx_storage_vtable {
  uint32_t struct_size;
  /* config_json: the device's settings as the admin gave them, e.g. {"path":"/srv/b","key_file":"/k"}. */
  sbx_status (*open)(sbx_str config_json, sbx_storage_device** out);
  void (*close)(sbx_storage_device* device);
  sbx_status (*info)(sbx_storage_device* device, sbx_storage_info* out);

  /* Writing. Nothing is visible to open_set until commit_set returns SBX_OK, and then it is durable. */
  sbx_status (*begin_set)(sbx_storage_device* device, sbx_str set_name, sbx_storage_writer** out);
  sbx_status (*write_entry)(sbx_storage_writer* writer, const sbx_entry* entry);
  sbx_status (*write_data)(sbx_storage_writer* writer, sbx_bytes data);
  /* Ends the current entry; writes its locator into locator[0..*locator_len). */
  sbx_status (*end_entry)(sbx_storage_writer* writer, uint8_t locator[SBX_LOCATOR_MAX], size_t* locator_len);
  sbx_status (*commit_set)(sbx_storage_writer* writer, sbx_set_stats* out); /* frees the writer */
  void (*abort_set)(sbx_storage_writer* writer);                             /* frees the writer */

  /* Reading. read_entries delivers the entries at the given locators in the given order; an entry that
   * cannot be read is reported through sink->on_entry_error and reading goes on with the next one. */
  sbx_status (*open_set)(sbx_storage_device* device, sbx_str set_name, sbx_storage_reader** out);
  sbx_status (*read_entries)(sbx_storage_reader* reader, const sbx_bytes* locators, size_t count,
                             const sbx_entry_sink* sink);
  void (*close_reader)(sbx_storage_reader* reader);

  /* Housekeeping. delete_set is required with SBX_CAP_DELETE. list_sets names committed sets and
   * also the leftovers of interrupted writes (which carry a name the host never committed). */
  sbx_status (*delete_set)(sbx_storage_device* device, sbx_str set_name);
  sbx_status (*list_sets)(sbx_storage_device* device, sbx_set_name_fn fn, void* ctx);
} sbx_storage_vtable;

#ifdef __cplusplus
}
#endif
#endif
