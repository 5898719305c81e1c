# The nightly toolchain, pinned (sourced by the scripts that use it): the package's wasm module
# is built on it with std rebuilt to abort at once on a panic, without panic messages or source
# locations (10 KB gzipped less: BENCHMARKS.md, "Package size"), and cargo-fuzz runs on it.
NIGHTLY=nightly-2026-05-20
