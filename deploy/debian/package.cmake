# The Debian package (`make deb`: cpack -G DEB in build/): build/closeloop_<version>_amd64.deb
# holding what `cmake --install` installs (deploy/CMakeLists.txt, services/CMakeLists.txt),
# its Depends computed by dpkg-shlibdeps, and the maintainer scripts of this folder.
# Included from the top-level CMakeLists.txt (CPack writes its config to the build root).
set(CLOSELOOP_DEBIAN_RELEASE 1)
set(debian_version ${PROJECT_VERSION}-${CLOSELOOP_DEBIAN_RELEASE})

# The changelog's latest entry must be this version (lintian compares them).
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^closeloop \\(${debian_version}\\) ")
  message(FATAL_ERROR "deploy/debian/changelog's latest entry is not ${debian_version}: "
                      "add an entry for it")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_LIST_DIR}/changelog)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME closeloop)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the line tables of -g1 stay in build/bin, for perf
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # closeloop_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CLOSELOOP_DEBIAN_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER
    "Seed e54bbfd3 maintainers <maintainers@users.noreply.r-seed-e54bbfd3.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser: the postinst makes the user closeloop (setpriv, deb-systemd-helper: essential).
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
# The synopsis, then the long description: CPack indents each line, an empty one is " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "supervision of assigned items, clearing the list to zero
closeloop follows the items a county people's congress assigns (a deputy's
suggestion, a citizen's problem, an audit finding, a livelihood project)
from submission to closing, with the working-day deadlines and the loops a
real office needs. Small worker daemons, one per stage, talk over ZeroMQ and
keep their state in LevelDB; every step is an entry in a hash-chained audit
trail, and signed checkpoints of a Merkle tree over every event show a later
rewrite of the ledger's disk.

This package runs them under systemd (closeloop.target), as the user
closeloop, with the data in /var/lib/closeloop.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/postinst ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm ${CMAKE_CURRENT_LIST_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # scripts 0755, conffiles 0644
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
include(CPack)
