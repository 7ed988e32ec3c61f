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
typedef struct sbx_storage_receiver sbx_storage_receiver; /* ABI 1.1 */

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

/* ---- ABI 1.1: deduplicating devices (SBX_CAP_DEDUP) ----------------------------------------------------
 * A dedup device stores data as chunks named by a chunk id (a keyed hash; SBX_CHUNK_ID_BYTES bytes). The
 * devices of one dedup domain share the id key and the data key, so a chunk moves between them in its stored
 * (compressed, encrypted) form and the receiver can still check it. A set is a manifest naming its chunks. */
#define SBX_CHUNK_ID_BYTES 32
#define SBX_DEDUP_DOMAIN_BYTES 16

typedef struct sbx_dedup_info {
  uint32_t struct_size;
  uint8_t domain[SBX_DEDUP_DOMAIN_BYTES]; /* equal domains: chunks travel as stored */
  uint64_t chunks;                        /* chunks the index holds */
  uint64_t stored_bytes;                  /* bytes of all pack files */
  uint64_t packs;
} sbx_dedup_info;

/* Called once per chunk id by set_chunks; stored_bytes is the chunk's size as stored. */
typedef void (*sbx_chunk_fn)(void* ctx, sbx_bytes chunk_id, uint64_t stored_bytes);
/* Receives bytes (a stored chunk, a manifest); a negative return stops the producer. */
typedef sbx_status (*sbx_bytes_fn)(void* ctx, sbx_bytes data);

typedef struct sbx_gc_stats {
  uint32_t struct_size;
  uint64_t sets_marked;  /* manifests whose chunks were kept */
  uint64_t sets_unknown; /* manifests the host did not name as live: kept, never deleted by gc */
  uint64_t chunks_live;
  uint64_t chunks_freed; /* chunks no live set, unknown set or writer in flight references */
  uint64_t bytes_freed;  /* stored bytes given back to the file system */
  uint64_t packs_deleted;
  uint64_t packs_rewritten; /* packs with live and dead chunks, rewritten with the live ones only */
  uint64_t bytes_after;     /* stored bytes of all packs after the run */
} sbx_gc_stats;

typedef struct sbx_verify_options {
  uint32_t struct_size;
  uint32_t read_data_percent; /* 0: structure only; 1..100: decrypt and rehash that share of the chunks */
  uint64_t seed;              /* picks the subset; equal seeds pick equal subsets */
} sbx_verify_options;

typedef struct sbx_verify_stats {
  uint32_t struct_size;
  uint64_t sets_checked;
  uint64_t packs_checked;
  uint64_t chunks_checked; /* chunks whose index record and pack record agree */
  uint64_t chunks_read;    /* chunks decrypted and rehashed */
  uint64_t bytes_read;
  uint64_t damaged_chunks;
  uint64_t problems; /* calls made to the damage callback */
} sbx_verify_stats;

/* One problem verify found: damage as it affects one entry of one set (locator: the entry's locator; path:
 * its path when the device could still read it, else empty), a set's manifest (locator and path empty), or
 * the store itself (set_name, locator and path empty). */
typedef void (*sbx_damage_fn)(void* ctx, sbx_str set_name, sbx_bytes locator, sbx_str path, sbx_str problem);

typedef struct sbx_storage_vtable {
  uint32_t struct_size;
  /* config_json: the device's settings as the admin gave them, e.g. {"path":"/srv/b","key_file":"/k"}.
   * A plugin that fills open_or_create (ABI 1.2) never makes a store in open: where none is, open fails with
   * SBX_ERR_OFFLINE, so a drive that is not mounted is reported, not taken for a new, empty store. */
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
  void (*abort_set)(sbx_storage_writer* writer);                            /* frees the writer */

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

  /* ---- ABI 1.1, required with SBX_CAP_DEDUP ---- */
  /* The writer's set also holds the entry at `source_locator` (of any committed set of this device); no
   * data is read or written. Writes the entry's locator in the new set, as end_entry does. */
  sbx_status (*link_entry)(sbx_storage_writer* writer, sbx_bytes source_locator,
                           uint8_t locator[SBX_LOCATOR_MAX], size_t* locator_len);
  sbx_status (*dedup_info)(sbx_storage_device* device, sbx_dedup_info* out);
  /* Every chunk a committed set needs (its entries' metadata and data), each id once. */
  sbx_status (*set_chunks)(sbx_storage_device* device, sbx_str set_name, sbx_chunk_fn fn, void* ctx);
  /* A chunk in its stored form, checked against its id first, delivered in one call to fn. */
  sbx_status (*read_chunk)(sbx_storage_device* device, sbx_bytes chunk_id, sbx_bytes_fn fn, void* ctx);
  /* A committed set's manifest in its stored form, delivered in one call to fn. */
  sbx_status (*read_manifest)(sbx_storage_device* device, sbx_str set_name, sbx_bytes_fn fn, void* ctx);

  /* Receiving a set from a device of the same domain. From begin_receive until close_receiver, every chunk
   * the receiver reported present or received is safe from garbage collection. */
  sbx_status (*begin_receive)(sbx_storage_device* device, sbx_storage_receiver** out);
  /* missing[i] = 1 when this device lacks ids[i], else 0. */
  sbx_status (*missing_chunks)(sbx_storage_receiver* receiver, const sbx_bytes* ids, size_t count,
                               uint8_t* missing);
  /* Opens the stored manifest of set `set_name` and calls fn once per chunk it needs that this device lacks,
   * in manifest order (stored_bytes 0); the chunks it has are protected as by missing_chunks. Lets a sender
   * learn what to send from the manifest alone, without sending every id. A device may know some of what a
   * set needs only from chunks it lacks (a dedup device's manifest names entry groups, whose records name
   * the data chunks): the host offers the set again after sending and flushing what was asked, until
   * nothing is missing; an id is never asked for twice. */
  sbx_status (*offer_set)(sbx_storage_receiver* receiver, sbx_str set_name, sbx_bytes manifest,
                          sbx_chunk_fn fn, void* ctx);
  /* Checks the stored chunk against its id (decrypt, decompress, rehash) and keeps it. */
  sbx_status (*receive_chunk)(sbx_storage_receiver* receiver, sbx_bytes chunk_id, sbx_bytes stored);
  /* Makes every chunk received so far durable; after SBX_OK the sender may forget them. */
  sbx_status (*flush_received)(sbx_storage_receiver* receiver);
  /* Commits set `set_name` from its stored manifest; every chunk the manifest needs must be present. */
  sbx_status (*receive_set)(sbx_storage_receiver* receiver, sbx_str set_name, sbx_bytes manifest);
  void (*close_receiver)(sbx_storage_receiver* receiver);

  /* Mark and sweep: chunks of the live sets, of manifests the host did not name (kept, and counted), and of
   * writers and receivers in flight survive; the rest is reclaimed. Runs beside writers and readers. */
  sbx_status (*collect_garbage)(sbx_storage_device* device, const sbx_str* live_sets, size_t live_count,
                                uint32_t dry_run, sbx_gc_stats* out);
  /* Checks the store; every problem goes to fn. Returns SBX_OK when the check ran, whatever it found. */
  sbx_status (*verify_device)(sbx_storage_device* device, const sbx_verify_options* options, sbx_damage_fn fn,
                              void* ctx, sbx_verify_stats* out);

  /* ---- ABI 1.2 ---- */
  /* As open, but first makes an empty store where config_json points when none is there. The host calls it
   * only when the admin asks for a store (`devices add`, a transfer export); every other open uses open.
   * A place that holds the remains of a store (its data without its own description) is refused, not
   * made anew. NULL in a plugin built for ABI 1.1, whose open makes the store. */
  sbx_status (*open_or_create)(sbx_str config_json, sbx_storage_device** out);
} sbx_storage_vtable;

#ifdef __cplusplus
}
#endif
#endif
