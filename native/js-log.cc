#include "js-log.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "frame.h"
#include "js-common.h"
#include "js-handle.h"
#include "log.h"

namespace mqlab {

namespace {

struct DurableEvent {
  uint64_t durable;
  bool failed;
  std::string error;
};

// One JS thread's handle on a shared LogCore. Closing it drops this thread's reference; the log
// itself closes when the last handle in the process does.
struct LogHandle : DurableListener, JsHandle<LogHandle> {
  static constexpr const char* kName = "CommitLog";
  std::shared_ptr<LogCore> core;
  LogCore* log = nullptr;  // == core.get() while open; checked by every call
  napi_threadsafe_function tsfn = nullptr;
  napi_ref scratchRef = nullptr;
  double* scratch = nullptr;  // [timestamp, next, count]
  napi_ref scratchBytesRef = nullptr;
  uint8_t* scratchBytes = nullptr;  // small read payloads are copied here
  size_t scratchBytesLen = 0;
  std::atomic<uint64_t> wanted{0};
  uint64_t lastSent = 0;  // flusher thread only
  bool refed = false;
  WallClock clock;  // default timestamps of this thread's appends
  AppendLease* lease = nullptr;  // appendMode 'chunked': this handle's space in the log

  bool isOpen() const { return log != nullptr; }

  void onDurable(uint64_t durable, const std::string* error) override {
    if (!error && wanted.load() <= lastSent) return;
    lastSent = durable;
    auto* ev = new DurableEvent{durable, error != nullptr, error ? *error : std::string()};
    if (napi_call_threadsafe_function(tsfn, ev, napi_tsfn_nonblocking) != napi_ok) delete ev;
  }

  void close() {
    if (!log) return;
    if (lease) log->closeLease(lease);
    lease = nullptr;
    log->removeListener(this);
    log = nullptr;
    core.reset();
    if (tsfn) {
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
      tsfn = nullptr;
    }
    unbindFromEnv();
  }

  void releaseRefs(napi_env e) {
    if (scratchRef) napi_delete_reference(e, scratchRef);
    if (scratchBytesRef) napi_delete_reference(e, scratchBytesRef);
    scratchRef = scratchBytesRef = nullptr;
  }
};

napi_value Append(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  auto* h = static_cast<LogHandle*>(data);
  if (!h->log) {
    throwError(env, "ERR_CLOSED", "CommitLog is closed");
    return nullptr;
  }
  const uint64_t ticks = WallClock::ticks();  // early: see WallClock::ticks
  if (argc == 0) napi_get_undefined(env, &argv[0]);
  const uint8_t* p;
  size_t len;
  int64_t ts;
  if (!argBytes(env, argv[0], "payload", &p, &len)) return nullptr;
  if (argc < 2) ts = h->clock.msAt(ticks);  // the common case: no timestamp argument at all, no type check
  else if (!argTimestamp(env, argv[1], "timestamp", h->clock, &ts)) return nullptr;
  if (len > h->log->config().maxRecordBytes) {
    throwError(env, "ERR_RECORD_TOO_LARGE",
               "payload of " + std::to_string(len) + " bytes exceeds maxRecordBytes (" +
                   std::to_string(h->log->config().maxRecordBytes) + ")");
    return nullptr;
  }
  return guarded(env, [&]() -> napi_value {
    const uint64_t pos = h->lease ? h->log->appendLeased(*h->lease, p, static_cast<uint32_t>(len), ts)
                                  : h->log->append(p, static_cast<uint32_t>(len), ts);
    return makeNumber(env, static_cast<double>(pos));
  });
}

napi_value AppendBatch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  bool isArray = false;
  napi_is_array(env, argv[0], &isArray);
  if (!isArray) {
    throwInvalid(env, "payloads", "an array of Uint8Array");
    return nullptr;
  }
  int64_t ts;
  if (!argTimestamp(env, argv[1], "timestamp", h->clock, &ts)) return nullptr;
  uint32_t count;
  napi_get_array_length(env, argv[0], &count);
  if (count == 0) {
    throwInvalid(env, "payloads", "a non-empty array");
    return nullptr;
  }
  thread_local std::vector<BatchItem> items;
  items.resize(count);
  const uint32_t maxLen = h->log->config().maxRecordBytes;
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    if (napi_get_element(env, argv[0], i, &el) != napi_ok) return nullptr;
    const uint8_t* p;
    size_t len;
    if (!argBytes(env, el, "payloads[i]", &p, &len)) return nullptr;
    if (len > maxLen) {
      throwError(env, "ERR_RECORD_TOO_LARGE",
                 "payloads[" + std::to_string(i) + "] of " + std::to_string(len) + " bytes exceeds maxRecordBytes (" +
                     std::to_string(maxLen) + ")");
      return nullptr;
    }
    items[i] = {p, static_cast<uint32_t>(len), frame::checksum(static_cast<uint32_t>(len), ts, p)};
  }
  return guarded(env, [&]() -> napi_value {
    if (h->lease) h->log->sealOwnChunk(*h->lease);  // batches go in order, after this handle's chunk
    return makeNumber(env, static_cast<double>(h->log->appendBatch(items.data(), count, ts)));
  });
}

// appendPacked(bytes, lengths, count?, timestamp?): `count` records laid end to end in `bytes`,
// record i being lengths[i] bytes long. Without `count`, every length is used and they must sum
// to bytes.length exactly; with it (a caller's reusable staging area), the first `count` must fit.
// One native call, no per-record JS value: what a producer that already batches into one buffer
// (a Kafka RecordBatch, a RocketMQ MessageBatch) needs.
napi_value AppendPacked(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  const uint8_t* bytes;
  size_t bytesLen;
  if (!argBytes(env, argv[0], "bytes", &bytes, &bytesLen)) return nullptr;
  napi_typedarray_type type;
  size_t lengthsCount = 0;
  void* lp = nullptr;
  if (napi_get_typedarray_info(env, argv[1], &type, &lengthsCount, &lp, nullptr, nullptr) != napi_ok ||
      type != napi_uint32_array) {
    throwInvalid(env, "lengths", "a Uint32Array");
    return nullptr;
  }
  napi_valuetype countType;
  napi_typeof(env, argv[2], &countType);
  const bool exact = countType == napi_undefined;
  double count = static_cast<double>(lengthsCount);
  if (!exact && !argInteger(env, argv[2], "count", 1, static_cast<double>(lengthsCount), &count)) return nullptr;
  if (count < 1) {
    throwInvalid(env, "lengths", "non-empty");
    return nullptr;
  }
  int64_t ts;
  if (!argTimestamp(env, argv[3], "timestamp", h->clock, &ts)) return nullptr;
  const auto* lengths = static_cast<const uint32_t*>(lp);
  const size_t n = static_cast<size_t>(count);
  const uint32_t maxLen = h->log->config().maxRecordBytes;
  // Lengths in a SharedArrayBuffer could change between this check and the copy: copy them.
  thread_local std::vector<uint32_t> lens;
  lens.assign(lengths, lengths + n);
  uint64_t off = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t len = lens[i];
    if (len > maxLen) {
      throwError(env, "ERR_RECORD_TOO_LARGE",
                 "lengths[" + std::to_string(i) + "] = " + std::to_string(len) + " exceeds maxRecordBytes (" +
                     std::to_string(maxLen) + ")");
      return nullptr;
    }
    if (off + len > bytesLen) {
      throwError(env, "ERR_INVALID_ARG",
                 "lengths describe more bytes than bytes.length (" + std::to_string(bytesLen) + ") at record " +
                     std::to_string(i));
      return nullptr;
    }
    off += len;
  }
  if (exact && off != bytesLen) {
    throwError(env, "ERR_INVALID_ARG",
               "lengths sum to " + std::to_string(off) + " bytes but bytes.length is " + std::to_string(bytesLen));
    return nullptr;
  }
  return guarded(env, [&]() -> napi_value {
    if (h->lease) h->log->sealOwnChunk(*h->lease);
    return makeNumber(env, static_cast<double>(h->log->appendPacked(bytes, lens.data(), n, ts)));
  });
}

napi_value Read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t pos;
  if (!argPosition(env, argv[0], "position", &pos)) return nullptr;
  return guarded(env, [&]() -> napi_value {
    uint64_t off, next;
    uint32_t len;
    int64_t ts;
    auto seg = h->log->locate(pos, &off, &len, &ts, &next);
    h->scratch[0] = static_cast<double>(ts);
    h->scratch[1] = static_cast<double>(next);
    // Small payloads go through the handle's scratch bytes: JS copies them into a pooled Buffer,
    // far cheaper than creating a Buffer here. Larger ones get their own Buffer.
    if (len <= h->scratchBytesLen) {
      std::memcpy(h->scratchBytes, seg->data() + off + frame::kHeaderBytes, len);
      return makeNumber(env, len);
    }
    napi_value buf;
    void* dst;
    if (napi_create_buffer_copy(env, len, seg->data() + off + frame::kHeaderBytes, &dst, &buf) != napi_ok) return nullptr;
    return buf;
  });
}

// The (position, maxBytes, maxRecords) arguments both batch reads start with.
bool batchArgs(napi_env env, const napi_value* argv, uint64_t* pos, uint64_t* maxBytes, uint64_t* maxRecords) {
  double b, r;
  if (!argPosition(env, argv[0], "position", pos) || !argInteger(env, argv[1], "maxBytes", 1, kMaxSafe, &b) ||
      !argInteger(env, argv[2], "maxRecords", 1, kMaxSafe, &r))
    return false;
  *maxBytes = static_cast<uint64_t>(b);
  *maxRecords = static_cast<uint64_t>(r);
  return true;
}

uint64_t spanBytes(const std::vector<ReadSpan>& spans) {
  uint64_t total = 0;
  for (const auto& s : spans) total += s.bytes;
  return total;
}

// The spans' frames, end to end, at `out` (which has room for spanBytes(spans)).
void copySpans(const std::vector<ReadSpan>& spans, uint8_t* out) {
  for (const auto& s : spans) {
    std::memcpy(out, s.segment->data() + s.offset, s.bytes);
    out += s.bytes;
  }
}

napi_value ReadBatch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t pos, maxBytes, maxRecords;
  if (!batchArgs(env, argv, &pos, &maxBytes, &maxRecords)) return nullptr;
  return guarded(env, [&]() -> napi_value {
    std::vector<ReadSpan> spans;
    uint64_t next = h->log->collect(pos, maxBytes, maxRecords, spans);
    napi_value buf;
    void* dst;
    if (napi_create_buffer(env, spanBytes(spans), &dst, &buf) != napi_ok) return nullptr;
    copySpans(spans, static_cast<uint8_t*>(dst));
    h->scratch[1] = static_cast<double>(next);
    return buf;
  });
}

// readBatchInto(position, maxBytes, maxRecords, target): as readBatch, but the frames are copied
// into the caller's `target` (reused across reads: no allocation) and at most target.length bytes
// of them. Returns the bytes written and writes next into scratch[1]; when the first record alone
// is larger than target, writes nothing and returns minus its frame size (grow target and retry).
napi_value ReadBatchInto(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t pos, maxBytes, maxRecords;
  const uint8_t* target;
  size_t targetLen;
  if (!batchArgs(env, argv, &pos, &maxBytes, &maxRecords) || !argBytes(env, argv[3], "target", &target, &targetLen))
    return nullptr;
  return guarded(env, [&]() -> napi_value {
    thread_local std::vector<ReadSpan> spans;
    spans.clear();
    const uint64_t limit = std::min<uint64_t>(maxBytes, targetLen);
    uint64_t next = h->log->collect(pos, limit == 0 ? 1 : limit, maxRecords, spans);
    const uint64_t total = spanBytes(spans);
    if (total > targetLen) {
      // Only the first record can overshoot (collect returns at least one): report its size.
      spans.clear();
      return makeNumber(env, -static_cast<double>(total));
    }
    copySpans(spans, const_cast<uint8_t*>(target));
    spans.clear();  // drop the segment references now, not at the next read
    h->scratch[1] = static_cast<double>(next);
    return makeNumber(env, static_cast<double>(total));
  });
}

napi_value RequestDurable(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  uint64_t pos;
  if (!argPosition(env, argv[0], "position", &pos)) return nullptr;
  if (pos >= h->log->end() && pos >= h->log->tail()) {  // the tail: a chunked append may be behind an open chunk
    throwError(env, "ERR_OUT_OF_RANGE",
               "position " + std::to_string(pos) + " has not been appended (end " + std::to_string(h->log->tail()) + ")",
               static_cast<double>(pos));
    return nullptr;
  }
  if (!h->refed) {
    napi_ref_threadsafe_function(env, h->tsfn);
    h->refed = true;
  }
  uint64_t w = h->wanted.load();
  while (pos + 1 > w && !h->wanted.compare_exchange_weak(w, pos + 1)) {
  }
  h->log->requestDurable(pos + 1);
  return makeUndefined(env);
}

napi_value Idle(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void* data;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  auto* h = static_cast<LogHandle*>(data);
  if (h->log && h->refed) {
    napi_unref_threadsafe_function(env, h->tsfn);
    h->refed = false;
  }
  return makeUndefined(env);
}

napi_value FlushSync(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return guarded(env, [&] {
    h->log->flushSync();
    return makeUndefined(env);
  });
}

napi_value ApplyRetention(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  double now, maxAge, maxBytes;
  if (!argInteger(env, argv[0], "now", -kMaxSafe, kMaxSafe, &now) ||
      !argInteger(env, argv[1], "retention.maxAgeMs", -1, kMaxSafe, &maxAge) ||
      !argInteger(env, argv[2], "retention.maxBytes", -1, kMaxSafe, &maxBytes))
    return nullptr;
  uint64_t n = h->log->applyRetention(static_cast<int64_t>(now), static_cast<int64_t>(maxAge), static_cast<int64_t>(maxBytes));
  return makeNumber(env, static_cast<double>(n));
}

napi_value StartPosition(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return makeNumber(env, static_cast<double>(h->log->start()));
}

napi_value SegmentCount(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return makeNumber(env, static_cast<double>(h->log->segmentCount()));
}

napi_value Roll(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return guarded(env, [&]() -> napi_value {
    napi_value b;
    napi_get_boolean(env, h->log->rollNow(), &b);
    return b;
  });
}

napi_value ActiveSegmentBase(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return makeNumber(env, static_cast<double>(h->log->activeBase()));
}

// Where the next ordered append would go: past every chunk handed out (endPosition stops at the
// oldest open one).
napi_value TailPosition(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  LogHandle* h = LogHandle::fromCall(env, info, argv);
  if (!h) return nullptr;
  return makeNumber(env, static_cast<double>(h->log->tail()));
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void* data;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
  static_cast<LogHandle*>(data)->close();
  return makeUndefined(env);
}

void CallDurable(napi_env env, napi_value callback, void*, void* data) {
  std::unique_ptr<DurableEvent> ev(static_cast<DurableEvent*>(data));
  if (!env || !callback) return;
  napi_value argv[2];
  argv[0] = makeNumber(env, static_cast<double>(ev->durable));
  if (ev->failed) napi_create_string_utf8(env, ev->error.data(), ev->error.size(), &argv[1]);
  else napi_get_undefined(env, &argv[1]);
  napi_value recv;
  napi_get_undefined(env, &recv);
  napi_call_function(env, recv, callback, 2, argv, nullptr);
}

napi_value recoveryObject(napi_env env, const RecoveryInfo& r) {
  napi_value o, list;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "end", makeNumber(env, static_cast<double>(r.end)));
  napi_set_named_property(env, o, "truncatedBytes", makeNumber(env, static_cast<double>(r.truncatedBytes)));
  napi_set_named_property(env, o, "paddedBytes", makeNumber(env, static_cast<double>(r.paddedBytes)));
  napi_create_array_with_length(env, r.corrupt.size(), &list);
  for (size_t i = 0; i < r.corrupt.size(); i++) {
    napi_value c, s, why;
    napi_create_object(env, &c);
    napi_create_string_utf8(env, r.corrupt[i].segment.c_str(), NAPI_AUTO_LENGTH, &s);
    napi_create_string_utf8(env, r.corrupt[i].reason.c_str(), NAPI_AUTO_LENGTH, &why);
    napi_set_named_property(env, c, "segment", s);
    napi_set_named_property(env, c, "position", makeNumber(env, static_cast<double>(r.corrupt[i].position)));
    napi_set_named_property(env, c, "reason", why);
    napi_set_named_property(env, c, "next", makeNumber(env, static_cast<double>(r.corrupt[i].next)));
    napi_set_element(env, list, static_cast<uint32_t>(i), c);
  }
  napi_set_named_property(env, o, "corrupt", list);
  return o;
}

void FinalizeCounters(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<SharedCounters>*>(hint); }

}  // namespace

// openLog(dir, segmentBytes, maxRecordBytes, flush (0 none | 1 async | 2 sync), flushIntervalMs,
//         flushBytes, scratch: Float64Array(3), onDurable(durable, error?), scratchBytes: Uint8Array,
//         appendMode (0 ordered | 1 chunked; default 0))
//   -> handle object
napi_value OpenLog(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  size_t argc = 10;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t i = argc; i < 10; i++) napi_get_undefined(env, &argv[i]);
  std::string dir;
  double segmentBytes, maxRecord, flush, interval, flushBytes, appendMode = 0;
  if (!argString(env, argv[0], "dir", &dir)) return nullptr;
  if (dir.empty() || dir[0] != '/') {
    throwInvalid(env, "dir", "an absolute path");
    return nullptr;
  }
  if (!argInteger(env, argv[1], "options.segmentBytes", 4096, 4294967296.0, &segmentBytes) ||
      !argInteger(env, argv[2], "options.maxRecordBytes", 0, frame::kMaxPayload, &maxRecord) ||
      !argInteger(env, argv[3], "options.flush", 0, 2, &flush) ||
      !argInteger(env, argv[4], "options.flushIntervalMs", 1, 2147483647.0, &interval) ||
      !argInteger(env, argv[5], "options.flushBytes", 1, kMaxSafe, &flushBytes))
    return nullptr;
  napi_valuetype modeType;
  napi_typeof(env, argv[9], &modeType);
  if (modeType != napi_undefined && !argInteger(env, argv[9], "options.appendMode", 0, 1, &appendMode)) return nullptr;
  if (frame::frameBytes(static_cast<uint32_t>(maxRecord)) + frame::kEndBytes + Segment::headerBytes() >
      static_cast<uint64_t>(segmentBytes)) {
    throwInvalid(env, "options.maxRecordBytes", "small enough that one framed record fits in options.segmentBytes");
    return nullptr;
  }
  napi_typedarray_type st;
  size_t slen;
  void* sdata;
  if (napi_get_typedarray_info(env, argv[6], &st, &slen, &sdata, nullptr, nullptr) != napi_ok ||
      st != napi_float64_array || slen < 3) {
    throwInvalid(env, "scratch", "a Float64Array of length >= 3");
    return nullptr;
  }
  const uint8_t* sbytes;
  size_t sbytesLen;
  if (!argBytes(env, argv[8], "scratchBytes", &sbytes, &sbytesLen)) return nullptr;
  napi_valuetype cbType;
  napi_typeof(env, argv[7], &cbType);
  if (cbType != napi_function) {
    throwInvalid(env, "onDurable", "a function");
    return nullptr;
  }
  LogConfig cfg;
  cfg.segmentBytes = static_cast<uint64_t>(segmentBytes);
  cfg.maxRecordBytes = static_cast<uint32_t>(maxRecord);
  cfg.flush = static_cast<FlushPolicy>(static_cast<int>(flush));
  cfg.flushIntervalMs = static_cast<uint32_t>(interval);
  cfg.flushBytes = static_cast<uint64_t>(flushBytes);

  std::shared_ptr<LogCore> core;
  try {
    core = LogCore::acquire(dir, cfg);
  } catch (const StoreError& e) {
    throwStoreError(env, e);
    return nullptr;
  }
  auto* h = new LogHandle();
  h->core = core;
  h->log = core.get();
  h->scratch = static_cast<double*>(sdata);
  napi_create_reference(env, argv[6], 1, &h->scratchRef);
  h->scratchBytes = const_cast<uint8_t*>(sbytes);
  h->scratchBytesLen = sbytesLen;
  napi_create_reference(env, argv[8], 1, &h->scratchBytesRef);
  napi_value name;
  napi_create_string_utf8(env, "mqlab.durable", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[7], nullptr, name, 0, 1, nullptr, nullptr, nullptr, CallDurable, &h->tsfn) !=
      napi_ok) {
    h->close();
    h->releaseRefs(env);
    delete h;
    throwError(env, "ERR_IO", "cannot create the durability notifier");
    return nullptr;
  }
  napi_unref_threadsafe_function(env, h->tsfn);
  if (appendMode == 1) {
    try {
      h->lease = core->openLease();
    } catch (const StoreError& e) {  // the log's "chunked" mark cannot be created (read-only directory)
      h->close();
      h->releaseRefs(env);
      delete h;
      throwStoreError(env, e);
      return nullptr;
    }
  }
  core->addListener(h);
  h->bindToEnv(env);

  napi_value obj;
  napi_create_object(env, &obj);
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {{"append", Append},
                    {"appendBatch", AppendBatch},
                    {"appendPacked", AppendPacked},
                    {"read", Read},
                    {"readBatch", ReadBatch}, {"readBatchInto", ReadBatchInto},
                    {"requestDurable", RequestDurable},
                    {"idle", Idle},
                    {"flushSync", FlushSync},
                    {"applyRetention", ApplyRetention},
                    {"startPosition", StartPosition},
                    {"segmentCount", SegmentCount},
                    {"roll", Roll},
                    {"activeSegmentBase", ActiveSegmentBase},
                    {"tailPosition", TailPosition},
                    {"close", Close}};
  for (const Fn& f : fns) h->expose(obj, f.name, f.cb);
  napi_set_named_property(env, obj, "recovery", recoveryObject(env, core->recovery()));
  auto* keep = new std::shared_ptr<SharedCounters>(core->counters());
  napi_value ab, counters;
  if (napi_create_external_arraybuffer(env, keep->get(), sizeof(SharedCounters), FinalizeCounters, keep, &ab) != napi_ok) {
    delete keep;
    return nullptr;
  }
  napi_create_typedarray(env, napi_float64_array, sizeof(SharedCounters) / sizeof(double), ab, 0, &counters);
  napi_set_named_property(env, obj, "counters", counters);
  return obj;
}

}  // namespace mqlab
