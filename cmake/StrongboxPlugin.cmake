# sbx_add_plugin(NAME SOURCES... [LIBS ...]): a plugin shared library placed where a freshly built
# strongbox finds it (build/lib/strongbox/plugins) and installed to <prefix>/lib/strongbox/plugins.
function(sbx_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE strongbox::sdk ${ARG_LIBS})
  set_target_properties(${name} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${SBX_PLUGIN_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  install(TARGETS ${name} LIBRARY DESTINATION ${SBX_PLUGIN_SUBDIR})
endfunction()
