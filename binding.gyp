{
  "targets": [
    {
      "target_name": "mqlab_native",
      "sources": [
        "native/addon.cc",
        "native/crc32c.cc",
        "native/file-util.cc",
        "native/flusher.cc",
        "native/index-file.cc",
        "native/js-bench.cc",
        "native/js-common.cc",
        "native/js-index-file.cc",
        "native/js-latency-probe.cc",
        "native/js-log.cc",
        "native/log.cc",
        "native/segment.cc",
        "native/store-error.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"]
    }
  ]
}
