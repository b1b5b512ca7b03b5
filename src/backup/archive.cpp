#include "backup/archive.hpp"

#include <array>
#include <set>

#include "backup/bytes.hpp"

namespace dive::backup {

namespace {

constexpr uint64_t kMaxManifestBytes = 16u << 20;
constexpr size_t kBlock = 256 * 1024;

using detail::put_be;
uint64_t get_be(const char* p, int bytes) {
  return detail::get_be(std::string_view(p, static_cast<size_t>(bytes)), 0, bytes);
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex2(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 init failed");
}

void Sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("SHA-256 failed");
}

std::string Sha256::hex() {
  std::array<unsigned char, 32> d{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), d.data(), &len) != 1) throw std::runtime_error("SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 15]);
  }
  return out;
}

bool safe_member_name(std::string_view name) {
  if (name.empty() || name.size() > 1024 || name.front() == '/') return false;
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const auto part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Manifest Manifest::from_json(Json json) {
  Manifest m;
  auto bad = [](const std::string& why) {
    return ArchiveError(ArchiveErrorKind::BadManifest, "bad manifest: " + why);
  };
  if (!json.is_object() || !json.contains("members") || !json["members"].is_array())
    throw bad("no member list");
  std::set<std::string> seen;
  for (const auto& e : json["members"]) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("size") ||
        !e["size"].is_number_unsigned() || !e.contains("sha256") || !e["sha256"].is_string())
      throw bad("a member without name, size and sha256");
    Member mem{e["name"], e["size"], e["sha256"], 0644};
    if (e.contains("mode")) {
      if (!e["mode"].is_number_unsigned() || e["mode"].get<unsigned>() > 0777)
        throw bad("bad mode of " + mem.name);
      mem.mode = e["mode"];
    }
    if (!safe_member_name(mem.name) || mem.name == kManifestName)
      throw bad("unsafe member name '" + mem.name + "'");
    if (mem.sha256.size() != 64) throw bad("member " + mem.name + " has no SHA-256");
    if (!seen.insert(mem.name).second) throw bad("member " + mem.name + " listed twice");
    m.members.push_back(std::move(mem));
  }
  m.json = std::move(json);
  return m;
}

// ------------------------------------------------------------------------------------------------ writer

ArchiveWriter::ArchiveWriter(ContainerWriter& out, const Manifest& manifest)
    : out_(out), manifest_(manifest) {
  const std::string text = manifest.json.dump();
  record_header(kManifestName, text.size());
  out_.write(text);
}

void ArchiveWriter::record_header(const std::string& name, uint64_t size) {
  std::string h;
  put_be(h, name.size(), 2);
  h += name;
  put_be(h, size, 8);
  out_.write(h);
}

void ArchiveWriter::add(const std::string& name, std::istream& in) {
  if (next_ >= manifest_.members.size() || manifest_.members[next_].name != name)
    throw std::logic_error("member " + name + " is not the manifest's next member");
  const Member& m = manifest_.members[next_++];
  record_header(name, m.size);
  Sha256 sha;
  std::string buf(kBlock, '\0');
  uint64_t total = 0;
  while (total < m.size && in) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(kBlock, m.size - total)));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    const std::string_view chunk(buf.data(), n);
    sha.update(chunk);
    out_.write(chunk);
    total += n;
  }
  if (total != m.size || in.peek() != std::char_traits<char>::eof() || sha.hex() != m.sha256)
    throw std::runtime_error("member " + name + " changed while the backup was written");
}

void ArchiveWriter::finish() {
  if (next_ != manifest_.members.size())
    throw std::logic_error("the archive ends before member " + manifest_.members[next_].name);
  out_.write(std::string(2, '\0'));
}

// ------------------------------------------------------------------------------------------------ reader

void read_archive(ContainerReader& in, ArchiveSink& sink) {
  auto read_name = [&]() {
    char len[2];
    in.read_exact(len, 2);
    std::string name(get_be(len, 2), '\0');
    in.read_exact(name.data(), name.size());
    return name;
  };
  auto read_size = [&]() {
    char sz[8];
    in.read_exact(sz, 8);
    return get_be(sz, 8);
  };
  if (read_name() != kManifestName)
    throw ArchiveError(ArchiveErrorKind::BadManifest,
                       "bad backup content: it does not start with its manifest");
  const uint64_t msize = read_size();
  if (msize > kMaxManifestBytes) throw ArchiveError(ArchiveErrorKind::BadManifest, "bad manifest: too large");
  std::string text(msize, '\0');
  in.read_exact(text.data(), text.size());
  Json json;
  try {
    json = parse_json_limited(text, 32);
  } catch (const std::exception&) {
    throw ArchiveError(ArchiveErrorKind::BadManifest, "bad manifest: not JSON");
  }
  const Manifest manifest = Manifest::from_json(std::move(json));
  sink.manifest(manifest);
  std::string buf(kBlock, '\0');
  for (const Member& m : manifest.members) {
    const std::string name = read_name();
    if (name != m.name)
      throw ArchiveError(ArchiveErrorKind::BadMember,
                         name.empty()
                             ? "the backup ends before member " + m.name + " of its manifest"
                             : "member '" + name + "' is not the manifest's next member (" + m.name + ")");
    if (read_size() != m.size)
      throw ArchiveError(ArchiveErrorKind::BadMember,
                         "member " + m.name + " does not have the manifest's size");
    sink.begin(m);
    Sha256 sha;
    for (uint64_t left = m.size; left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kBlock));
      in.read_exact(buf.data(), n);
      const std::string_view chunk(buf.data(), n);
      sha.update(chunk);
      sink.data(chunk);
      left -= n;
    }
    if (sha.hex() != m.sha256)
      throw ArchiveError(ArchiveErrorKind::ChecksumMismatch,
                         "member " + m.name + " does not match the manifest's SHA-256");
    sink.end(m);
  }
  if (!read_name().empty())
    throw ArchiveError(ArchiveErrorKind::BadMember, "the backup holds a member its manifest does not list");
  if (!in.at_end())
    throw ArchiveError(ArchiveErrorKind::BadMember, "the backup has content after its end mark");
}

}  // namespace dive::backup
