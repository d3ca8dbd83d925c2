#include <stdlib.h>
#include <string.h>
#include <sqfs/predef.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>

/* The inode's payload is a C flexible array member behind a union: these helpers keep
   Swift away from both. */
static inline sqfs_inode_generic_t *CSquashfs_symlink_inode(const char *target, size_t length) {
    sqfs_inode_generic_t *inode = calloc(1, sizeof(sqfs_inode_generic_t) + length + 1);
    if (inode == NULL) return NULL;
    inode->base.type = SQFS_INODE_SLINK;
    inode->data.slink.nlink = 1;
    inode->data.slink.target_size = (sqfs_u32)length;
    inode->payload_bytes_available = (sqfs_u32)length;
    inode->payload_bytes_used = (sqfs_u32)length;
    memcpy((char *)inode->extra, target, length);
    return inode;
}

static inline void CSquashfs_set_base(sqfs_inode_generic_t *inode, sqfs_u16 mode, sqfs_u16 uid_idx, sqfs_u16 gid_idx,
                                      sqfs_u32 mtime, sqfs_u32 number) {
    inode->base.mode = mode;
    inode->base.uid_idx = uid_idx;
    inode->base.gid_idx = gid_idx;
    inode->base.mod_time = mtime;
    inode->base.inode_number = number;
}

static inline sqfs_u64 CSquashfs_file_size(sqfs_file_t *file) { return file->get_size(file); }

static inline int CSquashfs_write_at(sqfs_file_t *file, sqfs_u64 offset, const void *data, size_t size) {
    return file->write_at(file, offset, data, size);
}

static inline int CSquashfs_write_compressor_options(sqfs_compressor_t *cmp, sqfs_file_t *file) {
    return cmp->write_options(cmp, file);
}

static inline void CSquashfs_set_zstd_level(sqfs_compressor_config_t *cfg, unsigned int level) {
    cfg->level = level;
}
