#include "worker/metrics.h"

#include <algorithm>
#include <filesystem>

#include "wire/message.h"

namespace closeloop {

Histogram::Histogram(std::span<const uint64_t> upper_bounds)
    : bounds(upper_bounds.begin(), upper_bounds.end()), counts(bounds.size() + 1, 0) {}

void Histogram::observe(uint64_t value) {
  size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++counts[bucket];
  sum += value;
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

namespace {

// An array of maps, each made by `one(builder, element)`.
template <typename Container, typename Fn>
std::string array_of(const Container& elements, Fn one) {
  wire::Buffer out;
  wire::Packer(out).pack_array(static_cast<uint32_t>(elements.size()));
  for (const auto& e : elements) {
    wire::MapBuilder m;
    one(m, e);
    wire::pack_raw(out, m.finish());
  }
  return std::string(wire::view(out));
}

std::string encode_histogram(const Histogram& h) {
  return wire::MapBuilder().add("le", h.bounds).add("counts", h.counts).add("sum", h.sum).finish();
}

std::string encode_counts(const std::map<std::string, uint64_t>& counts, const char* key) {
  return array_of(counts, [key](wire::MapBuilder& m, const auto& kv) {
    m.add(key, kv.first).add("count", kv.second);
  });
}

// Reads the array `key` of maps, calling fn(fields) for each; the first malformed one
// fails `f`.
template <typename Fn>
void each_map(wire::Fields& f, std::string_view key, Fn fn) {
  const msgpack::object* array = f.opt_array(key, 4096);
  if (!array) return;
  for (uint32_t i = 0; i < array->via.array.size && f.ok(); ++i) {
    const msgpack::object& element = array->via.array.ptr[i];
    if (element.type != msgpack::type::MAP)
      return f.fail(errc::kBadRequest, "figures: " + std::string(key) + " holds a non-map");
    wire::Fields e(element, key);
    fn(e);
    if (!e.ok()) return f.fail(e.error().code, e.error().message);
  }
}

std::vector<uint64_t> uint_list(const msgpack::object& array, wire::Fields& f) {
  std::vector<uint64_t> out;
  for (uint32_t i = 0; i < array.via.array.size; ++i) {
    const msgpack::object& o = array.via.array.ptr[i];
    if (o.type != msgpack::type::POSITIVE_INTEGER) {
      f.fail(errc::kBadRequest, "figures: a histogram holds a non-integer");
      return {};
    }
    out.push_back(o.via.u64);
  }
  return out;
}

// Reads the histogram `key` into *h; leaves it as it is when absent.
void read_histogram(wire::Fields& outer, std::string_view key, Histogram* h) {
  const msgpack::object* map = outer.opt_map(key);
  if (!map) return;
  wire::Fields f(*map, key);
  const msgpack::object& le = f.array("le");
  const msgpack::object& counts = f.array("counts");
  Histogram read;
  read.sum = f.uint("sum");
  if (f.ok()) read.bounds = uint_list(le, f);
  if (f.ok()) read.counts = uint_list(counts, f);
  if (f.ok() && (read.counts.size() != read.bounds.size() + 1 ||
                 !std::is_sorted(read.bounds.begin(), read.bounds.end())))
    f.fail(errc::kBadRequest, "figures: " + std::string(key) + " is not a histogram");
  if (!f.ok()) return outer.fail(f.error().code, f.error().message);
  *h = std::move(read);
}

}  // namespace

std::string encode_figures(const Figures& x) {
  std::string commands = array_of(x.commands, [](wire::MapBuilder& m, const auto& kv) {
    m.add("verb", kv.first.first).add("result", kv.first.second).add("count", kv.second);
  });
  std::string outbox = array_of(x.outbox, [](wire::MapBuilder& m, const auto& kv) {
    m.add("to", kv.first)
        .add("entries", kv.second.entries)
        .add("oldest_age_ms", kv.second.oldest_age_ms);
    if (kv.second.on_disk > 0) m.add("on_disk", kv.second.on_disk);
  });
  return wire::MapBuilder()
      .add("pid", x.pid)
      .add("up_since", x.up_since)
      .add("messages_in", x.messages_in)
      .add("messages_out", x.messages_out)
      .add_raw("commands", commands)
      .add_raw("handoffs_sent", encode_counts(x.handoffs_sent, "to"))
      .add_raw("handoffs_applied", encode_counts(x.handoffs_applied, "from"))
      .add_raw("outbox", outbox)
      .add_raw("last_commit", wire::MapBuilder()
                                  .add("size", x.last_commit_size)
                                  .add("fsync_ns", x.last_fsync_ns)
                                  .finish())
      .add_raw("fsync_ns", encode_histogram(x.fsync_ns))
      .add_raw("group_commit_size", encode_histogram(x.group_commit_size))
      .add("disk_bytes", x.disk_bytes)
      .add_nonempty("storage_error", x.storage_error)
      .add_nonempty("warning", x.warning)
      .add_nonempty("reload_refused", x.reload_refused)
      .finish();
}

Result<Figures> decode_figures(std::string_view frame) {
  auto decoded = wire::decode(frame.data(), frame.size());
  if (!decoded) return decoded.error();
  if (decoded->get().type != msgpack::type::MAP)
    return Error{errc::kBadRequest, "figures: not a map"};
  Figures x;
  wire::Fields f(decoded->get(), "figures");
  x.pid = f.uint("pid");
  x.up_since = f.opt_str("up_since", 64).value_or("");
  x.messages_in = f.opt_uint("messages_in").value_or(0);
  x.messages_out = f.opt_uint("messages_out").value_or(0);
  each_map(f, "commands", [&](wire::Fields& e) {
    std::string verb = e.str("verb", 64), result = e.str("result", 64);
    x.commands[{verb, result}] = e.uint("count");
  });
  each_map(f, "handoffs_sent",
           [&](wire::Fields& e) { x.handoffs_sent[e.str("to", 64)] = e.uint("count"); });
  each_map(f, "handoffs_applied",
           [&](wire::Fields& e) { x.handoffs_applied[e.str("from", 64)] = e.uint("count"); });
  each_map(f, "outbox", [&](wire::Fields& e) {
    std::string to = e.str("to", 64);
    x.outbox[to] = {e.uint("entries"), e.uint("oldest_age_ms"), e.opt_uint("on_disk").value_or(0)};
  });
  if (const msgpack::object* last = f.opt_map("last_commit")) {
    wire::Fields l(*last, "last_commit");
    x.last_commit_size = l.opt_uint("size").value_or(0);
    x.last_fsync_ns = l.opt_uint("fsync_ns").value_or(0);
    if (!l.ok()) f.fail(l.error().code, l.error().message);
  }
  read_histogram(f, "fsync_ns", &x.fsync_ns);
  read_histogram(f, "group_commit_size", &x.group_commit_size);
  x.disk_bytes = f.opt_uint("disk_bytes").value_or(0);
  x.storage_error = f.opt_str("storage_error", 512).value_or("");
  x.warning = f.opt_str("warning", 1024).value_or("");
  x.reload_refused = f.opt_str("reload_refused", 4096).value_or("");
  if (!f.ok()) return f.error();
  return x;
}

uint64_t folder_bytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;  // a file LevelDB deleted meanwhile counts as nothing
    uint64_t size = it->is_regular_file(size_ec) ? it->file_size(size_ec) : 0;
    if (!size_ec) total += size;
  }
  return total;
}

}  // namespace closeloop
