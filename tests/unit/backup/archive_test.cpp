// The member archive inside a backup: the manifest first, every member checked for name, order, size and
// SHA-256, nothing missing, nothing added, no unsafe names.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "backup/archive.hpp"

using namespace dive;
using namespace dive::backup;

namespace {

const std::string kArchivePass = "archive test passphrase";

struct Collect : ArchiveSink {
  Json manifest_json;
  std::map<std::string, std::string> files;
  std::string current;
  void manifest(const Manifest& m) override { manifest_json = m.json; }
  void begin(const Member& m) override { current = m.name; }
  void data(std::string_view bytes) override { files[current].append(bytes); }
  void end(const Member&) override {}
};

std::string sha_hex(std::string_view s) {
  Sha256 h;
  h.update(s);
  return h.hex();
}

Manifest manifest_of(const std::vector<std::pair<std::string, std::string>>& files) {
  Json j{{"instance", "TST"}, {"members", Json::array()}};
  for (const auto& [name, body] : files)
    j["members"].push_back({{"name", name}, {"size", body.size()}, {"sha256", sha_hex(body)}});
  return Manifest::from_json(j);
}

std::string archive(const std::vector<std::pair<std::string, std::string>>& files) {
  std::ostringstream out;
  ContainerWriter c(out, kArchivePass, KdfParams::for_tests(), 4096);
  const Manifest m = manifest_of(files);
  ArchiveWriter w(c, m);
  for (const auto& [name, body] : files) {
    std::istringstream in(body);
    w.add(name, in);
  }
  w.finish();
  c.finish();
  return out.str();
}

// A payload written by hand: records (name, declared size, bytes) then the end mark.
std::string raw(const Json& manifest,
                const std::vector<std::tuple<std::string, uint64_t, std::string>>& records,
                bool end_mark = true) {
  std::ostringstream out;
  ContainerWriter c(out, kArchivePass, KdfParams::for_tests(), 4096);
  auto rec = [&](const std::string& name, uint64_t size, const std::string& body) {
    std::string h;
    h.push_back(static_cast<char>(name.size() >> 8));
    h.push_back(static_cast<char>(name.size() & 0xff));
    h += name;
    for (int s = 56; s >= 0; s -= 8) h.push_back(static_cast<char>((size >> s) & 0xff));
    c.write(h);
    c.write(body);
  };
  rec(kManifestName, manifest.dump().size(), manifest.dump());
  for (const auto& [n, s, b] : records) rec(n, s, b);
  if (end_mark) c.write(std::string(2, '\0'));
  c.finish();
  return out.str();
}

Collect read(const std::string& file) {
  std::istringstream in(file);
  ContainerReader r(in, kArchivePass);
  Collect sink;
  read_archive(r, sink);
  return sink;
}

ArchiveErrorKind archive_refusal(const std::string& file) {
  try {
    read(file);
  } catch (const ArchiveError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "accepted";
  return ArchiveErrorKind::BadManifest;
}

}  // namespace

TEST(BackupArchive, RoundTripWithManifestFirst) {
  std::string big(50'000, 'z');
  big[7] = 'a';
  const std::vector<std::pair<std::string, std::string>> files{
      {"instance/instance.json", "{\"code\":\"TST\"}"}, {"db/toc.dat", big}, {"empty", ""}};
  Collect c = read(archive(files));
  EXPECT_EQ(c.manifest_json["instance"], "TST");
  ASSERT_EQ(c.files.size(), 2u);  // the empty member has no data() call
  EXPECT_EQ(c.files["db/toc.dat"], big);
  EXPECT_EQ(c.files["instance/instance.json"], "{\"code\":\"TST\"}");
}

TEST(BackupArchive, AMemberWhoseBytesDifferFromTheManifestIsRefused) {
  const Manifest m = manifest_of({{"a", "hello"}});
  EXPECT_EQ(archive_refusal(raw(m.json, {{"a", 5, "hellO"}})), ArchiveErrorKind::ChecksumMismatch);
  EXPECT_EQ(archive_refusal(raw(m.json, {{"a", 4, "hell"}})), ArchiveErrorKind::BadMember);  // size
}

TEST(BackupArchive, MissingExtraOrReorderedMembersAreRefused) {
  const Manifest m = manifest_of({{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(archive_refusal(raw(m.json, {{"a", 1, "1"}})), ArchiveErrorKind::BadMember);
  EXPECT_EQ(archive_refusal(raw(m.json, {{"b", 1, "2"}, {"a", 1, "1"}})), ArchiveErrorKind::BadMember);
  EXPECT_EQ(archive_refusal(raw(m.json, {{"a", 1, "1"}, {"b", 1, "2"}, {"c", 1, "3"}})),
            ArchiveErrorKind::BadMember);
  EXPECT_NO_THROW(read(raw(m.json, {{"a", 1, "1"}, {"b", 1, "2"}})));
}

TEST(BackupArchive, APayloadWithoutItsEndMarkReadsAsTruncated) {
  const Manifest m = manifest_of({{"a", "1"}});
  try {
    read(raw(m.json, {{"a", 1, "1"}}, false));
    FAIL();
  } catch (const ContainerError& e) {
    EXPECT_EQ(e.kind(), ContainerErrorKind::Truncated);
  }
}

TEST(BackupArchive, UnsafeNamesAndBadManifestsAreRefused) {
  for (const char* name : {"../etc/passwd", "/abs", "a//b", "a/./b", "a/../b", "", "a\\b", "a\nb"}) {
    EXPECT_FALSE(safe_member_name(name)) << name;
    Json j{{"members", {{{"name", name}, {"size", 1}, {"sha256", std::string(64, '0')}}}}};
    EXPECT_THROW(Manifest::from_json(j), ArchiveError) << name;
  }
  EXPECT_TRUE(safe_member_name("instance/federation/bundle.jws"));
  EXPECT_THROW(Manifest::from_json(Json{{"members", "x"}}), ArchiveError);
  EXPECT_THROW(Manifest::from_json(Json::array()), ArchiveError);
  Json twice{{"members",
              {{{"name", "a"}, {"size", 1}, {"sha256", std::string(64, '0')}},
               {{"name", "a"}, {"size", 1}, {"sha256", std::string(64, '0')}}}}};
  EXPECT_THROW(Manifest::from_json(twice), ArchiveError);
  EXPECT_EQ(archive_refusal(raw(Json{{"no", "members"}}, {})), ArchiveErrorKind::BadManifest);
}

TEST(BackupArchive, TheWriterRefusesASourceThatChangedSinceItWasListed) {
  std::ostringstream out;
  ContainerWriter c(out, kArchivePass, KdfParams::for_tests(), 4096);
  const Manifest m = manifest_of({{"a", "12345"}});
  ArchiveWriter w(c, m);
  std::istringstream longer("123456");
  EXPECT_THROW(w.add("a", longer), std::runtime_error);
}
