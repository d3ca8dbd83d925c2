#include <parted/parted.h>

/* libparted asks what to do through an exception handler. Kiln runs unattended: it takes
   "Fix" where offered (the backup GPT header not at the end of a disk that was made
   bigger is the expected case), ignores warnings, and fails on everything else. */
static inline PedExceptionOption CParted_unattended(PedException *ex) {
    if (ex->options & PED_EXCEPTION_FIX) return PED_EXCEPTION_FIX;
    if (ex->type < PED_EXCEPTION_ERROR && (ex->options & PED_EXCEPTION_IGNORE)) return PED_EXCEPTION_IGNORE;
    return PED_EXCEPTION_UNHANDLED;
}
static inline void CParted_install_unattended_handler(void) { ped_exception_set_handler(CParted_unattended); }
