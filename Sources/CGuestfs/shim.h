#include <guestfs.h>

/* The optional-argument bitmasks are UINT64_C() macros, which Swift does not import. */
static const uint64_t CGuestfs_add_drive_readonly = GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
static const uint64_t CGuestfs_add_drive_format = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
static const uint64_t CGuestfs_tar_out_numericowner = GUESTFS_TAR_OUT_OPTS_NUMERICOWNER_BITMASK;
