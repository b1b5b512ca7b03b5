#pragma once
// Clang thread-safety analysis attributes (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), as in
// LevelDB's port/thread_annotations.h with the modern capability names. They cost nothing at run time:
// with clang and -Wthread-safety the compiler checks that every GUARDED_BY member is touched only with its
// mutex held and that REQUIRES functions are called with it held; elsewhere (GCC) they expand to nothing.
// The convention is in docs/ARCHITECTURE.md ("Threads and locking"); the annotated locks in common/mutex.hpp.

#if defined(__clang__)
#define DIVE_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define DIVE_THREAD_ANNOTATION_(x)
#endif

// On a class: its objects are locks (a "capability" named `x`, e.g. "mutex").
#define CAPABILITY(x) DIVE_THREAD_ANNOTATION_(capability(x))
// On a class: an RAII guard that holds a capability for its lifetime.
#define SCOPED_CAPABILITY DIVE_THREAD_ANNOTATION_(scoped_lockable)

// On a data member: reading needs `x` held (shared or exclusive), writing needs it held exclusively.
#define GUARDED_BY(x) DIVE_THREAD_ANNOTATION_(guarded_by(x))
// On a pointer member: the pointed-to data is guarded by `x` (the pointer itself is not).
#define PT_GUARDED_BY(x) DIVE_THREAD_ANNOTATION_(pt_guarded_by(x))

// On a mutex member: the lock order (this one is taken before / after the ones named).
#define ACQUIRED_BEFORE(...) DIVE_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) DIVE_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))

// On a function: the caller must hold the capabilities (exclusively / at least shared).
#define REQUIRES(...) DIVE_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) DIVE_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))

// On a function: it acquires / releases the capabilities (no argument: `this`, for lock classes).
#define ACQUIRE(...) DIVE_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) DIVE_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) DIVE_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) DIVE_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) DIVE_THREAD_ANNOTATION_(release_generic_capability(__VA_ARGS__))
// On a function returning bool: it acquires the capabilities when it returns the first argument.
#define TRY_ACQUIRE(...) DIVE_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) DIVE_THREAD_ANNOTATION_(try_acquire_shared_capability(__VA_ARGS__))

// On a function: the caller must NOT hold the capabilities (the function takes them itself).
#define EXCLUDES(...) DIVE_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))

// On a function: after the call, the analysis assumes the capability is held (a run-time check).
#define ASSERT_CAPABILITY(x) DIVE_THREAD_ANNOTATION_(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) DIVE_THREAD_ANNOTATION_(assert_shared_capability(x))

// On a function: it returns (a reference to) the capability `x`.
#define RETURN_CAPABILITY(x) DIVE_THREAD_ANNOTATION_(lock_returned(x))

// On a function: the analysis skips its body. Each use says why in a comment.
#define NO_THREAD_SAFETY_ANALYSIS DIVE_THREAD_ANNOTATION_(no_thread_safety_analysis)
