#ifndef CNIXLANGSUPPORT_H
#define CNIXLANGSUPPORT_H
#include <stdint.h>

/* Per-thread state of NixLang's thunk deinit (Value.swift, Thunk.deinit): how deeply thunk
   deinits nest on this thread, and the box of states parked past the limit. Thread-local so
   that evaluations on different threads never share it; Swift has no thread-local storage
   of its own. The pointers are to static storage, never null (_Nonnull: Swift sees no
   optional). */
static inline intptr_t *_Nonnull nixlang_deinit_nesting(void) {
    static _Thread_local intptr_t nesting = 0;
    return &nesting;
}

static inline void *_Nullable *_Nonnull nixlang_deinit_parked(void) {
    static _Thread_local void *parked = 0;
    return &parked;
}

#endif
