# Debian packages (SPEC §9), built by `cpack -G DEB` or the `package`
# target from an already built tree: ohfed-agent (the agent daemon, the
# ohfed CLI and the sample-data generator) and ohfed-aggregator. Each has
# its systemd unit, example configurations, the reference data, and a
# postinst that creates user ohfed and the state directory.
include(GNUInstallDirs)

set(OHFED_UNIT_DIR lib/systemd/system)

# ohfed_package_component(COMPONENT PACKAGE STATE_DIR CONFIG EXAMPLE
#                         EXAMPLES... ) installs what both packages share.
function(ohfed_package_component component package state_dir config example)
  set(doc ${CMAKE_INSTALL_DATADIR}/doc/${package})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/${package}.service
    DESTINATION ${OHFED_UNIT_DIR} COMPONENT ${component})
  # Not under /usr/share/doc, which minimal images leave out (dpkg
  # path-exclude): the postinst copies the first configuration from here.
  install(FILES ${ARGN} DESTINATION ${CMAKE_INSTALL_DATADIR}/${package}/examples
    COMPONENT ${component})
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${doc}
    COMPONENT ${component})
  install(FILES ${OHFED_DATA_DIR}/catalogue.csv ${OHFED_DATA_DIR}/england_orgs.csv
    DESTINATION ${CMAKE_INSTALL_DATADIR}/${package} COMPONENT ${component})
  set(PACKAGE ${package})
  set(STATE_DIR ${state_dir})
  set(CONFIG ${config})
  set(EXAMPLE ${example})
  set(out ${PROJECT_BINARY_DIR}/debian/${component})
  configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/postinst.in
    ${out}/postinst @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE
    OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/prerm.in
    ${out}/prerm @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE
    OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  string(TOUPPER ${component} C)
  set(CPACK_DEBIAN_${C}_PACKAGE_NAME ${package} PARENT_SCOPE)
  set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA "${out}/postinst;${out}/prerm"
    PARENT_SCOPE)
endfunction()

install(TARGETS ohfed-agent ohfed ohfed-sample-data
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
ohfed_package_component(agent ohfed-agent /var/lib/ohfed agent.conf agent.conf
  ${PROJECT_SOURCE_DIR}/deploy/config/agent.conf)
set(CPACK_DEBIAN_AGENT_DESCRIPTION
  "ohfed trust agent and CLI\n Records a trust's occupational health staffing and activity and sends\n anonymised summaries to an ohfed aggregator.")

install(TARGETS ohfed-aggregator
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT aggregator)
ohfed_package_component(aggregator ohfed-aggregator /var/lib/ohfed-aggregator
  aggregator.conf regional.conf
  ${PROJECT_SOURCE_DIR}/deploy/config/regional.conf
  ${PROJECT_SOURCE_DIR}/deploy/config/national.conf)
set(CPACK_DEBIAN_AGGREGATOR_DESCRIPTION
  "ohfed regional or national aggregator\n Ingests trusts' occupational health summaries, keeps rollups, answers\n queries and forwards upstream.")

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent aggregator)
set(CPACK_PACKAGE_NAME ohfed)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ohfed maintainers <ohfed@example.nhs.uk>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps (dpkg-dev)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, systemd")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_INSTALL_DIRECTORY ohfed)
include(CPack)
