#ifndef SLUICE_CFUZZERDRIVER_H
#define SLUICE_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that keep their own main (compiler-rt, LLVM 13 and later).
/// SwiftPM links every executable's main to `<module>_main`, so each fuzz target defines that and calls this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
