#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

/* Swift 6 strict concurrency rejects C globals; accessors return them. */
static inline io_manager CExt2fs_unix_io_manager(void) { return unix_io_manager; }
