# strongbox_add_plugin(<name> SOURCES <file>... [LIBS <lib>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds a strongbox plugin: a MODULE library named exactly <name>.so (no "lib" prefix), C++20, every
# symbol hidden except the sbx_plugin_entry that SBX_DEFINE_PLUGIN exports, and linked with
# --no-undefined so a missing library shows at link time rather than as a load error on the server.
# Install it where strongbox looks for plugins, e.g.
#   install(TARGETS <name> LIBRARY DESTINATION lib/strongbox/plugins)
function(strongbox_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "strongbox_add_plugin(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "strongbox_add_plugin(${name}): SOURCES is empty")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE strongbox::sdk ${ARG_LIBS})
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${name} PRIVATE LINKER:--no-undefined)
  endif()
endfunction()
