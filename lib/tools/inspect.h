// `pgdata2layers inspect LAYER`: a human (or JSON) dump of one image layer file, like Neon's
// pagectl: the summary block (image-layer.md §3), then every key with its blob offset, value
// length and a decoded description (tools/describe.h); --values adds the value bytes in hex.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "layer/image_layer_reader.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/status.h"

namespace p2l {

struct InspectOptions {
  bool keys = true;      // list the keys (false: summary only)
  bool values = false;   // add each value in hex
};

// Receives the human output, one line at a time (without '\n').
using LineSink = std::function<void(const std::string&)>;

// Dumps an opened layer. `name` is the object's name (its last path component is checked against
// the summary when it parses as a layer name). Human lines go to `out`; with events.enabled() one
// "layer" event (summary) and one "key" event per key are emitted instead.
Status InspectReader(ImageLayerReader& reader, std::string_view name, const InspectOptions& opts,
                     const LineSink& out, EventSink& events);

// Opens `url` (a local path, s3://bucket/.../object or az://account/container/.../object) and
// calls InspectReader. With events disabled, lines go to stdout.
Status InspectLayer(std::string_view url, const StorageOptions& storage_opts,
                    const InspectOptions& opts, EventSink& events);

}  // namespace p2l
