// MessagePack and JSON: one data model for both.
//
// Every record and reply closeloop writes uses only the JSON data model (maps with
// string keys, arrays, strings, non-negative and negative integers, booleans, nil),
// so MessagePack and JSON convert both ways without loss. nlohmann::json is the
// in-memory form of dynamic values (a command's fields, an event's payload, fields a
// reader does not know); its objects keep their keys sorted bytewise, which makes
// pack_json() canonical: the same value always packs to the same bytes.
//
// canonical_pack() does the same for a decoded MessagePack object: map keys sorted
// bytewise at every depth, integers and string headers in their smallest form. It is
// what a verifier uses to hash a record it only has as MessagePack or JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "base/result.h"
#include "wire/codec.h"

namespace closeloop::wire {

using Json = nlohmann::json;

// map → object (non-string keys become their JSON text), array → array, str → string,
// ints → numbers, bool, nil → null, float → number, bin and ext → lower-case hex.
Json to_json(const msgpack::object& o);

// One line of JSON, UTF-8 written as is; invalid UTF-8 is replaced, never thrown.
std::string dump(const Json& j);

// Packs a JSON value as MessagePack (objects in key order, which is bytewise).
void pack_json(Packer& pk, const Json& value);
std::string encode_json(const Json& value);

// A value that a record leaves out: null, "", false, 0, [], or an object whose members
// are all such values (record.h).
bool json_is_default(const Json& value);
// pack_json() leaving out, at every depth, the object members that hold a default:
// how a record's dynamic parts (an event's payload) are stored.
void pack_json_compact(Packer& pk, const Json& value);

// Packs `o` with map keys sorted bytewise at every depth and, with drop_defaults, the
// map entries holding a default (as json_is_default) left out at every depth.
// False (nothing sensible packed) if a map key is not a string or the object holds a
// float, bin or ext.
bool canonical_pack(Packer& pk, const msgpack::object& o, bool drop_defaults = false);

// Reads a JSON value back from MessagePack (the inverse of pack_json for the JSON
// data model); a bin, ext or float makes it bad_request.
Result<Json> from_msgpack(const msgpack::object& o);

}  // namespace closeloop::wire
