;; The rowpool_abi global, for kernels built from C or Rust: their linkers export a static as a
;; global holding its address, not its value, so this one is merged in after linking with binaryen:
;;   wasm-merge kernel.wasm kernel abi.wat abi -o kernel-v1.wasm
(module (global (export "rowpool_abi") i32 (i32.const 1)))
