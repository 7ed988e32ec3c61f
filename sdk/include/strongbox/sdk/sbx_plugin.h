/* strongbox plugin ABI: everything a plugin includes. */
#ifndef STRONGBOX_SDK_SBX_PLUGIN_H
#define STRONGBOX_SDK_SBX_PLUGIN_H
#include "sbx_agent.h"
#include "sbx_common.h"
#include "sbx_entry.h"
#include "sbx_storage.h"
#include "sbx_transport.h"
#endif
