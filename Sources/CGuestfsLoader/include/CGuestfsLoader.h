/* libguestfs, loaded on first use: see guestfs-loader.c. */
#ifndef KILN_GUESTFS_LOADER_H
#define KILN_GUESTFS_LOADER_H

/* Why libguestfs could not be loaded (dlerror's text), or NULL when it was or was not tried. */
const char *kiln_guestfs_load_error(void);

#endif
