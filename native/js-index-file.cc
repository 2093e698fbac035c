#include "js-index-file.h"

#include <cstring>
#include <memory>

#include "index-file.h"
#include "js-common.h"
#include "js-handle.h"

namespace mqlab {

namespace {

struct IndexHandle : JsHandle<IndexHandle> {
  static constexpr const char* kName = "IndexFile";
  std::unique_ptr<IndexFile> file;

  bool isOpen() const { return file != nullptr; }
  void close() {
    file.reset();
    unbindFromEnv();
  }
};

napi_value Count(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return makeNumber(env, static_cast<double>(h->file->count()));
}

napi_value Append(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  const uint8_t* p;
  size_t len;
  if (!argBytes(env, argv[0], "entry", &p, &len)) return nullptr;
  if (len != h->file->entryBytes()) {
    throwInvalid(env, "entry", "exactly entryBytes (" + std::to_string(h->file->entryBytes()) + ") bytes long, got " +
                                   std::to_string(len));
    return nullptr;
  }
  return guarded(env, [&] { return makeNumber(env, static_cast<double>(h->file->append(p, len))); });
}

napi_value AppendMany(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  const uint8_t* p;
  size_t len;
  if (!argBytes(env, argv[0], "entries", &p, &len)) return nullptr;
  if (len == 0 || len % h->file->entryBytes() != 0) {
    throwInvalid(env, "entries", "a non-empty multiple of entryBytes (" + std::to_string(h->file->entryBytes()) +
                                     ") bytes long, got " + std::to_string(len));
    return nullptr;
  }
  return guarded(env, [&] { return makeNumber(env, static_cast<double>(h->file->append(p, len))); });
}

napi_value Read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t index;
  if (!argPosition(env, argv[0], "index", &index)) return nullptr;
  if (index >= h->file->count()) {
    throwError(env, "ERR_OUT_OF_RANGE",
               "index " + std::to_string(index) + " is past the last entry (count " + std::to_string(h->file->count()) + ")",
               static_cast<double>(index));
    return nullptr;
  }
  napi_value buf;
  void* dst;
  napi_create_buffer_copy(env, h->file->entryBytes(), h->file->entry(index), &dst, &buf);
  return buf;
}

napi_value ReadRange(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t from, count;
  if (!argPosition(env, argv[0], "from", &from) || !argPosition(env, argv[1], "count", &count)) return nullptr;
  const uint64_t total = h->file->count();
  if (from > total) {
    throwError(env, "ERR_OUT_OF_RANGE",
               "from " + std::to_string(from) + " is past the last entry (count " + std::to_string(total) + ")",
               static_cast<double>(from));
    return nullptr;
  }
  const uint64_t n = std::min(count, total - from);
  napi_value buf;
  void* dst;
  if (napi_create_buffer_copy(env, n * h->file->entryBytes(), h->file->entry(from), &dst, &buf) != napi_ok) return nullptr;
  return buf;
}

napi_value Write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t index;
  const uint8_t* p;
  size_t len;
  if (!argPosition(env, argv[0], "index", &index) || !argBytes(env, argv[1], "entry", &p, &len)) return nullptr;
  if (len != h->file->entryBytes()) {
    throwInvalid(env, "entry", "exactly entryBytes (" + std::to_string(h->file->entryBytes()) + ") bytes long, got " +
                                   std::to_string(len));
    return nullptr;
  }
  if (index >= h->file->count()) {
    throwError(env, "ERR_OUT_OF_RANGE",
               "index " + std::to_string(index) + " is past the last entry (count " + std::to_string(h->file->count()) + ")",
               static_cast<double>(index));
    return nullptr;
  }
  h->file->write(index, p);
  return makeUndefined(env);
}

napi_value Truncate(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t count;
  if (!argPosition(env, argv[0], "count", &count)) return nullptr;
  h->file->truncate(count);
  return makeUndefined(env);
}

napi_value FlushSync(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  IndexHandle* h = IndexHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return guarded(env, [&] {
    h->file->flushSync();
    return makeUndefined(env);
  });
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void* data;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
  static_cast<IndexHandle*>(data)->close();
  return makeUndefined(env);
}

}  // namespace

napi_value OpenIndexFile(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t i = argc; i < 3; i++) napi_get_undefined(env, &argv[i]);
  std::string path;
  double entryBytes, growBytes;
  if (!argString(env, argv[0], "path", &path)) return nullptr;
  if (path.empty()) {
    throwInvalid(env, "path", "a non-empty path");
    return nullptr;
  }
  if (!argInteger(env, argv[1], "options.entryBytes", 1, 65536, &entryBytes) ||
      !argInteger(env, argv[2], "options.growBytes", 4096, 1073741824.0, &growBytes))
    return nullptr;
  auto* h = new IndexHandle();
  try {
    h->file = IndexFile::open(path, static_cast<uint32_t>(entryBytes), static_cast<uint64_t>(growBytes));
  } catch (const StoreError& e) {
    delete h;
    throwStoreError(env, e);
    return nullptr;
  }
  h->bindToEnv(env);
  napi_value obj;
  napi_create_object(env, &obj);
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {{"count", Count},     {"append", Append},       {"appendMany", AppendMany},
                    {"read", Read},       {"readRange", ReadRange}, {"write", Write},
                    {"truncate", Truncate}, {"flushSync", FlushSync}, {"close", Close}};
  for (const Fn& f : fns) h->expose(obj, f.name, f.cb);
  return obj;
}

}  // namespace mqlab
