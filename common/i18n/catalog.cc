#include "i18n/catalog.h"

#include <cstdint>
#include <cstring>

namespace closeloop::i18n {
namespace {

constexpr uint32_t kMagic = 0x950412de;

Error not_a_catalog(const std::string& why) {
  return Error{errc::kInvalid, "not a message catalog (.mo): " + why};
}

// Reads 32-bit words of the file in its own byte order.
struct Words {
  std::string_view data;
  bool swap = false;
  std::optional<uint32_t> at(size_t offset) const {
    if (offset > data.size() || data.size() - offset < 4) return std::nullopt;
    uint32_t w;
    std::memcpy(&w, data.data() + offset, 4);
    return swap ? __builtin_bswap32(w) : w;
  }
  // The string of table entry `i` (length, offset) of the table at `table`.
  std::optional<std::string_view> string(uint32_t table, uint32_t i) const {
    auto length = at(table + 8ull * i), offset = at(table + 8ull * i + 4);
    if (!length || !offset || *offset > data.size() || data.size() - *offset < *length)
      return std::nullopt;
    return data.substr(*offset, *length);
  }
};

}  // namespace

Result<Catalog> Catalog::parse(std::string mo) {
  Catalog c;
  c.mo_ = std::move(mo);
  Words w{c.mo_};
  auto magic = w.at(0);
  if (!magic) return not_a_catalog("too short");
  if (*magic != kMagic) {
    w.swap = true;
    if (*w.at(0) != kMagic) return not_a_catalog("no magic number");
  }
  auto revision = w.at(4), count = w.at(8), originals = w.at(12), translations = w.at(16);
  if (!revision || !count || !originals || !translations) return not_a_catalog("no header");
  if (*revision >> 16 != 0) return not_a_catalog("revision " + std::to_string(*revision));
  for (uint32_t i = 0; i < *count; ++i) {
    auto id = w.string(*originals, i), text = w.string(*translations, i);
    if (!id || !text) return not_a_catalog("entry " + std::to_string(i) + " lies outside it");
    if (id->empty() || text->empty()) continue;            // the header; an untranslated message
    std::string_view key = id->substr(0, id->find('\0'));  // a plural's msgid_plural follows
    c.messages_.emplace(key, text->substr(0, text->find('\0')));
  }
  return c;
}

std::optional<std::string_view> Catalog::find(std::string_view msgid) const {
  auto it = messages_.find(msgid);
  if (it == messages_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> Catalog::find(std::string_view context,
                                              std::string_view msgid) const {
  std::string key;
  key.reserve(context.size() + 1 + msgid.size());
  key.append(context).append(1, '\4').append(msgid);
  return find(key);
}

}  // namespace closeloop::i18n
