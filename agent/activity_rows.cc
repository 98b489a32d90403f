#include "agent/activity_rows.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ohfed::agent {
namespace {

int Compare(absl::string_view a, absl::string_view b) { return a.compare(b); }

bool GetShort(absl::string_view* in, absl::string_view* s) {
  if (in->empty()) return false;
  const size_t n = static_cast<unsigned char>((*in)[0]);
  if (in->size() < n + 1) return false;
  *s = in->substr(1, n);
  in->remove_prefix(n + 1);
  return true;
}

// Writes `v` at `p`; returns the end.
char* WriteVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    out |= uint64_t{b & 0x7Fu} << shift;
    if (b < 0x80) {
      *v = out;
      return true;
    }
  }
  return false;
}

size_t StringFieldSize(absl::string_view s) {
  return s.empty() ? 0 : 1 + VarintSize(s.size()) + s.size();
}

// Skips a field of an unknown number; false if malformed.
bool SkipField(absl::string_view* in, uint64_t tag) {
  uint64_t n = 0;
  switch (tag & 7) {
    case 0:
      return GetVarint(in, &n);
    case 1:
      n = 8;
      break;
    case 2:
      if (!GetVarint(in, &n)) return false;
      break;
    case 5:
      n = 4;
      break;
    default:
      return false;
  }
  if (in->size() < n) return false;
  in->remove_prefix(n);
  return true;
}

bool DecodeRow(absl::string_view in, ActivityView* row) {
  *row = ActivityView();
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!GetVarint(&in, &tag)) return false;
    const uint64_t field = tag >> 3;
    if (field >= 1 && field <= 4 && (tag & 7) == 2) {
      uint64_t n = 0;
      if (!GetVarint(&in, &n) || in.size() < n) return false;
      absl::string_view s = in.substr(0, n);
      in.remove_prefix(n);
      (field == 1   ? row->date
       : field == 2 ? row->activity
       : field == 3 ? row->client_org
                    : row->subject_ref) = s;
    } else if (field == 5 && (tag & 7) == 0) {
      uint64_t v = 0;
      if (!GetVarint(&in, &v)) return false;
      row->wait_days = static_cast<int32_t>(static_cast<uint32_t>(v));
    } else if (!SkipField(&in, tag)) {
      return false;
    }
  }
  return true;
}

}  // namespace

ActivityView ViewOf(const ActivityRow& row) {
  return {row.date, row.activity, row.client_org, row.subject_ref,
          row.wait_days};
}

int CompareRows(const ActivityView& a, const ActivityView& b) {
  if (int c = Compare(a.date, b.date)) return c;
  if (int c = Compare(a.activity, b.activity)) return c;
  if (int c = Compare(a.client_org, b.client_org)) return c;
  if (int c = Compare(a.subject_ref, b.subject_ref)) return c;
  return a.wait_days < b.wait_days ? -1 : a.wait_days > b.wait_days ? 1 : 0;
}

void EncodeStaged(const ActivityView& r, std::string* out) {
  // Sized once, then filled: appending byte by byte was a visible part of
  // an import's profile.
  const absl::string_view parts[] = {r.date, r.activity, r.client_org,
                                     r.subject_ref};
  size_t size = sizeof(int32_t);
  for (absl::string_view s : parts) size += 1 + std::min<size_t>(s.size(), 255);
  const size_t start = out->size();
  out->resize(start + size);
  char* p = out->data() + start;
  for (absl::string_view s : parts) {
    const size_t n = std::min<size_t>(s.size(), 255);
    *p++ = static_cast<char>(n);
    std::memcpy(p, s.data(), n);
    p += n;
  }
  const int32_t w = r.wait_days;
  std::memcpy(p, &w, sizeof(w));
}

bool DecodeStaged(absl::string_view* in, ActivityView* r) {
  if (!GetShort(in, &r->date) || !GetShort(in, &r->activity) ||
      !GetShort(in, &r->client_org) || !GetShort(in, &r->subject_ref) ||
      in->size() < sizeof(int32_t)) {
    return false;
  }
  int32_t w;
  std::memcpy(&w, in->data(), sizeof(w));
  r->wait_days = w;
  in->remove_prefix(sizeof(w));
  return true;
}

void AppendStored(const ActivityView& r, std::string* out) {
  // wait_days is int32: a negative one would take ten bytes, but only
  // recorded (non-negative) waits are written.
  const bool wait = r.wait_days >= 0;
  const size_t size =
      StringFieldSize(r.date) + StringFieldSize(r.activity) +
      StringFieldSize(r.client_org) + StringFieldSize(r.subject_ref) +
      (wait ? 1 + VarintSize(static_cast<uint64_t>(r.wait_days)) : 0);
  // Sized once, then filled; empty strings are left out.
  const size_t start = out->size();
  out->resize(start + 1 + VarintSize(size) + size);
  char* p = out->data() + start;
  *p++ = static_cast<char>(1 << 3 | 2);  // rows = 1
  p = WriteVarint(p, size);
  const absl::string_view fields[] = {r.date, r.activity, r.client_org,
                                      r.subject_ref};
  for (int f = 0; f < 4; ++f) {
    const absl::string_view s = fields[f];
    if (s.empty()) continue;
    *p++ = static_cast<char>((f + 1) << 3 | 2);
    p = WriteVarint(p, s.size());
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  if (wait) {
    *p++ = static_cast<char>(5 << 3 | 0);
    p = WriteVarint(p, static_cast<uint64_t>(r.wait_days));
  }
}

absl::Status ForEachStored(absl::string_view in,
                           absl::FunctionRef<void(const ActivityView&)> fn) {
  const auto corrupt = [] {
    return absl::DataLossError("corrupt raw record in the agent store");
  };
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!GetVarint(&in, &tag)) return corrupt();
    if (tag != (1 << 3 | 2)) {
      if (!SkipField(&in, tag)) return corrupt();
      continue;
    }
    uint64_t n = 0;
    if (!GetVarint(&in, &n) || in.size() < n) return corrupt();
    ActivityView row;
    if (!DecodeRow(in.substr(0, n), &row)) return corrupt();
    in.remove_prefix(n);
    fn(row);
  }
  return absl::OkStatus();
}

}  // namespace ohfed::agent
