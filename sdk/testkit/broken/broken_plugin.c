/* A storage plugin with exactly one defect, chosen by one BROKEN_* macro at build time (see CMakeLists.txt).
 * The loader must refuse every variant before calling any callback, so the callbacks only have to be
 * well-typed; each reports that it is a fixture if a faulty loader ever calls it. FIXTURE_NAME is the
 * plugin name, distinct per variant so that a directory of them hits no duplicate-name check. */
#include <stddef.h>
#include <strongbox/sdk/sbx_plugin.h>

#define EXPORT __attribute__((visibility("default")))
/* Each variant leaves out some callback; the others must not warn about it. */
#define FIXTURE static __attribute__((unused))

static const sbx_host_api* host;

FIXTURE sbx_status fixture_refusal(void) {
  static const char message[] = "loader test fixture: a checked loader never calls this";
  if (host && host->set_error) {
    sbx_str text = {message, sizeof message - 1};
    host->set_error(text);
  }
  return SBX_ERR_INTERNAL;
}

#ifdef BROKEN_UNDEFINED_SYMBOL
/* Defined by no library: with RTLD_NOW the dynamic linker refuses to load this plugin at all. */
extern sbx_status sbx_fixture_symbol_no_library_defines(void);
#define FIXTURE_FAIL() sbx_fixture_symbol_no_library_defines()
#else
#define FIXTURE_FAIL() fixture_refusal()
#endif

FIXTURE sbx_status fixture_open(sbx_str config, sbx_storage_device** out) {
  (void)config;
  (void)out;
  return FIXTURE_FAIL();
}
FIXTURE void fixture_close(sbx_storage_device* device) {
  (void)device;
}
FIXTURE sbx_status fixture_info(sbx_storage_device* device, sbx_storage_info* out) {
  (void)device;
  (void)out;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_begin_set(sbx_storage_device* device, sbx_str name, sbx_storage_writer** out) {
  (void)device;
  (void)name;
  (void)out;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_write_entry(sbx_storage_writer* writer, const sbx_entry* entry) {
  (void)writer;
  (void)entry;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_write_data(sbx_storage_writer* writer, sbx_bytes data) {
  (void)writer;
  (void)data;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_end_entry(sbx_storage_writer* writer, uint8_t locator[SBX_LOCATOR_MAX],
                                     size_t* len) {
  (void)writer;
  (void)locator;
  (void)len;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_commit_set(sbx_storage_writer* writer, sbx_set_stats* out) {
  (void)writer;
  (void)out;
  return FIXTURE_FAIL();
}
FIXTURE void fixture_abort_set(sbx_storage_writer* writer) {
  (void)writer;
}
FIXTURE sbx_status fixture_open_set(sbx_storage_device* device, sbx_str name, sbx_storage_reader** out) {
  (void)device;
  (void)name;
  (void)out;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_read_entries(sbx_storage_reader* reader, const sbx_bytes* locators, size_t count,
                                        const sbx_entry_sink* sink) {
  (void)reader;
  (void)locators;
  (void)count;
  (void)sink;
  return FIXTURE_FAIL();
}
FIXTURE void fixture_close_reader(sbx_storage_reader* reader) {
  (void)reader;
}
FIXTURE sbx_status fixture_delete_set(sbx_storage_device* device, sbx_str name) {
  (void)device;
  (void)name;
  return FIXTURE_FAIL();
}
FIXTURE sbx_status fixture_list_sets(sbx_storage_device* device, sbx_set_name_fn fn, void* ctx) {
  (void)device;
  (void)fn;
  (void)ctx;
  return FIXTURE_FAIL();
}

/* ---- the one defect ---- */
#ifdef BROKEN_SMALL_VTABLE
#define VTABLE_SIZE offsetof(sbx_storage_vtable, list_sets) /* one callback short of ABI 1.0 */
#else
#define VTABLE_SIZE sizeof(sbx_storage_vtable)
#endif
#ifdef BROKEN_MISSING_CALLBACK
#define READ_ENTRIES NULL
#else
#define READ_ENTRIES fixture_read_entries
#endif
#ifdef BROKEN_MISSING_DELETE /* claims SBX_CAP_DELETE without delete_set */
#define DELETE_SET NULL
#define CAPABILITIES SBX_CAP_DELETE
#elif defined(BROKEN_UNKNOWN_CAPABILITY)
#define DELETE_SET fixture_delete_set
#define CAPABILITIES (SBX_CAP_DELETE | (UINT64_C(1) << 40))
#else
#define DELETE_SET fixture_delete_set
#define CAPABILITIES SBX_CAP_DELETE
#endif
#ifdef BROKEN_SMALL_DESCRIPTOR /* a descriptor that ends before its capabilities and vtable */
#define DESCRIPTOR_SIZE offsetof(sbx_plugin_descriptor, capabilities)
#else
#define DESCRIPTOR_SIZE sizeof(sbx_plugin_descriptor)
#endif
#ifdef BROKEN_ABI_MAJOR
#define ABI_MAJOR (SBX_ABI_MAJOR + 1)
#else
#define ABI_MAJOR SBX_ABI_MAJOR
#endif
#ifdef BROKEN_HOST_MINOR
#define MIN_HOST_MINOR (SBX_ABI_MINOR + 1)
#else
#define MIN_HOST_MINOR SBX_ABI_MINOR
#endif
#ifdef BROKEN_UNKNOWN_KIND
#define KIND 77
#elif defined(BROKEN_TAPE_KIND) /* a kind ABI 1.0 names but defines no vtable for */
#define KIND SBX_KIND_TAPE
#else
#define KIND SBX_KIND_STORAGE
#endif
#ifdef BROKEN_BAD_NAME
#define NAME "Broken Name!"
#else
#define NAME FIXTURE_NAME
#endif
#ifdef BROKEN_EMPTY_VERSION
#define VERSION ""
#else
#define VERSION "1.0.0"
#endif

/* Unused only in the NULL_VTABLE variant. */
__attribute__((unused)) static const sbx_storage_vtable vtable = {
    .struct_size = VTABLE_SIZE,
    .open = fixture_open,
    .close = fixture_close,
    .info = fixture_info,
    .begin_set = fixture_begin_set,
    .write_entry = fixture_write_entry,
    .write_data = fixture_write_data,
    .end_entry = fixture_end_entry,
    .commit_set = fixture_commit_set,
    .abort_set = fixture_abort_set,
    .open_set = fixture_open_set,
    .read_entries = READ_ENTRIES,
    .close_reader = fixture_close_reader,
    .delete_set = DELETE_SET,
    .list_sets = fixture_list_sets,
};

#ifdef BROKEN_NULL_VTABLE
#define VTABLE NULL
#else
#define VTABLE (&vtable)
#endif

static const sbx_plugin_descriptor descriptor = {
    .struct_size = DESCRIPTOR_SIZE,
    .abi_major = ABI_MAJOR,
    .min_host_minor = MIN_HOST_MINOR,
    .kind = KIND,
    .name = NAME,
    .version = VERSION,
    .description = "loader test fixture with one deliberate defect",
    .capabilities = CAPABILITIES,
    .vtable = VTABLE,
};

#ifdef BROKEN_NO_ENTRY
/* Exports something, just not the entry point, like a library dropped into the plugin folder by mistake. */
EXPORT const sbx_plugin_descriptor* sbx_plugin_entry_v0(const sbx_host_api* api) {
  host = api;
  return &descriptor;
}
#elif defined(BROKEN_NULL_ENTRY)
EXPORT const sbx_plugin_descriptor* sbx_plugin_entry(const sbx_host_api* api) {
  host = api;
  (void)descriptor;
  return NULL;
}
#else
EXPORT const sbx_plugin_descriptor* sbx_plugin_entry(const sbx_host_api* api) {
  host = api;
  return &descriptor;
}
#endif
