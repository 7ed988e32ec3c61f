/* strongbox plugin ABI: network transports (kind SBX_KIND_TRANSPORT).
 * A transport gives reliable, ordered byte streams between two endpoints; the host frames its messages
 * on top. Addresses are transport-specific strings ("name" for local, "host:port" for tls). */
#ifndef STRONGBOX_SDK_SBX_TRANSPORT_H
#define STRONGBOX_SDK_SBX_TRANSPORT_H

#include "sbx_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sbx_transport sbx_transport;
typedef struct sbx_listener sbx_listener;
typedef struct sbx_connection sbx_connection;

/* timeout_ms: < 0 waits for ever, 0 polls. */
typedef struct sbx_transport_vtable {
  uint32_t struct_size;
  sbx_status (*open)(sbx_str config_json, sbx_transport** out);
  void (*close)(sbx_transport* transport);
  sbx_status (*listen)(sbx_transport* transport, sbx_str address, sbx_listener** out);
  /* SBX_TIMEOUT when nothing arrived in time. */
  sbx_status (*accept)(sbx_listener* listener, int32_t timeout_ms, sbx_connection** out);
  void (*close_listener)(sbx_listener* listener);
  sbx_status (*connect)(sbx_transport* transport, sbx_str address, int32_t timeout_ms, sbx_connection** out);
  /* Sends all of data or fails. */
  sbx_status (*send)(sbx_connection* connection, sbx_bytes data);
  /* Receives 1..capacity bytes into buffer; SBX_END when the peer has shut down its sending side. */
  sbx_status (*recv)(sbx_connection* connection, uint8_t* buffer, size_t capacity, size_t* received,
                     int32_t timeout_ms);
  /* Ends this side's sending; the peer's recv then returns SBX_END once it has read everything. */
  void (*shutdown)(sbx_connection* connection);
  void (*close_connection)(sbx_connection* connection);
} sbx_transport_vtable;

#ifdef __cplusplus
}
#endif
#endif
