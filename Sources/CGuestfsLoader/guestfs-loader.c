/*
 * libguestfs, loaded with dlopen on first use instead of linked: it brings libvirt, GnuTLS,
 * GLib, curl and some forty more libraries whose loading and constructors cost every kiln
 * command about 18 ms before main (measured: 18.7 ms to load libguestfs.so.0, against a
 * whole `kiln eval` of 5-10 ms without it), while only kiln verify/inspect/diff of a
 * non-ext4 image ever calls it.
 *
 * Each function Kiln uses is defined here under libguestfs's own name and signature (the
 * Swift code imports <guestfs.h> through CGuestfs and links to these), hidden, so that
 * nothing outside the executable sees them; each forwards to the library's symbol. Only
 * opaque pointers cross, so <guestfs.h> is not included here (its declarations would make
 * these public). If the library cannot be loaded, guestfs_create returns NULL, as when it
 * fails, and kiln_guestfs_load_error says why.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include "CGuestfsLoader.h"

typedef struct guestfs_h guestfs_h;
struct guestfs_add_drive_opts_argv;
struct guestfs_tar_out_opts_argv;
typedef void (*guestfs_error_handler_cb)(guestfs_h *g, void *opaque, const char *msg);

#define HIDDEN __attribute__((visibility("hidden")))

static void *library;
static const char *load_error;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    library = dlopen("libguestfs.so.0", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) load_error = dlerror();
}

const char *kiln_guestfs_load_error(void) { return load_error; }

/* The library's function NAME; only called once guestfs_create has loaded it (a handle
 * exists only then), so the others need no check. */
static void *symbol(const char *name) {
    pthread_once(&load_once, load);
    return library == NULL ? NULL : dlsym(library, name);
}

HIDDEN guestfs_h *guestfs_create(void) {
    guestfs_h *(*f)(void) = (guestfs_h *(*)(void))symbol("guestfs_create");
    return f == NULL ? NULL : f();
}

HIDDEN void guestfs_close(guestfs_h *g) {
    ((void (*)(guestfs_h *g))symbol("guestfs_close"))(g);
}

HIDDEN const char * guestfs_last_error(guestfs_h *g) {
    return ((const char * (*)(guestfs_h *g))symbol("guestfs_last_error"))(g);
}

HIDDEN void guestfs_set_error_handler(guestfs_h *g, guestfs_error_handler_cb cb, void *opaque) {
    ((void (*)(guestfs_h *g, guestfs_error_handler_cb cb, void *opaque))symbol("guestfs_set_error_handler"))(g, cb, opaque);
}

HIDDEN int guestfs_set_backend(guestfs_h *g, const char *backend) {
    return ((int (*)(guestfs_h *g, const char *backend))symbol("guestfs_set_backend"))(g, backend);
}

HIDDEN int guestfs_set_backend_settings(guestfs_h *g, char *const *settings) {
    return ((int (*)(guestfs_h *g, char *const *settings))symbol("guestfs_set_backend_settings"))(g, settings);
}

HIDDEN int guestfs_set_cachedir(guestfs_h *g, const char *cachedir) {
    return ((int (*)(guestfs_h *g, const char *cachedir))symbol("guestfs_set_cachedir"))(g, cachedir);
}

HIDDEN int guestfs_set_smp(guestfs_h *g, int smp) {
    return ((int (*)(guestfs_h *g, int smp))symbol("guestfs_set_smp"))(g, smp);
}

HIDDEN int guestfs_add_drive_opts_argv(guestfs_h *g, const char *filename, const struct guestfs_add_drive_opts_argv *optargs) {
    return ((int (*)(guestfs_h *g, const char *filename, const struct guestfs_add_drive_opts_argv *optargs))symbol("guestfs_add_drive_opts_argv"))(g, filename, optargs);
}

HIDDEN int guestfs_launch(guestfs_h *g) {
    return ((int (*)(guestfs_h *g))symbol("guestfs_launch"))(g);
}

HIDDEN char ** guestfs_list_filesystems(guestfs_h *g) {
    return ((char ** (*)(guestfs_h *g))symbol("guestfs_list_filesystems"))(g);
}

HIDDEN int guestfs_mount_ro(guestfs_h *g, const char *mountable, const char *mountpoint) {
    return ((int (*)(guestfs_h *g, const char *mountable, const char *mountpoint))symbol("guestfs_mount_ro"))(g, mountable, mountpoint);
}

HIDDEN int guestfs_exists(guestfs_h *g, const char *path) {
    return ((int (*)(guestfs_h *g, const char *path))symbol("guestfs_exists"))(g, path);
}

HIDDEN int guestfs_is_file(guestfs_h *g, const char *path) {
    return ((int (*)(guestfs_h *g, const char *path))symbol("guestfs_is_file"))(g, path);
}

HIDDEN int guestfs_is_symlink(guestfs_h *g, const char *path) {
    return ((int (*)(guestfs_h *g, const char *path))symbol("guestfs_is_symlink"))(g, path);
}

HIDDEN char * guestfs_readlink(guestfs_h *g, const char *path) {
    return ((char * (*)(guestfs_h *g, const char *path))symbol("guestfs_readlink"))(g, path);
}

HIDDEN char * guestfs_read_file(guestfs_h *g, const char *path, size_t *size_r) {
    return ((char * (*)(guestfs_h *g, const char *path, size_t *size_r))symbol("guestfs_read_file"))(g, path, size_r);
}

HIDDEN int guestfs_tar_out_opts_argv(guestfs_h *g, const char *directory, const char *tarfile, const struct guestfs_tar_out_opts_argv *optargs) {
    return ((int (*)(guestfs_h *g, const char *directory, const char *tarfile, const struct guestfs_tar_out_opts_argv *optargs))symbol("guestfs_tar_out_opts_argv"))(g, directory, tarfile, optargs);
}

HIDDEN int guestfs_umount_all(guestfs_h *g) {
    return ((int (*)(guestfs_h *g))symbol("guestfs_umount_all"))(g);
}

HIDDEN int guestfs_shutdown(guestfs_h *g) {
    return ((int (*)(guestfs_h *g))symbol("guestfs_shutdown"))(g);
}
